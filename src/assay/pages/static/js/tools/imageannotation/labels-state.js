// The task's geometries and labels, and new uuids: small pure helpers of the image tool
// (tested in Node with state.js).

export const GEOMETRIES = ['box', 'polygon', 'line', 'point', 'ellipse', 'cuboid'];
export const MIN_VERTICES = { polygon: 3, line: 2 };
const NAMES = { box: 'Box', polygon: 'Polygon', line: 'Line', point: 'Point', ellipse: 'Ellipse', cuboid: 'Cuboid' };
export const geometryName = (g) => NAMES[g] || g;

// Every selectable name of `objects_to_annotate` (choices and their subchoices, in order).
export function labelNames(items, out = []) {
  for (const item of items || []) {
    if (typeof item === 'string') out.push(item);
    else if (item && typeof item === 'object') {
      if (typeof item.choice === 'string') out.push(item.choice);
      labelNames(item.subchoices, out);
    }
  }
  return out;
}

export function newUuid() {
  const c = globalThis.crypto;
  if (c?.randomUUID) return c.randomUUID();
  return `${Date.now().toString(16)}-${Math.random().toString(16).slice(2)}`;
}

// The image-annotation answer without the DOM (tested in Node): the shapes in z-order
// (the answer's order; the last is drawn on top), which are hidden or locked, the
// selection, the label for new shapes, and every edit with the task's constraints
// (labels per geometry, min_width/min_height, vertex limits, can_rotate).
import {
  boxBetween, boxCorners, cuboidFromBox, ellipseInBox, insertionIndex, moveEllipseVertex, resizeBox, rotationToward, rounded, translate,
} from './geometry-state.js';
import { GEOMETRIES, MIN_VERTICES, geometryName, labelNames, newUuid } from './labels-state.js';

export { GEOMETRIES, geometryName, labelNames, newUuid };

export class ImageAnswer {
  // params: the task's (geometries, annotation_attributes); initial: an answer to start from
  // prelabel: whether `initial` is a pre-label (its shapes then show accepted / edited)
  constructor(params, initial, { uuid = newUuid, prelabel = true } = {}) {
    const geometries = params?.geometries || {};
    this.geometries = GEOMETRIES.filter((g) => geometries[g] && typeof geometries[g] === 'object');
    this.specs = Object.fromEntries(this.geometries.map((g) => [g, geometries[g]]));
    this.labels = Object.fromEntries(this.geometries.map((g) => [g, labelNames(geometries[g].objects_to_annotate)]));
    this.allLabels = [...new Set(this.geometries.flatMap((g) => this.labels[g]))];
    this.attributes = params?.annotation_attributes && typeof params.annotation_attributes === 'object' ? params.annotation_attributes : {};
    this.uuid = uuid;
    this.tool = this.geometries[0] || 'box';
    this.label = this.labels[this.tool]?.[0] || null;
    this.state = { shapes: [], hidden: [], locked: [], selected: null, prelabeled: [] };
    this.load(initial, { asPrelabel: prelabel });
  }

  load(answer, { asPrelabel = true } = {}) {
    const given = Array.isArray(answer?.annotations) ? answer.annotations.filter((a) => a && GEOMETRIES.includes(a.type)) : [];
    // a rotated box's corners are derived from it (the answer lists them again)
    const shapes = given.map((a) => { const { vertices, ...box } = a; return a.type === 'box' ? box : a; });
    this.state.shapes = JSON.parse(JSON.stringify(shapes));
    this.state.prelabeled = asPrelabel ? shapes.map((a) => JSON.stringify(a)) : [];
    this.state.selected = null;
  }

  get shapes() { return this.state.shapes; }
  get selected() { return this.state.selected; }
  find(uuid) { return this.shapes.find((s) => s.uuid === uuid) || null; }
  selectedShape() { return this.find(this.state.selected); }
  isHidden(uuid) { return this.state.hidden.includes(uuid); }
  isLocked(uuid) { return this.state.locked.includes(uuid); }
  spec(type) { return this.specs[type] || {}; }
  canRotate() { return !!this.spec('box').can_rotate; }

  // A pre-labelled shape as it came (accepted), changed (edited), or a new one (null).
  prelabelFate(shape) {
    if (!this.state.prelabeled.length) return null;
    if (this.state.prelabeled.includes(JSON.stringify(shape))) return 'accepted';
    return this.state.prelabeled.some((s) => JSON.parse(s).uuid === shape.uuid) ? 'edited' : null;
  }

  // The geometry drawn next; its first allowed label unless the current one is allowed.
  chooseTool(tool) {
    if (!this.geometries.includes(tool)) return false;
    this.tool = tool;
    if (!this.labels[tool].includes(this.label)) this.label = this.labels[tool][0];
    return true;
  }

  // A label key: the label for new shapes, and the selected shape's (error text when the
  // selected shape's geometry does not allow it). Returns {changed, error?}.
  chooseLabel(label) {
    const shape = this.selectedShape();
    if (shape) {
      if (!this.labels[shape.type]?.includes(label)) return { changed: false, error: `“${label}” is not a ${shape.type} label in this task.` };
      this.label = label;
      if (shape.label === label) return { changed: false };
      shape.label = label;
      return { changed: true };
    }
    if (!this.labels[this.tool]?.includes(label)) {
      const tool = this.geometries.find((g) => this.labels[g].includes(label));
      if (!tool) return { changed: false, error: `“${label}” is not a label of this task.` };
      this.tool = tool;
    }
    this.label = label;
    return { changed: false };
  }

  select(uuid) {
    this.state.selected = this.find(uuid) ? uuid : null;
    const shape = this.selectedShape();
    if (shape) { this.tool = shape.type; this.label = shape.label; }
    return shape;
  }

  // ---------------------------------------------------------------- creating
  // A new shape of the current geometry from a drag (box-like geometries), a click (point)
  // or clicked vertices (polygon, line). Returns {shape} or {error} (nothing added).
  create(geometry) {
    const type = this.tool;
    if (!this.label) return { error: `Choose a label for the ${type} first.` };
    const spec = this.spec(type);
    let shape;
    if (type === 'box' || type === 'ellipse' || type === 'cuboid') {
      const b = boxBetween(geometry.from, geometry.to);
      if (type === 'box') {
        const error = this.boxSizeError(b);
        if (error) return { error };
        shape = { left: b.left, top: b.top, width: b.width, height: b.height };
      } else {
        if (b.width < 2 || b.height < 2) return { error: `Drag to draw the ${type}: it needs some width and height.` };
        shape = { vertices: type === 'ellipse' ? ellipseInBox(b) : cuboidFromBox(b) };
      }
    } else if (type === 'point') {
      shape = { x: geometry.at.x, y: geometry.at.y };
    } else {
      const n = geometry.vertices.length;
      const low = Math.max(MIN_VERTICES[type], spec.min_vertices || 0);
      if (n < low) return { error: `A ${type} needs at least ${low} vertices; this one has ${n}.` };
      if (spec.max_vertices && n > spec.max_vertices) return { error: `A ${type} may have at most ${spec.max_vertices} vertices.` };
      shape = { vertices: geometry.vertices.map((v) => ({ x: v.x, y: v.y })) };
    }
    const made = rounded({ uuid: this.uuid(), type, label: this.label, ...shape });
    this.shapes.push(made);
    this.state.selected = made.uuid;
    return { shape: made };
  }

  boxSizeError(b) {
    const spec = this.spec('box');
    const minW = Math.max(1, spec.min_width || 0);
    const minH = Math.max(1, spec.min_height || 0);
    if (b.width >= minW && b.height >= minH) return null;
    return `Boxes must be at least ${minW} × ${minH} px (min_width × min_height); this one is ${Math.round(b.width)} × ${Math.round(b.height)}.`;
  }

  // The most vertices a polygon or line being drawn may get (Infinity without a limit).
  maxVertices(type = this.tool) { return this.spec(type).max_vertices || Infinity; }

  // ---------------------------------------------------------------- editing
  // Each returns true when the answer changed. `live` edits (drags) are rounded at the end.
  replace(uuid, next) {
    const i = this.shapes.findIndex((s) => s.uuid === uuid);
    if (i === -1 || this.isLocked(uuid)) return false;
    this.shapes[i] = next;
    return true;
  }

  move(uuid, dx, dy) {
    const shape = this.find(uuid);
    return !!shape && this.replace(uuid, translate(shape, dx, dy));
  }

  resize(uuid, handle, p) {
    const shape = this.find(uuid);
    if (!shape || shape.type !== 'box') return false;
    const spec = this.spec('box');
    return this.replace(uuid, resizeBox(shape, handle, p, { width: Math.max(1, spec.min_width || 0), height: Math.max(1, spec.min_height || 0) }));
  }

  rotate(uuid, p) {
    const shape = this.find(uuid);
    if (!shape || shape.type !== 'box' || !this.canRotate()) return false;
    const rotation = rotationToward(shape, p);
    const next = { ...shape, rotation };
    if (!rotation) delete next.rotation;
    return this.replace(uuid, next);
  }

  moveVertex(uuid, i, p) {
    const shape = this.find(uuid);
    if (!shape?.vertices?.[i]) return false;
    const vertices = shape.type === 'ellipse' ? moveEllipseVertex(shape.vertices, i, p)
      : shape.vertices.map((v, k) => (k === i ? { ...v, x: p.x, y: p.y } : v));
    return this.replace(uuid, { ...shape, vertices });
  }

  // Adds a vertex on the nearest edge of a polygon or line (within `tol` image pixels).
  addVertex(uuid, p, tol = Infinity) {
    const shape = this.find(uuid);
    if (!shape || !['polygon', 'line'].includes(shape.type)) return { changed: false };
    if (shape.vertices.length >= this.maxVertices(shape.type)) {
      return { changed: false, error: `A ${shape.type} may have at most ${this.maxVertices(shape.type)} vertices.` };
    }
    const { index, distance } = insertionIndex(shape.vertices, p, shape.type === 'polygon');
    if (distance > tol) return { changed: false };
    const vertices = [...shape.vertices];
    vertices.splice(index, 0, { x: p.x, y: p.y });
    return { changed: this.replace(uuid, { ...shape, vertices }), index };
  }

  removeVertex(uuid, i) {
    const shape = this.find(uuid);
    if (!shape || !['polygon', 'line'].includes(shape.type)) return { changed: false };
    const low = Math.max(MIN_VERTICES[shape.type], this.spec(shape.type).min_vertices || 0);
    if (shape.vertices.length <= low) return { changed: false, error: `A ${shape.type} needs at least ${low} vertices.` };
    return { changed: this.replace(uuid, { ...shape, vertices: shape.vertices.filter((_, k) => k !== i) }) };
  }

  // Rounds the shape after a drag (live edits keep full precision while moving).
  settle(uuid) {
    const shape = this.find(uuid);
    if (shape) this.shapes[this.shapes.indexOf(shape)] = rounded(shape);
  }

  remove(uuid) {
    const i = this.shapes.findIndex((s) => s.uuid === uuid);
    if (i === -1 || this.isLocked(uuid)) return false;
    this.shapes.splice(i, 1);
    const next = this.shapes[Math.min(i, this.shapes.length - 1)];
    this.state.selected = next ? next.uuid : null;
    return true;
  }

  duplicate(uuid, offset = 10) {
    const shape = this.find(uuid);
    if (!shape) return null;
    const copy = rounded({ ...translate(JSON.parse(JSON.stringify(shape)), offset, offset), uuid: this.uuid() });
    this.shapes.push(copy);
    this.state.selected = copy.uuid;
    return copy;
  }

  toggle(list, uuid) {
    if (!this.find(uuid)) return false;
    const set = this.state[list];
    const i = set.indexOf(uuid);
    if (i === -1) set.push(uuid); else set.splice(i, 1);
    return true;
  }

  // z-order: +1 brings the shape one step up (drawn later), -1 one step down.
  restack(uuid, delta) {
    const i = this.shapes.findIndex((s) => s.uuid === uuid);
    const j = i + delta;
    if (i === -1 || j < 0 || j >= this.shapes.length) return false;
    [this.shapes[i], this.shapes[j]] = [this.shapes[j], this.shapes[i]];
    return true;
  }

  setAttribute(uuid, name, value) {
    const shape = this.find(uuid);
    if (!shape || this.isLocked(uuid)) return false;
    const attributes = { ...(shape.attributes || {}) };
    if (value === '' || value === null || value === undefined) delete attributes[name]; else attributes[name] = value;
    const next = { ...shape, attributes };
    if (!Object.keys(attributes).length) delete next.attributes;
    return this.replace(uuid, next);
  }

  // Copies another answer's shapes (the previous task of a sequence) with new uuids,
  // keeping only those this task allows.
  copyFrom(answer) {
    let added = 0;
    for (const shape of answer?.annotations || []) {
      if (!this.labels[shape.type]?.includes(shape.label)) continue;
      this.shapes.push({ ...JSON.parse(JSON.stringify(shape)), uuid: this.uuid() });
      added += 1;
    }
    return added;
  }

  // ↑/↓-style stepping through the shapes in z-order (clamped); the first when none.
  step(delta) {
    if (!this.shapes.length) return null;
    const i = this.shapes.findIndex((s) => s.uuid === this.state.selected);
    return this.shapes[i === -1 ? 0 : Math.max(0, Math.min(this.shapes.length - 1, i + delta))].uuid;
  }

  // The topmost visible shape under image point p.
  hitAt(p, hit) {
    for (let i = this.shapes.length - 1; i >= 0; i--) {
      const shape = this.shapes[i];
      if (!this.isHidden(shape.uuid) && hit(shape, p)) return shape.uuid;
    }
    return null;
  }

  // The /v1 answer: Scale's annotation objects (a rotated box also lists its corners).
  response() {
    return {
      annotations: this.shapes.map((shape) => {
        const out = rounded(shape);
        if (out.type === 'box' && out.rotation) out.vertices = boxCorners(out).map((v) => ({ x: Math.round(v.x * 100) / 100, y: Math.round(v.y * 100) / 100 }));
        return out;
      }),
    };
  }

  snapshot() { return JSON.parse(JSON.stringify({ ...this.state, tool: this.tool, label: this.label })); }

  restore(saved) {
    const { tool, label, ...state } = JSON.parse(JSON.stringify(saved));
    this.state = state;
    this.tool = tool;
    this.label = label;
  }
}

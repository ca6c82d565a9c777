// Shape geometry for the image tool, without the DOM (tested in Node). Shapes are Scale's
// annotations in image pixels: box {left, top, width, height, rotation?} (rotation in
// radians about the centre), polygon/line/cuboid {vertices}, point {x, y}, ellipse
// {vertices: the ends of two perpendicular axes, in order around the ellipse}.

export const round2 = (v) => Math.round(v * 100) / 100;
const dist = (a, b) => Math.hypot(a.x - b.x, a.y - b.y);
const rot = (p, c, t) => {
  const cos = Math.cos(t);
  const sin = Math.sin(t);
  const dx = p.x - c.x;
  const dy = p.y - c.y;
  return { x: c.x + dx * cos - dy * sin, y: c.y + dx * sin + dy * cos };
};

export const boxCenter = (b) => ({ x: b.left + b.width / 2, y: b.top + b.height / 2 });

// The four corners of a (rotated) box, clockwise from its top left.
export function boxCorners(b) {
  const c = boxCenter(b);
  const t = b.rotation || 0;
  return [[b.left, b.top], [b.left + b.width, b.top], [b.left + b.width, b.top + b.height], [b.left, b.top + b.height]]
    .map(([x, y]) => rot({ x, y }, c, t));
}

// The box between two drag points (axis-aligned), whole rectangle in image pixels.
export function boxBetween(a, b) {
  const left = Math.min(a.x, b.x);
  const top = Math.min(a.y, b.y);
  return { left, top, width: Math.abs(b.x - a.x), height: Math.abs(b.y - a.y) };
}

// Ellipse inscribed in a box: right, bottom, left, top ends of its axes.
export function ellipseInBox(b) {
  const cx = b.left + b.width / 2;
  const cy = b.top + b.height / 2;
  return [{ x: b.left + b.width, y: cy }, { x: cx, y: b.top + b.height }, { x: b.left, y: cy }, { x: cx, y: b.top }];
}

// Dragging axis end `i` to `p`: that axis turns to p (its opposite end mirrors it about
// the centre), the other axis keeps its length and stays perpendicular.
export function moveEllipseVertex(vertices, i, p) {
  const c = { x: (vertices[0].x + vertices[2].x) / 2, y: (vertices[0].y + vertices[2].y) / 2 };
  const a = { x: p.x - c.x, y: p.y - c.y };
  const len = Math.hypot(a.x, a.y);
  if (len < 1) return vertices;
  const j = (i + 1) % 4;
  const other = dist(vertices[j], c);
  const n = { x: -a.y / len, y: a.x / len }; // a turned a quarter clockwise (image y points down)
  const out = vertices.map((v) => ({ ...v }));
  out[i] = { ...out[i], x: c.x + a.x, y: c.y + a.y };
  out[(i + 2) % 4] = { ...out[(i + 2) % 4], x: c.x - a.x, y: c.y - a.y };
  out[j] = { ...out[j], x: c.x + n.x * other, y: c.y + n.y * other };
  out[(j + 2) % 4] = { ...out[(j + 2) % 4], x: c.x - n.x * other, y: c.y - n.y * other };
  return out;
}

// Points around an ellipse given by its axis ends (for drawing and hit tests).
export function ellipseOutline(vertices, n = 48) {
  const c = { x: (vertices[0].x + vertices[2].x) / 2, y: (vertices[0].y + vertices[2].y) / 2 };
  const a = { x: vertices[0].x - c.x, y: vertices[0].y - c.y };
  const b = { x: vertices[1].x - c.x, y: vertices[1].y - c.y };
  return Array.from({ length: n }, (_, k) => {
    const t = (2 * Math.PI * k) / n;
    return { x: c.x + a.x * Math.cos(t) + b.x * Math.sin(t), y: c.y + a.y * Math.cos(t) + b.y * Math.sin(t) };
  });
}

const CUBOID_NAMES = ['face-topleft', 'face-topright', 'face-bottomright', 'face-bottomleft'];

// A 2D cuboid from its front face: the back face starts up and to the right of it.
export function cuboidFromBox(b) {
  const dx = Math.max(4, b.width * 0.25);
  const dy = -Math.max(4, b.height * 0.25);
  const front = [[b.left, b.top], [b.left + b.width, b.top], [b.left + b.width, b.top + b.height], [b.left, b.top + b.height]];
  return [
    ...front.map(([x, y], i) => ({ x, y, description: CUBOID_NAMES[i] })),
    ...front.map(([x, y], i) => ({ x: x + dx, y: y + dy, description: `back-${CUBOID_NAMES[i]}` })),
  ];
}

// The outline points of any shape (box corners, an ellipse's curve, a point itself).
export function outlineOf(shape) {
  switch (shape.type) {
    case 'box': return boxCorners(shape);
    case 'point': return [{ x: shape.x, y: shape.y }];
    case 'ellipse': return ellipseOutline(shape.vertices);
    default: return shape.vertices || [];
  }
}

export function bboxOf(shape) {
  const pts = outlineOf(shape);
  const xs = pts.map((p) => p.x);
  const ys = pts.map((p) => p.y);
  const left = Math.min(...xs);
  const top = Math.min(...ys);
  return { left, top, width: Math.max(...xs) - left, height: Math.max(...ys) - top };
}

export function pointInPolygon(p, pts) {
  let inside = false;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    const a = pts[i];
    const b = pts[j];
    if ((a.y > p.y) !== (b.y > p.y) && p.x < ((b.x - a.x) * (p.y - a.y)) / (b.y - a.y) + a.x) inside = !inside;
  }
  return inside;
}

export function segmentDistance(p, a, b) {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len2 = dx * dx + dy * dy;
  const t = len2 ? Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2)) : 0;
  return Math.hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy));
}

// Whether image point p touches the shape; `tol` is how near (image pixels) counts for
// points and lines.
export function hitShape(shape, p, tol = 4) {
  if (shape.type === 'point') return dist(shape, p) <= tol * 1.5;
  const pts = outlineOf(shape);
  if (shape.type === 'line') return pts.some((a, i) => i > 0 && segmentDistance(p, pts[i - 1], a) <= tol);
  if (shape.type === 'cuboid') return pointInPolygon(p, bboxCorners(bboxOf(shape))) || pts.some((v) => dist(v, p) <= tol);
  return pointInPolygon(p, pts) || pts.some((a, i) => segmentDistance(p, pts[(i + pts.length - 1) % pts.length], a) <= tol);
}

const bboxCorners = (b) => [{ x: b.left, y: b.top }, { x: b.left + b.width, y: b.top }, { x: b.left + b.width, y: b.top + b.height },
  { x: b.left, y: b.top + b.height }];

export function translate(shape, dx, dy) {
  const out = { ...shape };
  if (shape.type === 'box') { out.left += dx; out.top += dy; } else if (shape.type === 'point') { out.x += dx; out.y += dy; } else {
    out.vertices = shape.vertices.map((v) => ({ ...v, x: v.x + dx, y: v.y + dy }));
  }
  return out;
}

// The eight resize handles of a box (n, ne, e, …) in box-local unit coordinates.
export const BOX_HANDLES = { nw: [-1, -1], n: [0, -1], ne: [1, -1], e: [1, 0], se: [1, 1], s: [0, 1], sw: [-1, 1], w: [-1, 0] };

export function boxHandlePoint(b, handle) {
  const [u, v] = BOX_HANDLES[handle];
  const c = boxCenter(b);
  return rot({ x: c.x + (u * b.width) / 2, y: c.y + (v * b.height) / 2 }, c, b.rotation || 0);
}

// Dragging a resize handle to p: the opposite side stays where it is (rotation kept);
// width and height never go below `min` ({width, height}).
export function resizeBox(b, handle, p, min = { width: 1, height: 1 }) {
  const [u, v] = BOX_HANDLES[handle];
  const t = b.rotation || 0;
  const c = boxCenter(b);
  const q = rot(p, c, -t); // p in the box's own frame
  let x0 = b.left;
  let x1 = b.left + b.width;
  let y0 = b.top;
  let y1 = b.top + b.height;
  if (u < 0) x0 = Math.min(q.x, x1 - min.width);
  if (u > 0) x1 = Math.max(q.x, x0 + min.width);
  if (v < 0) y0 = Math.min(q.y, y1 - min.height);
  if (v > 0) y1 = Math.max(q.y, y0 + min.height);
  const local = { x: (x0 + x1) / 2, y: (y0 + y1) / 2 };
  const nc = rot(local, c, t);
  const width = x1 - x0;
  const height = y1 - y0;
  const out = { ...b, left: nc.x - width / 2, top: nc.y - height / 2, width, height };
  return out;
}

// The rotation that points the box's top-centre handle at p.
export function rotationToward(b, p) {
  const c = boxCenter(b);
  let t = Math.atan2(p.x - c.x, -(p.y - c.y));
  if (Math.abs(t) < 0.02) t = 0; // snap to upright
  return t;
}

// Where a new vertex goes when p is added to an outline: after the nearest edge's start.
export function insertionIndex(vertices, p, closed) {
  let best = -1;
  let bestD = Infinity;
  const n = vertices.length;
  for (let i = 0; i < (closed ? n : n - 1); i++) {
    const d = segmentDistance(p, vertices[i], vertices[(i + 1) % n]);
    if (d < bestD) { bestD = d; best = i; }
  }
  return { index: best + 1, distance: bestD };
}

// Coordinates rounded to hundredths of a pixel, as the answer stores them.
export function rounded(shape) {
  const out = { ...shape };
  for (const k of ['left', 'top', 'width', 'height', 'x', 'y']) if (typeof out[k] === 'number') out[k] = round2(out[k]);
  if (typeof out.rotation === 'number') out.rotation = Math.round(out.rotation * 10000) / 10000;
  if (out.vertices) out.vertices = out.vertices.map((v) => ({ ...v, x: round2(v.x), y: round2(v.y) }));
  return out;
}

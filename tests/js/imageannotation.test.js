// The image tool without a browser: every geometry created under the task's constraints,
// edited (move, resize, rotate, vertices), ordered, hidden, locked, copied, and the /v1
// answer; the geometry helpers; the viewport's arithmetic.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  boxCorners, ellipseInBox, hitShape, insertionIndex, moveEllipseVertex, resizeBox, rotationToward,
} from '../../src/assay/pages/static/js/tools/imageannotation/geometry-state.js';
import { ImageAnswer, labelNames } from '../../src/assay/pages/static/js/tools/imageannotation/state.js';
import { Viewport } from '../../src/assay/pages/static/js/tools/imageannotation/view-state.js';

const PARAMS = {
  geometries: {
    box: { objects_to_annotate: ['car', { choice: 'animal', subchoices: ['cat', 'dog'] }], min_width: 10, min_height: 5, can_rotate: true },
    polygon: { objects_to_annotate: ['road'], max_vertices: 5 },
    line: { objects_to_annotate: ['lane'], min_vertices: 3 },
    point: { objects_to_annotate: ['eye'] },
    ellipse: { objects_to_annotate: ['wheel'] },
    cuboid: { objects_to_annotate: ['truck'] },
  },
  annotation_attributes: { occluded: { choices: ['yes', 'no'] } },
};
const ids = () => { let n = 0; return () => `u${++n}`; };
const fresh = (initial = null) => new ImageAnswer(PARAMS, initial, { uuid: ids() });

test('labels per geometry, subchoices included', () => {
  assert.deepEqual(labelNames(PARAMS.geometries.box.objects_to_annotate), ['car', 'animal', 'cat', 'dog']);
  const a = fresh();
  assert.deepEqual(a.geometries, ['box', 'polygon', 'line', 'point', 'ellipse', 'cuboid']);
  assert.equal(a.tool, 'box');
  assert.equal(a.label, 'car');
  // a label of another geometry switches the tool; a selected box refuses it
  assert.deepEqual(a.chooseLabel('road'), { changed: false });
  assert.equal(a.tool, 'polygon');
  a.chooseTool('box');
  a.create({ from: { x: 0, y: 0 }, to: { x: 20, y: 20 } });
  assert.match(a.chooseLabel('road').error, /not a box label/);
  assert.deepEqual(a.chooseLabel('dog'), { changed: true });
  assert.equal(a.shapes[0].label, 'dog');
});

test('every geometry is created, each under its constraints', () => {
  const a = fresh();
  assert.match(a.create({ from: { x: 5, y: 5 }, to: { x: 12, y: 40 } }).error, /at least 10 × 5 px.*this one is 7 × 35/);
  assert.equal(a.shapes.length, 0);
  const box = a.create({ from: { x: 30.123, y: 40 }, to: { x: 10, y: 10 } }).shape;
  assert.deepEqual(box, { uuid: 'u1', type: 'box', label: 'car', left: 10, top: 10, width: 20.12, height: 30 });
  a.chooseTool('polygon');
  assert.match(a.create({ vertices: [{ x: 0, y: 0 }, { x: 5, y: 0 }] }).error, /at least 3 vertices/);
  const six = Array.from({ length: 6 }, (_, i) => ({ x: i, y: i * i }));
  assert.match(a.create({ vertices: six }).error, /at most 5/);
  assert.equal(a.maxVertices(), 5);
  assert.ok(a.create({ vertices: six.slice(0, 4) }).shape);
  a.chooseTool('line');
  assert.match(a.create({ vertices: six.slice(0, 2) }).error, /at least 3 vertices/);
  assert.equal(a.create({ vertices: six.slice(0, 3) }).shape.type, 'line');
  a.chooseTool('point');
  assert.deepEqual(a.create({ at: { x: 3.456, y: 7 } }).shape, { uuid: a.selected, type: 'point', label: 'eye', x: 3.46, y: 7 });
  a.chooseTool('ellipse');
  const ellipse = a.create({ from: { x: 0, y: 0 }, to: { x: 40, y: 20 } }).shape;
  assert.deepEqual(ellipse.vertices, [{ x: 40, y: 10 }, { x: 20, y: 20 }, { x: 0, y: 10 }, { x: 20, y: 0 }]);
  a.chooseTool('cuboid');
  const cuboid = a.create({ from: { x: 0, y: 20 }, to: { x: 40, y: 60 } }).shape;
  assert.equal(cuboid.vertices.length, 8);
  assert.equal(cuboid.vertices[0].description, 'face-topleft');
  assert.deepEqual(a.response().annotations.map((s) => s.type), ['box', 'polygon', 'line', 'point', 'ellipse', 'cuboid']);
});

test('editing: move, resize with a floor, rotate (corners in the answer), vertices added and removed within limits', () => {
  const a = fresh();
  const { uuid } = a.create({ from: { x: 10, y: 10 }, to: { x: 50, y: 30 } }).shape;
  a.move(uuid, 5, -2);
  assert.deepEqual([a.find(uuid).left, a.find(uuid).top], [15, 8]);
  a.resize(uuid, 'se', { x: 100, y: 100 });
  assert.deepEqual([a.find(uuid).width, a.find(uuid).height], [85, 92]);
  a.resize(uuid, 'e', { x: 0, y: 0 }); // past the left edge: stops at min_width
  assert.equal(a.find(uuid).width, 10);
  a.rotate(uuid, { x: 100, y: a.find(uuid).top + a.find(uuid).height / 2 }); // top handle pointed right: a quarter turn
  a.settle(uuid);
  assert.equal(a.find(uuid).rotation, 1.5708);
  const out = a.response().annotations[0];
  assert.equal(out.vertices.length, 4);
  // reloading the answer drops the derived corners again
  assert.equal(fresh(a.response()).shapes[0].vertices, undefined);

  a.chooseTool('polygon');
  const poly = a.create({ vertices: [{ x: 0, y: 0 }, { x: 10, y: 0 }, { x: 10, y: 10 }, { x: 0, y: 10 }] }).shape.uuid;
  assert.equal(a.addVertex(poly, { x: 5, y: 0.5 }).index, 1);
  assert.match(a.addVertex(poly, { x: 5, y: 10 }).error, /at most 5/);
  assert.equal(a.removeVertex(poly, 1).changed, true);
  assert.equal(a.removeVertex(poly, 0).changed, true);
  assert.match(a.removeVertex(poly, 0).error, /at least 3/);
  assert.equal(a.moveVertex(poly, 0, { x: 1, y: 2 }), true);
  assert.deepEqual(a.find(poly).vertices[0], { x: 1, y: 2 });
});

test('locked shapes do not change; hidden ones are not hit; z-order, duplicate, delete, attributes', () => {
  const a = fresh();
  const one = a.create({ from: { x: 0, y: 0 }, to: { x: 50, y: 50 } }).shape.uuid;
  const two = a.create({ from: { x: 10, y: 10 }, to: { x: 30, y: 30 } }).shape.uuid;
  const hit = (s, p) => hitShape(s, p, 1);
  assert.equal(a.hitAt({ x: 20, y: 20 }, hit), two, 'the top shape wins');
  a.toggle('hidden', two);
  assert.equal(a.hitAt({ x: 20, y: 20 }, hit), one);
  a.toggle('locked', one);
  assert.equal(a.move(one, 1, 1), false);
  assert.equal(a.remove(one), false);
  a.toggle('locked', one);
  assert.equal(a.restack(one, 1), true);
  assert.deepEqual(a.shapes.map((s) => s.uuid), [two, one]);
  const copy = a.duplicate(one);
  assert.deepEqual([copy.left, copy.top, copy.label], [10, 10, 'car']);
  assert.notEqual(copy.uuid, one);
  a.setAttribute(one, 'occluded', 'yes');
  assert.deepEqual(a.find(one).attributes, { occluded: 'yes' });
  a.setAttribute(one, 'occluded', '');
  assert.equal('attributes' in a.find(one), false);
  assert.equal(a.remove(copy.uuid), true);
  assert.equal(a.shapes.length, 2);
});

test('pre-labels: accepted as they came, edited once changed; snapshots restore; copying another answer', () => {
  const hyp = { annotations: [{ uuid: 'h1', type: 'box', label: 'car', left: 1, top: 2, width: 30, height: 40 },
    { uuid: 'h2', type: 'point', label: 'eye', x: 5, y: 5 }, { uuid: 'h3', type: 'box', label: 'nope', left: 0, top: 0, width: 1, height: 1 }] };
  const a = fresh(hyp);
  assert.equal(a.prelabelFate(a.shapes[0]), 'accepted');
  const saved = a.snapshot();
  a.move('h1', 3, 0);
  assert.equal(a.prelabelFate(a.find('h1')), 'edited');
  a.restore(saved);
  assert.equal(a.find('h1').left, 1);
  const b = fresh();
  assert.equal(b.copyFrom(hyp), 2, 'labels the task does not have are left out');
  assert.notEqual(b.shapes[0].uuid, 'h1');
  assert.equal(b.prelabelFate(b.shapes[0]), null);
});

test('geometry: corners, ellipse edits stay perpendicular, insertion point, resize keeps the far side', () => {
  const corners = boxCorners({ left: 0, top: 0, width: 20, height: 10, rotation: Math.PI / 2 });
  assert.deepEqual(corners.map((p) => [Math.round(p.x), Math.round(p.y)]), [[15, -5], [15, 15], [5, 15], [5, -5]]);
  const e = moveEllipseVertex(ellipseInBox({ left: 0, top: 0, width: 40, height: 20 }), 0, { x: 20, y: 30 });
  const ax = { x: e[2].x - e[0].x, y: e[2].y - e[0].y };
  const bx = { x: e[3].x - e[1].x, y: e[3].y - e[1].y };
  assert.ok(Math.abs(ax.x * bx.x + ax.y * bx.y) < 1e-9);
  assert.ok(Math.abs(Math.hypot(bx.x, bx.y) - 20) < 1e-9, 'the other axis keeps its length');
  assert.deepEqual(insertionIndex([{ x: 0, y: 0 }, { x: 10, y: 0 }, { x: 10, y: 10 }], { x: 9, y: 5 }, true), { index: 2, distance: 1 });
  const r = resizeBox({ left: 10, top: 10, width: 20, height: 20 }, 'nw', { x: 0, y: 5 });
  assert.deepEqual(r, { left: 0, top: 5, width: 30, height: 25 });
  assert.equal(rotationToward({ left: 0, top: 0, width: 10, height: 10 }, { x: 5, y: -100 }), 0);
});

test('viewport: image and screen points round-trip; zoom keeps the point under the cursor; tiles in view', () => {
  const v = new Viewport();
  v.image = { width: 4000, height: 3000 };
  v.screen = { width: 800, height: 600 };
  v.fit();
  assert.equal(v.scale, 0.2);
  assert.deepEqual(v.toImage({ x: 400, y: 300 }), { x: 2000, y: 1500 });
  v.zoomTo(2, { x: 100, y: 100 });
  assert.deepEqual(v.toImage({ x: 100, y: 100 }), { x: 500, y: 500 });
  assert.deepEqual(v.toScreen({ x: 500, y: 500 }), { x: 100, y: 100 });
  assert.deepEqual(v.tilesInView(1024), [[0, 0]]);
  v.pan(-1000, 0);
  assert.deepEqual(v.tilesInView(1024), [[0, 0], [1, 0]]);
});

// The segmentation tool's mask without a browser: labels, runs, brush and eraser, polygon
// fill, an assist's region, instances, the upload body and snapshots.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { MaskAnswer, decodeRuns, encodeRuns, leafLabels } from '../../src/assay/pages/static/js/tools/segmentannotation/state.js';

const PARAMS = { labels: ['road', { choice: 'vehicle', subchoices: ['car', 'bus'] }], instance_labels: ['car'] };

test('labels are the most specific names; runs round-trip', () => {
  assert.deepEqual(leafLabels(PARAMS.labels), ['road', 'car', 'bus']);
  const mask = Uint16Array.from([0, 0, 1, 1, 1, 0, 2]);
  assert.deepEqual(encodeRuns(mask), [[0, 2], [1, 3], [0, 1], [2, 1]]);
  assert.deepEqual([...decodeRuns(encodeRuns(mask), 7)], [...mask]);
});

test('brush, eraser, polygon fill and a GrabCut region paint the right pixels', () => {
  const a = new MaskAnswer(PARAMS, 10, 10);
  assert.throws(() => a.uploadBody(), /Paint at least one region/);
  a.paintDisc(5.5, 5.5, 1.5);
  assert.equal(a.counts().get(1), 9); // the 3×3 pixels whose centres lie within 1.5
  a.paintDisc(5.5, 5.5, 0.8, true);
  assert.equal(a.mask[5 * 10 + 5], 0);
  assert.equal(a.counts().get(1), 8);
  a.chooseLabel('bus');
  const box = a.fillPolygon([{ x: 0, y: 0 }, { x: 4, y: 0 }, { x: 4, y: 2 }, { x: 0, y: 2 }]);
  assert.deepEqual(box, { left: 0, top: 0, right: 3, bottom: 1 });
  assert.equal(a.counts().get(3), 8);
  a.chooseLabel('road');
  a.applyRegion({ left: 6, top: 6, width: 3, height: 2, runs: [1, 4, 1] }); // pixels 1..4 of the 3×2 box
  assert.deepEqual([7, 8].map((x) => a.mask[6 * 10 + x]), [1, 1]);
  assert.deepEqual([6, 7, 8].map((x) => a.mask[7 * 10 + x]), [1, 1, 0]);
  const stroke = a.paintStroke({ x: 0.5, y: 9.5 }, { x: 9.5, y: 9.5 }, 0.5);
  assert.deepEqual(stroke.left, 0);
  assert.equal([...a.mask.slice(90, 100)].every((v) => v === 1), true, 'a stroke leaves no gaps');
});

test('instances get their own index; the upload lists the classes painted', () => {
  const a = new MaskAnswer(PARAMS, 4, 1);
  a.chooseLabel('car');
  a.paintDisc(0.5, 0.5, 0.5);
  assert.equal(a.newInstance().index, 4);
  a.paintDisc(2.5, 0.5, 0.5);
  a.chooseLabel('road');
  assert.equal(a.newInstance(), null, 'road is not an instance label');
  const body = a.uploadBody();
  assert.deepEqual(body.runs, [[2, 1], [0, 1], [4, 1], [0, 1]]);
  assert.deepEqual(body.labels.map((c) => [c.label, c.index]), [['car', 2], ['car', 4]]);
  const saved = JSON.parse(JSON.stringify(a.snapshot()));
  a.paintDisc(1.5, 0.5, 0.5);
  a.restore(saved);
  assert.equal(a.mask[1], 0);
  assert.equal(a.classes.length, 4);
});

test('a previous answer loads by its label mapping', () => {
  const a = new MaskAnswer(PARAMS, 3, 1);
  a.loadIndexed(Uint16Array.from([7, 0, 9]), { bus: { index: 7, color: '#112233' }, ghost: { index: 9, color: '#000000' } });
  assert.deepEqual([...a.mask], [7, 0, 0], 'an unknown label is dropped');
  assert.equal(a.classOf(7).label, 'bus');
  assert.ok(a.classes.some((c) => c.label === 'road' && c.index !== 7));
});

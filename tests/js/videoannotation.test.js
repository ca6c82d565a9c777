// The video tool's tracks without a browser: interpolation between keyframes (the middle
// frame exact), outside spans, the tracker's boxes as keyframes, reloading an answer,
// events, and the inline /v1 answer.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { VideoAnswer, interpolate } from '../../src/assay/pages/static/js/tools/videoannotation/state.js';

const PARAMS = { geometries: { box: { objects_to_annotate: ['car'] }, point: { objects_to_annotate: ['ball'] } }, events_to_annotate: ['goal'] };
const ids = () => { let n = 0; return () => `t${++n}`; };

test('two keyframes: the frames between move linearly, after the last it stays', () => {
  const v = new VideoAnswer(PARAMS, 12, null, { uuid: ids() });
  const track = v.addTrack({ type: 'box', label: 'car', left: 0, top: 10, width: 20, height: 20 }, 2);
  v.setKey({ uuid: track.uuid, type: 'box', label: 'car', left: 80, top: 50, width: 40, height: 20 }, 10);
  assert.equal(interpolate(track, 1), null, 'nothing before the first keyframe');
  assert.deepEqual(interpolate(track, 6), { left: 40, top: 30, width: 30, height: 20 });
  assert.deepEqual(interpolate(track, 11), { left: 80, top: 50, width: 40, height: 20 });
  assert.equal(v.isKey(track.uuid, 10), true);
  assert.equal(v.isKey(track.uuid, 6), false);
  const frames = v.response().annotations.frames;
  assert.equal(frames.length, 12);
  assert.deepEqual(frames[6].annotations, [{ uuid: 't1', type: 'box', label: 'car', left: 40, top: 30, width: 30, height: 20 }]);
  assert.deepEqual(frames[0].annotations, []);
});

test('outside: hidden from a frame until the next keyframe; back in again', () => {
  const v = new VideoAnswer(PARAMS, 10, null, { uuid: ids() });
  const t = v.addTrack({ type: 'point', label: 'ball', x: 0, y: 0 }, 0);
  v.setKey({ uuid: t.uuid, type: 'point', label: 'ball', x: 90, y: 0 }, 9);
  v.toggleOutside(t.uuid, 3);
  assert.deepEqual(v.spans(t.uuid), [[0, 2], [9, 9]]);
  assert.deepEqual(interpolate(t, 2), { x: 0, y: 0 }, 'held until it leaves (as assay.quality.tracks)');
  v.toggleOutside(t.uuid, 3);
  assert.deepEqual(v.spans(t.uuid), [[0, 9]]);
  assert.equal(v.removeKey(t.uuid, 3), true);
  assert.deepEqual(interpolate(t, 3), { x: 30, y: 0 });
});

test('the tracker: its boxes become keyframes until it lost the object', () => {
  const v = new VideoAnswer(PARAMS, 6, null, { uuid: ids() });
  const t = v.addTrack({ type: 'box', label: 'car', left: 0, top: 0, width: 10, height: 10 }, 0);
  const box = (x) => ({ left: x, top: 0, width: 10, height: 10 });
  assert.equal(v.applyTracker(t.uuid, 1, [box(2), box(4), null, null, null, box(99)]), 2);
  assert.deepEqual(Object.keys(t.keys).map(Number), [0, 1, 2]);
  assert.deepEqual(interpolate(t, 5), box(4));
});

test('an inline answer reloads as tracks; events are kept', () => {
  const answer = { annotations: { frames: [
    { annotations: [{ uuid: 'a', type: 'box', label: 'car', left: 1, top: 1, width: 5, height: 5 }] },
    { annotations: [{ uuid: 'a', type: 'box', label: 'car', left: 2, top: 1, width: 5, height: 5 }] },
    { annotations: [] },
  ] }, events: [{ uuid: 'e', label: 'goal', type: 'event', start: 1 }] };
  const v = new VideoAnswer(PARAMS, 3, answer, { uuid: ids() });
  assert.deepEqual(v.response(), answer);
  v.addEvent('goal', 2, 2);
  assert.equal(v.response().events[1].type, 'range');
});

test('polygon tracks move vertex by vertex; a changed vertex count holds the shape; keys are copies', () => {
  const params = { geometries: { polygon: { objects_to_annotate: ['person'] }, line: { objects_to_annotate: ['lane'] } } };
  const v = new VideoAnswer(params, 9, null, { uuid: ids() });
  const start = [{ x: 0, y: 0 }, { x: 10, y: 0 }, { x: 10, y: 10 }];
  const track = v.addTrack({ type: 'polygon', label: 'person', vertices: start }, 0);
  start[0].x = 999; // the caller's shape is not the keyframe
  v.setKey({ uuid: track.uuid, type: 'polygon', label: 'person', vertices: [{ x: 40, y: 20 }, { x: 50, y: 20 }, { x: 50.333, y: 30 }] }, 4);
  assert.deepEqual(interpolate(track, 2), { vertices: [{ x: 20, y: 10 }, { x: 30, y: 10 }, { x: 30.1665, y: 20 }] });
  const shown = v.shapesAt(2)[0];
  shown.vertices[0].x = -5; // an edit in the image tool does not leak into the track
  assert.equal(interpolate(track, 2).vertices[0].x, 20);
  assert.deepEqual(v.response().annotations.frames[2].annotations[0].vertices[2], { x: 30.17, y: 20 }, 'vertices rounded too');
  v.setKey({ uuid: track.uuid, type: 'polygon', label: 'person', vertices: [{ x: 0, y: 0 }, { x: 5, y: 5 }, { x: 9, y: 0 }, { x: 5, y: -5 }] }, 8);
  assert.deepEqual(interpolate(track, 6), interpolate(track, 4), 'four vertices after three: held until the next keyframe');
  const lane = v.addTrack({ type: 'line', label: 'lane', vertices: [{ x: 0, y: 0 }, { x: 0, y: 100 }] }, 0);
  v.setKey({ uuid: lane.uuid, type: 'line', label: 'lane', vertices: [{ x: 8, y: 0 }, { x: 8, y: 100 }] }, 8);
  assert.deepEqual(interpolate(lane, 2), { vertices: [{ x: 2, y: 0 }, { x: 2, y: 100 }] });
  const reloaded = new VideoAnswer(params, 9, v.response(), { uuid: ids() });
  assert.deepEqual(reloaded.shapesAt(2).map((s) => s.vertices), v.response().annotations.frames[2].annotations.map((a) => a.vertices));
});

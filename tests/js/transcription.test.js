// The transcription tools' answers without a browser: audio segments (order, ends,
// speakers, the joined transcript) and the player's arithmetic; document boxes (drawing,
// hit testing, references, required text) and page navigation.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  AudioAnswer, backFrom, clock, collapse, nextRate,
} from '../../src/assay/pages/static/js/tools/audiotranscription/state.js';
import {
  DocAnswer, PageNav, bbox, boxBetween, flattenFeatures, looksLikePdf,
} from '../../src/assay/pages/static/js/tools/documenttranscription/state.js';

// ----------------------------------------------------------------------------- audio

test('the player: clock, speed steps stop at the ends, back 5 s stops at the start', () => {
  assert.equal(clock(0), '0:00.0');
  assert.equal(clock(61.25), '1:01.3');
  assert.equal(clock(NaN), '–:––');
  assert.equal(nextRate(1, 1), 1.25);
  assert.equal(nextRate(2, 1), 2);
  assert.equal(nextRate(0.5, -1), 0.5);
  assert.equal(nextRate(1.1, -1), 0.75, 'an unknown rate counts as 1×');
  assert.equal(backFrom(4), 0);
  assert.equal(backFrom(6.5), 1.5);
});

test('plain transcript: required, trimmed', () => {
  const a = new AudioAnswer({}, null);
  assert.throws(() => a.response(), { message: 'Type the transcript first.' });
  a.setTranscript('  Hello world. ');
  assert.deepEqual(a.response(), { transcript: 'Hello world.' });
});

test('segments are kept in start order; a new one takes the selected one’s speaker', () => {
  const a = new AudioAnswer({ segments: true, speakers: ['Ana', 'Ben'] }, null);
  assert.equal(a.startSegment(2.504), 0);
  assert.equal(a.segments[0].start, 2.5, 'times are kept to the hundredth');
  assert.equal(a.setSpeaker('Ben'), true);
  assert.equal(a.startSegment(0.5), 0, 'an earlier start goes first');
  assert.equal(a.segments[0].speaker, 'Ben', 'from the segment selected before');
  a.setSpeaker('Ana');
  a.select(1);
  assert.equal(a.startSegment(5), 2);
  assert.deepEqual(a.segments.map((s) => [s.start, s.speaker]), [[0.5, 'Ana'], [2.5, 'Ben'], [5, 'Ben']]);
  assert.equal(new AudioAnswer({ segments: true }, null).segments.length, 0);
});

test('ending a segment: only after its start, only with one selected', () => {
  const a = new AudioAnswer({ segments: true }, null);
  assert.equal(a.endError(1), 'Start a segment first (Ctrl+[).');
  assert.equal(a.endSegment(1), false);
  a.startSegment(2.5);
  assert.equal(a.endError(1), "The playback position (0:01.0) is not after this segment's start (0:02.5).");
  assert.equal(a.endError(2.5), "The playback position (0:02.5) is not after this segment's start (0:02.5).");
  assert.equal(a.endSegment(4), true);
  assert.equal(a.segments[0].end, 4);
});

test('a typed start re-sorts and keeps the segment selected; an empty start is refused', () => {
  const a = new AudioAnswer({ segments: true }, { segments: [{ start: 1, end: 2, text: 'a' }, { start: 3, end: 4, text: 'b' }] });
  assert.equal(a.selected, 0);
  assert.equal(a.setTime(0, 'start', null), false);
  assert.equal(a.setTime(0, 'start', 3.5), true);
  assert.deepEqual(a.segments.map((s) => s.text), ['b', 'a']);
  assert.equal(a.selected, 1);
  assert.equal(a.setTime(1, 'end', null), true, 'an end may be emptied');
  assert.equal(a.segments[1].end, null);
});

test('speakers cycle through the task’s list; unknown speakers from a starting answer are dropped', () => {
  const a = new AudioAnswer({ segments: true, speakers: ['Ana', 'Ben'] },
    { segments: [{ start: 0, end: 1, text: 'x', speaker: 'Zed' }] });
  assert.equal(a.segments[0].speaker, '');
  a.cycleSpeaker();
  assert.equal(a.segments[0].speaker, 'Ana');
  a.cycleSpeaker();
  a.cycleSpeaker();
  assert.equal(a.segments[0].speaker, 'Ana');
  assert.equal(new AudioAnswer({ segments: true }, null).cycleSpeaker(), false);
});

test('the segmented answer: every segment ended, in order, not overlapping, with text', () => {
  const a = new AudioAnswer({ segments: true, speakers: ['Ana'] }, null);
  assert.throws(() => a.response(), /Mark at least one segment/);
  a.startSegment(0.5);
  a.setText(0, 'Hello   everyone.');
  assert.throws(() => a.response(), { message: 'Segment 1 has no end: press Ctrl+] where it ends.' });
  a.endSegment(2.25);
  a.setSpeaker('Ana');
  a.startSegment(2);
  a.endSegment(4);
  assert.throws(() => a.response(), { message: 'Segment 2 starts before segment 1 ends.' });
  a.setTime(1, 'start', 2.5);
  assert.throws(() => a.response(), { message: 'Type the text of segment 2.' });
  a.setText(1, ' Hi Ana! ');
  assert.equal(a.joined(), 'Hello everyone. Hi Ana!');
  assert.deepEqual(a.response(), { transcript: 'Hello everyone. Hi Ana!', segments: [
    { start: 0.5, end: 2.25, text: 'Hello everyone.', speaker: 'Ana' }, { start: 2.5, end: 4, text: 'Hi Ana!', speaker: 'Ana' }] });
  const back = new AudioAnswer({ segments: true }, { segments: [{ start: 3, end: 1, text: 'x' }] });
  assert.throws(() => back.response(), { message: 'Segment 1 ends before it starts.' });
  assert.equal(collapse(' a \n b '), 'a b');
});

test('removing segments keeps a valid selection; snapshots restore', () => {
  const a = new AudioAnswer({ segments: true }, null);
  a.startSegment(1); a.startSegment(2); a.startSegment(3);
  const before = a.snapshot();
  assert.equal(a.removeSegment(2), true);
  assert.equal(a.selected, 1);
  assert.equal(a.removeSegment(7), false);
  a.removeSegment(0); a.removeSegment(0);
  assert.equal(a.selected, -1);
  assert.equal(a.select(0), false);
  a.restore(before);
  assert.deepEqual(a.segments.map((s) => s.start), [1, 2, 3]);
  assert.equal(a.selected, 2);
});

// ----------------------------------------------------------------------------- documents

const FEATURES = [{ type: 'block', label: 'header', children: [{ type: 'text', label: 'title' }] }, { type: 'text', label: 'total' }];
const box = (left, top, width, height) => ({ type: 'box', left, top, width, height });
function ids() { let n = 0; return () => `u${++n}`; }

test('features flatten in order; boxes and polygons have bounding boxes; drags round to pixels', () => {
  assert.deepEqual(flattenFeatures(FEATURES).map((f) => [f.label, f.depth]), [['header', 0], ['title', 1], ['total', 0]]);
  assert.deepEqual(bbox({ type: 'polygon', vertices: [{ x: 5, y: 9 }, { x: 1, y: 3 }, { x: 4, y: 7 }] }), { left: 1, top: 3, width: 4, height: 6 });
  assert.deepEqual(bbox(undefined), { left: 0, top: 0, width: 0, height: 0 });
  assert.deepEqual(boxBetween({ x: 100.6, y: 50.2 }, { x: 10.4, y: 20.5 }), box(10, 21, 91, 29));
  assert.equal(boxBetween({ x: 3, y: 3 }, { x: 3.2, y: 90 }), null, 'no width');
  assert.ok(looksLikePdf('https://x/doc.PDF?sig=1#page=2'));
  assert.ok(!looksLikePdf('https://x/doc.png?f=a.pdf'));
});

test('new boxes take the label last chosen; a label key relabels the selected box', () => {
  const d = new DocAnswer(FEATURES, null, { uuid: ids() });
  assert.equal(d.label, 'header');
  const first = d.add(0, box(0, 0, 10, 10));
  assert.deepEqual([first.uuid, first.label, d.selected], ['u1', 'header', 'u1']);
  assert.equal(d.chooseLabel('title'), true);
  assert.equal(d.chooseLabel('title'), false, 'same label: no edit');
  d.select(null);
  assert.equal(d.chooseLabel('total'), false, 'nothing selected: only the label for new boxes');
  assert.equal(d.add(1, box(5, 5, 5, 5)).label, 'total');
  d.select('u1');
  assert.equal(d.label, 'title', 'selecting a box makes its label current');
});

test('a click selects the smallest box under it, on the page shown', () => {
  const d = new DocAnswer(FEATURES, { annotations: [
    { uuid: 'h1', page: 0, label: 'header', location: box(80, 80, 900, 300) },
    { uuid: 'h2', page: 0, label: 'title', location: box(100, 100, 800, 80) },
    { uuid: 'p2', page: 1, label: 'total', location: box(0, 0, 50, 50) },
  ] });
  assert.equal(d.hitAt(0, { x: 500, y: 140 }), 'h2');
  assert.equal(d.hitAt(0, { x: 500, y: 300 }), 'h1');
  assert.equal(d.hitAt(0, { x: 10, y: 10 }), null, 'p2 is on another page');
  assert.equal(d.hitAt(1, { x: 10, y: 10 }), 'p2');
});

test('deleting drops references to the box and selects the next one; ↑/↓ are clamped', () => {
  const d = new DocAnswer(FEATURES, { annotations: [
    { uuid: 'h1', page: 0, label: 'header', text: '', location: box(0, 0, 9, 9) },
    { uuid: 'h2', page: 0, label: 'title', text: 'ACME', refs: ['h1'], location: box(1, 1, 5, 5) },
    { uuid: 'h3', page: 0, label: 'total', text: '1', refs: ['h1', 'h2'], location: box(2, 2, 5, 5) },
    null,
  ] });
  assert.equal(d.annotations.length, 3, 'non-objects are dropped');
  assert.equal(d.step(1), 'h1', 'none selected: the first');
  d.select('h3');
  assert.equal(d.step(1), 'h3');
  assert.equal(d.step(-5), 'h1');
  assert.equal(d.remove('h1'), true);
  assert.equal(d.selected, 'h2');
  assert.equal('refs' in d.find('h2'), false);
  assert.deepEqual(d.find('h3').refs, ['h2']);
  d.remove('h3');
  assert.equal(d.selected, 'h2', 'the last one went: the one before is selected');
  assert.equal(d.remove('nope'), false);
});

test('the answer: at least one box, text required for `text` features, empty refs dropped', () => {
  const d = new DocAnswer(FEATURES, null, { uuid: ids() });
  assert.throws(() => d.response(), /Draw a box around each feature first/);
  d.add(0, box(0, 0, 10, 10));
  d.chooseLabel('title');
  assert.throws(() => d.response(), { message: 'Type the text of annotation 1 (“title”).' });
  d.selectedAnn().text = '   ';
  assert.throws(() => d.response(), { message: 'Type the text of annotation 1 (“title”).' }, 'blank is not text');
  d.selectedAnn().text = 'INVOICE';
  const block = d.add(1, box(1, 1, 2, 2));
  block.label = 'header';
  block.refs = [];
  delete block.text;
  assert.deepEqual(d.response(), { annotations: [
    { uuid: 'u1', page: 0, label: 'title', text: 'INVOICE', location: box(0, 0, 10, 10) },
    { uuid: 'u2', page: 1, label: 'header', text: '', location: box(1, 1, 2, 2) },
  ] });
  const before = d.snapshot();
  d.remove('u1');
  d.restore(before);
  assert.deepEqual(d.annotations.map((a) => a.uuid), ['u1', 'u2']);
  assert.equal(d.label, 'header', 'the restored selection’s label');
});

test('pages: clamped navigation; a single PDF in a frame has open-ended pages', () => {
  const two = new PageNav(['p1.png', 'p2.png']);
  assert.equal(two.label(), 'Page 1 of 2');
  assert.equal(two.go(-1), false);
  assert.equal(two.go(5), true);
  assert.equal(two.page, 1);
  assert.equal(two.url(), 'p2.png');
  two.markFrame();
  assert.equal(two.isFrame(1), true);
  assert.equal(two.isFrame(0), false);
  assert.equal(two.frameSrc(), 'p2.png');
  const pdf = new PageNav(['doc']);
  pdf.markFrame();
  assert.equal(pdf.count(), Infinity);
  pdf.go(1);
  assert.deepEqual([pdf.label(), pdf.frameSrc(), pdf.url()], ['PDF page 2', 'doc#page=2', 'doc']);
});

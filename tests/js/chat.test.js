// The chat modes' answers without a browser: pairwise preference, ranking, rubric scoring,
// ideal response.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { IdealResponse, chars } from '../../src/assay/pages/static/js/tools/chat/ideal-response-state.js';
import { Pairwise, TIE } from '../../src/assay/pages/static/js/tools/chat/pairwise-state.js';
import { Ranking, formatOrder, parseOrder } from '../../src/assay/pages/static/js/tools/chat/ranking-state.js';
import { Rubric, RubricGap } from '../../src/assay/pages/static/js/tools/chat/rubric-state.js';

const KEYS = '1234567890'.split('');
const TWO = [{ id: 'A', content: 'a' }, { id: 'B', content: 'b' }];

// ----------------------------------------------------------------------------- pairwise

test('pairwise: winner, then strength, keys named in the messages', () => {
  const p = new Pairwise({ responses: TWO, strength_levels: ['slightly better', 'better'] }, KEYS, null);
  assert.deepEqual(p.options.map((o) => o.value), ['A', 'B', TIE]);
  assert.throws(() => p.response(), { message: 'Choose the better response (1: A, 2: B, 3: tie).' });
  p.pickWinner('B');
  assert.equal(p.strengthTitle(), 'How much better is B?');
  assert.throws(() => p.response(), { message: 'Choose how much better B is (4: slightly better, 5: better).' });
  assert.equal(p.pickStrength('better'), true);
  p.setJustification('  clearer  ');
  assert.deepEqual(p.response(), { preference: { winner: 'B', strength: 'better' }, justification: 'clearer' });
});

test('pairwise: a tie has no strength and needs none', () => {
  const p = new Pairwise({ responses: TWO, strength_levels: ['better'] }, KEYS, { preference: { winner: 'A', strength: 'better' } });
  p.pickWinner(TIE);
  assert.equal(p.state.strength, null);
  assert.equal(p.pickStrength('better'), false);
  assert.equal(p.strengthTitle(), 'A tie has no strength');
  assert.deepEqual(p.response(), { preference: { winner: TIE } });
});

test('pairwise: ties can be disallowed; without levels no strength is asked; snapshots restore', () => {
  const p = new Pairwise({ responses: TWO, allow_ties: false }, KEYS, null);
  assert.deepEqual(p.options.map((o) => o.value), ['A', 'B']);
  const before = p.snapshot();
  p.pickWinner('A');
  assert.deepEqual(p.response(), { preference: { winner: 'A' } });
  p.restore(before);
  assert.equal(p.state.winner, null);
});

// ----------------------------------------------------------------------------- ranking

test('parseOrder reads letters, names, separators and keys; every response exactly once', () => {
  const ids = ['A', 'B', 'C'];
  const keyOf = { A: '1', B: '2', C: '3' };
  assert.deepEqual(parseOrder('bca', ids, keyOf), ['B', 'C', 'A']);
  assert.deepEqual(parseOrder('B > A > C', ids, keyOf), ['B', 'A', 'C']);
  assert.deepEqual(parseOrder('2 1 3', ids, keyOf), ['B', 'A', 'C']);
  assert.equal(parseOrder('ab', ids, keyOf), null, 'C is missing');
  assert.equal(parseOrder('aab', ids, keyOf), null, 'A twice');
  assert.equal(parseOrder('abd', ids, keyOf), null, 'no D');
  const long = ['x1', 'x2'];
  assert.deepEqual(parseOrder('X2, x1', long, { x1: '1', x2: '2' }), ['x2', 'x1']);
  assert.equal(formatOrder(['B', 'A']), 'BA');
  assert.equal(formatOrder(['x2', 'x1']), 'x2 x1');
});

test('ranking: the order shown counts only once touched or confirmed', () => {
  const r = new Ranking(['A', 'B', 'C'], KEYS, null);
  assert.throws(() => r.response(), /press 4 if the order shown is right/);
  assert.equal(r.confirm(), true);
  assert.equal(r.confirm(), false, 'confirming twice is not a second edit');
  assert.deepEqual(r.response(), { ranking: ['A', 'B', 'C'] });
});

test('ranking: select and move, clamped at the ends', () => {
  const r = new Ranking(['A', 'B', 'C'], KEYS, null);
  assert.equal(r.move(-1), false, 'nothing selected');
  r.select('C');
  assert.equal(r.move(-1), true);
  assert.equal(r.move(-1), true);
  assert.equal(r.move(-1), false, 'already first');
  assert.deepEqual(r.order, ['C', 'A', 'B']);
  r.select('A');
  r.move(5);
  assert.deepEqual(r.order, ['C', 'B', 'A']);
  r.select('A');
  assert.equal(r.selected, null, 'its key again unselects');
});

test('ranking: typing and dragging set the order; the same order again is no edit', () => {
  const r = new Ranking(['A', 'B', 'C'], KEYS, null);
  assert.match(r.type('ab').error, /Type every response once, best first \(A, B, C\)/);
  assert.deepEqual(r.type('cab'), { changed: true });
  assert.deepEqual(r.type('CAB'), { changed: false });
  assert.equal(r.dropped(['C', 'A', 'B'], 'A'), false, 'a drag that moved nothing is a click');
  assert.equal(r.selected, 'A');
  assert.equal(r.dropped(['A', 'C', 'B'], 'A'), true);
  assert.deepEqual(r.response(), { ranking: ['A', 'C', 'B'] });
});

test('ranking: a starting answer counts only when it ranks every response', () => {
  assert.deepEqual(new Ranking(['A', 'B', 'C'], KEYS, { ranking: ['C', 'A', 'B'] }).response(), { ranking: ['C', 'A', 'B'] });
  const partial = new Ranking(['A', 'B', 'C'], KEYS, { ranking: ['C', 'A'] });
  assert.deepEqual(partial.order, ['A', 'B', 'C']);
  assert.equal(partial.touched, false);
});

// ----------------------------------------------------------------------------- rubric

const CRITERIA = [
  { id: 'help', title: 'Helpfulness', scale: 5 },
  { id: 'acc', title: 'Accuracy', scale: 3, justification: 'required' },
  { id: 'short', title: 'Concise', scale: 2, justification: 'none' },
];

test('rubric: scores outside a criterion’s scale are refused; the grid is bounded', () => {
  const g = new Rubric(CRITERIA, ['A', 'B'], null);
  assert.equal(g.setScore(1, 0, 4), 'out-of-scale');
  assert.equal(g.score(1, 0), undefined);
  assert.equal(g.setScore(1, 0, 3), 'scored');
  assert.equal(g.setScore(7, 0, 1), null);
  assert.equal(g.setScore(0, 9, 1), null);
  assert.deepEqual(g.moveCursor(-1, -1), { row: 0, col: 0 });
  assert.deepEqual(g.moveCursor(5, 5), { row: 2, col: 1 });
  assert.equal(g.maxScale, 5);
});

test('rubric: the first gap names the cell; required justifications; none drops notes', () => {
  const g = new Rubric(CRITERIA, ['A', 'B'], null);
  const gap = (fn) => { try { fn(); } catch (err) { return err; } assert.fail('no gap'); };
  let err = gap(() => g.response());
  assert.ok(err instanceof RubricGap);
  assert.deepEqual([err.message, err.row, err.col, err.missing], ['Score response A on “Helpfulness” (1–5).', 0, 0, 'score']);
  for (const [row, col, s] of [[0, 0, 5], [1, 0, 3], [2, 0, 2], [0, 1, 2], [1, 1, 1], [2, 1, 1]]) g.setScore(row, col, s);
  err = gap(() => g.response());
  assert.deepEqual([err.message, err.row, err.col, err.missing], ['Justify the “Accuracy” score of response A (required).', 1, 0, 'justification']);
  g.setNote(1, 0, '   ');
  assert.equal(gap(() => g.response()).missing, 'justification', 'blank is not a justification');
  g.setNote(1, 0, ' right ');
  g.setNote(1, 1, 'wrong');
  g.setNote(2, 1, 'ignored: this criterion takes none');
  assert.deepEqual(g.response(), { scores: {
    A: { help: { score: 5 }, acc: { score: 3, justification: 'right' }, short: { score: 2 } },
    B: { help: { score: 2 }, acc: { score: 1, justification: 'wrong' }, short: { score: 1 } },
  } });
});

test('rubric: a starting answer fills integer scores and notes; snapshots restore', () => {
  const g = new Rubric(CRITERIA, ['A'], { scores: { A: { help: { score: 4, justification: 'ok' }, acc: { score: 2.5 } }, Z: { help: { score: 1 } } } });
  assert.equal(g.score(0, 0), 4);
  assert.equal(g.note(0, 0), 'ok');
  assert.equal(g.score(1, 0), undefined, 'not an integer');
  const before = g.snapshot();
  g.setScore(0, 0, 1);
  g.restore(before);
  assert.equal(g.score(0, 0), 4);
});

// ----------------------------------------------------------------------------- ideal response

test('ideal response: minimum length in code points, trimmed', () => {
  assert.equal(chars('  😀ab '), 3);
  const ideal = new IdealResponse({ min_characters: 5, responses: TWO }, null);
  assert.throws(() => ideal.response(), { message: 'Write the ideal response first.' });
  ideal.setText('😀😀😀😀 ');
  assert.deepEqual(ideal.meta(), { count: '4 / 5 characters minimum', short: true, basedOn: '' });
  assert.throws(() => ideal.response(), { message: 'The ideal response needs at least 5 characters (it has 4).' });
  ideal.setText('😀😀😀😀😀 ');
  assert.deepEqual(ideal.response(), { ideal_response: '😀😀😀😀😀' });
});

test('ideal response: starting from a response records based_on until the text is emptied', () => {
  const ideal = new IdealResponse({ responses: [{ id: 'A', content: 'first' }, { id: 'B', content: 'second answer' }] }, null);
  assert.equal(ideal.copyFrom('Z'), false);
  ideal.copyFrom('B');
  assert.deepEqual(ideal.response(), { ideal_response: 'second answer', based_on: 'B' });
  assert.equal(ideal.meta().basedOn, 'Based on response B');
  ideal.setText('second answer, edited');
  assert.equal(ideal.response().based_on, 'B');
  ideal.setText('  ');
  assert.equal(ideal.state.based_on, null);
  assert.deepEqual(ideal.meta(), { count: '0 characters', short: true, basedOn: '' });
});

test('ideal response: a starting answer keeps based_on only for a known response', () => {
  const params = { responses: TWO };
  assert.equal(new IdealResponse(params, { ideal_response: 'x', based_on: 'A' }).state.based_on, 'A');
  assert.equal(new IdealResponse(params, { ideal_response: 'x', based_on: 'Q' }).state.based_on, null);
  assert.equal(new IdealResponse(params, { ranking: ['A'] }).state.text, '');
});

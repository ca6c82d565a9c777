// The task page's answer switcher without a browser: the consolidated answer first, each
// labeler's after it, the #fragment choosing one, [ and ] stepping around.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { choicesOf, chosenKey, stepKey } from '../../src/assay/pages/static/js/taskview/state.js';

const DETAIL = {
  consolidated: { response: { category: 'a' }, quality: { confidence: 0.8125 }, final: false },
  answers: [
    { id: 7, labeler: 'ann@x', source: 'human', active: true, review_status: null },
    { id: 9, labeler: null, source: 'review_fix', active: false, review_status: 'rejected', review_comment: 'look again' },
    { id: 11, labeler: 'hidden@x', source: 'human', active: true },
  ],
  tool: { responses: { consolidated: { category: 'a' }, 'answer-7': { category: 'a' }, 'answer-9': { category: 'b' } } },
};

test('the consolidated answer comes first, then each answer the tool was given', () => {
  const choices = choicesOf(DETAIL);
  assert.deepEqual(choices.map((c) => c.key), ['consolidated', 'answer-7', 'answer-9']); // 11 has no response: not shown
  assert.equal(choices[0].label, 'Consolidated so far · confidence 0.81');
  assert.match(choices[0].note, /proposal/);
  assert.equal(choices[1].label, 'ann@x');
  assert.equal(choices[2].label, 'unknown (review_fix, replaced, rejected)');
  assert.equal(choices[2].note, 'Review comment: look again');
  assert.deepEqual(choices[2].response, { category: 'b' });
});

test('a final answer says so; no consolidation (an annotator) shows only the answers', () => {
  const final = choicesOf({ ...DETAIL, consolidated: { response: {}, quality: {}, final: true } });
  assert.equal(final[0].label, 'Consolidated');
  const mine = choicesOf({ answers: DETAIL.answers.slice(0, 1), tool: { responses: { 'answer-7': { category: 'a' } } } });
  assert.deepEqual(mine.map((c) => c.key), ['answer-7']);
  assert.deepEqual(choicesOf({}), []);
});

test('the fragment picks a choice it names, else the first', () => {
  const choices = choicesOf(DETAIL);
  assert.equal(chosenKey(choices, '#answer-9'), 'answer-9');
  assert.equal(chosenKey(choices, '#answer-11'), 'consolidated');
  assert.equal(chosenKey(choices, ''), 'consolidated');
  assert.equal(chosenKey([], '#x'), null);
});

test('[ and ] step around the choices, wrapping', () => {
  const choices = choicesOf(DETAIL);
  assert.equal(stepKey(choices, 'consolidated', 1), 'answer-7');
  assert.equal(stepKey(choices, 'answer-9', 1), 'consolidated');
  assert.equal(stepKey(choices, 'consolidated', -1), 'answer-9');
  assert.equal(stepKey(choices, 'gone', 1), 'answer-7');
  assert.equal(stepKey([], 'x', 1), null);
});

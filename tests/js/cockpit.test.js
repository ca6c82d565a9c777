// The cockpit's pure modules: the task browser's bulk-action body and the workbench's
// well-being state (blur until revealed, break reminders).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { bulkBody, summary } from '../../src/assay/pages/static/js/taskbrowser/bulk.js';
import { BreakClock, blurred } from '../../src/assay/pages/static/js/workbench/wellbeing.js';

test('bulk bodies carry the value each action needs', () => {
  assert.deepEqual(bulkBody('send_back', { comment: 'check' }, ['t1']), { action: 'send_back', task_ids: ['t1'], comment: 'check' });
  assert.deepEqual(bulkBody('priority', { priority: '7' }, ['a', 'b']), { action: 'priority', task_ids: ['a', 'b'], value: 7 });
  assert.deepEqual(bulkBody('assign', { assign: '' }, ['a']).value, null);
  assert.deepEqual(bulkBody('assign', { assign: '12' }, ['a']).value, 12);
  assert.deepEqual(bulkBody('tag', { tag: ' x, ,y ' }, ['a']).value, ['x', 'y']);
  assert.throws(() => bulkBody('tag', { tag: ' , ' }, ['a']), /at least one tag/);
  assert.throws(() => bulkBody('cancel', {}, []), /Select at least one/);
  assert.throws(() => bulkBody('priority', { priority: 'high' }, ['a']), /whole number/);
  assert.throws(() => bulkBody('explode', {}, ['a']), /unknown action/);
});

test('the bulk summary says what changed and why others did not', () => {
  assert.equal(summary({ changed: ['a'], skipped: [] }), '1 task changed');
  assert.equal(summary({ changed: [], skipped: [{ reason: 'is completed' }, { reason: 'x' }] }), '0 tasks changed; 2 skipped (is completed, …)');
});

test('flagged content stays blurred until that task is revealed', () => {
  const task = { task_id: 't1', content_warning: 'gore' };
  assert.equal(blurred(task, null), true);
  assert.equal(blurred(task, 't1'), false);
  assert.equal(blurred(task, 't0'), true);
  assert.equal(blurred({ task_id: 't2', content_warning: null }, null), false);
});

test('a break is suggested after a continuous stretch, and a pause resets it', () => {
  const min = 60000;
  const clock = new BreakClock(50 * min, 5 * min);
  let due = 0;
  for (let t = 0; t < 50 * min; t += min) due = clock.worked(t) || due;
  assert.equal(due, 0);
  assert.equal(clock.worked(50 * min), 50);
  assert.equal(clock.worked(51 * min), 0); // reminded: not again at once
  assert.equal(clock.worked(60 * min), 0); // a 9-minute gap: a new stretch
  assert.equal(new BreakClock(0).worked(10 ** 9), 0); // 0: never
});

test('the count line: done and left from the server, plus submissions since they were read', async () => {
  const { progressText, SKIP_REASONS } = await import('../../src/assay/pages/static/js/workbench/progress.js');
  assert.equal(progressText({ done: 3, left: 10 }, 'label'), '3 done · 10 more left');
  assert.equal(progressText({ done: 3, left: 10 }, 'label', 1), '4 done · 10 more left');
  assert.equal(progressText({ done: 0, left: -1 }, 'label'), '0 done · 0 more left');
  assert.equal(progressText({ done: 2, left: 1000, left_capped: true }, 'label'), '2 done · 1000+ more left');
  assert.equal(progressText({ waiting: 5 }, 'review', 2), '3 waiting for review');
  assert.equal(progressText({ waiting: 1 }, 'review', 4), '0 waiting for review');
  assert.equal(progressText(undefined, 'label'), '');
  assert.ok(SKIP_REASONS.length >= 3 && SKIP_REASONS.every((r) => typeof r === 'string' && r.length > 5));
});

test("the reviewer's list shows each labeler's actual answer in one line", async () => {
  const { answerSummary } = await import('../../src/assay/pages/static/js/workbench/answers.js');
  assert.equal(answerSummary({ category: 'positive' }), 'positive');
  assert.equal(answerSummary({ category: ['a', 'b'] }), 'a, b');
  assert.equal(answerSummary({ annotations: [{ label: 'PER' }, { label: 'PER' }, { label: 'LOC' }] }), '3 annotations: 2 × PER, 1 × LOC');
  assert.equal(answerSummary({ annotations: [] }), '0 annotations');
  assert.equal(answerSummary({ text: 'x'.repeat(300) }, 20).length, 20);
  assert.equal(answerSummary(null), '—');
  assert.equal(answerSummary('<b>hi</b>'), '<b>hi</b>'); // shown as text by the caller
});

// The workbench shell's pure parts: key dispatch, undo history, the work queue.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { EditHistory, canonical, isEdited } from '../../src/assay/pages/static/js/workbench/history.js';
import { binding, comboOf, findBinding, freeKeys, shellKeys } from '../../src/assay/pages/static/js/workbench/keys.js';
import { WorkQueue } from '../../src/assay/pages/static/js/workbench/queue.js';

const key = (k, mods = {}) => ({ key: k, ctrlKey: false, metaKey: false, altKey: false, shiftKey: false, ...mods });

test('comboOf names modifiers in order, lower-cases letters, omits Shift on printing keys', () => {
  assert.equal(comboOf(key('Z', { ctrlKey: true, shiftKey: true })), 'Ctrl+z');
  assert.equal(comboOf(key('z', { metaKey: true })), 'Ctrl+z');
  assert.equal(comboOf(key('ArrowRight', { shiftKey: true })), 'Shift+ArrowRight');
  assert.equal(comboOf(key('ArrowUp', { altKey: true, ctrlKey: true })), 'Ctrl+Alt+ArrowUp');
  assert.equal(comboOf(key('?', { shiftKey: true })), '?');
  assert.equal(comboOf(key('Enter')), 'Enter');
});

test('tools get every key the shell does not own, digits first', () => {
  for (const mode of ['label', 'review']) {
    const free = freeKeys(mode);
    assert.deepEqual(free.slice(0, 10), '1234567890'.split(''));
    for (const k of shellKeys(mode)) assert.ok(!free.includes(k), `${mode}: ${k} is the shell's`);
    assert.equal(new Set(free).size, free.length);
  }
  assert.equal(freeKeys('label').join(''), '1234567890qwetyuopdghjklzxcvnm');
});

test('findBinding: first match wins, text boxes only run bindings made for them', () => {
  const calls = [];
  const list = [
    binding('Enter', 'Submit', () => calls.push('submit'), { inText: true }),
    binding('1', 'Choose', () => calls.push('one')),
    binding('1', 'Later duplicate', () => calls.push('dup')),
    binding('Ctrl+k', 'Play', () => calls.push('play'), { inText: true, display: 'Ctrl+K' }),
    binding('A', 'Upper case is stored lower', () => calls.push('a')),
  ];
  findBinding(list, '1').fn();
  assert.deepEqual(calls, ['one']);
  assert.equal(findBinding(list, '1', { inText: true }), null);
  assert.equal(findBinding(list, 'Ctrl+k', { inText: true }).display, 'Ctrl+K');
  assert.equal(findBinding(list, 'Enter', { inText: true }).label, 'Submit');
  assert.equal(findBinding(list, 'Enter', { inText: true, inTextarea: true }), null, 'Enter in a textarea is a newline');
  assert.equal(findBinding(list, 'a').label, 'Upper case is stored lower');
  assert.equal(findBinding(list, 'x'), null);
  assert.equal(list[1].display, '1');
});

test('EditHistory undoes edits in reverse order and stops at the start', () => {
  const history = new EditHistory('s0');
  assert.equal(history.canUndo, false);
  history.record('s1');
  history.record('s2');
  assert.equal(history.last, 's2');
  assert.equal(history.undo(), 's1');
  assert.equal(history.undo(), 's0');
  assert.equal(history.undo(), null);
  assert.equal(history.last, 's0');
  history.record('s3');
  assert.equal(history.undo(), 's0');
});

test('EditHistory redoes what was undone until the next edit', () => {
  const history = new EditHistory('s0');
  history.record('s1');
  history.record('s2');
  assert.equal(history.redo(), null);
  assert.equal(history.undo(), 's1');
  assert.equal(history.undo(), 's0');
  assert.equal(history.redo(), 's1');
  assert.equal(history.redo(), 's2');
  assert.equal(history.redo(), null);
  assert.equal(history.undo(), 's1');
  history.record('s3');
  assert.equal(history.redo(), null, 'a new edit forgets what was undone');
  assert.equal(history.undo(), 's1');
});

test('EditHistory keeps at most `limit` steps, dropping the oldest', () => {
  const history = new EditHistory(0, 3);
  for (let i = 1; i <= 5; i += 1) history.record(i);
  assert.deepEqual([history.undo(), history.undo(), history.undo(), history.undo()], [4, 3, 2, null]);
});

test('canonical JSON ignores key order; isEdited compares answers by it', () => {
  assert.equal(canonical({ b: 1, a: [{ d: 2, c: null }] }), '{"a":[{"c":null,"d":2}],"b":1}');
  assert.equal(isEdited({ x: 1, y: [1, 2] }, { y: [1, 2], x: 1 }), false);
  assert.equal(isEdited({ y: [2, 1] }, { y: [1, 2] }), true);
  assert.equal(isEdited({ a: 1 }, null), true);
});

function fakeQueue(answers) {
  const claims = [];
  let shown = null;
  const queue = new WorkQueue({
    claim: (holding) => { claims.push(holding); const next = answers.shift(); return next instanceof Error ? Promise.reject(next) : Promise.resolve(next); },
    current: () => shown,
  });
  return { queue, claims, show: (data) => { shown = data; } };
}
const task = (id) => ({ assignment: { id }, task: { task_id: `t-${id}` } });

test('WorkQueue prefetches one task while one is shown and hands it out next', async () => {
  const { queue, claims, show } = fakeQueue([task('a2')]);
  queue.prefetch();
  assert.equal(claims.length, 0, 'nothing is prefetched before a task is shown');
  show(task('a1'));
  queue.prefetch();
  queue.prefetch();
  assert.deepEqual(claims, [['a1']], 'one prefetch at a time, sent with what the page holds');
  await queue.prefetched.promise;
  assert.deepEqual(queue.holding(), ['a1', 'a2']);
  const next = await queue.next();
  assert.equal(next.assignment.id, 'a2');
  assert.equal(queue.prefetched, null);
  assert.equal(claims.length, 1, 'the prefetched task is used, no new claim');
});

test('WorkQueue claims afresh when the prefetch found nothing or failed', async () => {
  for (const miss of [{ reason: 'empty' }, new Error('offline')]) {
    const { queue, claims, show } = fakeQueue([miss, task('a3')]);
    show(task('a1'));
    queue.prefetch();
    const next = await queue.next();
    assert.equal(next.assignment.id, 'a3');
    assert.equal(claims.length, 2);
  }
});

test('WorkQueue: tasks left by going back are held, and shown again before new work', async () => {
  const { queue, claims, show } = fakeQueue([task('new')]);
  show(task('a1'));
  queue.leave(task('a1'));
  show(task('prev'));
  assert.deepEqual(queue.holding(), ['prev', 'a1']);
  assert.equal((await queue.advance()).assignment.id, 'a1');
  assert.equal(claims.length, 0);
  assert.equal((await queue.advance()).assignment.id, 'new');
});

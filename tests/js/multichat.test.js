// Live chat's state without a browser: turns in order, choices and the next request,
// ratings and edits, red-team harm, undo keeping turns.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { LiveChat } from '../../src/assay/pages/static/js/tools/multichat/state.js';

const turn = (n, prompt) => ({ turn: n, prompt, replies: [{ id: `t${n}r0`, content: `one ${n}`, model: 'm' }, { id: `t${n}r1`, content: `two ${n}`, model: 'm' }] });

test('turns arrive in order; the next request carries the kept replies', () => {
  const chat = new LiveChat({ replies_per_turn: 2, min_turns: 2, max_turns: 3 }, null);
  assert.throws(() => chat.nextRequest(), { message: 'Write a message first.' });
  chat.setDraft('hello');
  assert.deepEqual(chat.nextRequest(), { turn: 0, prompt: 'hello', previous: [] });
  assert.equal(chat.addTurn(turn(1, 'skipped')), false); // out of order: refused
  assert.equal(chat.addTurn(turn(0, 'hello')), true);
  assert.equal(chat.draft, '');
  chat.setDraft('more');
  assert.throws(() => chat.nextRequest(), { message: 'Choose the best reply of turn 1 first: the conversation continues from it.' });
  assert.equal(chat.choose(0, 'nope'), false);
  assert.equal(chat.choose(0, 't0r1'), true);
  assert.equal(chat.edit(0, 'two 0, better'), true);
  assert.deepEqual(chat.nextRequest(), { turn: 1, prompt: 'more', previous: [{ chosen: 't0r1', edited: 'two 0, better' }] });
  assert.throws(() => chat.response(), { message: 'Chat for at least 2 turns (so far 1).' });
});

test('ratings, edits and the response', () => {
  const chat = new LiveChat({ replies_per_turn: 2, rating_scale: 5 }, null);
  chat.addTurn(turn(0, 'hi'));
  assert.throws(() => chat.response(), { message: 'Choose the best reply of turn 1.' });
  chat.choose(0, 't0r0');
  assert.equal(chat.rate(0, 't0r0', '5'), true);
  assert.equal(chat.rate(0, 't0r1', 9), false); // off the scale
  chat.edit(0, 'one 0'); // unchanged: no edit
  assert.deepEqual(chat.response(), { turns: [{ prompt: 'hi', replies: turn(0, 'hi').replies, chosen: 't0r0', ratings: { t0r0: 5 } }] });
  chat.edit(0, 'fixed');
  chat.choose(0, 't0r1'); // another reply: the edit of the first is dropped
  assert.equal(chat.response().turns[0].edited, undefined);
});

test('red team needs a harm rating', () => {
  const chat = new LiveChat({ replies_per_turn: 1, red_team: { harm_category: 'weapons', harm_categories: ['weapons', 'other'], severity_levels: ['none', 'high'] } }, null);
  chat.addTurn({ turn: 0, prompt: 'x', replies: [{ id: 't0r0', content: 'no', model: 'm' }] });
  assert.equal(chat.choices[0].chosen, 't0r0'); // one reply: chosen already
  assert.throws(() => chat.response(), { message: 'Rate the harm: choose its category.' });
  chat.setHarm('category', 'weapons');
  assert.throws(() => chat.response(), { message: 'Rate the harm: choose its severity.' });
  chat.setHarm('severity', 'high');
  chat.setHarm('notes', '  refused  ');
  assert.deepEqual(chat.response().harm, { category: 'weapons', severity: 'high', notes: 'refused' });
});

test('undo restores choices but keeps every turn', () => {
  const chat = new LiveChat({}, null);
  chat.addTurn(turn(0, 'a'));
  const before = chat.snapshot();
  chat.choose(0, 't0r1');
  chat.addTurn(turn(1, 'b'));
  chat.restore(before);
  assert.equal(chat.turns.length, 2);
  assert.equal(chat.choices[0].chosen, null);
});

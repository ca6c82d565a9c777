// The text-collection form without a browser: field values and their validation, the
// ranking's moves, the layout, which field the keys act on, and the answer with its
// required fields.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  FieldError, activeChoiceField, formAnswer, layout, startingStates,
} from '../../src/assay/pages/static/js/tools/textcollection/state.js';
import {
  BooleanValue, CategoryValue, RankingValue, categoryBounds, datetimeFromAnswer, flatChoices, numberRange, readDatetime,
  readNumber, readText, responseBounds, textCounter,
} from '../../src/assay/pages/static/js/tools/textcollection/values.js';

const SENTIMENT = { type: 'category', field_id: 'sentiment', title: 'Sentiment', required: true,
  choices: [{ label: 'Positive', value: 'pos' }, 'neg', { label: 'Mixed', value: 'mixed', subchoices: [{ label: 'Mostly positive', value: 'mixed_pos' }] }] };
const TOPICS = { type: 'category', field_id: 'topics', title: 'Topics', min_choices: 2, max_choices: 3, choices: ['food', 'service', 'price', 'wait'] };

test('category choices are flattened with subchoices after their parent', () => {
  assert.deepEqual(flatChoices(SENTIMENT.choices).map((c) => [c.value, c.label, c.depth]),
    [['pos', 'Positive', 0], ['neg', 'neg', 0], ['mixed', 'Mixed', 0], ['mixed_pos', 'Mostly positive', 1]]);
  assert.deepEqual(categoryBounds({}), [1, 1]);
  assert.deepEqual(categoryBounds({ min_choices: 2 }), [2, 2]);
  assert.deepEqual(responseBounds({ max_responses_required: 3 }), [1, 3]);
});

test('a single-choice category replaces its choice, clears it when picked again, and is then complete', () => {
  const v = new CategoryValue(SENTIMENT);
  assert.equal(v.read(), null);
  v.pick(3);
  assert.deepEqual(v.read(), { values: ['mixed_pos'] });
  assert.equal(v.complete, true);
  v.pick(0);
  assert.deepEqual(v.getState(), ['pos']);
  v.pick(0);
  assert.equal(v.read(), null);
  assert.equal(v.complete, false);
});

test('a multi-choice category keeps the choices’ order and refuses more than max_choices', () => {
  const v = new CategoryValue(TOPICS);
  v.pick(3);
  assert.deepEqual(v.read(), { error: 'choose at least 2 (1 chosen)' });
  v.pick(0);
  v.pick(1);
  assert.deepEqual(v.read(), { values: ['food', 'service', 'wait'] }, 'in the order of the choices, not of the clicks');
  const refused = v.pick(2);
  assert.equal(refused.changed, false);
  assert.equal(refused.error, '“Topics”: at most 3 choices; unselect one first.');
  assert.equal(v.complete, false, 'several choices never move on by themselves');
  v.pick(1);
  assert.deepEqual(v.getState(), ['food', 'wait']);
});

test('a boolean toggles between yes, no and unanswered', () => {
  const v = new BooleanValue();
  v.pick(1);
  assert.deepEqual(v.read(), { values: [false] });
  v.pick(1);
  assert.equal(v.read(), null);
  v.setState('yes');
  assert.equal(v.getState(), null, 'only booleans are states');
});

test('text length is counted in code points, with min and max', () => {
  const f = { title: 'Summary', min_characters: 3, max_characters: 5 };
  assert.equal(readText(f, '   '), null);
  assert.deepEqual(readText(f, '😀😀'), { error: 'needs at least 3 characters (has 2)' });
  assert.deepEqual(readText(f, '😀😀😀😀😀'), { values: ['😀😀😀😀😀'] });
  assert.deepEqual(readText(f, 'abcdef'), { error: 'allows at most 5 characters (has 6)' });
  assert.deepEqual(textCounter(f, '😀'), { text: '1 character (min 3, max 5)', bad: true });
  assert.deepEqual(textCounter({}, ''), { text: '0 characters', bad: false });
});

test('numbers: bad input, ranges, and the range hint', () => {
  const f = { min: 1, max: 5 };
  assert.deepEqual(readNumber(f, '', true), { error: 'is not a number' });
  assert.equal(readNumber(f, ' '), null);
  assert.deepEqual(readNumber(f, '0.5'), { error: 'must be at least 1' });
  assert.deepEqual(readNumber(f, '7'), { error: 'must be at most 5' });
  assert.deepEqual(readNumber(f, '3.5'), { values: [3.5] });
  assert.deepEqual(readNumber({}, 'Infinity'), { error: 'is not a number' });
  assert.deepEqual([numberRange(f), numberRange({ min: 0 }), numberRange({ max: 2 }), numberRange({})], ['from 1 to 5', 'at least 0', 'at most 2', '']);
});

test('date and time: the time is optional, a loaded value is kept exactly until edited', () => {
  assert.equal(readDatetime({ date: '', time: '' }), null);
  assert.deepEqual(readDatetime({ date: '', time: '10:00' }), { error: 'needs a date as well as the time' });
  assert.deepEqual(readDatetime({ date: '2024-05-01', time: '' }), { values: ['2024-05-01'] });
  assert.deepEqual(readDatetime({ date: '2024-05-01', time: '18:30:15' }), { values: ['2024-05-01T18:30:15'] });
  assert.deepEqual(readDatetime({ date: '2024-05-01', time: '' }, true), { error: 'is not a valid date/time' });
  const loaded = datetimeFromAnswer(['2024-05-01T18:30:00+02:00']);
  assert.deepEqual(loaded, { date: '2024-05-01', time: '18:30:00', raw: '2024-05-01T18:30:00+02:00' });
  assert.deepEqual(readDatetime(loaded), { values: ['2024-05-01T18:30:00+02:00'] });
  assert.deepEqual(datetimeFromAnswer([42]), { date: '', time: '', raw: null });
});

const TOP2 = { type: 'ranking', field_id: 'top2', title: 'Top two', ranks: ['best', 'runner-up'],
  choices: [{ label: 'Ramen', value: 'ramen' }, 'gyoza', 'edamame', 'mochi'] };

test('ranking: keys rank in order and take back; places are limited', () => {
  const v = new RankingValue(TOP2);
  assert.equal(v.places, 2);
  assert.equal(v.placeName(1), 'runner-up');
  v.key(2);
  v.key(0);
  assert.deepEqual(v.read(), { values: ['edamame', 'ramen'] });
  const full = v.add('mochi');
  assert.equal(full.changed, false);
  assert.match(full.error, /all 2 places are taken/);
  v.key(2); // again: taken back
  assert.deepEqual(v.read(), { error: 'rank 2 choices (1 ranked so far)' });
  assert.deepEqual(v.unranked().map((o) => o.value), ['gyoza', 'edamame', 'mochi']);
  assert.equal(v.key(9).changed, false);
});

test('ranking: moves stay inside the list; drops insert and push the last place out', () => {
  const v = new RankingValue({ title: 'Aspects', choices: ['food', 'service', 'price'] });
  assert.equal(v.places, 3, 'every choice by default');
  ['service', 'price', 'food'].forEach((x) => v.add(x));
  assert.equal(v.move('service', -1).changed, false);
  v.move('service', 1);
  assert.deepEqual(v.getState(), ['price', 'service', 'food']);
  v.dropAt('food', 0);
  assert.deepEqual(v.getState(), ['food', 'price', 'service']);
  assert.equal(v.dropAt('nope', 0).changed, false);
  const two = new RankingValue(TOP2);
  two.add('ramen');
  two.add('gyoza');
  two.dropAt('mochi', 0);
  assert.deepEqual(two.getState(), ['mochi', 'ramen']);
  two.setState(['gyoza', 'unknown']);
  assert.deepEqual(two.getState(), ['gyoza']);
});

test('layout: attachments take the fields their forms name, once; the rest come after', () => {
  const params = {
    fields: [SENTIMENT, TOPICS, { type: 'text', field_id: 'note', title: 'Note' }, null, { field_id: 7 }],
    attachments: [{ type: 'text', content: 'a', forms: ['topics', 'missing'] }, { type: 'image', content: 'b', forms: ['topics', 'sentiment'] }],
  };
  const { sections, grouped, rest } = layout(params);
  assert.equal(grouped, true);
  assert.deepEqual(sections.map((s) => s.ids), [['topics'], ['sentiment']]);
  assert.deepEqual(rest, ['note']);
  assert.equal(layout({ fields: [SENTIMENT], attachments: [{ content: 'x' }] }).grouped, false);
});

test('the choice keys act on the focused choice field, else the last used, else the first category', () => {
  const fields = [{ def: { type: 'text' }, isChoice: false }, { def: { type: 'boolean' }, isChoice: true }, { def: { type: 'category' }, isChoice: true }];
  assert.equal(activeChoiceField(fields, null, null), fields[2]);
  assert.equal(activeChoiceField(fields, null, fields[1]), fields[1]);
  assert.equal(activeChoiceField(fields, fields[0], fields[1]), null, 'a text box takes the digits itself');
  assert.equal(activeChoiceField(fields, fields[1], null), fields[1]);
  assert.equal(activeChoiceField(fields.slice(0, 2), null, null), fields[1]);
});

test('the answer: bad responses and required fields are named, in display order', () => {
  const summary = { type: 'text', field_id: 'summary', title: 'Summary', required: true };
  const maybe = { type: 'text', field_id: 'maybe', title: 'Maybe', required: true, conditions: [{ if: 'x' }] };
  const prices = { type: 'number', field_id: 'prices', title: 'Prices', min_responses_required: 2, max_responses_required: 3 };
  const err = (fields) => { try { formAnswer(fields); } catch (e) { return e; } return assert.fail('no error'); };
  let e = err([{ def: summary, low: 1, reads: [null] }]);
  assert.ok(e instanceof FieldError);
  assert.deepEqual([e.message, e.index], ['“Summary” is required.', 0]);
  e = err([null, { def: summary, low: 1, reads: [{ values: ['ok'] }] }, { def: prices, low: 2, reads: [{ values: [1] }, { error: 'must be at least 0' }] }]);
  assert.deepEqual([e.message, e.index], ['“Prices” must be at least 0.', 2]);
  e = err([{ def: prices, low: 2, reads: [{ values: [1] }, null] }]);
  assert.equal(e.message, '“Prices” needs 2 answers (has 1).');
  assert.deepEqual(formAnswer([
    { def: summary, low: 1, reads: [{ values: ['ok'] }] },
    { def: maybe, low: 1, reads: [null] }, // conditional: never required here
    { def: prices, low: 2, reads: [{ values: [1] }, null, { values: [2] }] },
  ]), { annotations: {
    summary: { type: 'text', field_id: 'summary', response: [['ok']] },
    prices: { type: 'number', field_id: 'prices', response: [[1], [2]] },
  } });
});

test('a starting answer becomes widget states per field type, at most `high` responses', () => {
  const answer = { annotations: {
    stars: { response: [[3.5], ['x']] },
    visited: { response: [['2024-05-01']] },
    recommend: { response: [[false]] },
    sentiment: { response: 'not a list' },
  } };
  assert.deepEqual(startingStates(answer, { type: 'number', field_id: 'stars' }, 1), ['3.5']);
  assert.deepEqual(startingStates(answer, { type: 'number', field_id: 'stars' }, 5), ['3.5', '']);
  assert.deepEqual(startingStates(answer, { type: 'datetime', field_id: 'visited' }, 1), [{ date: '2024-05-01', time: '', raw: '2024-05-01' }]);
  assert.deepEqual(startingStates(answer, { type: 'boolean', field_id: 'recommend' }, 1), [false]);
  assert.equal(startingStates(answer, { type: 'category', field_id: 'sentiment' }, 1), null);
  assert.equal(startingStates(null, { type: 'text', field_id: 'x' }, 1), null);
  assert.equal(startingStates(answer, { type: 'video', field_id: 'stars' }, 1), null);
});

// The named-entity answer (spans, relations, their rules, code-point offsets) and the
// editing session (caret, selection, linking), without a browser.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { EditHistory } from '../../src/assay/pages/static/js/workbench/history.js';
import { NerEditor } from '../../src/assay/pages/static/js/tools/namedentityrecognition/editing.js';
import {
  NerAnswer, definitionFits, childrenMap, flattenLabels, tokenize,
} from '../../src/assay/pages/static/js/tools/namedentityrecognition/state.js';

const LABELS = [{ name: 'person' }, { name: 'event', children: [{ name: 'conference', display_name: 'Conference' }] }, 'place'];
const RELATIONSHIPS = [
  { name: 'speaker_at', source_label: 'person', target_label: 'event', is_directed: true },
  { name: 'related_to' },
];
const TEXT = '🎉 Alex Wang spoke at Transform in San Francisco last May.';

function ids() {
  let n = 0;
  return () => `id-${++n}`;
}
function make(params = {}) {
  const answer = new NerAnswer({ text: TEXT, labels: LABELS, relationships: RELATIONSHIPS, ...params }, { newId: ids() });
  return { answer, editor: new NerEditor(answer) };
}
const spans = (answer) => answer.response().annotations.map((a) => [a.start, a.end, a.text, a.label]);
const words = (answer) => answer.tokens.map((t) => answer.slice(t.start, t.end));

test('tokens are words and single other characters, in code points', () => {
  const cps = Array.from('🎉 Ab_1, é!');
  assert.deepEqual(tokenize(cps), [{ start: 0, end: 1 }, { start: 2, end: 6 }, { start: 6, end: 7 }, { start: 8, end: 9 }, { start: 9, end: 10 }]);
  assert.deepEqual(tokenize(Array.from('  \n ')), []);
  // a combining mark stays inside its word
  assert.equal(tokenize(Array.from('cafe\u0301 x')).length, 2);
});

test('offsets after an emoji are Python indices (code points), not UTF-16 units', () => {
  const { answer } = make();
  assert.equal(answer.cps.length, [...TEXT].length);
  assert.equal(TEXT.length, answer.cps.length + 1, 'the emoji is two UTF-16 units');
  const alex = answer.tokens[1];
  assert.deepEqual(alex, { start: 2, end: 6 });
  answer.add(2, 11, 'person');
  assert.deepEqual(spans(answer), [[2, 11, 'Alex Wang', 'person']]);
});

test('the label tree is flattened in order, with titles and children', () => {
  assert.deepEqual(flattenLabels(LABELS).map((l) => [l.name, l.title, l.depth]),
    [['person', 'person', 0], ['event', 'event', 0], ['conference', 'Conference', 1], ['place', 'place', 0]]);
  assert.deepEqual([...childrenMap(LABELS)], [['event', ['conference']]]);
});

test('relationship definitions: children fit their parent, undirected ones fit both ways', () => {
  const kids = childrenMap(LABELS);
  const [speakerAt, relatedTo] = RELATIONSHIPS;
  assert.equal(definitionFits(speakerAt, 'person', 'conference', kids), true);
  assert.equal(definitionFits(speakerAt, 'conference', 'person', kids), false, 'directed');
  assert.equal(definitionFits(speakerAt, 'person', 'place', kids), false);
  assert.equal(definitionFits(relatedTo, 'place', 'place', kids), true, 'no ends: any labels');
  const near = { name: 'near', source_labels: ['place'], target_label: 'person' };
  assert.equal(definitionFits(near, 'person', 'place', kids), true, 'undirected: reversed fits');
});

test('overlapping spans are refused unless the task allows them; duplicates always', () => {
  const { answer } = make();
  assert.ok(answer.add(34, 47, 'place').ann);
  const clash = answer.add(38, 47, 'person');
  assert.match(clash.error, /Overlaps “San Francisco” \(place\): this task does not allow overlapping spans/);
  assert.equal(answer.anns.length, 1);

  const loose = make({ allow_overlap: true }).answer;
  assert.ok(loose.add(34, 47, 'place').ann);
  assert.ok(loose.add(38, 47, 'person').ann);
  assert.match(loose.add(34, 47, 'place').error, /already labeled place/);
  assert.deepEqual(loose.covering(38, 47).map((a) => a.label), ['person', 'place'], 'innermost first');
});

test('relabeling drops the relations that no longer fit; removing drops its relations', () => {
  const { answer } = make();
  const alex = answer.add(2, 11, 'person').ann;
  const transform = answer.add(21, 30, 'conference').ann;
  assert.deepEqual(answer.fittingNames(alex.k, transform.k), ['speaker_at', 'related_to']);
  answer.addRelation(alex.k, transform.k, 'speaker_at');
  answer.addRelation(alex.k, transform.k, 'related_to');
  assert.match(answer.addRelation(alex.k, transform.k, 'related_to').error, /already there/);
  assert.equal(answer.relabel(alex.k, 'place'), 1, 'speaker_at needs a person');
  assert.deepEqual(answer.rels.map((r) => r.name), ['related_to']);
  assert.equal(answer.remove(transform.k), 1);
  assert.deepEqual(answer.rels, []);
});

test('a starting answer: bad spans and dangling relations are dropped, unknown fields kept', () => {
  const { answer } = make();
  answer.load({
    annotations: [
      { id: 'a', start: 2, end: 11, label: 'person', text: 'stale', attributes: { x: 1 } },
      { id: 'b', start: 21, end: 30, label: 'event' },
      { start: 5, end: 5, label: 'person' },
      { start: 0, end: 999, label: 'person' },
      { start: 1.5, end: 3, label: 'person' },
    ],
    relationships: [{ id: 'r', source_ref: 'a', target_ref: 'b', name: 'speaker_at', score: 0.5 },
      { source_ref: 'a', target_ref: 'nope' }],
  });
  assert.deepEqual(answer.response(), {
    annotations: [{ attributes: { x: 1 }, start: 2, end: 11, text: 'Alex Wang', label: 'person', id: 'a' },
      { start: 21, end: 30, text: 'Transform', label: 'event', id: 'b' }],
    relationships: [{ score: 0.5, source_ref: 'a', target_ref: 'b', id: 'r', name: 'speaker_at' }],
  });
});

test('new spans and relations get distinct ids; a loaded span without id gets one when linked', () => {
  const answer = new NerAnswer({ text: TEXT, labels: LABELS, relationships: RELATIONSHIPS }, { newId: (() => {
    const seq = ['dup', 'dup', 'x', 'y', 'z'];
    return () => seq.shift();
  })() });
  answer.load({ annotations: [{ start: 2, end: 11, label: 'person' }] });
  const t = answer.add(21, 30, 'event').ann;
  assert.equal(t.id, 'dup');
  const { rel } = answer.addRelation(answer.anns[0].k, t.k, 'speaker_at');
  assert.equal(answer.anns[0].id, 'x', 'the repeated id was skipped');
  assert.equal(rel.id, 'y');
});

test('keyboard: the word caret, Shift extends, a label key labels, the caret moves on', () => {
  const { answer, editor } = make();
  editor.moveCaret(1, false);
  assert.deepEqual(editor.selRange(), { start: 0, end: 1 }, 'the first token is the emoji');
  editor.moveCaret(1, false);
  editor.moveCaret(1, true);
  assert.match(editor.statusLine(), /^Selected “Alex Wang” \(2–11\)/);
  assert.equal(editor.labelKey(0), true);
  assert.deepEqual(spans(answer), [[2, 11, 'Alex Wang', 'person']]);
  assert.equal(editor.sel, null);
  editor.moveCaret(1, false);
  assert.equal(words(answer)[editor.caret], 'spoke');
  editor.moveCaret(-1, true);
  editor.moveCaret(-1, true);
  assert.deepEqual(editor.selRange(), { start: 2, end: 17 }, 'extended left from “spoke” over “Wang” and “Alex”');
  // from no caret, ← starts at the last word
  const fresh = make().editor;
  fresh.moveCaret(-1, false);
  assert.equal(fresh.answer.slice(fresh.selRange().start, fresh.selRange().end), '.');
});

test('a label with nothing selected explains; relabeling the selected span is an edit', () => {
  const { answer, editor } = make();
  assert.equal(editor.applyLabel('person'), false);
  assert.match(editor.message, /Select some text first/);
  editor.selectBetween(3, 9); // inside "Alex" to inside "Wang": whole words
  assert.deepEqual(editor.selRange(), { start: 2, end: 11 });
  editor.applyLabel('person');
  assert.equal(editor.applyLabel('person'), false, 'same label: nothing to do');
  assert.equal(editor.applyLabel('place'), true);
  assert.equal(answer.anns[0].label, 'place');
  assert.equal(editor.selectBetween(1, 2), false, 'only spaces: nothing selected');
});

test('overlap refused through the editor leaves the message and the answer as they were', () => {
  const { answer, editor } = make();
  editor.selectBetween(34, 47);
  editor.applyLabel('place');
  editor.selectBetween(38, 40);
  assert.equal(editor.applyLabel('person'), false);
  assert.match(editor.message, /does not allow overlapping/);
  assert.equal(answer.anns.length, 1);
});

test('linking: L on the source, ↓ to the target, L, then the name key when several fit', () => {
  const { answer, editor } = make();
  editor.selectBetween(2, 11); editor.applyLabel('person');
  editor.selectBetween(21, 30); editor.applyLabel('conference');
  editor.selectBetween(34, 47); editor.applyLabel('place');
  editor.escape();
  assert.equal(editor.walk(1).k, answer.sortedAnns()[0].k);
  editor.startLink();
  assert.match(editor.statusLine(), /^Linking from “Alex Wang”/);
  assert.throws(() => editor.response(), /Finish or cancel/);
  assert.equal(editor.walk(1).k, answer.sortedAnns()[1].k, 'the source is skipped while linking');
  editor.startLink();
  assert.deepEqual(editor.link.names, ['speaker_at', 'related_to']);
  assert.equal(editor.walk(1), null, 'no walking while choosing the name');
  assert.equal(editor.labelKey(5), false, 'a key beyond the names does nothing');
  assert.equal(editor.labelKey(0), true);
  assert.deepEqual(answer.response().relationships.map((r) => r.name), ['speaker_at']);
  assert.equal(editor.selected.kind, 'rel');
  // a target no definition fits is refused with the reason
  const strict = make({ relationships: [RELATIONSHIPS[0]] });
  strict.editor.selectBetween(2, 11); strict.editor.applyLabel('person');
  strict.editor.selectBetween(34, 47); strict.editor.applyLabel('place');
  strict.editor.pickAnnotation(strict.answer.anns[0].k);
  strict.editor.startLink();
  assert.equal(strict.editor.pickAnnotation(strict.answer.anns[1].k), false);
  assert.match(strict.editor.message, /No relationship of this task links person to place/);
  assert.equal(strict.editor.link, null);
});

test('Esc cancels the relationship first, then the selection', () => {
  const { answer, editor } = make();
  editor.selectBetween(2, 11); editor.applyLabel('person');
  editor.selectBetween(21, 30); editor.applyLabel('event');
  editor.startLink();
  editor.escape();
  assert.equal(editor.link, null);
  assert.ok(editor.selected, 'the span stays selected');
  editor.escape();
  assert.equal(editor.selected, null);
  assert.equal(answer.rels.length, 0);
});

test('Delete keeps a neighbour selected and says which relations went with the span', () => {
  const { answer, editor } = make();
  editor.selectBetween(2, 11); editor.applyLabel('person');
  editor.selectBetween(21, 30); editor.applyLabel('event');
  const [alex, transform] = answer.anns;
  answer.addRelation(alex.k, transform.k, 'speaker_at');
  editor.pickAnnotation(alex.k);
  assert.equal(editor.removeItem(editor.selected), true);
  assert.match(editor.message, /Also removed 1 relation\(s\) of “Alex Wang” \(person\)/);
  assert.deepEqual(editor.selected, { kind: 'ann', k: transform.k });
  assert.equal(editor.removeItem(editor.selected), true);
  assert.equal(editor.selected, null);
  assert.equal(editor.removeItem(null), false);
});

test('clicking stacked spans walks through them, innermost first', () => {
  const { answer, editor } = make({ allow_overlap: true });
  editor.selectBetween(34, 47); editor.applyLabel('place');
  editor.selectBetween(38, 47); editor.applyLabel('person');
  const [outer, inner] = answer.anns;
  editor.escape();
  editor.clickAt(40);
  assert.equal(editor.selected.k, inner.k);
  editor.clickAt(40);
  assert.equal(editor.selected.k, outer.k);
  editor.clickAt(40);
  assert.equal(editor.selected.k, inner.k);
  editor.clickAt(14); // on "spoke": the caret goes there
  assert.equal(editor.selected, null);
  assert.equal(words(answer)[editor.caret], 'spoke');
});

test('undo through snapshots brings spans and relations back; keys stay unique afterwards', () => {
  const { answer, editor } = make();
  const history = new EditHistory(JSON.stringify(answer.snapshot()));
  const edit = (changed) => { if (changed) history.record(JSON.stringify(answer.snapshot())); };
  editor.selectBetween(2, 11); edit(editor.applyLabel('person'));
  editor.selectBetween(21, 30); edit(editor.applyLabel('event'));
  editor.pickAnnotation(answer.anns[0].k);
  editor.startLink();
  edit(editor.pickAnnotation(answer.anns[1].k) || editor.labelKey(0));
  assert.equal(answer.rels.length, 1);
  edit(editor.removeItem({ kind: 'ann', k: answer.anns[0].k }));
  assert.deepEqual([answer.anns.length, answer.rels.length], [1, 0]);
  editor.restore(JSON.parse(history.undo()));
  assert.deepEqual([answer.anns.length, answer.rels.length], [2, 1]);
  editor.restore(JSON.parse(history.undo()));
  assert.deepEqual([answer.anns.length, answer.rels.length], [2, 0]);
  editor.selectBetween(34, 47);
  editor.applyLabel('place');
  const keys = [...answer.anns, ...answer.rels].map((x) => x.k);
  assert.equal(new Set(keys).size, keys.length);
});

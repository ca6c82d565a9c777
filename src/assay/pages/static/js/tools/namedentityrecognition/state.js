// The named-entity answer and the editing rules, without the DOM (tested in Node).
//
// Offsets are Python string indices (code points), not JavaScript's UTF-16 indices: the
// text is handled as an array of code points throughout.
//
// NerAnswer is the document Ctrl+Z undoes: spans and relations with the rules they obey
// (no duplicate span, no overlap unless the task allows it, relations only where a
// definition fits the two labels). The caret, selection and linking are in editing.js.

export function randomId() {
  const b = new Uint8Array(16);
  globalThis.crypto.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

// Words (letters, digits, marks, _) are one token; any other non-space character is a token of its own.
export function tokenize(cps) {
  const tokens = [];
  let i = 0;
  const isSpace = (c) => /\s/u.test(c);
  const isWord = (c) => /[\p{L}\p{N}\p{M}_]/u.test(c);
  while (i < cps.length) {
    if (isSpace(cps[i])) { i += 1; continue; }
    if (isWord(cps[i])) {
      const start = i;
      while (i < cps.length && isWord(cps[i])) i += 1;
      tokens.push({ start, end: i });
    } else {
      tokens.push({ start: i, end: i + 1 });
      i += 1;
    }
  }
  return tokens;
}

// Code points in a UTF-16 string: what a DOM text offset is worth as a Python index.
export const codePointLength = (s) => Array.from(s).length;

const asLabel = (label) => (typeof label === 'string' ? { name: label } : label);

// The label tree, flattened in order: [{name, title, depth, description}].
export function flattenLabels(labels, depth = 0, out = []) {
  for (const label of labels || []) {
    const item = asLabel(label);
    if (!item || typeof item.name !== 'string') continue;
    out.push({ name: item.name, title: item.display_name || item.name, depth, description: item.description || '' });
    flattenLabels(item.children, depth + 1, out);
  }
  return out;
}

// label name → its direct children's names
export function childrenMap(labels, parent = null, map = new Map()) {
  for (const label of labels || []) {
    const item = asLabel(label);
    if (!item || typeof item.name !== 'string') continue;
    if (parent !== null) map.set(parent, [...(map.get(parent) || []), item.name]);
    childrenMap(item.children, item.name, map);
  }
  return map;
}

// The labels a relationship accepts at one end (`source`/`target`), children included;
// null when it accepts any label.
export function relationEnds(definition, side, kids) {
  const names = [];
  if (definition[`${side}_label`]) names.push(definition[`${side}_label`]);
  names.push(...(definition[`${side}_labels`] || []));
  if (!names.length) return null;
  const out = new Set();
  const stack = [...names];
  while (stack.length) {
    const n = stack.pop();
    if (out.has(n)) continue;
    out.add(n);
    stack.push(...(kids.get(n) || []));
  }
  return out;
}

// Whether a relationship definition may link a span labeled `source` to one labeled `target`.
export function definitionFits(definition, source, target, kids) {
  const ok = (side, label) => { const e = relationEnds(definition, side, kids); return !e || e.has(label); };
  if (ok('source', source) && ok('target', target)) return true;
  return !definition.is_directed && ok('source', target) && ok('target', source);
}

// anns [{k, id, start, end, label, extra}] in answer order; rels [{k, id, source, target,
// name, extra}] with source/target annotation keys k (ids may be missing on loaded spans:
// a relation gives its ends one). `extra`: fields of a loaded answer kept as they were.
export class NerAnswer {
  constructor(params, { newId = randomId } = {}) {
    this.cps = Array.from(String(params.text ?? '')); // cps.length is Python's len(text)
    this.tokens = tokenize(this.cps);
    this.labels = flattenLabels(params.labels);
    this.titles = new Map(this.labels.map((l) => [l.name, l.title]));
    this.kids = childrenMap(params.labels);
    this.allowOverlap = !!params.allow_overlap;
    this.definitions = Array.isArray(params.relationships) ? params.relationships : [];
    this.hasRelations = this.definitions.length > 0;
    this.newId = newId;
    this.anns = [];
    this.rels = [];
    this.serial = 0;
  }

  // ---------------------------------------------------------------- reading
  slice(s, e) { return this.cps.slice(s, e).join(''); }
  labelTitle(name) { return this.titles.get(name) ?? name; }
  describe(a) { return `“${this.slice(a.start, a.end)}” (${this.labelTitle(a.label)})`; }
  annByKey(k) { return this.anns.find((a) => a.k === k); }
  relByKey(k) { return this.rels.find((r) => r.k === k); }
  relTitle(name) { return this.definitions.find((d) => d.name === name)?.display_name || name; }
  sortedAnns() {
    const { anns } = this;
    return [...anns].sort((x, y) => x.start - y.start || x.end - y.end || anns.indexOf(x) - anns.indexOf(y));
  }
  // spans covering [s, e), innermost (shortest) first
  covering(s, e) {
    return this.anns.filter((a) => a.start <= s && e <= a.end).sort((x, y) => (x.end - x.start) - (y.end - y.start));
  }

  // ---------------------------------------------------------------- edits
  nextKey() { this.serial += 1; return `k${this.serial}`; }

  freshId() {
    const used = new Set([...this.anns.map((a) => a.id), ...this.rels.map((r) => r.id)]);
    let id = this.newId();
    while (used.has(id)) id = this.newId();
    return id;
  }

  // {ann} or {error}: the same span with the same label twice, or an overlap the task
  // does not allow, is refused.
  add(start, end, label) {
    if (this.anns.some((a) => a.start === start && a.end === end && a.label === label)) {
      return { error: `“${this.slice(start, end)}” is already labeled ${this.labelTitle(label)}.` };
    }
    if (!this.allowOverlap) {
      const clash = this.sortedAnns().find((a) => a.start < end && start < a.end);
      if (clash) return { error: `Overlaps ${this.describe(clash)}: this task does not allow overlapping spans. Delete that annotation first.` };
    }
    const ann = { k: this.nextKey(), id: this.freshId(), start, end, label, extra: {} };
    this.anns.push(ann);
    return { ann };
  }

  // New label for a span; its relations that no longer fit are dropped (their count returned).
  relabel(k, label) {
    const ann = this.annByKey(k);
    ann.label = label;
    const broken = this.rels.filter((r) => (r.source === k || r.target === k) && !this.relationFits(r));
    this.rels = this.rels.filter((r) => !broken.includes(r));
    return broken.length;
  }

  // Removes a span and its relations; returns how many relations went with it.
  remove(k) {
    const dropped = this.rels.filter((r) => r.source === k || r.target === k).length;
    this.anns = this.anns.filter((a) => a.k !== k);
    this.rels = this.rels.filter((r) => r.source !== k && r.target !== k);
    return dropped;
  }

  removeRelation(k) { this.rels = this.rels.filter((r) => r.k !== k); }

  relationFits(r) {
    const s = this.annByKey(r.source);
    const t = this.annByKey(r.target);
    if (!s || !t) return false;
    const candidates = r.name ? this.definitions.filter((d) => d.name === r.name) : this.definitions;
    return candidates.some((d) => definitionFits(d, s.label, t.label, this.kids));
  }

  // The relationship names that may link these two spans ([null] for a definition without
  // a name), or [] when none fits.
  fittingNames(sourceK, targetK) {
    const s = this.annByKey(sourceK);
    const t = this.annByKey(targetK);
    const fitting = this.definitions.filter((d) => definitionFits(d, s.label, t.label, this.kids));
    if (!fitting.length) return [];
    const names = [...new Set(fitting.map((d) => d.name).filter(Boolean))];
    return names.length ? names : [null];
  }

  // {rel} or {error} (the same relation twice). Both ends get an id if they had none.
  addRelation(source, target, name) {
    if (this.rels.some((r) => r.source === source && r.target === target && (r.name || null) === (name || null))) {
      return { error: 'That relation is already there.' };
    }
    for (const k of [source, target]) {
      const a = this.annByKey(k);
      if (!a.id) a.id = this.freshId();
    }
    const rel = { k: this.nextKey(), id: this.freshId(), source, target, name: name || null, extra: {} };
    this.rels.push(rel);
    return { rel };
  }

  // ---------------------------------------------------------------- in and out
  // A starting answer (pre-label, previous answer): spans outside the text and relations
  // to unknown ids are dropped; unknown fields are kept as they were.
  load(answer) {
    this.anns = [];
    this.rels = [];
    const idToKey = new Map();
    for (const a of answer?.annotations || []) {
      if (!a || !Number.isInteger(a.start) || !Number.isInteger(a.end) || a.end <= a.start || a.end > this.cps.length) continue;
      const { id, start, end, label, text: _text, ...extra } = a;
      const k = this.nextKey();
      if (typeof id === 'string') idToKey.set(id, k);
      this.anns.push({ k, id: typeof id === 'string' ? id : null, start, end, label, extra });
    }
    for (const r of answer?.relationships || []) {
      if (!r || !idToKey.has(r.source_ref) || !idToKey.has(r.target_ref)) continue;
      const { id, source_ref: s, target_ref: t, name, ...extra } = r;
      this.rels.push({ k: this.nextKey(), id: typeof id === 'string' ? id : null, source: idToKey.get(s), target: idToKey.get(t),
        name: name ?? null, extra });
    }
  }

  // The answer in the task type's shape; `text` is always the span's text.
  response() {
    const annotations = this.anns.map((a) => {
      const out = { ...a.extra, start: a.start, end: a.end, text: this.slice(a.start, a.end), label: a.label };
      if (a.id) out.id = a.id;
      return out;
    });
    const relationships = this.rels.map((r) => {
      const out = { ...r.extra, source_ref: this.annByKey(r.source).id, target_ref: this.annByKey(r.target).id };
      if (r.id) out.id = r.id;
      if (r.name) out.name = r.name;
      return out;
    });
    return { annotations, relationships };
  }

  snapshot() { return { anns: structuredClone(this.anns), rels: structuredClone(this.rels) }; }

  restore(state) {
    this.anns = structuredClone(state.anns || []);
    this.rels = structuredClone(state.rels || []);
    for (const item of [...this.anns, ...this.rels]) this.serial = Math.max(this.serial, Number(String(item.k).slice(1)) || 0);
  }
}

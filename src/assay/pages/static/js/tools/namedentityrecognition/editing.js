// The editing session over an NerAnswer, without the DOM (tested in Node): the word caret
// and pending selection, the selected annotation or relation, the relationship being made
// and the message saying why the last action did nothing. The input layer calls one
// method per key or click; methods that change the answer return true (one undo step).
//
//   caret     token index of the word caret (-1: none yet)
//   sel       {a, f}: pending selection, anchor and focus token indexes
//   selected  {kind: 'ann'|'rel', k}
//   link      {source} while picking the target, {source, target, names} while picking
//             the relationship's name
export class NerEditor {
  constructor(answer) {
    this.answer = answer;
    this.caret = -1;
    this.sel = null;
    this.selected = null;
    this.link = null;
    this.message = '';
  }

  // ---------------------------------------------------------------- reading
  selRange() {
    if (!this.sel) return null;
    const { tokens } = this.answer;
    return { start: tokens[Math.min(this.sel.a, this.sel.f)].start, end: tokens[Math.max(this.sel.a, this.sel.f)].end };
  }
  selectedAnn() { return this.selected?.kind === 'ann' ? this.answer.annByKey(this.selected.k) || null : null; }
  isSelected(kind, k) { return this.selected?.kind === kind && this.selected.k === k; }
  choosingName() { return !!this.link?.names; }

  // The line under the text: what the keys do now.
  statusLine() {
    const { answer: doc, link } = this;
    const range = this.selRange();
    if (link && link.names) return `Which relationship links ${doc.describe(doc.annByKey(link.source))} to ${doc.describe(doc.annByKey(link.target))}? Press its key.`;
    if (link) return `Linking from ${doc.describe(doc.annByKey(link.source))}: pick the target with ↑/↓ and press L, or click it. Esc cancels.`;
    if (range) return `Selected “${doc.slice(range.start, range.end)}” (${range.start}–${range.end}): press a label key or click a label.`;
    const ann = this.selectedAnn();
    if (ann) return `Annotation ${doc.describe(ann)}: a label key relabels it, Del removes it.`;
    return '';
  }

  say(text) { this.message = text; return false; }

  select(item) {
    this.selected = item;
    if (item) this.sel = null;
  }

  // ---------------------------------------------------------------- labels
  // A label (click or key): labels the pending selection, else relabels the selected span.
  applyLabel(name) {
    if (this.link) return this.say('Finish or cancel (Esc) the relationship first.');
    const range = this.selRange();
    if (range) return this.addSpan(range.start, range.end, name);
    const current = this.selectedAnn();
    if (!current) return this.say('Select some text first: drag over it, or move with ←/→ (Shift+←/→ to extend).');
    if (current.label === name) return false;
    const removed = this.answer.relabel(current.k, name);
    this.message = removed ? `Removed ${removed} relation(s) that no longer fit the new label.` : '';
    return true;
  }

  // The i-th label key: a relationship's name while choosing one, else the i-th label.
  labelKey(i) {
    if (this.link && this.link.names) return i < this.link.names.length ? this.finishLink(this.link.names[i]) : false;
    return this.applyLabel(this.answer.labels[i].name);
  }

  addSpan(start, end, label) {
    const got = this.answer.add(start, end, label);
    if (got.error) return this.say(got.error);
    if (this.sel) this.caret = Math.max(this.sel.a, this.sel.f);
    this.sel = null;
    this.selected = { kind: 'ann', k: got.ann.k };
    this.message = '';
    return true;
  }

  // Delete: the item, and for a span its relations; the next span stays selected so Del
  // can be pressed again.
  removeItem(item) {
    if (!item) return false;
    const doc = this.answer;
    if (item.kind === 'ann') {
      const ann = doc.annByKey(item.k);
      if (!ann) return false;
      const order = doc.sortedAnns();
      const at = order.indexOf(ann);
      const dropped = doc.remove(item.k);
      const next = order[at + 1] || order[at - 1];
      this.selected = next ? { kind: 'ann', k: next.k } : null;
      this.message = dropped ? `Also removed ${dropped} relation(s) of ${doc.describe(ann)}.` : '';
    } else {
      if (!doc.relByKey(item.k)) return false;
      doc.removeRelation(item.k);
      this.selected = null;
      this.message = '';
    }
    this.link = null;
    return true;
  }

  // ---------------------------------------------------------------- relationships
  // L: start from the selected span; pressed again, the selected span is the target.
  startLink() {
    const doc = this.answer;
    if (!doc.hasRelations) return false;
    if (this.link && !this.link.names) {
      if (this.selected?.kind === 'ann' && this.selected.k !== this.link.source) return this.chooseTarget(this.selected.k);
      return this.say('Pick a different annotation as the target (↑/↓ or click), then press L.');
    }
    const source = this.selectedAnn();
    if (!source) return this.say('Select the source annotation first (↑/↓ or click it), then press L.');
    if (doc.anns.length < 2) return this.say('A relationship needs two annotations.');
    this.link = { source: source.k };
    this.message = '';
    return false;
  }

  chooseTarget(k) {
    const doc = this.answer;
    const s = doc.annByKey(this.link.source);
    const t = doc.annByKey(k);
    const names = doc.fittingNames(s.k, t.k);
    if (!names.length) {
      this.link = null;
      this.selected = { kind: 'ann', k: s.k };
      return this.say(`No relationship of this task links ${doc.labelTitle(s.label)} to ${doc.labelTitle(t.label)}.`);
    }
    if (names.length > 1) {
      this.link = { source: s.k, target: t.k, names };
      this.message = '';
      return false;
    }
    this.link = { source: s.k, target: t.k };
    return this.finishLink(names[0]);
  }

  finishLink(name) {
    const { source, target } = this.link;
    this.link = null;
    const got = this.answer.addRelation(source, target, name);
    if (got.error) return this.say(got.error);
    this.selected = { kind: 'rel', k: got.rel.k };
    this.message = '';
    return true;
  }

  // Clicking a span (text or list): the target while linking, else select it.
  pickAnnotation(k) {
    if (this.link && !this.link.names) {
      if (k === this.link.source) return this.say('Pick a different annotation as the target.');
      return this.chooseTarget(k);
    }
    this.select({ kind: 'ann', k });
    this.message = '';
    return false;
  }

  selectRelation(k) { this.select({ kind: 'rel', k }); return false; }

  // ---------------------------------------------------------------- caret and walking
  // ←/→ move the word caret (the caret word is the selection); Shift extends.
  moveCaret(step, extend) {
    const n = this.answer.tokens.length;
    if (!n || this.link?.names) return false;
    const clamp = (i) => Math.max(0, Math.min(n - 1, i));
    if (extend) {
      if (!this.sel) {
        const at = this.caret >= 0 ? this.caret : 0;
        this.sel = { a: at, f: this.caret >= 0 ? clamp(at + step) : at };
      } else {
        this.sel.f = clamp(this.sel.f + step);
      }
      this.caret = this.sel.f;
    } else {
      const base = this.sel ? this.sel.f : this.caret;
      this.caret = base < 0 ? (step > 0 ? 0 : n - 1) : clamp(base + step);
      this.sel = { a: this.caret, f: this.caret };
    }
    if (!this.link) this.selected = null;
    this.message = '';
    return false;
  }

  // ↑/↓: spans in text order, then relations (while linking: the spans but the source).
  // Returns the item now selected, or null.
  walk(step) {
    if (this.link?.names) return null;
    const doc = this.answer;
    let items = doc.sortedAnns().map((a) => ({ kind: 'ann', k: a.k }));
    if (this.link) items = items.filter((i) => i.k !== this.link.source);
    else items.push(...doc.rels.map((r) => ({ kind: 'rel', k: r.k })));
    if (!items.length) return null;
    const at = items.findIndex((i) => this.isSelected(i.kind, i.k));
    const next = items[at < 0 ? (step > 0 ? 0 : items.length - 1) : (at + step + items.length) % items.length];
    this.select(next);
    this.message = '';
    return next;
  }

  // Esc: cancel the relationship being made, else the selection.
  escape() {
    if (!this.link) {
      this.sel = null;
      this.selected = null;
    }
    this.link = null;
    this.message = '';
  }

  // ---------------------------------------------------------------- mouse
  // A drag over code-point offsets a..b: the whole words it touches become the selection.
  selectBetween(a, b) {
    const start = Math.min(a, b);
    const end = Math.max(a, b);
    const { tokens } = this.answer;
    const first = tokens.findIndex((t) => t.end > start);
    let last = -1;
    tokens.forEach((t, i) => { if (t.start < end) last = i; });
    if (first < 0 || last < first) return false; // only spaces
    if (this.link) return this.say('Finish or cancel (Esc) the relationship first.');
    this.sel = { a: first, f: last };
    this.caret = last;
    this.selected = null;
    this.message = '';
    return false;
  }

  // A click at a code-point offset: on spans, select one (clicking again on stacked spans
  // walks through them); elsewhere, put the caret there.
  clickAt(offset) {
    const doc = this.answer;
    const covering = doc.sortedAnns().filter((x) => x.start <= offset && offset < x.end)
      .sort((x, y) => (x.end - x.start) - (y.end - y.start));
    if (covering.length) {
      const at = covering.findIndex((x) => this.isSelected('ann', x.k));
      const pick = covering[at >= 0 && !this.link ? (at + 1) % covering.length : 0];
      return this.pickAnnotation(this.link && pick.k === this.link.source && covering.length > 1 ? covering[1].k : pick.k);
    }
    if (this.link) return false;
    const t = doc.tokens.findIndex((x) => x.start <= offset && offset < x.end);
    this.sel = null;
    this.selected = null;
    if (t >= 0) this.caret = t;
    this.message = '';
    return false;
  }

  // ---------------------------------------------------------------- the answer
  response() {
    if (this.link) throw new Error('Finish or cancel (Esc) the relationship you started first.');
    return this.answer.response();
  }

  // After undo: the answer is replaced; a selection that no longer exists is dropped.
  restore(state) {
    this.answer.restore(state);
    const s = this.selected;
    if (s && !(s.kind === 'ann' ? this.answer.annByKey(s.k) : this.answer.relByKey(s.k))) this.selected = null;
    this.sel = null;
    this.link = null;
    this.message = '';
  }
}

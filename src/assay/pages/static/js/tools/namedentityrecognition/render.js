// The named-entity tool's DOM, painted from the answer and the editing session. The text
// is cut into pieces (.ner-piece, data-s/data-e code-point offsets) at every word and
// span boundary; task text only ever goes in as text nodes.
import { h } from '../../api.js';

const PALETTE = ['#f6c945', '#72c1f7', '#9edb7c', '#ff9fb2', '#c3a4ff', '#ffb26b', '#5fdccb', '#d9d96a', '#f39be0', '#9fb3ff',
  '#e8a87c', '#a0d2a0'];

function swatch(color) {
  const el = h('span', { class: 'ner-swatch' });
  el.style.background = color;
  return el;
}

const noneYet = () => h('li', { class: 'empty' }, 'None yet.');

export class NerView {
  // actions: {label(name), pick(k), selectRelation(k), remove(item), link(k), finishLink(name)}
  constructor(el, editor, labelKeys, actions) {
    this.el = el;
    this.editor = editor;
    this.doc = editor.answer;
    this.labelKeys = labelKeys;
    this.actions = actions;
    this.colors = new Map(this.doc.labels.map((l, i) => [l.name, PALETTE[i % PALETTE.length]]));
    this.textEl = h('div', { class: 'ner-text', 'aria-label': 'Text to label' });
    this.messageEl = h('p', { class: 'ner-message error', role: 'alert' });
    this.selectionEl = h('p', { class: 'ner-selection hint' });
    this.annListEl = h('ol', { class: 'ner-list ner-annotations' });
    this.relListEl = h('ol', { class: 'ner-list ner-relations' });
    this.relPickerEl = h('div', { class: 'ner-relpicker choices', role: 'group', 'aria-label': 'Relationship' });
    this.annCount = h('span', { class: 'ner-count' });
    this.relCount = h('span', { class: 'ner-count' });
    const { hasRelations } = this.doc;
    el.append(
      h('div', { class: 'ner-layout' },
        h('div', { class: 'ner-main' }, this.palette(), this.keysHint(), this.textEl, this.selectionEl, this.messageEl, this.relPickerEl),
        h('aside', { class: 'ner-side' },
          h('h3', {}, 'Annotations ', this.annCount), this.annListEl,
          hasRelations ? [h('h3', {}, 'Relations ', this.relCount), this.relListEl] : null)),
    );
  }

  colorOf(name) { return this.colors.get(name) || '#ccc'; }

  palette() {
    return h('div', { class: 'ner-labels choices', role: 'group', 'aria-label': 'Labels' }, this.doc.labels.map((label, i) => {
      const key = this.labelKeys[i];
      const b = h('button', { type: 'button', class: 'choice ner-label', dataset: { label: label.name }, title: label.description || null },
        key ? h('kbd', {}, key) : null, ' ', swatch(this.colorOf(label.name)), label.title);
      if (label.depth) b.style.marginLeft = `${label.depth * 0.75}rem`;
      b.addEventListener('click', () => this.actions.label(label.name));
      return b;
    }));
  }

  keysHint() {
    const { hasRelations, allowOverlap } = this.doc;
    return h('p', { class: 'hint ner-keys' },
      'Drag over text or use ', h('kbd', {}, '←'), h('kbd', {}, '→'), ' (', h('kbd', {}, 'Shift'), ' to extend), then a label key. ',
      h('kbd', {}, '↑'), h('kbd', {}, '↓'), ' select an annotation, ', h('kbd', {}, 'Del'), ' removes it',
      hasRelations ? [', ', h('kbd', {}, 'L'), ' links it to another'] : null, ', ', h('kbd', {}, 'Esc'), ' cancels.',
      allowOverlap ? ' Spans may overlap.' : ' Spans may not overlap.');
  }

  paint() {
    this.paintText();
    this.paintLists();
    this.paintStatus();
  }

  scrollToPending() { this.textEl.querySelector('.ner-pending')?.scrollIntoView({ block: 'nearest' }); }
  scrollToItem(k) { this.el.querySelector(`.ner-item[data-k="${k}"]`)?.scrollIntoView({ block: 'nearest' }); }

  // ------------------------------------------------------------------ the text
  paintText() {
    const { doc, editor, textEl } = this;
    const range = editor.selRange();
    const cuts = new Set([0, doc.cps.length]);
    for (const t of doc.tokens) { cuts.add(t.start); cuts.add(t.end); }
    for (const a of doc.anns) { cuts.add(a.start); cuts.add(a.end); }
    const points = [...cuts].sort((x, y) => x - y);
    const caretTok = doc.tokens[editor.caret];
    // the pieces are rebuilt only when the cut points change (keeps a double-click's target in place)
    const signature = points.join(',');
    const reuse = signature === textEl.dataset.cuts;
    const pieces = reuse ? [...textEl.children] : [];
    for (let i = 0; i + 1 < points.length; i += 1) {
      const s = points[i];
      const e = points[i + 1];
      let span = pieces[i];
      if (!reuse) {
        span = h('span', { class: 'ner-piece', dataset: { s: String(s), e: String(e) } }, doc.slice(s, e));
        pieces.push(span);
      }
      this.paintPiece(span, s, e, range, caretTok);
    }
    if (!reuse) {
      textEl.replaceChildren(...pieces);
      textEl.dataset.cuts = signature;
    }
  }

  paintPiece(span, s, e, range, caretTok) {
    const { doc, editor } = this;
    span.className = 'ner-piece';
    span.style.removeProperty('--ner-color');
    span.style.removeProperty('--ner-color2');
    delete span.dataset.tags;
    const covering = doc.covering(s, e);
    if (covering.length) {
      // the innermost (shortest) span shows its colour; a second one underlines
      span.classList.add('ner-ann');
      span.style.setProperty('--ner-color', this.colorOf(covering[0].label));
      if (covering.length > 1) {
        span.classList.add('ner-multi');
        span.style.setProperty('--ner-color2', this.colorOf(covering[1].label));
      }
      if (covering.some((a) => editor.isSelected('ann', a.k))) span.classList.add('ner-selected');
      if (editor.link && covering.some((a) => a.k === editor.link.source)) span.classList.add('ner-source');
      const ending = doc.anns.filter((a) => a.end === e && covering.includes(a)); // in answer order
      if (ending.length) span.dataset.tags = ending.map((a) => doc.labelTitle(a.label)).join(' · ');
    }
    if (range && range.start <= s && e <= range.end) span.classList.add('ner-pending');
    if (!range && caretTok && caretTok.start <= s && e <= caretTok.end) span.classList.add('ner-caret');
  }

  // ------------------------------------------------------------------ the lists
  deleteButton(item) {
    return h('button', { type: 'button', class: 'link danger ner-delete', title: 'Delete (Del)', 'aria-label': 'Delete',
      onclick: (ev) => { ev.stopPropagation(); this.actions.remove(item); } }, '×');
  }

  annRow(a) {
    const { doc, editor, actions } = this;
    const row = h('li', { class: 'ner-item', dataset: { k: a.k } },
      swatch(this.colorOf(a.label)), h('span', { class: 'ner-item-text' }, `“${doc.slice(a.start, a.end)}”`), ' ',
      h('span', { class: 'ner-item-label' }, doc.labelTitle(a.label)),
      h('span', { class: 'ner-item-offsets muted' }, ` ${a.start}–${a.end}`),
      h('span', { class: 'ner-item-actions' },
        doc.hasRelations ? h('button', { type: 'button', class: 'link ner-link', title: 'Link to another annotation (L)',
          onclick: (ev) => { ev.stopPropagation(); actions.link(a.k); } }, 'link') : null,
        this.deleteButton({ kind: 'ann', k: a.k })));
    if (editor.isSelected('ann', a.k)) row.classList.add('selected');
    if (editor.link?.source === a.k) row.classList.add('ner-source');
    row.addEventListener('click', () => actions.pick(a.k));
    return row;
  }

  relRow(r) {
    const { doc } = this;
    const s = doc.annByKey(r.source);
    const t = doc.annByKey(r.target);
    const row = h('li', { class: 'ner-item ner-rel', dataset: { k: r.k } },
      h('span', { class: 'ner-item-text' }, `“${doc.slice(s.start, s.end)}”`), ` ${r.name ? `— ${doc.relTitle(r.name)} →` : '—'} `,
      h('span', { class: 'ner-item-text' }, `“${doc.slice(t.start, t.end)}”`),
      h('span', { class: 'ner-item-actions' }, this.deleteButton({ kind: 'rel', k: r.k })));
    if (this.editor.isSelected('rel', r.k)) row.classList.add('selected');
    row.addEventListener('click', () => this.actions.selectRelation(r.k));
    return row;
  }

  paintLists() {
    const { doc } = this;
    this.annCount.textContent = `(${doc.anns.length})`;
    const rows = doc.sortedAnns().map((a) => this.annRow(a));
    this.annListEl.replaceChildren(...(rows.length ? rows : [noneYet()]));
    if (!doc.hasRelations) return;
    this.relCount.textContent = `(${doc.rels.length})`;
    const relRows = doc.rels.map((r) => this.relRow(r));
    this.relListEl.replaceChildren(...(relRows.length ? relRows : [noneYet()]));
  }

  // ------------------------------------------------------------------ status and relationship names
  paintStatus() {
    const { editor, doc, labelKeys } = this;
    this.selectionEl.textContent = editor.statusLine();
    this.messageEl.textContent = editor.message;
    this.messageEl.hidden = !editor.message;
    const names = editor.link?.names;
    this.relPickerEl.hidden = !names;
    if (names) {
      this.relPickerEl.replaceChildren(...names.map((name, i) => h('button', { type: 'button', class: 'choice', dataset: { relation: name },
        onclick: () => this.actions.finishLink(name) }, labelKeys[i] ? h('kbd', {}, labelKeys[i]) : null, ' ', doc.relTitle(name))));
    }
  }
}

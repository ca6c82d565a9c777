// The named-entity tool's DOM, painted from the answer and the editing session. The text
// is cut into pieces (.ner-piece, data-s/data-e code-point offsets) at every word and
// span boundary; task text only ever goes in as text nodes.
import { h } from '../../api.js';

const PALETTE = ['#f6c945', '#72c1f7', '#9edb7c', '#ff9fb2', '#c3a4ff', '#ffb26b', '#5fdccb', '#d9d96a', '#f39be0', '#9fb3ff',
  '#e8a87c', '#a0d2a0'];

// actions: {label(name), pick(k), selectRelation(k), remove(item), link(k), finishLink(name)}
export function createView(el, editor, labelKeys, actions) {
  const doc = editor.answer;
  const colors = new Map(doc.labels.map((l, i) => [l.name, PALETTE[i % PALETTE.length]]));
  const colorOf = (name) => colors.get(name) || '#ccc';

  const textEl = h('div', { class: 'ner-text', 'aria-label': 'Text to label' });
  const messageEl = h('p', { class: 'ner-message error', role: 'alert' });
  const selectionEl = h('p', { class: 'ner-selection hint' });
  const paletteEl = h('div', { class: 'ner-labels choices', role: 'group', 'aria-label': 'Labels' });
  const annListEl = h('ol', { class: 'ner-list ner-annotations' });
  const relListEl = h('ol', { class: 'ner-list ner-relations' });
  const relPickerEl = h('div', { class: 'ner-relpicker choices', role: 'group', 'aria-label': 'Relationship' });
  const annCount = h('span', { class: 'ner-count' });
  const relCount = h('span', { class: 'ner-count' });

  paletteEl.append(...doc.labels.map((label, i) => {
    const key = labelKeys[i];
    const b = h('button', { type: 'button', class: 'choice ner-label', dataset: { label: label.name }, title: label.description || null },
      key ? h('kbd', {}, key) : null, ' ', swatch(colorOf(label.name)), label.title);
    if (label.depth) b.style.marginLeft = `${label.depth * 0.75}rem`;
    b.addEventListener('click', () => actions.label(label.name));
    return b;
  }));

  const keysHint = h('p', { class: 'hint ner-keys' },
    'Drag over text or use ', h('kbd', {}, '←'), h('kbd', {}, '→'), ' (', h('kbd', {}, 'Shift'), ' to extend), then a label key. ',
    h('kbd', {}, '↑'), h('kbd', {}, '↓'), ' select an annotation, ', h('kbd', {}, 'Del'), ' removes it',
    doc.hasRelations ? [', ', h('kbd', {}, 'L'), ' links it to another'] : null, ', ', h('kbd', {}, 'Esc'), ' cancels.',
    doc.allowOverlap ? ' Spans may overlap.' : ' Spans may not overlap.');

  el.append(
    h('div', { class: 'ner-layout' },
      h('div', { class: 'ner-main' }, paletteEl, keysHint, textEl, selectionEl, messageEl, relPickerEl),
      h('aside', { class: 'ner-side' },
        h('h3', {}, 'Annotations ', annCount), annListEl,
        doc.hasRelations ? [h('h3', {}, 'Relations ', relCount), relListEl] : null)),
  );

  function paintText() {
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
      paintPiece(span, s, e, range, caretTok);
    }
    if (!reuse) {
      textEl.replaceChildren(...pieces);
      textEl.dataset.cuts = signature;
    }
  }

  function paintPiece(span, s, e, range, caretTok) {
    span.className = 'ner-piece';
    span.style.removeProperty('--ner-color');
    span.style.removeProperty('--ner-color2');
    delete span.dataset.tags;
    const covering = doc.covering(s, e);
    if (covering.length) {
      // the innermost (shortest) span shows its colour; a second one underlines
      span.classList.add('ner-ann');
      span.style.setProperty('--ner-color', colorOf(covering[0].label));
      if (covering.length > 1) {
        span.classList.add('ner-multi');
        span.style.setProperty('--ner-color2', colorOf(covering[1].label));
      }
      if (covering.some((a) => editor.isSelected('ann', a.k))) span.classList.add('ner-selected');
      if (editor.link && covering.some((a) => a.k === editor.link.source)) span.classList.add('ner-source');
      const ending = doc.anns.filter((a) => a.end === e && covering.includes(a)); // in answer order
      if (ending.length) span.dataset.tags = ending.map((a) => doc.labelTitle(a.label)).join(' · ');
    }
    if (range && range.start <= s && e <= range.end) span.classList.add('ner-pending');
    if (!range && caretTok && caretTok.start <= s && e <= caretTok.end) span.classList.add('ner-caret');
  }

  function deleteButton(item) {
    return h('button', { type: 'button', class: 'link danger ner-delete', title: 'Delete (Del)', 'aria-label': 'Delete',
      onclick: (ev) => { ev.stopPropagation(); actions.remove(item); } }, '×');
  }

  function annRow(a) {
    const row = h('li', { class: 'ner-item', dataset: { k: a.k } },
      swatch(colorOf(a.label)), h('span', { class: 'ner-item-text' }, `“${doc.slice(a.start, a.end)}”`), ' ',
      h('span', { class: 'ner-item-label' }, doc.labelTitle(a.label)),
      h('span', { class: 'ner-item-offsets muted' }, ` ${a.start}–${a.end}`),
      h('span', { class: 'ner-item-actions' },
        doc.hasRelations ? h('button', { type: 'button', class: 'link ner-link', title: 'Link to another annotation (L)',
          onclick: (ev) => { ev.stopPropagation(); actions.link(a.k); } }, 'link') : null,
        deleteButton({ kind: 'ann', k: a.k })));
    if (editor.isSelected('ann', a.k)) row.classList.add('selected');
    if (editor.link?.source === a.k) row.classList.add('ner-source');
    row.addEventListener('click', () => actions.pick(a.k));
    return row;
  }

  function relRow(r) {
    const s = doc.annByKey(r.source);
    const t = doc.annByKey(r.target);
    const row = h('li', { class: 'ner-item ner-rel', dataset: { k: r.k } },
      h('span', { class: 'ner-item-text' }, `“${doc.slice(s.start, s.end)}”`), ` ${r.name ? `— ${doc.relTitle(r.name)} →` : '—'} `,
      h('span', { class: 'ner-item-text' }, `“${doc.slice(t.start, t.end)}”`),
      h('span', { class: 'ner-item-actions' }, deleteButton({ kind: 'rel', k: r.k })));
    if (editor.isSelected('rel', r.k)) row.classList.add('selected');
    row.addEventListener('click', () => actions.selectRelation(r.k));
    return row;
  }

  const noneYet = () => h('li', { class: 'empty' }, 'None yet.');

  function paintLists() {
    annCount.textContent = `(${doc.anns.length})`;
    const rows = doc.sortedAnns().map(annRow);
    annListEl.replaceChildren(...(rows.length ? rows : [noneYet()]));
    if (!doc.hasRelations) return;
    relCount.textContent = `(${doc.rels.length})`;
    const relRows = doc.rels.map(relRow);
    relListEl.replaceChildren(...(relRows.length ? relRows : [noneYet()]));
  }

  function paintStatus() {
    selectionEl.textContent = editor.statusLine();
    messageEl.textContent = editor.message;
    messageEl.hidden = !editor.message;
    const names = editor.link?.names;
    relPickerEl.hidden = !names;
    if (names) {
      relPickerEl.replaceChildren(...names.map((name, i) => h('button', { type: 'button', class: 'choice', dataset: { relation: name },
        onclick: () => actions.finishLink(name) }, labelKeys[i] ? h('kbd', {}, labelKeys[i]) : null, ' ', doc.relTitle(name))));
    }
  }

  return {
    textEl,
    paint() {
      paintText();
      paintLists();
      paintStatus();
    },
    scrollToPending() { textEl.querySelector('.ner-pending')?.scrollIntoView({ block: 'nearest' }); },
    scrollToItem(k) { el.querySelector(`.ner-item[data-k="${k}"]`)?.scrollIntoView({ block: 'nearest' }); },
  };
}

function swatch(color) {
  const el = h('span', { class: 'ner-swatch' });
  el.style.background = color;
  return el;
}

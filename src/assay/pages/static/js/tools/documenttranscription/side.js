// The side panel: the feature labels (with keys) and the list of annotations, each with
// its label, text box and place. Rows are rebuilt only on edits, so a focused text box
// keeps its caret while the selection moves.
import { h } from '../../api.js';
import { bbox } from './state.js';

// Enter in a box's text leaves the text box (as Esc does) rather than submitting the
// whole task half done; Ctrl+Enter still submits.
function leaveOnEnter(event) {
  if (event.key !== 'Enter' || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
  event.preventDefault();
  event.stopPropagation();
  event.target.blur();
}

const keysHint = () => h('p', { class: 'hint' }, 'Drag to draw a box, press its label key, ', h('kbd', {}, 't'), ' to type its text, ',
  h('kbd', {}, 'Esc'), ' or ', h('kbd', {}, 'Enter'), ' when done. ', h('kbd', {}, '↑'), h('kbd', {}, '↓'), ' select, ',
  h('kbd', {}, 'Delete'), ' delete, ', h('kbd', {}, '['), h('kbd', {}, ']'), ' pages.');

export class SidePanel {
  // on: {chooseLabel(label), select(uuid), relabel(uuid, label), remove(uuid), typed(), flushTyping()}
  constructor(doc, nav, labelKeys, colorOf, on) {
    this.doc = doc;
    this.nav = nav;
    this.colorOf = colorOf;
    this.on = on;
    this.labelButtons = doc.features.map((f, i) => this.labelButton(f, labelKeys[i]));
    this.list = h('ol', { class: 'dt-annotations' });
    this.listTitle = h('h3', { class: 'dt-list-title' });
    this.el = h('div', { class: 'dt-side' },
      h('h3', {}, 'Feature labels'),
      h('div', { class: 'dt-labels', role: 'radiogroup', 'aria-label': 'Feature labels' }, this.labelButtons),
      this.listTitle, this.list, keysHint());
  }

  labelButton(f, key) {
    const b = h('button', { type: 'button', class: 'choice dt-label', dataset: { value: f.label } },
      key ? h('kbd', {}, key) : null, ' ', h('span', { class: 'dt-swatch' }), ' ', f.label, ' ', h('span', { class: 'muted dt-type' }, f.type));
    b.style.marginLeft = `${f.depth * 1.1}rem`;
    b.querySelector('.dt-swatch').style.background = this.colorOf(f.label);
    b.addEventListener('click', () => this.on.chooseLabel(f.label));
    return b;
  }

  paintLabels() {
    for (const b of this.labelButtons) {
      const on = b.dataset.value === this.doc.label;
      b.classList.toggle('selected', on);
      b.setAttribute('aria-pressed', String(on));
    }
  }

  row(ann, i) {
    const { doc, on } = this;
    const b = bbox(ann.location);
    const text = h('input', { type: 'text', class: 'dt-text', value: String(ann.text ?? ''), 'aria-label': `Text of annotation ${i + 1}`,
      placeholder: doc.needsText(ann.label) ? 'Type the text (required)' : 'Type the text' });
    text.addEventListener('input', () => { ann.text = text.value; on.typed(); });
    text.addEventListener('change', () => on.flushTyping());
    text.addEventListener('keydown', leaveOnEnter);
    text.addEventListener('focus', () => { if (doc.selected !== ann.uuid) on.select(ann.uuid); });
    const choose = h('select', { class: 'dt-ann-label', 'aria-label': `Label of annotation ${i + 1}` },
      doc.labels.map((l) => h('option', { value: l, selected: l === ann.label }, l)));
    choose.value = ann.label;
    choose.addEventListener('change', () => on.relabel(ann.uuid, choose.value));
    const where = `p${ann.page + 1} · x ${Math.round(b.left)}, y ${Math.round(b.top)} · ${Math.round(b.width)}×${Math.round(b.height)} px`
      + (ann.location?.type === 'polygon' ? ` · polygon (${ann.location.vertices.length} points)` : '');
    const li = h('li', { class: `dt-ann${ann.uuid === doc.selected ? ' selected' : ''}${ann.page === this.nav.page ? '' : ' other-page'}`,
      dataset: { uuid: ann.uuid } },
      h('span', { class: 'dt-swatch' }), choose,
      h('button', { type: 'button', class: 'link danger dt-remove', 'aria-label': `Delete annotation ${i + 1}`, onclick: () => on.remove(ann.uuid) }, '×'),
      text,
      h('span', { class: 'dt-where muted' }, where));
    li.querySelector('.dt-swatch').style.background = this.colorOf(ann.label);
    li.addEventListener('mousedown', (event) => { if (event.target === li || event.target.classList.contains('dt-where')) on.select(ann.uuid); });
    return li;
  }

  // selection and page marks on the existing rows (no rebuild: a focused text box keeps its caret)
  paintRows() {
    for (const li of this.list.querySelectorAll('li.dt-ann')) {
      const ann = this.doc.find(li.dataset.uuid);
      li.classList.toggle('selected', li.dataset.uuid === this.doc.selected);
      li.classList.toggle('other-page', !!ann && ann.page !== this.nav.page);
    }
  }

  paintList() {
    const { doc, list } = this;
    this.listTitle.textContent = `Annotations (${doc.annotations.length})`;
    const focused = document.activeElement;
    const keepFocus = focused && list.contains(focused) && focused.classList.contains('dt-text') ? focused.closest('li')?.dataset.uuid : null;
    list.replaceChildren(...doc.annotations.map((ann, i) => this.row(ann, i)));
    if (!doc.annotations.length) list.append(h('li', { class: 'hint dt-empty' }, 'None yet: choose a label, then drag on the page.'));
    if (keepFocus) this.focusText(keepFocus);
  }

  focusText(uuid = this.doc.selected) {
    this.list.querySelector(`li[data-uuid="${CSS.escape(uuid || '')}"] .dt-text`)?.focus();
  }
}

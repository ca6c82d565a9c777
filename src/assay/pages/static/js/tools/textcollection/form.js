// The text-collection form's DOM: a section per field with one widget per response
// (+ Add another answer, remove), the attachments with their fields, focus, and the keys
// (choice keys act on the highlighted field; Alt+↑/↓ move a focused ranked item).
import { h } from '../../api.js';
import { attachmentView } from '../common.js';
import { ranking } from './ranking.js';
import { activeChoiceField, layout } from './state.js';
import { CHOICE_TYPES, isRequired, responseBounds } from './values.js';
import { WIDGETS } from './widgets.js';

const FACTORIES = { ...WIDGETS, ranking };

function keysHint() {
  return h('p', { class: 'hint tc-keys' }, h('kbd', {}, '1'), h('kbd', {}, '2'), '… choose in the highlighted field (one choice moves on to the next field by itself) · ',
    h('kbd', {}, 'Tab'), ' / ', h('kbd', {}, 'Shift+Tab'), ' next / previous field, round from the last to the first · ', h('kbd', {}, 'Esc'), ' leaves a text box · ',
    h('kbd', {}, 'Enter'), ' submits (', h('kbd', {}, 'Ctrl+Enter'), ' in a text box) · ', h('span', { class: 'tc-required' }, '*'), ' required');
}

// One field: its section (box) and its widgets, one per response.
class Field {
  constructor(f, form) {
    this.def = f;
    this.form = form;
    [this.low, this.high] = responseBounds(f);
    this.isChoice = CHOICE_TYPES.has(f.type);
    this.widgets = [];
    this.list = h('div', { class: 'tc-responses' });
    this.errorEl = h('p', { class: 'error tc-field-error', role: 'alert', hidden: true });
    const make = FACTORIES[f.type];
    this.addButton = this.high > 1
      ? h('button', { type: 'button', class: 'link tc-add', onclick: () => { this.add(); form.ctx.changed(); } }, '+ Add another answer')
      : null;
    this.box = h('section', { class: `tc-field tc-${f.type}-field`, dataset: { field: f.field_id, type: f.type },
      tabindex: this.isChoice ? '0' : null, 'aria-label': f.title },
    h('div', { class: 'tc-field-head' },
      h('span', { class: 'tc-title' }, f.title), isRequired(f) ? h('span', { class: 'tc-required', title: 'required' }, ' *') : null,
      this.isChoice ? h('span', { class: 'tc-keys-here hint' }, 'keys act here') : null),
    f.description ? h('p', { class: 'hint tc-description' }, f.description) : null,
    make ? this.list : h('p', { class: 'error' }, `Unknown field type ${f.type}.`),
    this.addButton, this.errorEl);
    this.box.addEventListener('focusin', () => form.setActive(this));
    if (f.type === 'ranking') {
      // ↓/↑ on the field itself step into its ranked items
      this.box.addEventListener('keydown', (ev) => {
        if (ev.target !== this.box || ev.altKey || ev.ctrlKey || ev.metaKey || !['ArrowDown', 'ArrowUp'].includes(ev.key)) return;
        const first = this.box.querySelector('.tc-rank-item');
        if (first) { ev.preventDefault(); first.focus(); }
      });
    }
    if (make) {
      const env = { keys: form.keys, say: (text) => this.say(text), changed: () => form.ctx.changed(), next: () => form.focusNext(this), box: () => this.box };
      this.make = () => make(f, env);
      this.reset([]);
    }
  }

  say(text) {
    this.errorEl.textContent = text;
    this.errorEl.hidden = !text;
    this.box.classList.toggle('tc-invalid', !!text);
  }

  add(state) {
    if (this.widgets.length >= this.high) return null;
    const w = this.make();
    if (state !== undefined) w.setState(state);
    w.wrap = h('div', { class: 'tc-response' }, w.el);
    if (this.high > 1) {
      w.wrap.append(h('button', { type: 'button', class: 'link danger tc-remove', title: 'Remove this answer',
        onclick: () => { this.remove(w); this.form.ctx.changed(); } }, 'remove'));
    }
    this.widgets.push(w);
    this.list.append(w.wrap);
    this.syncCount();
    return w;
  }

  remove(w) {
    this.widgets = this.widgets.filter((x) => x !== w);
    w.wrap.remove();
    this.syncCount();
  }

  // the widgets shown: one per state, then empty ones up to the least count
  reset(states) {
    for (const w of [...this.widgets]) this.remove(w);
    for (const s of states) this.add(s);
    while (this.widgets.length < Math.max(1, this.low)) this.add();
  }

  syncCount() {
    if (this.addButton) this.addButton.hidden = this.widgets.length >= this.high;
    for (const w of this.widgets) {
      const remove = w.wrap.querySelector(':scope > .tc-remove');
      if (remove) remove.hidden = this.widgets.length <= Math.max(1, this.low);
    }
  }

  // the widget with focus, else the first
  widget() { return this.widgets.find((w) => w.wrap.contains(document.activeElement)) || this.widgets[0]; }
}

export class Form {
  constructor(el, params, ctx) {
    this.ctx = ctx;
    this.keys = ctx.freeKeys;
    this.fields = []; // in display order
    this.lastChoiceField = null;
    el.append(...this.build(params));
    el.addEventListener('focusout', () => setTimeout(() => this.paintActive(), 0));
    // Tab past the last field comes round to the first (and Shift+Tab back): focus never
    // leaves the form, so what is typed next never lands outside it or runs a page key
    el.addEventListener('keydown', (ev) => {
      if (ev.key !== 'Tab' || ev.altKey || ev.ctrlKey || ev.metaKey) return;
      const stops = [...el.querySelectorAll('input, textarea, select, button, [tabindex="0"]')]
        .filter((n) => !n.disabled && n.getClientRects().length > 0);
      const i = stops.indexOf(document.activeElement);
      if (ev.shiftKey ? i === 0 : i === stops.length - 1) {
        ev.preventDefault();
        this.focusField(ev.shiftKey ? this.fields.length - 1 : 0);
      }
    });
    this.bindKeys();
    this.paintActive();
  }

  // the task's title and description, then attachments with their `forms` fields; the
  // other fields after them
  build(params) {
    const { byId, sections, grouped, rest } = layout(params);
    const view = (att) => attachmentView(att.content, att.type);
    const form = (ids) => h('div', { class: 'tc-form' }, ids.map((id) => {
      const field = new Field(byId.get(id), this);
      this.fields.push(field);
      return field.box;
    }));
    const out = [];
    if (params.title) out.push(h('h2', { class: 'tc-heading' }, params.title));
    if (params.description) out.push(h('p', { class: 'tc-task-description' }, params.description));
    out.push(keysHint());
    if (grouped) {
      for (const s of sections) out.push(h('div', { class: 'tc-section' }, h('div', { class: 'tc-attachments' }, view(s.att)), s.ids.length ? form(s.ids) : h('div')));
      if (rest.length) out.push(h('div', { class: 'tc-section tc-rest' }, h('div'), form(rest)));
    } else {
      out.push(h('div', { class: 'tc-section' }, h('div', { class: 'tc-attachments' }, (params.attachments || []).map(view)), form(rest)));
    }
    return out;
  }

  bindKeys() {
    const { fields, keys, ctx } = this;
    const keyCount = Math.min(keys.length, Math.max(0, ...fields.filter((fl) => fl.isChoice).map((fl) => fl.make ? fl.widgets[0]?.keys || 0 : 0)));
    for (let i = 0; i < keyCount; i += 1) {
      ctx.hotkey(keys[i], `Option ${i + 1} of the highlighted choice field (ranking: rank it next)`, () => {
        this.activeField()?.widget()?.key?.(i, true);
      });
    }
    if (fields.some((fl) => fl.def.type === 'ranking')) {
      const moveFocused = (step) => this.fieldOf(document.activeElement)?.widget()?.moveFocused?.(step);
      ctx.hotkey('Alt+ArrowUp', 'Move the focused ranked item up', () => moveFocused(-1), { display: 'Alt+↑' });
      ctx.hotkey('Alt+ArrowDown', 'Move the focused ranked item down', () => moveFocused(1), { display: 'Alt+↓' });
    }
  }

  fieldOf(node) { return this.fields.find((fl) => fl.box.contains(node)) || null; }
  activeField() { return activeChoiceField(this.fields, this.fieldOf(document.activeElement), this.lastChoiceField); }

  setActive(field) {
    if (field?.isChoice) this.lastChoiceField = field;
    this.paintActive();
  }

  paintActive() {
    const active = this.activeField();
    for (const fl of this.fields) fl.box.classList.toggle('tc-active', fl === active);
  }

  focusNext(field) { this.focusField(this.fields.indexOf(field) + 1); }

  // a choice field's section, or a box field's first input; past the last field, nothing
  focusField(i) {
    const field = this.fields[i];
    if (!field) { document.activeElement?.blur?.(); this.paintActive(); return; }
    const target = field.isChoice ? field.box : (field.widgets[0]?.focusEl || field.box);
    target.focus();
    target.scrollIntoView({ block: 'nearest' });
    this.paintActive();
  }
}

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

// Builds the form into `el`; returns the fields in display order:
// [{def, low, high, isChoice, widgets, box, say(message), make?}] and the form's helpers.
export function buildForm(el, params, ctx) {
  const keys = ctx.freeKeys;
  const fields = [];
  let lastChoiceField = null;

  function buildField(f) {
    const make = FACTORIES[f.type];
    const [low, high] = responseBounds(f);
    const isChoice = CHOICE_TYPES.has(f.type);
    const errorEl = h('p', { class: 'error tc-field-error', role: 'alert', hidden: true });
    const list = h('div', { class: 'tc-responses' });
    const field = { def: f, widgets: [], list, low, high, isChoice };
    field.say = (text) => {
      errorEl.textContent = text;
      errorEl.hidden = !text;
      field.box.classList.toggle('tc-invalid', !!text);
    };
    field.addButton = high > 1
      ? h('button', { type: 'button', class: 'link tc-add', onclick: () => { addWidget(field); ctx.changed(); } }, '+ Add another answer')
      : null;
    field.box = h('section', { class: `tc-field tc-${f.type}-field`, dataset: { field: f.field_id, type: f.type },
      tabindex: isChoice ? '0' : null, 'aria-label': f.title },
    h('div', { class: 'tc-field-head' },
      h('span', { class: 'tc-title' }, f.title), isRequired(f) ? h('span', { class: 'tc-required', title: 'required' }, ' *') : null,
      isChoice ? h('span', { class: 'tc-keys-here hint' }, 'keys act here') : null),
    f.description ? h('p', { class: 'hint tc-description' }, f.description) : null,
    make ? list : h('p', { class: 'error' }, `Unknown field type ${f.type}.`),
    field.addButton, errorEl);
    field.box.addEventListener('focusin', () => setActive(field));
    if (f.type === 'ranking') {
      // ↓/↑ on the field itself step into its ranked items
      field.box.addEventListener('keydown', (ev) => {
        if (ev.target !== field.box || ev.altKey || ev.ctrlKey || ev.metaKey || !['ArrowDown', 'ArrowUp'].includes(ev.key)) return;
        const first = field.box.querySelector('.tc-rank-item');
        if (first) { ev.preventDefault(); first.focus(); }
      });
    }
    if (make) {
      const env = { keys, say: field.say, changed: () => ctx.changed(), next: () => focusField(fields.indexOf(field) + 1), box: () => field.box };
      field.make = () => make(f, env);
      for (let i = 0; i < Math.max(1, low); i += 1) addWidget(field);
    }
    return field;
  }

  function addWidget(field, state) {
    if (field.widgets.length >= field.high) return null;
    const w = field.make();
    if (state !== undefined) w.setState(state);
    const wrap = h('div', { class: 'tc-response' }, w.el);
    if (field.high > 1) {
      wrap.append(h('button', { type: 'button', class: 'link danger tc-remove', title: 'Remove this answer',
        onclick: () => { removeWidget(field, w); ctx.changed(); } }, 'remove'));
    }
    w.wrap = wrap;
    field.widgets.push(w);
    field.list.append(wrap);
    syncCount(field);
    return w;
  }

  function removeWidget(field, w) {
    field.widgets = field.widgets.filter((x) => x !== w);
    w.wrap.remove();
    syncCount(field);
  }

  // the widgets a field shows: `states` each, then empty ones up to its least count
  function resetWidgets(field, states) {
    for (const w of [...field.widgets]) removeWidget(field, w);
    for (const s of states) addWidget(field, s);
    while (field.widgets.length < Math.max(1, field.low)) addWidget(field);
  }

  function syncCount(field) {
    if (field.addButton) field.addButton.hidden = field.widgets.length >= field.high;
    for (const w of field.widgets) {
      const remove = w.wrap.querySelector(':scope > .tc-remove');
      if (remove) remove.hidden = field.widgets.length <= Math.max(1, field.low);
    }
  }

  // layout: attachments with their `forms` fields; the other fields after them
  const { byId, sections, grouped, rest } = layout(params);
  const view = (att) => attachmentView(att.content, att.type);
  const head = [];
  if (params.title) head.push(h('h2', { class: 'tc-heading' }, params.title));
  if (params.description) head.push(h('p', { class: 'tc-task-description' }, params.description));
  head.push(h('p', { class: 'hint tc-keys' }, h('kbd', {}, 'Tab'), ' / ', h('kbd', {}, 'Shift+Tab'), ' next / previous field · ',
    h('kbd', {}, '1'), h('kbd', {}, '2'), '… choose in the highlighted field · ', h('kbd', {}, 'Esc'), ' leaves a text box · ',
    h('kbd', {}, 'Enter'), ' submits (', h('kbd', {}, 'Ctrl+Enter'), ' in a text box) · ', h('span', { class: 'tc-required' }, '*'), ' required'));
  const form = (ids) => h('div', { class: 'tc-form' }, ids.map((id) => { const field = buildField(byId.get(id)); fields.push(field); return field.box; }));
  const body = [];
  if (grouped) {
    for (const s of sections) body.push(h('div', { class: 'tc-section' }, h('div', { class: 'tc-attachments' }, view(s.att)), s.ids.length ? form(s.ids) : h('div')));
    if (rest.length) body.push(h('div', { class: 'tc-section tc-rest' }, h('div'), form(rest)));
  } else {
    body.push(h('div', { class: 'tc-section' }, h('div', { class: 'tc-attachments' }, (params.attachments || []).map(view)), form(rest)));
  }
  el.append(...head, ...body);

  // ---------------------------------------------------------------- focus & keys
  const fieldOf = (node) => fields.find((fl) => fl.box.contains(node)) || null;
  const activeField = () => activeChoiceField(fields, fieldOf(document.activeElement), lastChoiceField);

  function setActive(field) {
    if (field?.isChoice) lastChoiceField = field;
    paintActive();
  }

  function paintActive() {
    const active = activeField();
    for (const fl of fields) fl.box.classList.toggle('tc-active', fl === active);
  }
  el.addEventListener('focusout', () => setTimeout(paintActive, 0));

  function focusField(i) {
    const field = fields[i];
    if (!field) { document.activeElement?.blur?.(); paintActive(); return; }
    const target = field.isChoice ? field.box : (field.widgets[0]?.focusEl || field.box);
    target.focus();
    target.scrollIntoView({ block: 'nearest' });
    paintActive();
  }

  const widgetFor = (field) => field.widgets.find((w) => w.wrap.contains(document.activeElement)) || field.widgets[0];

  const keyCount = Math.min(keys.length, Math.max(0, ...fields.filter((fl) => fl.isChoice).map((fl) => fl.make ? fl.widgets[0]?.keys || 0 : 0)));
  for (let i = 0; i < keyCount; i += 1) {
    ctx.hotkey(keys[i], `Option ${i + 1} of the highlighted choice field (ranking: rank it next)`, () => {
      const field = activeField();
      const w = field && widgetFor(field);
      if (w?.key) w.key(i, true);
    });
  }
  if (fields.some((fl) => fl.def.type === 'ranking')) {
    const moveFocused = (step) => {
      const field = fieldOf(document.activeElement);
      const w = field && widgetFor(field);
      if (w?.moveFocused) w.moveFocused(step);
    };
    ctx.hotkey('Alt+ArrowUp', 'Move the focused ranked item up', () => moveFocused(-1), { display: 'Alt+↑' });
    ctx.hotkey('Alt+ArrowDown', 'Move the focused ranked item down', () => moveFocused(1), { display: 'Alt+↓' });
  }
  paintActive();

  return { fields, resetWidgets, focusField, paintActive };
}

// textcollection: a form (`fields`) answered about some attachments. Field types:
// category (one or several choices, subchoices too), text, number, datetime, boolean and
// ranking. An attachment's `forms` (field ids) puts those fields next to it.
//
// Keys: Tab / Shift+Tab go from field to field. The choice keys (1, 2, 3…) act on the
// highlighted field: the one with focus, else the last choice field used, else the first
// category field. Choosing one option by key moves on to the next field. In a ranking,
// the choice keys append choices in rank order (again: take it back); a focused ranked
// item moves with Alt+↑/↓ and leaves with Delete; the mouse drags items. Enter submits
// (Ctrl+Enter from a text box).
import { h } from '../api.js';
import { attachmentView } from './common.js';

const TEXTAREA_OVER = 120; // max_characters above which a text field gets a textarea

function asChoice(c) {
  return typeof c === 'string' ? { label: c, value: c } : c;
}

// Every selectable choice of a category field, subchoices after their parent.
function flatChoices(choices, depth = 0, out = []) {
  for (const raw of choices || []) {
    const c = asChoice(raw);
    if (!c || typeof c.value !== 'string') continue;
    out.push({ value: c.value, label: c.label || c.value, depth });
    flatChoices(c.subchoices, depth + 1, out);
  }
  return out;
}

function categoryBounds(f) {
  const low = f.min_choices ?? 1;
  const high = f.max_choices ?? Math.max(1, low);
  return [low, high];
}

function responseBounds(f) {
  const low = f.min_responses_required ?? 1;
  const high = f.max_responses_required ?? Math.max(1, low);
  return [low, high];
}

const cpLength = (s) => Array.from(s).length;
const quote = (f) => `“${f.title}”`;

export default {
  mount(el, task, ctx) {
    const p = task.params;
    const fieldDefs = (p.fields || []).filter((f) => f && typeof f.field_id === 'string');
    const KEYS = ctx.freeKeys;
    const fields = []; // in display order: {def, box, list, widgets: [], error}
    let lastChoiceField = null;

    // ---------------------------------------------------------------- widgets
    // A widget answers one response of a field: {el, read() → {values} | {error} | null,
    // getState(), setState(s), key?(i, viaKey)}; read() is null when left empty.

    function choiceButton(key, label, onPick, extra = {}) {
      const b = h('button', { type: 'button', class: `choice ${extra.cls || ''}`, tabindex: '-1', dataset: extra.dataset || {} },
        key ? h('kbd', {}, key) : null, ' ', label);
      b.addEventListener('click', () => onPick(false));
      return b;
    }

    function categoryWidget(f, field) {
      const options = flatChoices(f.choices);
      const [low, high] = categoryBounds(f);
      const multiple = high > 1;
      let selected = [];
      const buttons = options.map((o, i) => {
        const b = choiceButton(KEYS[i], o.label, (viaKey) => pick(i, viaKey),
          { cls: o.depth ? 'tc-sub' : '', dataset: { value: o.value } });
        b.setAttribute('role', multiple ? 'checkbox' : 'radio');
        if (o.depth) b.style.marginLeft = `${o.depth * 1.25}rem`;
        return b;
      });
      const hint = multiple
        ? (low === high ? `Choose ${low}.` : `Choose ${low ? `${low} to ` : 'up to '}${high}.`)
        : 'Choose one.';
      const root = h('div', { class: 'tc-choices', role: multiple ? 'group' : 'radiogroup', 'aria-label': f.title },
        h('div', { class: 'choices' }, buttons), h('p', { class: 'hint tc-hint' }, hint));
      function paint() {
        buttons.forEach((b, i) => {
          const on = selected.includes(options[i].value);
          b.classList.toggle('selected', on);
          b.setAttribute('aria-checked', String(on));
        });
      }
      function pick(i, viaKey) {
        const value = options[i].value;
        if (multiple) {
          if (selected.includes(value)) selected = selected.filter((v) => v !== value);
          else if (selected.length >= high) { field.say(`${quote(f)}: at most ${high} choices; unselect one first.`); return; }
          else selected = options.map((o) => o.value).filter((v) => v === value || selected.includes(v));
        } else {
          selected = selected.includes(value) ? [] : [value];
        }
        field.say('');
        paint();
        ctx.changed();
        if (viaKey && !multiple && selected.length) focusField(fields.indexOf(field) + 1);
      }
      return {
        el: root,
        keys: options.length,
        key: (i, viaKey) => { if (i < options.length) pick(i, viaKey); },
        read() {
          if (!selected.length) return null;
          if (selected.length < low) return { error: `choose at least ${low} (${selected.length} chosen)` };
          if (selected.length > high) return { error: `choose at most ${high} (${selected.length} chosen)` };
          return { values: [...selected] };
        },
        getState: () => [...selected],
        setState(s) { selected = [...(s || [])]; paint(); },
        fromAnswer: (values) => values,
      };
    }

    function booleanWidget(f, field) {
      let value = null;
      const options = [[true, 'Yes'], [false, 'No']];
      const buttons = options.map(([v, label], i) => {
        const b = choiceButton(KEYS[i], label, (viaKey) => pick(i, viaKey), { dataset: { value: String(v) } });
        b.setAttribute('role', 'radio');
        return b;
      });
      const root = h('div', { class: 'tc-choices', role: 'radiogroup', 'aria-label': f.title }, h('div', { class: 'choices' }, buttons));
      function paint() {
        buttons.forEach((b, i) => {
          const on = value === options[i][0];
          b.classList.toggle('selected', on);
          b.setAttribute('aria-checked', String(on));
        });
      }
      function pick(i, viaKey) {
        value = value === options[i][0] ? null : options[i][0];
        field.say('');
        paint();
        ctx.changed();
        if (viaKey && value !== null) focusField(fields.indexOf(field) + 1);
      }
      return {
        el: root,
        keys: 2,
        key: (i, viaKey) => { if (i < 2) pick(i, viaKey); },
        read: () => (value === null ? null : { values: [value] }),
        getState: () => value,
        setState(s) { value = typeof s === 'boolean' ? s : null; paint(); },
        fromAnswer: (values) => values[0],
      };
    }

    function textWidget(f, field) {
      const min = f.min_characters;
      const max = f.max_characters;
      const long = !max || max > TEXTAREA_OVER;
      const input = long
        ? h('textarea', { rows: '3', 'aria-label': f.title, class: 'tc-input' })
        : h('input', { type: 'text', 'aria-label': f.title, class: 'tc-input' });
      const counter = h('span', { class: 'tc-counter hint' });
      function paint() {
        const n = cpLength(input.value);
        const limits = [min != null ? `min ${min}` : null, max != null ? `max ${max}` : null].filter(Boolean).join(', ');
        counter.textContent = `${n} character${n === 1 ? '' : 's'}${limits ? ` (${limits})` : ''}`;
        const bad = n > 0 && ((min != null && n < min) || (max != null && n > max));
        counter.classList.toggle('error', bad);
        input.setAttribute('aria-invalid', String(bad));
      }
      input.addEventListener('input', () => { field.say(''); paint(); });
      input.addEventListener('change', () => ctx.changed());
      paint();
      return {
        el: h('div', { class: 'tc-text' }, input, counter),
        focusEl: input,
        read() {
          const v = input.value;
          if (!v.trim()) return null;
          const n = cpLength(v);
          if (min != null && n < min) return { error: `needs at least ${min} characters (has ${n})` };
          if (max != null && n > max) return { error: `allows at most ${max} characters (has ${n})` };
          return { values: [v] };
        },
        getState: () => input.value,
        setState(s) { input.value = s || ''; paint(); },
        fromAnswer: (values) => (typeof values[0] === 'string' ? values[0] : ''),
      };
    }

    function numberWidget(f, field) {
      const input = h('input', { type: 'number', step: 'any', 'aria-label': f.title, class: 'tc-input tc-number',
        min: f.min ?? null, max: f.max ?? null });
      const range = f.min != null && f.max != null ? `from ${f.min} to ${f.max}` : f.min != null ? `at least ${f.min}` : f.max != null ? `at most ${f.max}` : '';
      input.addEventListener('input', () => field.say(''));
      input.addEventListener('change', () => ctx.changed());
      return {
        el: h('div', { class: 'tc-number-row' }, input, range ? h('span', { class: 'hint' }, ` ${range}`) : null),
        focusEl: input,
        read() {
          if (input.validity.badInput) return { error: 'is not a number' };
          if (input.value.trim() === '') return null;
          const n = Number(input.value);
          if (!Number.isFinite(n)) return { error: 'is not a number' };
          if (f.min != null && n < f.min) return { error: `must be at least ${f.min}` };
          if (f.max != null && n > f.max) return { error: `must be at most ${f.max}` };
          return { values: [n] };
        },
        getState: () => input.value,
        setState(s) { input.value = s ?? ''; },
        fromAnswer: (values) => (typeof values[0] === 'number' ? String(values[0]) : ''),
      };
    }

    function datetimeWidget(f, field) {
      const date = h('input', { type: 'date', 'aria-label': `${f.title} (date)`, class: 'tc-input tc-date' });
      const time = h('input', { type: 'time', step: '1', 'aria-label': `${f.title} (time, optional)`, class: 'tc-input tc-time' });
      let raw = null; // a loaded value kept as given until edited (time zones, fractions)
      for (const input of [date, time]) {
        input.addEventListener('input', () => { raw = null; field.say(''); });
        input.addEventListener('change', () => { raw = null; ctx.changed(); });
      }
      return {
        el: h('div', { class: 'tc-datetime' }, date, time, h('span', { class: 'hint' }, ' time is optional')),
        focusEl: date,
        read() {
          if (raw) return { values: [raw] };
          if (date.validity.badInput || time.validity.badInput) return { error: 'is not a valid date/time' };
          if (!date.value) return time.value ? { error: 'needs a date as well as the time' } : null;
          return { values: [time.value ? `${date.value}T${time.value}` : date.value] };
        },
        getState: () => ({ date: date.value, time: time.value, raw }),
        setState(s) { date.value = s?.date || ''; time.value = s?.time || ''; raw = s?.raw || null; },
        fromAnswer(values) {
          const v = typeof values[0] === 'string' ? values[0] : '';
          const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?))?/.exec(v);
          return { date: m ? m[1] : '', time: m && m[2] ? m[2] : '', raw: v || null };
        },
      };
    }

    function rankingWidget(f, field) {
      const options = (f.choices || []).map(asChoice).filter((c) => c && typeof c.value === 'string');
      const names = Array.isArray(f.ranks) ? f.ranks : null;
      const n = names ? names.length : Number.isInteger(f.ranks) ? f.ranks : options.length;
      const keyOf = (value) => KEYS[options.findIndex((o) => o.value === value)];
      const labelOf = (value) => options.find((o) => o.value === value)?.label ?? value;
      let ranked = [];
      const rankedEl = h('ol', { class: 'tc-ranked', 'aria-label': `${f.title}: ranked` });
      const poolEl = h('div', { class: 'tc-pool choices', 'aria-label': `${f.title}: to rank` });
      let dragged = null;

      function item(value, i) {
        const li = h('li', { class: 'tc-rank-item', tabindex: '-1', draggable: 'true', dataset: { value } },
          h('span', { class: 'tc-rank-pos' }, names ? names[i] : `${i + 1}.`), ' ',
          keyOf(value) ? h('kbd', {}, keyOf(value)) : null, ' ', h('span', { class: 'tc-rank-label' }, labelOf(value)),
          h('span', { class: 'tc-rank-actions' },
            h('button', { type: 'button', class: 'link', tabindex: '-1', title: 'Move up (Alt+↑)', 'aria-label': 'Move up',
              onclick: () => move(value, -1) }, '↑'),
            h('button', { type: 'button', class: 'link', tabindex: '-1', title: 'Move down (Alt+↓)', 'aria-label': 'Move down',
              onclick: () => move(value, 1) }, '↓'),
            h('button', { type: 'button', class: 'link danger', tabindex: '-1', title: 'Unrank (Del)', 'aria-label': 'Unrank',
              onclick: () => unrank(value) }, '×')));
        li.addEventListener('dragstart', (ev) => { dragged = value; ev.dataTransfer.setData('text/plain', value); ev.dataTransfer.effectAllowed = 'move'; });
        li.addEventListener('dragend', () => { dragged = null; });
        return li;
      }

      function slot(i) {
        return h('li', { class: 'tc-rank-slot', dataset: { slot: String(i) } },
          h('span', { class: 'tc-rank-pos' }, names ? names[i] : `${i + 1}.`), ' ', h('span', { class: 'hint' }, 'drop or press a key'));
      }

      function paint(focusValue) {
        rankedEl.replaceChildren(...ranked.map(item), ...Array.from({ length: Math.max(0, n - ranked.length) }, (_, j) => slot(ranked.length + j)));
        const pool = options.filter((o) => !ranked.includes(o.value)).map((o) => {
          const b = h('button', { type: 'button', class: 'choice tc-pool-item', tabindex: '-1', draggable: 'true', dataset: { value: o.value } },
            keyOf(o.value) ? h('kbd', {}, keyOf(o.value)) : null, ' ', o.label);
          b.addEventListener('click', () => add(o.value));
          b.addEventListener('dragstart', (ev) => { dragged = o.value; ev.dataTransfer.setData('text/plain', o.value); ev.dataTransfer.effectAllowed = 'move'; });
          b.addEventListener('dragend', () => { dragged = null; });
          return b;
        });
        poolEl.replaceChildren(...(pool.length ? pool : [h('span', { class: 'hint' }, 'All ranked.')]));
        if (focusValue !== undefined) rankedEl.querySelector(`.tc-rank-item[data-value="${CSS.escape(focusValue)}"]`)?.focus();
      }

      function commit(focusValue) {
        field.say('');
        paint(focusValue);
        ctx.changed();
      }
      function add(value) {
        if (ranked.includes(value)) return;
        if (ranked.length >= n) { field.say(`${quote(f)}: all ${n} places are taken; take one back first (Del or ×).`); return; }
        ranked.push(value);
        commit();
      }
      function unrank(value) {
        ranked = ranked.filter((v) => v !== value);
        commit();
      }
      function move(value, step) {
        const i = ranked.indexOf(value);
        const j = i + step;
        if (i < 0 || j < 0 || j >= ranked.length) return;
        [ranked[i], ranked[j]] = [ranked[j], ranked[i]];
        commit(value);
      }
      function dropAt(value, index) {
        if (!options.some((o) => o.value === value)) return;
        const without = ranked.filter((v) => v !== value);
        without.splice(Math.min(index, without.length), 0, value);
        ranked = without.slice(0, n);
        commit();
      }

      rankedEl.addEventListener('dragover', (ev) => { if (dragged) { ev.preventDefault(); ev.dataTransfer.dropEffect = 'move'; } });
      rankedEl.addEventListener('drop', (ev) => {
        if (!dragged) return;
        ev.preventDefault();
        const target = ev.target.closest('.tc-rank-item, .tc-rank-slot');
        let index = ranked.length;
        if (target?.classList.contains('tc-rank-item')) {
          index = ranked.indexOf(target.dataset.value);
          const box = target.getBoundingClientRect();
          if (ev.clientY > box.top + box.height / 2) index += 1;
          if (ranked.indexOf(dragged) >= 0 && ranked.indexOf(dragged) < index) index -= 1;
        }
        const value = dragged;
        dragged = null;
        dropAt(value, index);
      });
      poolEl.addEventListener('dragover', (ev) => { if (dragged && ranked.includes(dragged)) ev.preventDefault(); });
      poolEl.addEventListener('drop', (ev) => {
        if (!dragged || !ranked.includes(dragged)) return;
        ev.preventDefault();
        const value = dragged;
        dragged = null;
        unrank(value);
      });

      const root = h('div', { class: 'tc-ranking' }, rankedEl,
        h('div', { class: 'tc-pool-box' }, h('span', { class: 'hint' }, 'To rank: '), poolEl),
        h('p', { class: 'hint tc-hint' }, n < options.length ? `Rank your top ${n} of ${options.length}. ` : 'Rank every choice, best first. ',
          'Press the keys in order or drag; on a ranked item ', h('kbd', {}, 'Alt+↑'), h('kbd', {}, 'Alt+↓'), ' move it, ',
          h('kbd', {}, 'Del'), ' takes it back.'));
      root.addEventListener('keydown', (ev) => {
        const li = ev.target.closest?.('.tc-rank-item');
        const items = [...rankedEl.querySelectorAll('.tc-rank-item')];
        if (ev.altKey || ev.ctrlKey || ev.metaKey) return; // Alt+↑/↓ are tool hotkeys
        if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
          if (!items.length) return;
          ev.preventDefault();
          const at = items.indexOf(li);
          const next = at < 0 ? 0 : Math.max(0, Math.min(items.length - 1, at + (ev.key === 'ArrowDown' ? 1 : -1)));
          items[next].focus();
        } else if (li && (ev.key === 'Delete' || ev.key === 'Backspace')) {
          ev.preventDefault();
          const at = items.indexOf(li);
          unrank(li.dataset.value);
          const rest = [...rankedEl.querySelectorAll('.tc-rank-item')];
          (rest[Math.min(at, rest.length - 1)] || field.box).focus();
        }
      });
      paint();
      return {
        el: root,
        keys: options.length,
        key(i) {
          if (i >= options.length) return;
          const value = options[i].value;
          if (ranked.includes(value)) unrank(value); else add(value);
        },
        moveFocused(step) {
          const li = document.activeElement?.closest?.('.tc-rank-item');
          if (li && rankedEl.contains(li)) move(li.dataset.value, step);
        },
        read() {
          if (!ranked.length) return null;
          if (ranked.length < n) return { error: `rank ${n} choices (${ranked.length} ranked so far)` };
          return { values: [...ranked] };
        },
        getState: () => [...ranked],
        setState(s) { ranked = (s || []).filter((v) => options.some((o) => o.value === v)); paint(); },
        fromAnswer: (values) => values,
      };
    }

    const FACTORIES = { category: categoryWidget, boolean: booleanWidget, text: textWidget, number: numberWidget,
      datetime: datetimeWidget, ranking: rankingWidget };
    const CHOICE_TYPES = new Set(['category', 'boolean', 'ranking']);

    // ---------------------------------------------------------------- fields
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
      const addButton = high > 1
        ? h('button', { type: 'button', class: 'link tc-add', onclick: () => { addWidget(field); ctx.changed(); } }, '+ Add another answer')
        : null;
      field.addButton = addButton;
      const required = f.required && !f.conditions;
      field.box = h('section', { class: `tc-field tc-${f.type}-field`, dataset: { field: f.field_id, type: f.type },
        tabindex: isChoice ? '0' : null, 'aria-label': f.title },
      h('div', { class: 'tc-field-head' },
        h('span', { class: 'tc-title' }, f.title), required ? h('span', { class: 'tc-required', title: 'required' }, ' *') : null,
        isChoice ? h('span', { class: 'tc-keys-here hint' }, 'keys act here') : null),
      f.description ? h('p', { class: 'hint tc-description' }, f.description) : null,
      make ? list : h('p', { class: 'error' }, `Unknown field type ${f.type}.`),
      addButton, errorEl);
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
        field.make = () => make(f, field);
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

    function syncCount(field) {
      if (field.addButton) field.addButton.hidden = field.widgets.length >= field.high;
      for (const w of field.widgets) {
        const remove = w.wrap.querySelector(':scope > .tc-remove');
        if (remove) remove.hidden = field.widgets.length <= Math.max(1, field.low);
      }
    }

    // layout: attachments with their `forms` fields; the other fields after them
    const byId = new Map(fieldDefs.map((f) => [f.field_id, f]));
    const placed = new Set();
    const sections = [];
    for (const att of p.attachments || []) {
      const ids = (att.forms || []).filter((id) => byId.has(id) && !placed.has(id));
      ids.forEach((id) => placed.add(id));
      sections.push({ att, ids });
    }
    const grouped = sections.some((s) => s.ids.length);
    const rest = fieldDefs.filter((f) => !placed.has(f.field_id)).map((f) => f.field_id);

    const view = (att) => attachmentView(att.content, att.type);
    const head = [];
    if (p.title) head.push(h('h2', { class: 'tc-heading' }, p.title));
    if (p.description) head.push(h('p', { class: 'tc-task-description' }, p.description));
    head.push(h('p', { class: 'hint tc-keys' }, h('kbd', {}, 'Tab'), ' / ', h('kbd', {}, 'Shift+Tab'), ' next / previous field · ',
      h('kbd', {}, '1'), h('kbd', {}, '2'), '… choose in the highlighted field · ', h('kbd', {}, 'Esc'), ' leaves a text box · ',
      h('kbd', {}, 'Enter'), ' submits (', h('kbd', {}, 'Ctrl+Enter'), ' in a text box) · ', h('span', { class: 'tc-required' }, '*'), ' required'));
    const form = (ids) => h('div', { class: 'tc-form' }, ids.map((id) => { const field = buildField(byId.get(id)); fields.push(field); return field.box; }));
    const body = [];
    if (grouped) {
      for (const s of sections) body.push(h('div', { class: 'tc-section' }, h('div', { class: 'tc-attachments' }, view(s.att)), s.ids.length ? form(s.ids) : h('div')));
      if (rest.length) body.push(h('div', { class: 'tc-section tc-rest' }, h('div'), form(rest)));
    } else {
      body.push(h('div', { class: 'tc-section' }, h('div', { class: 'tc-attachments' }, (p.attachments || []).map(view)), form(rest)));
    }
    el.append(...head, ...body);

    // ---------------------------------------------------------------- focus & keys
    function fieldOf(node) { return fields.find((fl) => fl.box.contains(node)) || null; }

    function setActive(field) {
      if (field?.isChoice) lastChoiceField = field;
      paintActive();
    }

    function activeChoiceField() {
      const focused = fieldOf(document.activeElement);
      if (focused) return focused.isChoice ? focused : null;
      return lastChoiceField || fields.find((fl) => fl.def.type === 'category') || fields.find((fl) => fl.isChoice) || null;
    }

    function paintActive() {
      const active = activeChoiceField();
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

    function widgetFor(field) {
      return field.widgets.find((w) => w.wrap.contains(document.activeElement)) || field.widgets[0];
    }

    const keyCount = Math.min(KEYS.length, Math.max(0, ...fields.filter((fl) => fl.isChoice).map((fl) => fl.make ? fl.widgets[0]?.keys || 0 : 0)));
    for (let i = 0; i < keyCount; i += 1) {
      ctx.hotkey(KEYS[i], `Option ${i + 1} of the highlighted choice field (ranking: rank it next)`, () => {
        const field = activeChoiceField();
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

    // ---------------------------------------------------------------- initial answer
    function loadAnswer(answer) {
      const annotations = answer?.annotations || {};
      for (const field of fields) {
        if (!field.make) continue;
        const responses = annotations[field.def.field_id]?.response;
        if (!Array.isArray(responses) || !responses.length) continue;
        for (const w of [...field.widgets]) removeWidget(field, w);
        for (const values of responses.slice(0, field.high)) {
          const w = addWidget(field);
          w.setState(w.fromAnswer(Array.isArray(values) ? values : []));
        }
        while (field.widgets.length < Math.max(1, field.low)) addWidget(field);
      }
    }
    loadAnswer(ctx.initial);

    // ---------------------------------------------------------------- interface
    return {
      getResponse() {
        const annotations = {};
        for (const field of fields) field.say('');
        for (const field of fields) {
          const f = field.def;
          if (!field.make) continue;
          const values = [];
          for (const w of field.widgets) {
            const got = w.read();
            if (got?.error) { fail(field, `${quote(f)} ${got.error}.`); }
            if (got) values.push(got.values);
          }
          const required = f.required && !f.conditions;
          if (!values.length) {
            if (required) fail(field, `${quote(f)} is required.`);
            continue;
          }
          if (values.length < field.low) fail(field, `${quote(f)} needs ${field.low} answers (has ${values.length}).`);
          annotations[f.field_id] = { type: f.type, field_id: f.field_id, response: values };
        }
        return { annotations };
      },
      getState() {
        const state = {};
        for (const field of fields) state[field.def.field_id] = field.widgets.map((w) => w.getState());
        return state;
      },
      setState(state) {
        for (const field of fields) {
          if (!field.make) continue;
          const saved = state?.[field.def.field_id] || [];
          for (const w of [...field.widgets]) removeWidget(field, w);
          for (const s of saved) addWidget(field, s);
          while (field.widgets.length < Math.max(1, field.low)) addWidget(field);
          field.say('');
        }
        paintActive();
      },
    };

    function fail(field, message) {
      field.say(message);
      focusField(fields.indexOf(field));
      throw new Error(message);
    }
  },
};

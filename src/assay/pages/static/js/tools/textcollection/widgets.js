// One response's input for each field type but the ranking (ranking.js). A widget is
// {el, focusEl?, keys?, key?(i, viaKey), read(), getState(), setState(s)}
// over a value from values.js. env: {keys (choice keys), say(message) on the field,
// changed() (one undo step), next() (focus the next field)}.
import { h } from '../../api.js';
import { BooleanValue, CategoryValue, numberRange, readDatetime, readNumber, readText, textCounter } from './values.js';

const TEXTAREA_OVER = 120; // max_characters above which a text field gets a textarea

function choiceButton(key, label, extra = {}) {
  return h('button', { type: 'button', class: `choice ${extra.cls || ''}`, tabindex: '-1', dataset: extra.dataset || {} },
    key ? h('kbd', {}, key) : null, ' ', label);
}

function paintChoices(buttons, isOn) {
  buttons.forEach((b, i) => {
    const on = isOn(i);
    b.classList.toggle('selected', on);
    b.setAttribute('aria-checked', String(on));
  });
}

// Category and boolean: buttons with keys; a single choice made by key moves on.
function choiceWidget(value, buttons, root, env, isOn) {
  const paint = () => paintChoices(buttons, isOn);
  function pick(i, viaKey) {
    const got = value.pick(i);
    if (got.error) { env.say(got.error); return; }
    env.say('');
    paint();
    env.changed();
    if (viaKey && value.complete) env.next();
  }
  buttons.forEach((b, i) => b.addEventListener('click', () => pick(i, false)));
  paint();
  return {
    el: root,
    keys: buttons.length,
    key: (i, viaKey) => { if (i < buttons.length) pick(i, viaKey); },
    read: () => value.read(),
    getState: () => value.getState(),
    setState(s) { value.setState(s); paint(); },
  };
}

function category(f, env) {
  const value = new CategoryValue(f);
  const { options, low, high, multiple } = value;
  const buttons = options.map((o, i) => {
    const b = choiceButton(env.keys[i], o.label, { cls: o.depth ? 'tc-sub' : '', dataset: { value: o.value } });
    b.setAttribute('role', multiple ? 'checkbox' : 'radio');
    if (o.depth) b.style.marginLeft = `${o.depth * 1.25}rem`;
    return b;
  });
  const hint = multiple ? (low === high ? `Choose ${low}.` : `Choose ${low ? `${low} to ` : 'up to '}${high}.`) : 'Choose one.';
  const root = h('div', { class: 'tc-choices', role: multiple ? 'group' : 'radiogroup', 'aria-label': f.title },
    h('div', { class: 'choices' }, buttons), h('p', { class: 'hint tc-hint' }, hint));
  return choiceWidget(value, buttons, root, env, (i) => value.has(options[i].value));
}

function boolean(f, env) {
  const value = new BooleanValue();
  const buttons = value.options.map(([v, label], i) => {
    const b = choiceButton(env.keys[i], label, { dataset: { value: String(v) } });
    b.setAttribute('role', 'radio');
    return b;
  });
  const root = h('div', { class: 'tc-choices', role: 'radiogroup', 'aria-label': f.title }, h('div', { class: 'choices' }, buttons));
  return choiceWidget(value, buttons, root, env, (i) => value.value === value.options[i][0]);
}

function text(f, env) {
  const long = !f.max_characters || f.max_characters > TEXTAREA_OVER;
  const input = long
    ? h('textarea', { rows: '3', 'aria-label': f.title, class: 'tc-input' })
    : h('input', { type: 'text', 'aria-label': f.title, class: 'tc-input' });
  const counter = h('span', { class: 'tc-counter hint' });
  function paint() {
    const { text: line, bad } = textCounter(f, input.value);
    counter.textContent = line;
    counter.classList.toggle('error', bad);
    input.setAttribute('aria-invalid', String(bad));
  }
  input.addEventListener('input', () => { env.say(''); paint(); });
  input.addEventListener('change', () => env.changed());
  paint();
  return {
    el: h('div', { class: 'tc-text' }, input, counter),
    focusEl: input,
    read: () => readText(f, input.value),
    getState: () => input.value,
    setState(s) { input.value = s || ''; paint(); },
  };
}

function number(f, env) {
  const input = h('input', { type: 'number', step: 'any', 'aria-label': f.title, class: 'tc-input tc-number', min: f.min ?? null, max: f.max ?? null });
  const range = numberRange(f);
  input.addEventListener('input', () => env.say(''));
  input.addEventListener('change', () => env.changed());
  return {
    el: h('div', { class: 'tc-number-row' }, input, range ? h('span', { class: 'hint' }, ` ${range}`) : null),
    focusEl: input,
    read: () => readNumber(f, input.value, input.validity.badInput),
    getState: () => input.value,
    setState(s) { input.value = s ?? ''; },
  };
}

function datetime(f, env) {
  const date = h('input', { type: 'date', 'aria-label': `${f.title} (date)`, class: 'tc-input tc-date' });
  const time = h('input', { type: 'time', step: '1', 'aria-label': `${f.title} (time, optional)`, class: 'tc-input tc-time' });
  let raw = null; // a loaded value kept as given until edited (time zones, fractions)
  for (const input of [date, time]) {
    input.addEventListener('input', () => { raw = null; env.say(''); });
    input.addEventListener('change', () => { raw = null; env.changed(); });
  }
  return {
    el: h('div', { class: 'tc-datetime' }, date, time, h('span', { class: 'hint' }, ' time is optional')),
    focusEl: date,
    read: () => readDatetime({ date: date.value, time: time.value, raw }, date.validity.badInput || time.validity.badInput),
    getState: () => ({ date: date.value, time: time.value, raw }),
    setState(s) { date.value = s?.date || ''; time.value = s?.time || ''; raw = s?.raw || null; },
  };
}

export const WIDGETS = { category, boolean, text, number, datetime };

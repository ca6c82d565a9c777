// One response of a text-collection field, without the DOM (tested in Node): each field
// type's value and validation (choices within min/max, text length in code points,
// number ranges, dates) and the ranking's moves.
//
// The choice fields keep their value here (CategoryValue, BooleanValue, RankingValue);
// text, number and date boxes keep theirs in the input, read through readText,
// readNumber and readDatetime. read() → {values} | {error} | null (left empty).

export const CHOICE_TYPES = new Set(['category', 'boolean', 'ranking']);
export const cpLength = (s) => Array.from(s).length;
export const quote = (f) => `“${f.title}”`;
// a field with conditions may be hidden by them, so it is never required here
export const isRequired = (f) => !!f.required && !f.conditions;

export function asChoice(c) {
  return typeof c === 'string' ? { label: c, value: c } : c;
}

// Every selectable choice of a category field, subchoices after their parent.
export function flatChoices(choices, depth = 0, out = []) {
  for (const raw of choices || []) {
    const c = asChoice(raw);
    if (!c || typeof c.value !== 'string') continue;
    out.push({ value: c.value, label: c.label || c.value, depth });
    flatChoices(c.subchoices, depth + 1, out);
  }
  return out;
}

// [least, most] choices of a category field
export function categoryBounds(f) {
  const low = f.min_choices ?? 1;
  return [low, f.max_choices ?? Math.max(1, low)];
}

// [least, most] responses (answers) of any field
export function responseBounds(f) {
  const low = f.min_responses_required ?? 1;
  return [low, f.max_responses_required ?? Math.max(1, low)];
}

// ---------------------------------------------------------------------------- values
export class CategoryValue {
  constructor(f) {
    this.f = f;
    this.options = flatChoices(f.choices);
    [this.low, this.high] = categoryBounds(f);
    this.multiple = this.high > 1;
    this.selected = [];
  }

  has(value) { return this.selected.includes(value); }

  // {changed, error}: several choices toggle (in the choices' order, at most `high`);
  // one choice replaces the other (picking it again clears it).
  pick(i) {
    const value = this.options[i].value;
    if (this.multiple) {
      if (this.has(value)) this.selected = this.selected.filter((v) => v !== value);
      else if (this.selected.length >= this.high) return { changed: false, error: `${quote(this.f)}: at most ${this.high} choices; unselect one first.` };
      else this.selected = this.options.map((o) => o.value).filter((v) => v === value || this.has(v));
    } else {
      this.selected = this.has(value) ? [] : [value];
    }
    return { changed: true };
  }

  // a single choice was made: the form moves on to the next field
  get complete() { return !this.multiple && this.selected.length > 0; }

  read() {
    const n = this.selected.length;
    if (!n) return null;
    if (n < this.low) return { error: `choose at least ${this.low} (${n} chosen)` };
    if (n > this.high) return { error: `choose at most ${this.high} (${n} chosen)` };
    return { values: [...this.selected] };
  }

  getState() { return [...this.selected]; }
  setState(s) { this.selected = [...(s || [])]; }
  static fromAnswer(values) { return values; }
}

export class BooleanValue {
  constructor() {
    this.options = [[true, 'Yes'], [false, 'No']];
    this.value = null;
  }

  pick(i) {
    this.value = this.value === this.options[i][0] ? null : this.options[i][0];
    return { changed: true };
  }

  get complete() { return this.value !== null; }
  read() { return this.value === null ? null : { values: [this.value] }; }
  getState() { return this.value; }
  setState(s) { this.value = typeof s === 'boolean' ? s : null; }
  static fromAnswer(values) { return values[0]; }
}

// Choices put in rank order: all of them, or the first `ranks` (a number, or the names
// of the places).
export class RankingValue {
  constructor(f) {
    this.f = f;
    this.options = (f.choices || []).map(asChoice).filter((c) => c && typeof c.value === 'string');
    this.names = Array.isArray(f.ranks) ? f.ranks : null;
    this.places = this.names ? this.names.length : Number.isInteger(f.ranks) ? f.ranks : this.options.length;
    this.ranked = [];
  }

  known(value) { return this.options.some((o) => o.value === value); }
  placeName(i) { return this.names ? this.names[i] : `${i + 1}.`; }
  labelOf(value) { return this.options.find((o) => o.value === value)?.label ?? value; }
  unranked() { return this.options.filter((o) => !this.ranked.includes(o.value)); }

  // {changed, error}: the next place, unless every place is taken
  add(value) {
    if (this.ranked.includes(value)) return { changed: false };
    if (this.ranked.length >= this.places) {
      return { changed: false, error: `${quote(this.f)}: all ${this.places} places are taken; take one back first (Del or ×).` };
    }
    this.ranked.push(value);
    return { changed: true };
  }

  unrank(value) {
    this.ranked = this.ranked.filter((v) => v !== value);
    return { changed: true };
  }

  // The i-th choice's key: rank it next, or take it back when ranked.
  key(i) {
    if (i >= this.options.length) return { changed: false };
    const { value } = this.options[i];
    return this.ranked.includes(value) ? this.unrank(value) : this.add(value);
  }

  // one place up (-1) or down (+1)
  move(value, step) {
    const i = this.ranked.indexOf(value);
    const j = i + step;
    if (i < 0 || j < 0 || j >= this.ranked.length) return { changed: false };
    [this.ranked[i], this.ranked[j]] = [this.ranked[j], this.ranked[i]];
    return { changed: true };
  }

  // dropped at place `index` (from the pool or from another place); the last falls off
  // when all places were taken
  dropAt(value, index) {
    if (!this.known(value)) return { changed: false };
    const without = this.ranked.filter((v) => v !== value);
    without.splice(Math.min(index, without.length), 0, value);
    this.ranked = without.slice(0, this.places);
    return { changed: true };
  }

  read() {
    if (!this.ranked.length) return null;
    if (this.ranked.length < this.places) return { error: `rank ${this.places} choices (${this.ranked.length} ranked so far)` };
    return { values: [...this.ranked] };
  }

  getState() { return [...this.ranked]; }
  setState(s) { this.ranked = (s || []).filter((v) => this.known(v)); }
  static fromAnswer(values) { return values; }
}

// ---------------------------------------------------------------------------- boxes

export function readText(f, value) {
  if (!value.trim()) return null;
  const n = cpLength(value);
  if (f.min_characters != null && n < f.min_characters) return { error: `needs at least ${f.min_characters} characters (has ${n})` };
  if (f.max_characters != null && n > f.max_characters) return { error: `allows at most ${f.max_characters} characters (has ${n})` };
  return { values: [value] };
}

// The counter under a text box: {text, bad}
export function textCounter(f, value) {
  const n = cpLength(value);
  const min = f.min_characters;
  const max = f.max_characters;
  const limits = [min != null ? `min ${min}` : null, max != null ? `max ${max}` : null].filter(Boolean).join(', ');
  return { text: `${n} character${n === 1 ? '' : 's'}${limits ? ` (${limits})` : ''}`, bad: n > 0 && ((min != null && n < min) || (max != null && n > max)) };
}

export const textFromAnswer = (values) => (typeof values[0] === 'string' ? values[0] : '');

// raw: the number box's text; badInput: the browser could not read it as a number
export function readNumber(f, raw, badInput = false) {
  if (badInput) return { error: 'is not a number' };
  if (raw.trim() === '') return null;
  const n = Number(raw);
  if (!Number.isFinite(n)) return { error: 'is not a number' };
  if (f.min != null && n < f.min) return { error: `must be at least ${f.min}` };
  if (f.max != null && n > f.max) return { error: `must be at most ${f.max}` };
  return { values: [n] };
}

export function numberRange(f) {
  if (f.min != null && f.max != null) return `from ${f.min} to ${f.max}`;
  if (f.min != null) return `at least ${f.min}`;
  return f.max != null ? `at most ${f.max}` : '';
}

export const numberFromAnswer = (values) => (typeof values[0] === 'number' ? String(values[0]) : '');

// {date, time, raw}: raw is a loaded value kept exactly as given (time zones, fractions)
// until the person edits the date or time.
export function readDatetime({ date, time, raw }, badInput = false) {
  if (raw) return { values: [raw] };
  if (badInput) return { error: 'is not a valid date/time' };
  if (!date) return time ? { error: 'needs a date as well as the time' } : null;
  return { values: [time ? `${date}T${time}` : date] };
}

export function datetimeFromAnswer(values) {
  const v = typeof values[0] === 'string' ? values[0] : '';
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?))?/.exec(v);
  return { date: m ? m[1] : '', time: m && m[2] ? m[2] : '', raw: v || null };
}

// A stored response (its list of values) → the state its widget starts from, by field type.
export const STATE_FROM_ANSWER = {
  category: CategoryValue.fromAnswer,
  boolean: BooleanValue.fromAnswer,
  ranking: RankingValue.fromAnswer,
  text: textFromAnswer,
  number: numberFromAnswer,
  datetime: datetimeFromAnswer,
};

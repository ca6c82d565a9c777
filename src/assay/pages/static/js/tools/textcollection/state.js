// The text-collection form without the DOM (tested in Node): where each field goes, which
// field the choice keys act on, a starting answer per field, and the answer with its
// required fields and response counts. One response's value is in values.js.
import { STATE_FROM_ANSWER, isRequired, quote } from './values.js';

// Attachments with the fields their `forms` name (each field once, first attachment
// wins); the other fields come after them. grouped: whether any attachment has fields.
export function layout(params) {
  const defs = (params.fields || []).filter((f) => f && typeof f.field_id === 'string');
  const byId = new Map(defs.map((f) => [f.field_id, f]));
  const placed = new Set();
  const sections = (params.attachments || []).map((att) => {
    const ids = (att.forms || []).filter((id) => byId.has(id) && !placed.has(id));
    ids.forEach((id) => placed.add(id));
    return { att, ids };
  });
  return { byId, sections, grouped: sections.some((s) => s.ids.length), rest: defs.filter((f) => !placed.has(f.field_id)).map((f) => f.field_id) };
}

// The field the choice keys act on: the focused field if it takes choices (none if it is
// a box), else the last choice field used, else the first category field, else the first
// choice field. fields: [{def, isChoice}]
export function activeChoiceField(fields, focused, lastUsed) {
  if (focused) return focused.isChoice ? focused : null;
  return lastUsed || fields.find((fl) => fl.def.type === 'category') || fields.find((fl) => fl.isChoice) || null;
}

// The widget states a starting answer gives field `f` (one per response, at most
// `high`); null when it gives none.
export function startingStates(answer, f, high) {
  const responses = answer?.annotations?.[f.field_id]?.response;
  const fromAnswer = STATE_FROM_ANSWER[f.type];
  if (!fromAnswer || !Array.isArray(responses) || !responses.length) return null;
  return responses.slice(0, high).map((values) => fromAnswer(Array.isArray(values) ? values : []));
}

// Why the form cannot be sent: the message and the index of the field it is about.
export class FieldError extends Error {
  constructor(message, index) {
    super(message);
    this.index = index;
  }
}

// The answer from each field's reads, in display order. fields: [{def, low, reads:
// [read() results]}, or null for a field of a type this tool does not know]. Throws a FieldError for the first field with a bad response, a
// required field left empty, or fewer responses than it needs.
export function formAnswer(fields) {
  const annotations = {};
  fields.forEach((field, index) => {
    if (!field) return;
    const { def: f, low, reads } = field;
    const values = [];
    for (const got of reads) {
      if (got?.error) throw new FieldError(`${quote(f)} ${got.error}.`, index);
      if (got) values.push(got.values);
    }
    if (!values.length) {
      if (isRequired(f)) throw new FieldError(`${quote(f)} is required.`, index);
      return;
    }
    if (values.length < low) throw new FieldError(`${quote(f)} needs ${low} answers (has ${values.length}).`, index);
    annotations[f.field_id] = { type: f.type, field_id: f.field_id, response: values };
  });
  return { annotations };
}

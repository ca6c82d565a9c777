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
//
// Modules in textcollection/: values.js (each field type's value and validation) and
// state.js (layout, the answer, required fields) are pure and tested in Node; widgets.js
// and ranking.js are the inputs for one response; form.js lays out the fields and keys.
import { Form } from './textcollection/form.js';
import { FieldError, formAnswer, startingStates } from './textcollection/state.js';

export default {
  mount(el, task, ctx) {
    const form = new Form(el, task.params, ctx);
    const { fields } = form;

    // the starting answer: each field it answers gets one widget per response
    for (const field of fields) {
      if (!field.make) continue;
      const states = startingStates(ctx.initial, field.def, field.high);
      if (states) field.reset(states);
    }

    return {
      getResponse() {
        for (const field of fields) field.say('');
        try {
          return formAnswer(fields.map((field) => (field.make ? { def: field.def, low: field.low, reads: field.widgets.map((w) => w.read()) } : null)));
        } catch (err) {
          if (err instanceof FieldError) {
            fields[err.index].say(err.message);
            form.focusField(err.index);
          }
          throw err;
        }
      },
      getState() {
        const state = {};
        for (const field of fields) state[field.def.field_id] = field.widgets.map((w) => w.getState());
        return state;
      },
      setState(state) {
        for (const field of fields) {
          if (!field.make) continue;
          field.reset(state?.[field.def.field_id] || []);
          field.say('');
        }
        form.paintActive();
      },
    };
  },
};

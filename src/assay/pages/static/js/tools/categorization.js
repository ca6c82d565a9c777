// categorization: pick one category (or several with allow_multiple). Digits choose;
// the attachment is shown as text, image, audio, video or a link.
import { h } from '../api.js';
import { attachmentView } from './common.js';

export default {
  mount(el, task, ctx) {
    const p = task.params;
    const multiple = !!p.allow_multiple;
    let selected = new Set();
    const initial = ctx.initial?.category;
    if (initial !== undefined && initial !== null) selected = new Set(Array.isArray(initial) ? initial : [initial]);

    const buttons = p.categories.map((category, i) => {
      const key = ctx.freeKeys[i];
      const b = h('button', { type: 'button', class: 'choice', role: multiple ? 'checkbox' : 'radio', dataset: { value: category } },
        key ? h('kbd', {}, key) : null, ' ', category);
      b.addEventListener('click', () => toggle(category));
      if (key) ctx.hotkey(key, `${multiple ? 'Toggle' : 'Choose'} “${category}”`, () => toggle(category));
      return b;
    });

    function paint() {
      for (const b of buttons) {
        const on = selected.has(b.dataset.value);
        b.classList.toggle('selected', on);
        b.setAttribute('aria-checked', String(on));
      }
    }

    function toggle(category) {
      if (multiple) {
        if (selected.has(category)) selected.delete(category); else selected.add(category);
      } else {
        selected = new Set([category]);
      }
      paint();
      ctx.changed();
    }

    el.append(
      attachmentView(p.attachment, p.attachment_type || 'image'),
      h('div', { class: 'choices', role: multiple ? 'group' : 'radiogroup', 'aria-label': 'Categories' }, buttons),
      h('p', { class: 'hint' }, multiple ? 'Choose every category that applies.' : 'Choose one category.'),
    );
    paint();

    return {
      getResponse() {
        if (!selected.size) throw new Error('Choose a category first.');
        const chosen = p.categories.filter((c) => selected.has(c));
        return { category: multiple ? chosen : chosen[0] };
      },
      getState() { return [...selected]; },
      setState(state) { selected = new Set(state); paint(); },
    };
  },
};

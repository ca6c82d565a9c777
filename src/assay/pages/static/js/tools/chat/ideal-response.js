// Ideal response: an editor (prefilled from the starting answer, or from a response
// copied with its key, recorded as based_on) with a live character count.
import { h } from '../../api.js';
import { responseCard, textBox } from './common.js';
import { IdealResponse } from './ideal-response-state.js';

export function idealResponse(el, params, ctx) {
  const responses = params.responses || [];
  const ideal = new IdealResponse(params, ctx.initial);
  const keys = ctx.freeKeys;

  const cards = responses.map((r, i) => responseCard(r, {
    tail: h('button', { type: 'button', class: 'link chat-copy', onclick: () => copyFrom(r.id) }, h('kbd', {}, keys[i]), ' Start from this response'),
  }));
  responses.forEach((r, i) => ctx.hotkey(keys[i], `Copy response ${r.id} into the editor as a starting point`, () => copyFrom(r.id)));
  const editKey = keys[responses.length];
  ctx.hotkey(editKey, 'Go to the editor', () => editor.focus());

  const editor = textBox({ class: 'chat-editor', rows: 10, 'aria-label': 'Ideal response', placeholder: 'Write the response the assistant should have given (Markdown).', spellcheck: 'true' },
    (value) => { ideal.setText(value); paintMeta(); }, ctx);
  const count = h('span', { class: 'chat-count', role: 'status' });
  const basedOn = h('span', { class: 'chat-based-on' });

  el.append(
    responses.length ? h('div', { class: 'chat-responses stacked' }, cards) : null,
    h('section', { class: 'chat-judgement' },
      h('h3', {}, 'Ideal response'),
      responses.length ? h('p', { class: 'hint' }, 'Write it yourself, or press a response’s key to start from it (replaces the editor’s text). ',
        h('kbd', {}, editKey), ' goes to the editor, ', h('kbd', {}, 'Ctrl+Enter'), ' submits from it, ', h('kbd', {}, 'Esc'), ' leaves it.')
        : h('p', { class: 'hint' }, h('kbd', {}, editKey), ' goes to the editor, ', h('kbd', {}, 'Ctrl+Enter'), ' submits from it.'),
      h('div', { class: 'chat-editor-meta' }, count, basedOn),
      editor),
  );

  function copyFrom(id) {
    if (!ideal.copyFrom(id)) return;
    paint();
    ctx.changed();
    editor.focus();
    editor.setSelectionRange(editor.value.length, editor.value.length);
  }
  function paintMeta() {
    const meta = ideal.meta();
    count.textContent = meta.count;
    count.classList.toggle('error', meta.short);
    basedOn.textContent = meta.basedOn;
    cards.forEach((card) => card.classList.toggle('selected', card.dataset.id === ideal.state.based_on));
  }
  function paint() {
    if (editor.value !== ideal.state.text) editor.value = ideal.state.text;
    paintMeta();
  }
  paint();

  return {
    getResponse: () => ideal.response(),
    getState: () => ideal.snapshot(),
    setState(state) { ideal.restore(state); paint(); },
  };
}

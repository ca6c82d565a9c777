// DOM pieces the chat modes share. Markdown arrives rendered by the server (content_html,
// raw HTML escaped there); everything else goes in as text.
import { h, trustedServerHtml } from '../../api.js';

export function markdown(item, cls = '') {
  const body = h('div', { class: `markdown ${cls}` });
  if (item.content_html !== undefined) trustedServerHtml(body, item.content_html); else body.textContent = item.content ?? '';
  return body;
}

// One response as a card: its label (model names stay hidden: judging is blind) and content.
export function responseCard(r, extra = {}) {
  return h('article', { class: 'chat-response', dataset: { id: r.id }, 'aria-label': `Response ${r.id}` },
    h('header', { class: 'chat-response-head' }, extra.head || null, h('span', { class: 'chat-response-label' }, `Response ${r.id}`), extra.tail || null),
    markdown(r, 'chat-response-body'));
}

export function choiceButton(key, label, value, onclick) {
  return h('button', { type: 'button', class: 'choice', role: 'radio', dataset: { value }, onclick }, key ? h('kbd', {}, key) : null, ' ', label);
}

export function mark(button, on) {
  button.classList.toggle('selected', on);
  button.setAttribute('aria-checked', String(on));
}

// Text boxes: one undo step per edit session (on change = when the box loses focus).
export function textBox(attrs, onEdit, ctx) {
  const box = h('textarea', attrs);
  box.addEventListener('input', () => onEdit(box.value, false));
  box.addEventListener('change', () => { onEdit(box.value, true); ctx.changed(); });
  return box;
}

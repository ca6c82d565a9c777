// Pieces several tools share: showing an attachment by type, and chat transcripts.
import { h, trustedServerHtml } from '../api.js';

// Text is shown as text (never markup); media by URL in the matching element.
export function attachmentView(content, type) {
  switch (type) {
    case 'text':
      return h('div', { class: 'attachment text' }, content);
    case 'image':
      return h('div', { class: 'attachment image' }, h('img', { src: content, alt: 'attachment' }));
    case 'audio':
      return h('div', { class: 'attachment audio' }, h('audio', { src: content, controls: true, preload: 'metadata' }));
    case 'video':
      return h('div', { class: 'attachment video' }, h('video', { src: content, controls: true, preload: 'metadata' }));
    case 'pdf':
    case 'website':
      return h('div', { class: 'attachment link' }, h('a', { href: content, target: '_blank', rel: 'noopener noreferrer' }, content));
    default:
      return h('div', { class: 'attachment text' }, String(content ?? ''));
  }
}

// Chat messages: role label plus the server-rendered, escaped Markdown (content_html).
export function transcriptView(messages) {
  return h('div', { class: 'transcript' }, (messages || []).map((m) => {
    const body = h('div', { class: 'message-body markdown' });
    if (m.content_html !== undefined) trustedServerHtml(body, m.content_html); else body.textContent = m.content ?? '';
    return h('div', { class: `message role-${m.role}` }, h('div', { class: 'message-role' }, m.role), body);
  }));
}

// Undo steps for tools with text boxes: a burst of typing is one step (ctx.changed() when
// the burst ends: a pause, a blur, or the next non-typing edit); `edit(fn)` is one step.
export function editSteps(ctx, render, pauseMs = 700) {
  let timer = null;
  const flush = () => {
    if (timer === null) return;
    clearTimeout(timer);
    timer = null;
    ctx.changed();
  };
  return {
    typed() { clearTimeout(timer); timer = setTimeout(flush, pauseMs); },
    flushTyping: flush,
    edit(fn) { flush(); fn(); render(); ctx.changed(); },
    cancel() { clearTimeout(timer); timer = null; }, // setState (undo) replaces the typing
  };
}

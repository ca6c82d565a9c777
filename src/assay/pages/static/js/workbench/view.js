// The shell's own parts of the page: status line, notices, errors, the action buttons,
// the reviewer's list of answers, the empty state, and the two dialogs (keys, prompt).
import { h, trustedServerHtml } from '../api.js';
import { answerSummary } from './answers.js';

const $ = (id) => document.getElementById(id);
export const root = $('workbench');
export const taskEl = $('wb-task');
const actionsEl = $('wb-actions');
const errorEl = $('wb-error');
const noticeEl = $('wb-notice');
const answersEl = $('wb-answers');

export function status(text) { $('wb-status').textContent = text; }
export function count(text) { $('wb-count').textContent = text; }
export function showError(message) { errorEl.textContent = message; errorEl.hidden = !message; }
export function notice(text, kind = 'info') {
  noticeEl.textContent = text || '';
  noticeEl.className = `wb-notice ${kind}`;
  noticeEl.hidden = !text;
}
export function toggleGuide() { root.classList.toggle('guide-hidden'); }
export function showGuide(html) { trustedServerHtml($('wb-guide-text'), html); }
export function hideAnswers() { answersEl.hidden = true; }

export function showHelp(bindings) {
  $('wb-help-keys').replaceChildren(...bindings.map((k) => h('tr', {}, h('td', {}, h('kbd', {}, k.display)), h('td', {}, k.label))));
  $('wb-help').showModal();
}

export function onHeaderButtons({ help, guide }) {
  $('wb-help-button').addEventListener('click', help);
  $('wb-guide-button').addEventListener('click', guide);
}

// A required (by default) line of text from the prompt dialog; null when cancelled.
// `presets`: ready answers shown as buttons that fill the box.
export function promptText(title, { required = true, presets = [] } = {}) {
  const dialog = $('wb-prompt');
  const text = $('wb-prompt-text');
  const form = $('wb-prompt-form');
  const cancel = $('wb-prompt-cancel');
  $('wb-prompt-title').textContent = title;
  text.value = '';
  $('wb-prompt-presets').replaceChildren(...presets.map((preset) => h('button', {
    type: 'button', class: 'preset', onclick: () => { text.value = preset; text.focus(); },
  }, preset)));
  return new Promise((resolve) => {
    const finish = (value) => { dialog.close(); cleanup(); resolve(value); };
    const onKey = (event) => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) { event.preventDefault(); ok(); }
    };
    const ok = () => {
      const value = text.value.trim();
      if (required && !value) { text.setAttribute('aria-invalid', 'true'); text.focus(); return; }
      finish(value);
    };
    const onSubmit = (event) => { event.preventDefault(); ok(); };
    const onCancel = () => finish(null);
    const cleanup = () => {
      text.removeEventListener('keydown', onKey);
      form.removeEventListener('submit', onSubmit);
      cancel.removeEventListener('click', onCancel);
      dialog.removeEventListener('cancel', onCancel);
    };
    text.addEventListener('keydown', onKey);
    form.addEventListener('submit', onSubmit);
    cancel.addEventListener('click', onCancel);
    dialog.addEventListener('cancel', onCancel);
    dialog.showModal();
    text.focus();
  });
}

function button(label, key, fn, cls = '') {
  return h('button', { type: 'button', class: cls, onclick: fn, dataset: { action: label.toLowerCase() } }, label, ' ', h('kbd', {}, key));
}

// act: {primary, skip, back, undo, review(action)}
export function renderActions(data, mode, act) {
  const items = [];
  if (mode === 'review') {
    items.push(button('Accept', 'A', () => act.review('accept'), 'primary'));
    items.push(button('Fix', 'F', () => act.review('fix')));
    items.push(button('Reject', 'R', () => act.review('reject'), 'danger'));
  } else {
    const leased = data.assignment.status === 'leased';
    items.push(button(leased ? 'Submit' : 'Resubmit', 'Enter', () => act.primary(), 'primary'));
    if (leased) items.push(button('Skip', 'S', () => act.skip()));
    items.push(button('Back', 'B', () => act.back()));
  }
  items.push(button('Undo', 'Ctrl+Z', () => act.undo()));
  actionsEl.replaceChildren(...items);
}

// Review: every labeler's answer, each loadable into the tool.
export function renderAnswers(data, load) {
  const rows = (data.answers || []).map((answer, i) => h('li', {},
    h('strong', {}, answer.labeler || 'unknown'), ` · ${answer.active_seconds != null ? answer.active_seconds.toFixed(1) + ' s' : ''}`,
    answer.hypothesis_status ? ` · pre-label ${answer.hypothesis_status}` : '', ' ',
    h('q', { class: 'answer-summary' }, answerSummary(answer.response)), ' ',
    h('button', { type: 'button', class: 'link', onclick: () => load(i) }, 'Load into the editor')));
  answersEl.replaceChildren(h('h3', {}, `Answers (${rows.length})`), h('ul', {}, rows));
  answersEl.hidden = false;
}

export function renderEmpty(mode, reason, checkAgain) {
  taskEl.replaceChildren(h('div', { class: 'empty-state' },
    h('h2', {}, mode === 'review' ? 'Nothing to review right now' : 'Nothing left for you here'),
    h('p', {}, reason || ''),
    h('p', {}, h('button', { type: 'button', onclick: checkAgain }, 'Check again'), ' ', h('a', { href: '/' }, 'Back to projects'))));
  actionsEl.replaceChildren();
  status('');
}

export function renderNoTool(type) {
  taskEl.replaceChildren(h('p', { class: 'error' }, `This server has no labeling tool for ${type} tasks yet.`));
  actionsEl.replaceChildren();
}

// The task's own instruction (server-rendered Markdown) above the tool's container.
export function renderTaskFrame(task, hidden, reveal) {
  const container = h('div', { class: `tool tool-${task.type}` });
  const own = task.instruction_html ? trustedServerHtml(h('div', { class: 'task-instruction markdown' }), task.instruction_html) : null;
  // flagged content: blurred (CSS) under a warning until the person reveals it
  const warning = hidden ? h('div', { class: 'content-warning', id: 'wb-content-warning', role: 'note' },
    h('strong', {}, 'Content warning: '), task.content_warning, ' ',
    h('button', { type: 'button', class: 'primary', onclick: reveal }, 'Reveal ', h('kbd', {}, 'Alt+V'))) : null;
  taskEl.classList.toggle('blurred', !!hidden);
  taskEl.replaceChildren(...[warning, own, container].filter(Boolean));
  return container;
}

export function unblur() {
  taskEl.classList.remove('blurred');
  $('wb-content-warning')?.remove();
}

// What the notice says about the task just shown (rework, editing, practice, pre-label).
export function taskNotice(data, mode, revising) {
  const a = data.assignment;
  if (a.status === 'rework') notice(`Sent back by a reviewer: ${a.review_comment || ''}`, 'warn');
  else if (revising || a.status === 'submitted') notice('You are editing your previous submission. Enter resubmits it.', 'info');
  else if (data.task.flagged_content) notice('Content warning: this red-team task asks you to provoke and read harmful content. Take a break whenever you need one.', 'warn');
  else if (data.task.practice) notice('Practice task: after you submit you will see whether your answer matches the expected one.', 'info');
  else if (mode === 'label' && data.task.hypothesis) notice('A model pre-label is filled in: press Enter to accept it, or edit it first.', 'info');
}

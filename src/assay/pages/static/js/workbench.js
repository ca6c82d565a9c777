// The labeling and review page. It pulls work from the queue, keeps the next task
// leased and loaded (prefetch), renders the task's tool, owns the keys every tool
// shares, undo, skip, going back, heartbeats and active time.
//
// A tool is a module static/js/tools/<task type>.js whose default export has
// mount(element, task, ctx) returning {getResponse(), getState(), setState(state)}.
// ctx: initial (answer to start from: previous answer, review proposal or model
// pre-label), hotkey(key, label, fn, {inText}), changed() after every edit, freeKeys
// (keys the shell leaves to tools), mode ('label' | 'review').
import { ActiveTimer } from './activetime.js';
import { api, h, trustedServerHtml } from './api.js';

const root = document.getElementById('workbench');
const project = root.dataset.project;
const mode = root.dataset.mode;
const heartbeatMs = Number(root.dataset.heartbeat) * 1000;
const $ = (id) => document.getElementById(id);
const taskEl = $('wb-task');
const actionsEl = $('wb-actions');
const errorEl = $('wb-error');
const noticeEl = $('wb-notice');
const answersEl = $('wb-answers');

// Keys the shell owns; tools get the rest (digits first).
const SHELL_KEYS = mode === 'review' ? ['a', 'f', 'r', 'i', '?'] : ['s', 'b', 'i', '?'];
const FREE_KEYS = '1234567890qwetyuopdghjklzxcvnm'.split('').filter((k) => !SHELL_KEYS.includes(k));

let current = null; // {data, tool, undo: [], last, revising}
let prefetched = null; // {promise, data}
const backStack = [];
let busy = false;
let done = 0;
const timer = new ActiveTimer(Number(root.dataset.idle) * 1000);

// ----------------------------------------------------------------------------- keys

const shellKeys = [];
let toolKeys = [];

function comboOf(event) {
  let key = event.key;
  if (key.length === 1) key = key.toLowerCase();
  const mods = [];
  if (event.ctrlKey || event.metaKey) mods.push('Ctrl');
  if (event.altKey) mods.push('Alt');
  if (event.shiftKey && event.key.length > 1) mods.push('Shift');
  return [...mods, key].join('+');
}

function bind(list, key, label, fn, opts = {}) {
  list.push({ key: key.length === 1 ? key.toLowerCase() : key, label, fn, inText: !!opts.inText, display: opts.display || key });
}

document.addEventListener('keydown', (event) => {
  if (document.querySelector('dialog[open]')) return; // dialogs handle their own keys
  const combo = comboOf(event);
  const inText = !!event.target.closest('input, textarea, select, [contenteditable="true"]');
  if (inText && combo === 'Escape') { event.target.blur(); return; }
  for (const binding of [...shellKeys, ...toolKeys]) {
    if (binding.key !== combo) continue;
    if (inText && !binding.inText) continue;
    if (inText && combo === 'Enter' && event.target.tagName === 'TEXTAREA') continue;
    event.preventDefault();
    binding.fn(event);
    return;
  }
});

bind(shellKeys, 'Enter', mode === 'review' ? 'Accept (or submit the fix)' : 'Submit', () => primary(), { inText: true });
bind(shellKeys, 'Ctrl+Enter', 'Submit from a text box', () => primary(), { inText: true });
bind(shellKeys, 'Ctrl+z', 'Undo the last change', () => undo());
bind(shellKeys, '?', 'Show these keys', () => showHelp());
bind(shellKeys, 'i', 'Show or hide the instructions', () => toggleGuide());
if (mode === 'review') {
  bind(shellKeys, 'a', 'Accept the answer', () => reviewAction('accept'));
  bind(shellKeys, 'f', 'Submit my edits as the fix', () => reviewAction('fix'));
  bind(shellKeys, 'r', 'Reject with a comment (back to the labeler)', () => reviewAction('reject'));
} else {
  bind(shellKeys, 's', 'Skip this task (with a reason)', () => skip());
  bind(shellKeys, 'b', 'Go back to my previous submission', () => back());
}

// ----------------------------------------------------------------------------- ui bits

function status(text) { $('wb-status').textContent = text; }
function showError(message) { errorEl.textContent = message; errorEl.hidden = !message; }
function notice(text, kind = 'info') {
  noticeEl.textContent = text || '';
  noticeEl.className = `wb-notice ${kind}`;
  noticeEl.hidden = !text;
}
function toggleGuide() { root.classList.toggle('guide-hidden'); }

function showHelp() {
  const table = $('wb-help-keys');
  table.replaceChildren(...[...shellKeys, ...toolKeys].map((k) => h('tr', {}, h('td', {}, h('kbd', {}, k.display)), h('td', {}, k.label))));
  $('wb-help').showModal();
}
$('wb-help-button').addEventListener('click', showHelp);
$('wb-guide-button').addEventListener('click', toggleGuide);

function promptText(title, { required = true } = {}) {
  const dialog = $('wb-prompt');
  const text = $('wb-prompt-text');
  $('wb-prompt-title').textContent = title;
  text.value = '';
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
      $('wb-prompt-form').removeEventListener('submit', onSubmit);
      $('wb-prompt-cancel').removeEventListener('click', onCancel);
      dialog.removeEventListener('cancel', onCancel);
    };
    text.addEventListener('keydown', onKey);
    $('wb-prompt-form').addEventListener('submit', onSubmit);
    $('wb-prompt-cancel').addEventListener('click', onCancel);
    dialog.addEventListener('cancel', onCancel);
    dialog.showModal();
    text.focus();
  });
}

function button(label, key, fn, cls = '') {
  return h('button', { type: 'button', class: cls, onclick: fn, dataset: { action: label.toLowerCase() } }, label, ' ', h('kbd', {}, key));
}

function renderActions(data) {
  const items = [];
  if (mode === 'review') {
    items.push(button('Accept', 'A', () => reviewAction('accept'), 'primary'));
    items.push(button('Fix', 'F', () => reviewAction('fix')));
    items.push(button('Reject', 'R', () => reviewAction('reject'), 'danger'));
  } else {
    items.push(button(data.assignment.status === 'leased' ? 'Submit' : 'Resubmit', 'Enter', () => primary(), 'primary'));
    if (data.assignment.status === 'leased') items.push(button('Skip', 'S', () => skip()));
    items.push(button('Back', 'B', () => back()));
  }
  items.push(button('Undo', 'Ctrl+Z', () => undo()));
  actionsEl.replaceChildren(...items);
}

// ----------------------------------------------------------------------------- queue

function holding() {
  return [current?.data?.assignment?.id, prefetched?.data?.assignment?.id, ...backStack.map((d) => d.assignment.id)].filter(Boolean);
}

function claim() {
  const path = mode === 'review' ? `/api/projects/${project}/review/next` : `/api/projects/${project}/next`;
  return api('POST', path, { holding: holding() });
}

function prefetch() {
  if (prefetched || !current?.data?.assignment) return;
  const slot = { data: null };
  slot.promise = claim().then((data) => { slot.data = data.assignment ? data : null; return data; }).catch(() => null);
  prefetched = slot;
}

async function nextData() {
  if (prefetched) {
    const slot = prefetched;
    const data = await slot.promise;
    prefetched = null;
    if (data && data.assignment) return data;
  }
  return claim();
}

const toolCache = new Map();
async function loadTool(type) {
  if (!toolCache.has(type)) toolCache.set(type, import(`./tools/${type}.js`).then((m) => m.default));
  return toolCache.get(type);
}

async function show(data, { revising = false } = {}) {
  showError('');
  notice('');
  toolKeys = [];
  answersEl.hidden = true;
  if (!data || !data.assignment) {
    current = null;
    root.dataset.state = 'empty';
    root.dataset.assignment = '';
    taskEl.replaceChildren(h('div', { class: 'empty-state' },
      h('h2', {}, mode === 'review' ? 'Nothing to review right now' : 'Nothing left for you here'),
      h('p', {}, data?.reason || ''),
      h('p', {}, h('button', { type: 'button', onclick: () => start() }, 'Check again'), ' ', h('a', { href: '/' }, 'Back to projects'))));
    actionsEl.replaceChildren();
    status('');
    return;
  }
  let tool;
  try {
    tool = await loadTool(data.task.type);
  } catch {
    taskEl.replaceChildren(h('p', { class: 'error' }, `This server has no labeling tool for ${data.task.type} tasks yet.`));
    actionsEl.replaceChildren();
    current = null;
    root.dataset.state = 'error';
    return;
  }
  trustedServerHtml($('wb-guide-text'), data.project.guidelines_html);
  const a = data.assignment;
  if (a.status === 'rework') notice(`Sent back by a reviewer: ${a.review_comment || ''}`, 'warn');
  else if (revising || a.status === 'submitted') notice('You are editing your previous submission. Enter resubmits it.', 'info');
  else if (data.task.practice) notice('Practice task: after you submit you will see whether your answer matches the expected one.', 'info');
  else if (mode === 'label' && data.task.hypothesis) notice('A model pre-label is filled in: press Enter to accept it, or edit it first.', 'info');
  if (mode === 'review') renderAnswers(data);
  const initial = data.previous_response ?? data.task.hypothesis ?? null;
  const container = h('div', { class: `tool tool-${data.task.type}` });
  const own = data.task.instruction_html ? trustedServerHtml(h('div', { class: 'task-instruction markdown' }), data.task.instruction_html) : null;
  taskEl.replaceChildren(...[own, container].filter(Boolean));
  const state = { data, tool: null, undo: [], last: null, revising };
  current = state;
  const ctx = {
    initial: initial ? structuredClone(initial) : null,
    mode,
    freeKeys: FREE_KEYS,
    hotkey: (key, label, fn, opts) => bind(toolKeys, key, label, fn, opts),
    changed: () => {
      if (current !== state) return;
      showError(''); // the labeler is fixing what the message was about
      state.undo.push(state.last);
      if (state.undo.length > 200) state.undo.shift();
      state.last = snapshot(state.tool);
    },
  };
  state.tool = tool.mount(container, data.task, ctx);
  state.last = snapshot(state.tool);
  renderActions(data);
  timer.reset();
  root.dataset.state = 'ready';
  root.dataset.assignment = a.id;
  root.dataset.taskId = data.task.task_id;
  status(`${done} done this session`);
  prefetch();
}

function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  return JSON.stringify(value);
}

function snapshot(tool) { return JSON.stringify(tool.getState()); }

function undo() {
  if (!current || !current.undo.length) { status('Nothing to undo'); return; }
  const previous = current.undo.pop();
  current.last = previous;
  current.tool.setState(JSON.parse(previous));
  status('Undone');
}

function renderAnswers(data) {
  const rows = (data.answers || []).map((answer, i) => h('li', {},
    h('strong', {}, answer.labeler || 'unknown'), ` · ${answer.active_seconds != null ? answer.active_seconds.toFixed(1) + ' s' : ''}`,
    answer.hypothesis_status ? ` · pre-label ${answer.hypothesis_status}` : '', ' ',
    h('button', { type: 'button', class: 'link', onclick: () => loadAnswer(i) }, 'Load into the editor')));
  answersEl.replaceChildren(h('h3', {}, `Answers (${rows.length})`), h('ul', {}, rows));
  answersEl.hidden = false;
}

function loadAnswer(i) {
  const answer = current?.data?.answers?.[i];
  if (!answer) return;
  // the tool starts from that answer, as from any initial answer
  const data = { ...current.data, previous_response: answer.response };
  show(data);
}

async function guarded(fn) {
  if (busy || !current) return;
  busy = true;
  root.dataset.busy = '1';
  try { await fn(); } catch (err) {
    if (err.status === 404 || err.status === 409) {
      showError(`${err.message}`);
    } else {
      showError(err.message || String(err));
    }
  } finally {
    busy = false;
    delete root.dataset.busy;
  }
}

async function advance() {
  if (backStack.length) { await show(backStack.pop()); return; }
  await show(await nextData());
}

function primary() {
  if (mode === 'review') {
    // Enter accepts the proposal as is, or submits the reviewer's edits as a fix
    let edited = false;
    try { edited = canonical(current.tool.getResponse()) !== canonical(current.data.previous_response); } catch { edited = true; }
    return reviewAction(edited ? 'fix' : 'accept');
  }
  return guarded(async () => {
    let response;
    try { response = current.tool.getResponse(); } catch (err) { showError(err.message); return; }
    const result = await api('POST', `/api/assignments/${current.data.assignment.id}/submit`, { response, active_seconds: timer.seconds() });
    done += 1;
    await advance();
    if (result.practice) {
      notice(result.practice.correct ? 'Practice task: your answer matched the expected one.'
        : `Practice task: the expected answer was ${JSON.stringify(result.practice.expected_response)}.`, result.practice.correct ? 'info' : 'warn');
    }
  });
}

function skip() {
  if (mode !== 'label' || current?.data?.assignment?.status !== 'leased') return;
  return guarded(async () => {
    const reason = await promptText('Why are you skipping this task?');
    if (reason === null) return;
    await api('POST', `/api/assignments/${current.data.assignment.id}/skip`, { reason });
    await advance();
  });
}

function back() {
  if (mode !== 'label') return;
  return guarded(async () => {
    let data;
    try { data = await api('GET', `/api/projects/${project}/previous`); } catch (err) {
      if (err.status === 404) { notice(err.message, 'warn'); return; }
      throw err;
    }
    if (data.assignment.id === current.data.assignment.id) return;
    backStack.push(current.data);
    await show(data, { revising: true });
  });
}

function reviewAction(action) {
  if (mode !== 'review') return;
  return guarded(async () => {
    const body = { action, active_seconds: timer.seconds() };
    if (action === 'fix') {
      try { body.response = current.tool.getResponse(); } catch (err) { showError(err.message); return; }
    }
    if (action === 'reject') {
      const comment = await promptText('What should the labeler change?');
      if (comment === null) return;
      body.comment = comment;
    }
    await api('POST', `/api/assignments/${current.data.assignment.id}/review`, body);
    done += 1;
    await advance();
  });
}

// Leases last ASSAY_LEASE_SECONDS; the page renews the ones it holds.
setInterval(() => {
  for (const id of holding()) api('POST', `/api/assignments/${id}/heartbeat`).catch(() => {});
}, heartbeatMs);

async function start() {
  root.dataset.state = 'loading';
  try { await show(await claim()); } catch (err) { showError(err.message); root.dataset.state = 'error'; }
}

// For tests and curious people: what is on screen and what is prefetched.
window.assayWorkbench = {
  current: () => current?.data || null,
  prefetched: () => prefetched?.data || null,
  activeSeconds: () => timer.seconds(),
};

start();

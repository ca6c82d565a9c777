// The labeling and review page. It pulls work from the queue, keeps the next task
// leased and loaded (prefetch), renders the task's tool, owns the keys every tool
// shares, undo, skip, going back, heartbeats and active time.
//
// A tool is a module static/js/tools/<task type>.js whose default export has
// mount(element, task, ctx) returning {getResponse(), getState(), setState(state)};
// getResponse may return a promise (the segmentation tool uploads its mask first).
// ctx: initial (answer to start from: previous answer, review proposal or model
// pre-label; fromPrelabel says it is the pre-label), assignmentId (for the assists),
// answers (review: each labeler's {labeler, response}), previousResponse (the answer this
// page last submitted for a task of the same type), hotkey(key, label, fn, {inText,
// display}), changed() after every edit, freeKeys (keys the shell leaves to tools), mode
// ('label' | 'review').
//
// Pieces: workbench/keys.js (which binding a key runs), workbench/history.js (undo),
// workbench/queue.js (claims, prefetch, going back) are pure and tested in Node;
// workbench/view.js draws the shell's parts of the page.
import { ActiveTimer } from './activetime.js';
import { api } from './api.js';
import { EditHistory, isEdited } from './workbench/history.js';
import { binding, comboOf, findBinding, freeKeys } from './workbench/keys.js';
import { SKIP_REASONS, progressText } from './workbench/progress.js';
import { WorkQueue } from './workbench/queue.js';
import * as view from './workbench/view.js';
import { BreakClock, blurred } from './workbench/wellbeing.js';

const { root } = view;
const project = root.dataset.project;
const mode = root.dataset.mode;
const heartbeatMs = Number(root.dataset.heartbeat) * 1000;
const FREE_KEYS = freeKeys(mode);

let current = null; // the task on screen: {data, tool, history, revising}
let busy = false;
let done = 0;
let revealed = null; // the task whose flagged content the person chose to see
const breaks = new BreakClock(Number(root.dataset.breakMinutes || 0) * 60 * 1000);
let lastSubmitted = null; // {type, response}: tools may copy the previous task's answer (sequences)
const timer = new ActiveTimer(Number(root.dataset.idle) * 1000);
const queue = new WorkQueue({
  claim: async (holding) => {
    const data = await api('POST', mode === 'review' ? `/api/projects/${project}/review/next` : `/api/projects/${project}/next`, { holding });
    if (data) data.doneAtFetch = done; // the count line adds what was submitted since
    return data;
  },
  current: () => current?.data || null,
});

// ----------------------------------------------------------------------------- keys

const shellKeys = [];
let toolKeys = [];
const allKeys = () => [...shellKeys, ...toolKeys];

document.addEventListener('keydown', (event) => {
  if (document.querySelector('dialog[open]')) return; // dialogs handle their own keys
  const combo = comboOf(event);
  const inText = !!event.target.closest('input, textarea, select, [contenteditable="true"]');
  if (inText && combo === 'Escape') { event.target.blur(); return; }
  const found = findBinding(allKeys(), combo, { inText, inTextarea: event.target.tagName === 'TEXTAREA' });
  if (!found) return;
  event.preventDefault();
  found.fn(event);
});

const shellKey = (key, label, fn, opts) => shellKeys.push(binding(key, label, fn, opts));
shellKey('Enter', mode === 'review' ? 'Accept (or submit the fix)' : 'Submit', () => primary(), { inText: true });
shellKey('Ctrl+Enter', 'Submit from a text box', () => primary(), { inText: true });
shellKey('Ctrl+z', 'Undo the last change', () => undo());
shellKey('Ctrl+y', 'Redo what was undone', () => redo());
shellKey('?', 'Show these keys', () => view.showHelp(allKeys()));
shellKey('i', 'Show or hide the instructions', () => view.toggleGuide());
// Alt+: V and W are the image tools' select and hide keys
shellKey('Alt+v', 'Reveal content behind a warning', () => reveal());
shellKey('Alt+w', 'Flag disturbing content (adds a warning)', () => flag());
if (mode === 'review') {
  shellKey('a', 'Accept the answer', () => reviewAction('accept'));
  shellKey('f', 'Submit my edits as the fix', () => reviewAction('fix'));
  shellKey('r', 'Reject with a comment (back to the labeler)', () => reviewAction('reject'));
} else {
  shellKey('s', 'Skip this task (with a reason)', () => skip());
  shellKey('b', 'Go back to my previous submission', () => back());
}
view.onHeaderButtons({ help: () => view.showHelp(allKeys()), guide: () => view.toggleGuide() });

// ----------------------------------------------------------------------------- showing a task

const toolCache = new Map();
async function loadTool(type) {
  if (!toolCache.has(type)) toolCache.set(type, import(`./tools/${type}.js`).then((m) => m.default));
  return toolCache.get(type);
}

async function show(data, { revising = false } = {}) {
  view.showError('');
  view.notice('');
  toolKeys = [];
  view.hideAnswers();
  view.count(progressText(data?.progress, mode, done - (data?.doneAtFetch ?? done)));
  if (!data || !data.assignment) {
    current = null;
    root.dataset.state = 'empty';
    root.dataset.assignment = '';
    view.renderEmpty(mode, data?.reason, () => start());
    return;
  }
  let tool;
  try {
    tool = await loadTool(data.task.type);
  } catch {
    view.renderNoTool(data.task.type);
    current = null;
    root.dataset.state = 'error';
    return;
  }
  view.showGuide(data.project.guidelines_html);
  view.taskNotice(data, mode, revising);
  if (mode === 'review') view.renderAnswers(data, loadAnswer);
  const initial = data.previous_response ?? data.task.hypothesis ?? null;
  const container = view.renderTaskFrame(data.task, blurred(data.task, revealed), () => reveal());
  const state = { data, tool: null, history: null, revising };
  current = state;
  const ctx = {
    initial: initial ? structuredClone(initial) : null,
    mode,
    assignmentId: data.assignment.id,
    answers: data.answers || [],
    fromPrelabel: data.previous_response == null && data.task.hypothesis != null,
    previousResponse: lastSubmitted?.type === data.task.type ? structuredClone(lastSubmitted.response) : null,
    freeKeys: FREE_KEYS,
    hotkey: (key, label, fn, opts) => toolKeys.push(binding(key, label, fn, opts)),
    changed: () => {
      if (current !== state || !state.history) return;
      view.showError(''); // the labeler is fixing what the message was about
      state.history.record(snapshot(state.tool));
    },
  };
  state.tool = tool.mount(container, data.task, ctx);
  state.history = new EditHistory(snapshot(state.tool));
  view.renderActions(data, mode, { primary, skip, back, undo, review: reviewAction });
  timer.reset();
  root.dataset.state = 'ready';
  root.dataset.assignment = data.assignment.id;
  root.dataset.taskId = data.task.task_id;
  view.status(`${done} done this session`);
  queue.prefetch();
}

function snapshot(tool) { return JSON.stringify(tool.getState()); }

function undo() {
  const previous = current?.history?.undo();
  if (previous == null) { view.status('Nothing to undo'); return; }
  current.tool.setState(JSON.parse(previous));
  view.status('Undone');
}

function redo() {
  const next = current?.history?.redo();
  if (next == null) { view.status('Nothing to redo'); return; }
  current.tool.setState(JSON.parse(next));
  view.status('Redone');
}

function loadAnswer(i) {
  const answer = current?.data?.answers?.[i];
  if (!answer) return;
  // the tool starts from that answer, as from any initial answer
  show({ ...current.data, previous_response: answer.response });
}

// ----------------------------------------------------------------------------- actions

async function guarded(fn) {
  if (busy || !current) return;
  busy = true;
  root.dataset.busy = '1';
  try { await fn(); } catch (err) {
    view.showError(err.message || String(err));
  } finally {
    busy = false;
    delete root.dataset.busy;
  }
}

async function advance() { await show(await queue.advance()); }

function primary() {
  if (mode === 'review') {
    // Enter accepts the proposal as is, or submits the reviewer's edits as a fix
    return (async () => {
      let edited = false;
      try { edited = isEdited(await current.tool.getResponse(), current.data.previous_response); } catch { edited = true; }
      return reviewAction(edited ? 'fix' : 'accept');
    })();
  }
  return guarded(async () => {
    let response;
    try { response = await current.tool.getResponse(); } catch (err) { view.showError(err.message); return; }
    const result = await api('POST', `/api/assignments/${current.data.assignment.id}/submit`, { response, active_seconds: timer.seconds(), shown_seconds: timer.shownSeconds() });
    lastSubmitted = { type: current.data.task.type, response };
    done += 1;
    await advance();
    const minutes = breaks.worked(Date.now());
    if (minutes) view.notice(`You have worked ${minutes} minutes without a break. Consider a short pause.`, 'info');
    if (result.practice) {
      view.notice(result.practice.correct ? 'Practice task: your answer matched the expected one.'
        : `Practice task: the expected answer was ${JSON.stringify(result.practice.expected_response)}.`, result.practice.correct ? 'info' : 'warn');
    }
  });
}

function reveal() {
  if (!current) return;
  revealed = current.data.task.task_id;
  view.unblur();
}

function flag() {
  return guarded(async () => {
    const warning = await view.promptText('What does this content show? (the warning others will see)');
    if (warning === null) return;
    const result = await api('POST', `/api/assignments/${current.data.assignment.id}/flag`, { warning });
    current.data.task.content_warning = result.content_warning;
    view.notice(`Flagged: ${result.content_warning}. Thank you.`, 'info');
  });
}

function skip() {
  if (mode !== 'label' || current?.data?.assignment?.status !== 'leased') return;
  return guarded(async () => {
    const reason = await view.promptText('Why are you skipping this task?', { presets: SKIP_REASONS });
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
      if (err.status === 404) { view.notice(err.message, 'warn'); return; }
      throw err;
    }
    if (data.assignment.id === current.data.assignment.id) return;
    queue.leave(current.data);
    await show(data, { revising: true });
  });
}

function reviewAction(action) {
  if (mode !== 'review') return;
  return guarded(async () => {
    const body = { action, active_seconds: timer.seconds() };
    if (action === 'fix') {
      try { body.response = await current.tool.getResponse(); } catch (err) { view.showError(err.message); return; }
    }
    if (action === 'reject') {
      const comment = await view.promptText('What should the labeler change?');
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
  for (const id of queue.holding()) api('POST', `/api/assignments/${id}/heartbeat`).catch(() => {});
}, heartbeatMs);

async function start() {
  if (root.dataset.tool === 'no') { view.renderNoTool(root.dataset.type); root.dataset.state = 'error'; return; } // claim nothing
  root.dataset.state = 'loading';
  try { await show(await queue.claim()); } catch (err) { view.showError(err.message); root.dataset.state = 'error'; }
}

// For tests and curious people: what is on screen and what is prefetched.
window.assayWorkbench = {
  current: () => current?.data || null,
  prefetched: () => queue.prefetched?.data || null,
  activeSeconds: () => timer.seconds(),
  response: () => current?.tool?.getResponse(),
};

start();

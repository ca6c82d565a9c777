// The task page: the task in its own labeling tool, read-only, showing one answer at a
// time (the consolidated one, or any labeler's: buttons, keys 1-9, [ and ]). The tool is
// mounted as in the workbench (static/js/tools/<type>.js) with no keys of its own, inside
// an inert container, so nothing can be edited and nothing is sent.
import { api, h, trustedServerHtml } from './api.js';
import { choicesOf, chosenKey, stepKey } from './taskview/state.js';
import { blurred } from './workbench/wellbeing.js';

const root = document.getElementById('taskview');
const switcher = document.getElementById('tv-choices');
const frame = document.getElementById('tv-tool');
const noteEl = document.getElementById('tv-note');
let detail = null;
let choices = [];
let current = null;
let revealed = false;

async function show(key) {
  // 'loading' until this answer is mounted: the tool module loads asynchronously, and a
  // later key press may overtake this one (then only the latest one mounts).
  current = key;
  root.dataset.state = 'loading';
  if (location.hash.slice(1) !== key && key) history.replaceState(null, '', `#${key}`);
  for (const b of switcher.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset.key === key));
  const choice = choices.find((c) => c.key === key);
  noteEl.textContent = choice?.note || '';
  const task = detail.tool.task;
  const hidden = blurred(task, revealed ? task.task_id : null);
  const warning = hidden ? h('div', { class: 'content-warning', id: 'tv-content-warning', role: 'note' },
    h('strong', {}, 'Content warning: '), task.content_warning, ' ',
    h('button', { type: 'button', class: 'primary', onclick: reveal }, 'Reveal ', h('kbd', {}, 'Alt+V'))) : null;
  const own = task.instruction_html ? trustedServerHtml(h('div', { class: 'task-instruction markdown' }), task.instruction_html) : null;
  const container = h('div', { class: `tool tool-${task.type}`, inert: true, 'aria-readonly': 'true' });
  frame.classList.toggle('blurred', hidden);
  frame.replaceChildren(...[warning, own, container].filter(Boolean));
  if (!detail.tool.has_tool) {
    container.append(h('p', { class: 'muted' }, `No labeling tool for ${task.type} tasks: the answers are listed below.`));
    root.dataset.state = 'ready';
    root.dataset.showing = key || '';
    return;
  }
  const tool = (await import(`./tools/${task.type}.js`)).default;
  if (current !== key) return;
  const ctx = {
    initial: choice ? structuredClone(choice.response) : null, mode: 'view', assignmentId: null, answers: [],
    fromPrelabel: false, previousResponse: null, freeKeys: [], hotkey: () => {}, changed: () => {},
  };
  try { tool.mount(container, structuredClone(task), ctx); } catch (err) {
    container.append(h('p', { class: 'error' }, `The tool could not show this answer: ${err.message}`));
  }
  root.dataset.state = 'ready';
  root.dataset.showing = key || '';
}

function reveal() {
  revealed = true;
  show(current);
}

function renderSwitcher() {
  switcher.replaceChildren(...choices.map((c, i) => h('button', {
    type: 'button', class: 'choice', dataset: { key: c.key }, onclick: () => show(c.key),
  }, i < 9 ? h('kbd', {}, String(i + 1)) : null, ' ', c.label)));
  if (!choices.length) switcher.append(h('p', { class: 'muted' }, 'No answers yet: the tool shows the task as labelers see it.'));
}

document.addEventListener('keydown', (event) => {
  if (!detail || event.ctrlKey || event.metaKey || event.target.closest('input, textarea, select')) return;
  if (event.altKey && event.key.toLowerCase() === 'v') { event.preventDefault(); reveal(); return; }
  if (event.altKey) return;
  const n = Number(event.key);
  if (n >= 1 && n <= Math.min(9, choices.length)) show(choices[n - 1].key);
  else if (event.key === ']' || event.key === '[') show(stepKey(choices, current, event.key === ']' ? 1 : -1));
});

document.addEventListener('click', (event) => {
  const link = event.target.closest('[data-show-answer]');
  if (!link || !detail) return;
  event.preventDefault();
  show(link.dataset.showAnswer);
  root.scrollIntoView({ behavior: 'smooth' });
});

async function start() {
  root.dataset.state = 'loading';
  try {
    detail = await api('GET', `/api/tasks/${encodeURIComponent(root.dataset.task)}`);
  } catch (err) {
    frame.replaceChildren(h('p', { class: 'error' }, err.message));
    root.dataset.state = 'error';
    return;
  }
  choices = choicesOf(detail);
  renderSwitcher();
  await show(chosenKey(choices, location.hash));
}

start();

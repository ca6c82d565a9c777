// The task browser: pick tasks with checkboxes (or all on the page) and apply a bulk
// action through POST /api/tasks/bulk-action; the page then reloads to show the result.
import { api } from './api.js';
import { bulkBody, summary } from './taskbrowser/bulk.js';

const form = document.getElementById('bulk');
const picks = () => [...document.querySelectorAll('#tasks input.pick')];
const chosen = () => picks().filter((p) => p.checked).map((p) => p.value);
const count = document.getElementById('bulk-count');
const error = document.getElementById('bulk-error');
const result = document.getElementById('bulk-result');

function refresh() {
  count.textContent = String(chosen().length);
  const action = form.elements.action.value;
  for (const label of form.querySelectorAll('label[data-for]')) label.hidden = label.dataset.for !== action;
}

document.getElementById('select-all').addEventListener('change', (event) => {
  for (const p of picks()) p.checked = event.target.checked;
  refresh();
});
document.getElementById('tasks').addEventListener('change', refresh);
form.elements.action.addEventListener('change', refresh);

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  error.hidden = true;
  let body;
  try {
    body = bulkBody(form.elements.action.value, {
      priority: form.elements.priority.value, assign: form.elements.assign.value, tag: form.elements.tag.value, comment: form.elements.comment.value,
    }, chosen());
  } catch (err) { error.textContent = err.message; error.hidden = false; return; }
  try {
    const done = await api('POST', '/api/tasks/bulk-action', body);
    sessionStorage.setItem('assay-bulk', summary(done));
    location.reload();
  } catch (err) { error.textContent = err.message; error.hidden = false; }
});

const last = sessionStorage.getItem('assay-bulk');
if (last) {
  sessionStorage.removeItem('assay-bulk');
  result.textContent = last;
  result.hidden = false;
}
refresh();

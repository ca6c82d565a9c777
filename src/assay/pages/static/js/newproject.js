// The new-project page: a template fills in the labels and instructions, the Markdown is
// previewed as the workbench will show it, and the project is created with
// POST /api/projects; then the project's page opens.
import { api, trustedServerHtml } from './api.js';
import { requestBody, startingValues } from './data/newproject-state.js';

const form = document.getElementById('new-project');
const templates = JSON.parse(form.dataset.templates);
const errorBox = form.querySelector('[data-error]');
const preview = document.getElementById('instruction-preview');
let previewTimer = null;

function chosen() {
  const id = form.querySelector('input[name=template]:checked')?.value;
  return templates.find((t) => t.id === id);
}

function applyTemplate() {
  const values = startingValues(chosen());
  form.elements.labels.value = values.labels;
  form.elements.instruction.value = values.instruction;
  document.getElementById('labels-title').textContent = values.labelsTitle;
  schedulePreview();
}

function schedulePreview() {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(async () => {
    try {
      const { html } = await api('POST', '/api/markdown', { text: form.elements.instruction.value });
      trustedServerHtml(preview, html);
    } catch (err) {
      preview.textContent = err.message;
    }
  }, 200);
}

function showError(message, field) {
  errorBox.textContent = message;
  errorBox.hidden = false;
  const bad = field && form.elements[field];
  if (bad && bad.focus) { bad.setAttribute('aria-invalid', 'true'); bad.focus(); }
}

for (const radio of form.querySelectorAll('input[name=template]')) radio.addEventListener('change', applyTemplate);
form.elements.instruction.addEventListener('input', schedulePreview);
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const values = Object.fromEntries(['name', 'labels', 'instruction', 'labels_per_task', 'review_fraction'].map((k) => [k, form.elements[k].value]));
  values.template = chosen()?.id;
  const { body, error, field } = requestBody(values);
  if (error) { showError(error, field); return; }
  try {
    const project = await api('POST', '/api/projects', body);
    location.href = `/admin/projects/${project.id}`;
  } catch (err) {
    showError(err.message, err.field);
  }
});
applyTemplate();

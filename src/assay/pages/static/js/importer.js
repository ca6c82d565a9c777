// The import page: the file and options go to …/imports/preview; the preview shows the
// first rows as tasks and every row's error with its line; Import is enabled only for a
// file without errors, and stores all rows or none.
import { ApiError, h } from './api.js';
import { errorRows, parseMapping, previewRows, summary } from './data/import-state.js';

const form = document.getElementById('import');
const project = form.dataset.project;
const errorBox = form.querySelector('[data-error]');
const importButton = document.getElementById('import-button');
const csrf = document.querySelector('meta[name="csrf-token"]')?.content || '';

function formData() {
  const data = new FormData();
  const file = form.elements.file.files[0];
  if (!file) throw new ApiError(400, { error: 'file: choose a file', field: 'file' });
  data.append('file', file);
  for (const key of ['format', 'mode', 'batch', 'base_url']) if (form.elements[key].value) data.append(key, form.elements[key].value);
  const mapping = parseMapping(form.elements.mapping.value);
  if (mapping.error) throw new ApiError(400, { error: mapping.error, field: 'mapping' });
  if (mapping.value) data.append('mapping', mapping.value);
  return data;
}

async function send(path) {
  const res = await fetch(path, { method: 'POST', body: formData(), headers: { 'X-CSRF-Token': csrf }, credentials: 'same-origin' });
  const body = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
  return { status: res.status, body };
}

function fill(tbody, rows, cells) {
  tbody.replaceChildren(...rows.map((row) => h('tr', { dataset: { line: String(row.line) } }, ...cells(row))));
}

function show(preview) {
  document.getElementById('preview').hidden = false;
  const said = summary(preview);
  document.getElementById('summary').textContent = said.text;
  document.getElementById('summary').className = said.ok ? '' : 'error';
  fill(document.querySelector('#errors tbody'), errorRows(preview), (e) => [h('td', { class: 'num' }, e.line), h('td', {}, e.field), h('td', {}, e.error)]);
  fill(document.querySelector('#rows tbody'), previewRows(preview), (r) => [h('td', { class: 'num' }, r.line), h('td', { class: 'clip-wide' }, r.params),
    h('td', { class: 'clip-wide' }, r.label), h('td', {}, r.media)]);
  importButton.disabled = !said.ok;
}

function fail(err) {
  errorBox.textContent = err.body?.error || err.message;
  errorBox.hidden = false;
}

document.getElementById('preview-button').addEventListener('click', async () => {
  errorBox.hidden = true;
  importButton.disabled = true;
  try {
    const { status, body } = await send(`/api/projects/${project}/imports/preview`);
    if (status !== 200) throw new ApiError(status, body);
    show(body);
  } catch (err) { fail(err); }
});

importButton.addEventListener('click', async () => {
  importButton.disabled = true;
  try {
    const { status, body } = await send(`/api/projects/${project}/imports`);
    if (status === 400 && body.errors) { show({ rows: body.errors.length, errors: body.errors, preview: [] }); throw new ApiError(status, body); }
    if (status !== 201) throw new ApiError(status, body);
    const result = document.getElementById('result');
    result.textContent = `Imported ${body.created} tasks (${body.format}, ${body.mode}).`;
    result.hidden = false;
    form.elements.file.value = '';
  } catch (err) { fail(err); }
});

for (const input of form.querySelectorAll('input, select')) input.addEventListener('change', () => { importButton.disabled = true; });

// the handlers are attached: tests (and people on slow machines) can use the form now
document.getElementById('import').dataset.ready = 'true';

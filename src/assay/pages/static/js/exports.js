// The project page's export section: the Download link follows the form (a streamed
// download), Run in background starts an export job and shows its progress in the
// history until its download link appears.
import { api, h } from './api.js';
import { downloadUrl, exportRequest, finished, progressText } from './data/export-state.js';

const form = document.getElementById('export-form');
const project = form.dataset.project;
const link = document.getElementById('export-download');
const history = document.querySelector('#export-history tbody');
const errorBox = form.querySelector('[data-error]');

function values() {
  const out = {};
  for (const input of form.querySelectorAll('input[name], select[name]')) out[input.name] = input.type === 'checkbox' ? input.checked : input.value;
  return out;
}

function updateLink() {
  link.href = downloadUrl(project, exportRequest(values()).query);
}

function row(job) {
  const cells = [h('td', {}, job.created_at), h('td', {}, job.format), h('td', {}, job.created_by), h('td', { class: 'progress' }, progressText(job)),
    h('td', { class: 'actions' }, job.download_url ? h('a', { href: job.download_url, class: 'download' }, 'Download') : '')];
  return h('tr', { dataset: { export: job.id, status: job.status } }, ...cells);
}

async function follow(job) {
  let current = job;
  for (;;) {
    const shown = history.querySelector(`tr[data-export="${current.id}"]`);
    const fresh = row(current);
    if (shown) shown.replaceWith(fresh); else history.prepend(fresh);
    if (finished(current)) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
    current = await api('GET', `/api/exports/${current.id}`);
  }
}

form.addEventListener('change', updateLink);
form.addEventListener('input', updateLink);
document.getElementById('export-start').addEventListener('click', async () => {
  errorBox.hidden = true;
  try {
    history.querySelector('tr.none')?.remove();
    await follow(await api('POST', `/api/projects/${project}/exports`, exportRequest(values()).body));
  } catch (err) {
    errorBox.textContent = err.message;
    errorBox.hidden = false;
  }
});
for (const shown of history.querySelectorAll('tr[data-status="queued"], tr[data-status="running"]')) {
  api('GET', `/api/exports/${shown.dataset.export}`).then(follow);
}
updateLink();

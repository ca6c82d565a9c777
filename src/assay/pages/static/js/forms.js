// Admin forms: <form data-api="/api/..." data-method="POST"> are sent as JSON with the
// CSRF header; the server's error (naming the field) is shown in the form; success
// reloads the page so it shows the stored state.
import { api } from './api.js';

function valueOf(input) {
  const type = input.dataset.type;
  if (type === 'bool') return input.value === 'true';
  if (type === 'null') return null;
  if (type === 'optional' || type === 'secret') return input.value === '' ? null : input.value;
  if (type === 'int') return input.value === '' ? null : Number.parseInt(input.value, 10);
  if (type === 'float') return input.value === '' ? null : Number.parseFloat(input.value);
  return input.value;
}

for (const form of document.querySelectorAll('form[data-api]')) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = {};
    for (const input of form.querySelectorAll('input[name], select[name], textarea[name]')) {
      if (input.type === 'checkbox') body[input.name] = input.checked;
      else if (input.dataset.type === 'secret' && input.value === '') continue; // a stored secret stays as it is
      else body[input.name] = valueOf(input);
    }
    const method = form.dataset.method || 'POST';
    const errorBox = form.querySelector('[data-error]');
    // "/api/people/{user_id}/skills/{name}": the named inputs fill the path, not the body
    const path = form.dataset.api.replace(/\{(\w+)\}/g, (_, key) => {
      const value = encodeURIComponent(String(body[key] ?? ''));
      delete body[key];
      return value;
    });
    try {
      const result = await api(method, path, method === 'DELETE' ? undefined : body);
      // after the reload the form says "Saved" (the page shows the stored state), and
      // what else changed: pending tasks moved to a new number of labels per task
      const pending = result?.pending_tasks_updated;
      const note = pending == null ? 'Saved' : `Saved · ${pending} pending task${pending === 1 ? '' : 's'} now ask for ${result.labels_per_task} label${result.labels_per_task === 1 ? '' : 's'}`;
      if (form.id) sessionStorage.setItem('assay-saved', JSON.stringify({ id: form.id, note }));
      location.reload();
    } catch (err) {
      if (errorBox) { errorBox.textContent = err.message; errorBox.hidden = false; } else { alert(err.message); }
      const bad = err.field && form.querySelector(`[name="${CSS.escape(err.field)}"]`);
      if (bad) { bad.setAttribute('aria-invalid', 'true'); bad.focus(); }
    }
  });
}

// "Saved": the form that was sent before this reload confirms it.
const saved = sessionStorage.getItem('assay-saved');
if (saved) {
  sessionStorage.removeItem('assay-saved');
  let what = { id: saved, note: 'Saved' };
  try { what = JSON.parse(saved); } catch { /* an id from before notes */ }
  const form = document.getElementById(what.id);
  if (form) {
    const note = document.createElement('p');
    note.className = 'saved';
    note.setAttribute('role', 'status');
    note.textContent = what.note;
    form.append(note);
  }
}

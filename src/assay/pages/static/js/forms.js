// Admin forms: <form data-api="/api/..." data-method="POST"> are sent as JSON with the
// CSRF header; the server's error (naming the field) is shown in the form; success
// reloads the page so it shows the stored state.
import { api } from './api.js';

function valueOf(input) {
  const type = input.dataset.type;
  if (type === 'bool') return input.value === 'true';
  if (type === 'null') return null;
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
      else body[input.name] = valueOf(input);
    }
    const method = form.dataset.method || 'POST';
    const errorBox = form.querySelector('[data-error]');
    try {
      await api(method, form.dataset.api, method === 'DELETE' ? undefined : body);
      location.reload();
    } catch (err) {
      if (errorBox) { errorBox.textContent = err.message; errorBox.hidden = false; } else { alert(err.message); }
      const bad = err.field && form.querySelector(`[name="${CSS.escape(err.field)}"]`);
      if (bad) { bad.setAttribute('aria-invalid', 'true'); bad.focus(); }
    }
  });
}

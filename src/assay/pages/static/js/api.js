// Calls to the native JSON API from pages: same-origin cookie session plus the CSRF
// token from <meta name="csrf-token">. Errors become ApiError with the server's message
// and the field it names.
const csrf = document.querySelector('meta[name="csrf-token"]')?.content || '';

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error || `HTTP ${status}`);
    this.status = status;
    this.field = body?.field;
    this.body = body;
  }
}

export async function api(method, path, body) {
  const init = { method, headers: { 'X-CSRF-Token': csrf }, credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { error: text }; }
  if (res.status === 401) {
    location.href = `/login?next=${encodeURIComponent(location.pathname)}`;
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

// Small DOM helper: h('div', {class: 'x', onclick: fn}, 'text', child). Strings become
// text nodes, never markup, so task content cannot inject HTML through it.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

// HTML produced by the server's Markdown renderer (raw HTML disabled there); the only
// way markup reaches the page. Fields named *_html carry it.
export function trustedServerHtml(el, html) {
  el.innerHTML = html || '';
  return el;
}

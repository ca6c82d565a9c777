// Project quality page: sort the annotator table by accuracy, volume or name, by clicking
// a column header or with its key (a, v, n); the same column again reverses the order.
// Rows are server-rendered and only moved; nothing is built from markup.
const table = document.getElementById('annotators');
const FIRST = { accuracy: -1, answers: -1, name: 1 }; // the direction a column sorts in first
const KEYS = { a: 'accuracy', v: 'answers', n: 'name' };
let current = { key: 'answers', dir: -1 }; // the server's order

function value(row, key) {
  return key === 'name' ? row.dataset.name : Number.parseFloat(row.dataset[key]);
}

function sortBy(key) {
  if (!table || !table.tBodies[0]) return;
  const dir = current.key === key ? -current.dir : FIRST[key];
  current = { key, dir };
  const body = table.tBodies[0];
  const rows = [...body.querySelectorAll('tr[data-user]')];
  rows.sort((a, b) => {
    const x = value(a, key);
    const y = value(b, key);
    const order = key === 'name' ? x.localeCompare(y) : x - y;
    return order * dir || a.dataset.name.localeCompare(b.dataset.name);
  });
  body.append(...rows);
  for (const th of table.tHead.querySelectorAll('th[data-sort]')) {
    th.setAttribute('aria-sort', th.dataset.sort === key ? (dir > 0 ? 'ascending' : 'descending') : 'none');
  }
  table.dataset.sorted = `${key}:${dir > 0 ? 'asc' : 'desc'}`;
}

if (table) {
  for (const th of table.tHead.querySelectorAll('th[data-sort]')) {
    th.querySelector('button').addEventListener('click', () => sortBy(th.dataset.sort));
  }
  document.addEventListener('keydown', (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest?.('input, textarea, select, [contenteditable]')) return;
    const key = KEYS[event.key.toLowerCase()];
    if (key) {
      event.preventDefault();
      sortBy(key);
    }
  });
}

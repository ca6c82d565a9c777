// Home: keys 1–9 open a project's labeling page, Enter the first project with work.
const rows = [...document.querySelectorAll('#projects tbody tr')];
document.addEventListener('keydown', (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || event.target.closest('input, textarea, select')) return;
  let row = null;
  if (/^[1-9]$/.test(event.key)) row = rows[Number(event.key) - 1];
  else if (event.key === 'Enter') row = rows.find((r) => Number(r.dataset.available) > 0);
  const link = row?.querySelector('a.start');
  if (link) {
    event.preventDefault();
    location.href = link.href;
  }
});

// A labeler's answer in one line for the reviewer's list, pure (no DOM), tested in Node:
// a category (or several), a text, a number, else the count of annotations, else compact
// JSON cut at `max` characters.
export function answerSummary(response, max = 140) {
  if (response === null || response === undefined) return '—';
  const cut = (text) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
  if (typeof response !== 'object') return cut(String(response));
  if ('category' in response) return cut(Array.isArray(response.category) ? response.category.join(', ') : String(response.category));
  if (Array.isArray(response.annotations)) {
    const labels = response.annotations.map((a) => a?.label).filter(Boolean);
    const counts = {};
    for (const label of labels) counts[label] = (counts[label] || 0) + 1;
    const parts = Object.entries(counts).map(([label, n]) => `${n} × ${label}`);
    return cut(`${response.annotations.length} annotation${response.annotations.length === 1 ? '' : 's'}${parts.length ? `: ${parts.join(', ')}` : ''}`);
  }
  return cut(JSON.stringify(response));
}

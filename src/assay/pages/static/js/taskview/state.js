// The task page's answer switcher, pure (no DOM), tested in Node: which answers the
// read-only tool can show (the consolidated one first, then each labeler's), their
// labels, and which one is chosen (from the URL's #fragment, kept across reloads).

function confidenceText(quality) {
  const c = quality?.confidence;
  return typeof c === 'number' ? ` · confidence ${c.toFixed(2)}` : '';
}

// detail: the JSON twin (GET /api/tasks/{id}). Returns [{key, label, response, note}].
export function choicesOf(detail) {
  const responses = detail?.tool?.responses || {};
  const out = [];
  const consolidated = detail?.consolidated;
  if (consolidated && responses.consolidated !== undefined) {
    out.push({
      key: 'consolidated', response: responses.consolidated,
      label: `${consolidated.final ? 'Consolidated' : 'Consolidated so far'}${confidenceText(consolidated.quality)}`,
      note: consolidated.final ? 'The final answer.' : 'A proposal: what the answers in so far consolidate to.',
    });
  }
  for (const a of detail?.answers || []) {
    const key = `answer-${a.id}`;
    if (responses[key] === undefined) continue;
    const who = a.labeler || (a.source === 'model' ? 'model' : 'unknown');
    const state = [a.source !== 'human' ? a.source : null, a.active ? null : 'replaced', a.review_status].filter(Boolean);
    out.push({
      key, response: responses[key], label: `${who}${state.length ? ` (${state.join(', ')})` : ''}`,
      note: a.review_comment ? `Review comment: ${a.review_comment}` : '',
    });
  }
  return out;
}

// The chosen key: the fragment's when it names a choice, else the first choice (or null).
export function chosenKey(choices, fragment) {
  const wanted = (fragment || '').replace(/^#/, '');
  if (choices.some((c) => c.key === wanted)) return wanted;
  return choices.length ? choices[0].key : null;
}

// The key `step` places away from `key` (wrapping), for the [ and ] keys.
export function stepKey(choices, key, step) {
  if (!choices.length) return null;
  const i = Math.max(0, choices.findIndex((c) => c.key === key));
  return choices[(i + step + choices.length) % choices.length].key;
}

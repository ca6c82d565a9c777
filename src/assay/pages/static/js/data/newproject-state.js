// New project from a template (pure): the form's starting values for a template, and the
// request body for POST /api/projects from what the lead typed.

export function labelsText(labels) {
  return (labels || []).join('\n');
}

export function parseLabels(text) {
  return String(text || '').split('\n').map((s) => s.trim()).filter((s) => s.length > 0);
}

// The first label typed twice, or null.
export function repeatedLabel(labels) {
  const seen = new Set();
  for (const label of labels) {
    if (seen.has(label)) return label;
    seen.add(label);
  }
  return null;
}

export function startingValues(template) {
  return { labels: labelsText(template.labels), instruction: template.instruction || '', labelsTitle: template.labels_title || 'Labels' };
}

// {body} to send, or {error, field} to show without sending.
export function requestBody(form) {
  const name = String(form.name || '').trim();
  if (!name) return { error: 'give the project a name', field: 'name' };
  if (!form.template) return { error: 'pick a template', field: 'template' };
  const labels = parseLabels(form.labels);
  if (labels.length === 0) return { error: 'give at least one label', field: 'labels' };
  const repeated = repeatedLabel(labels);
  if (repeated !== null) return { error: `'${repeated}' is given twice`, field: 'labels' };
  const labelsPerTask = Number.parseInt(form.labels_per_task, 10);
  const reviewFraction = Number.parseFloat(form.review_fraction);
  return {
    body: {
      name, template: form.template, labels, instruction: String(form.instruction || ''),
      labels_per_task: Number.isFinite(labelsPerTask) ? labelsPerTask : 1,
      review_fraction: Number.isFinite(reviewFraction) ? reviewFraction : 0,
    },
  };
}

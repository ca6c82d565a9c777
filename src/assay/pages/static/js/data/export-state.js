// The project page's exports (pure): the query of a download from the form, and how a
// job's progress reads.

const FILTERS = ['format', 'status', 'batch', 'since', 'until', 'min_confidence'];
const FLAGS = ['include_gold', 'include_test', 'answers', 'media'];

// Form values → {query: URLSearchParams-ready pairs, body: JSON for POST .../exports}.
export function exportRequest(form) {
  const body = {};
  for (const key of FILTERS) {
    const value = String(form[key] ?? '').trim();
    if (value !== '') body[key] = key === 'min_confidence' ? Number.parseFloat(value) : value;
  }
  for (const key of FLAGS) if (form[key]) body[key] = true;
  if (form.include_auto_accepted === false) body.include_auto_accepted = false;
  const query = Object.entries(body).map(([k, v]) => [k, String(v)]);
  return { body, query };
}

export function downloadUrl(projectId, query) {
  const params = query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  return `/api/projects/${projectId}/export${params ? `?${params}` : ''}`;
}

export function progressText(job) {
  if (job.status === 'failed') return `failed: ${job.error || 'unknown error'}`;
  if (job.status === 'queued') return 'queued';
  const total = job.total ?? null;
  if (job.status === 'running') return total ? `${job.done} of ${total} tasks (${Math.floor((100 * job.done) / Math.max(1, total))} %)` : `${job.done} tasks`;
  const size = job.size == null ? '' : `, ${formatBytes(job.size)}`;
  return `${job.done} tasks${size}${job.note ? ` — ${job.note}` : ''}`;
}

export function finished(job) {
  return job.status === 'done' || job.status === 'failed';
}

export function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

// The formats that fit a project's task type.
export function formatsFor(formats, taskType) {
  return formats.filter((f) => f.task_types.length === 0 || f.task_types.includes(taskType));
}

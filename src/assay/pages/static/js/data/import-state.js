// The import page (pure): what a preview says, and whether the file may be imported.

export function summary(preview) {
  const errors = preview.errors || [];
  const rows = preview.rows || 0;
  if (rows === 0) return { ok: false, text: 'The file holds no task.' };
  if (errors.length > 0) {
    const lines = [...new Set(errors.map((e) => e.line))];
    return { ok: false, text: `${lines.length} of ${rows} rows have errors (lines ${lines.slice(0, 10).join(', ')}${lines.length > 10 ? ', …' : ''}); fix them and preview again. Nothing is imported while any row is wrong.` };
  }
  return { ok: true, text: `${rows} rows, no errors${preview.media ? `, ${preview.media} media files` : ''}: ready to import.` };
}

// Rows of the preview table: the line and the task's fields as short text.
export function previewRows(preview, width = 120) {
  return (preview.preview || []).map((row) => ({
    line: row.line,
    params: clip(JSON.stringify(row.params), width),
    label: row.label ? clip(JSON.stringify(row.label), width) : '',
    media: row.media || '',
  }));
}

export function errorRows(preview) {
  return (preview.errors || []).map((e) => ({ line: e.line, field: e.field, error: e.error }));
}

export function clip(text, width) {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

// The mapping field: '' or a JSON object of strings; {value} or {error}.
export function parseMapping(text) {
  const trimmed = String(text || '').trim();
  if (!trimmed) return { value: '' };
  try {
    const value = JSON.parse(trimmed);
    if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string')) {
      return { error: 'mapping: a JSON object of column → param names' };
    }
    return { value: JSON.stringify(value) };
  } catch {
    return { error: 'mapping: not valid JSON' };
  }
}

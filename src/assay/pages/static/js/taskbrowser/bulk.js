// The task browser's bulk action as a request body: pure (no DOM), tested in Node.
// fields: {priority, assign, tag, comment} as the form holds them (strings).

export const ACTIONS = ['send_back', 'cancel', 'priority', 'assign', 'tag'];

export function bulkBody(action, fields, taskIds) {
  if (!ACTIONS.includes(action)) throw new Error(`unknown action ${action}`);
  if (!taskIds.length) throw new Error('Select at least one task.');
  const body = { action, task_ids: [...taskIds] };
  if (action === 'priority') {
    const value = Number.parseInt(fields.priority, 10);
    if (!Number.isInteger(value)) throw new Error('Priority must be a whole number.');
    body.value = value;
  } else if (action === 'assign') {
    body.value = fields.assign ? Number.parseInt(fields.assign, 10) : null;
  } else if (action === 'tag') {
    const tags = String(fields.tag || '').split(',').map((t) => t.trim()).filter(Boolean);
    if (!tags.length) throw new Error('Give at least one tag.');
    body.value = tags;
  } else if (action === 'send_back' && fields.comment) {
    body.comment = fields.comment;
  }
  return body;
}

export function summary(result) {
  const changed = result.changed.length;
  const skipped = result.skipped.length;
  let text = `${changed} task${changed === 1 ? '' : 's'} changed`;
  if (skipped) text += `; ${skipped} skipped (${result.skipped[0].reason}${skipped > 1 ? ', …' : ''})`;
  return text;
}

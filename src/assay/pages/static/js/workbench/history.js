// Undo and redo for the workbench: the tool's state is snapshotted (JSON) after every
// edit; undo hands back the snapshot before the last edit, redo the one undone (a new edit
// forgets what was undone). Pure, tested in Node.
export const UNDO_LIMIT = 200;

export class EditHistory {
  constructor(snapshot, limit = UNDO_LIMIT) {
    this.steps = []; // snapshots before each edit, oldest first
    this.undone = []; // snapshots undone, most recent last
    this.last = snapshot; // the snapshot of what is on screen
    this.limit = limit;
  }

  get canUndo() { return this.steps.length > 0; }

  record(snapshot) {
    this.undone = [];
    this.steps.push(this.last);
    if (this.steps.length > this.limit) this.steps.shift();
    this.last = snapshot;
  }

  // The snapshot to restore, or null when there is nothing to undo.
  undo() {
    if (!this.steps.length) return null;
    this.undone.push(this.last);
    this.last = this.steps.pop();
    return this.last;
  }

  // The snapshot to restore again, or null when nothing was undone since the last edit.
  redo() {
    if (!this.undone.length) return null;
    this.steps.push(this.last);
    this.last = this.undone.pop();
    return this.last;
  }
}

// JSON with sorted keys: two answers that differ only in key order are the same answer.
export function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  return JSON.stringify(value);
}

// Whether a reviewer changed the proposal (Enter then submits a fix, not an accept).
export function isEdited(response, proposal) {
  return canonical(response) !== canonical(proposal);
}

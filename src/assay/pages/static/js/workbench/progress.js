// The workbench's count line, pure (no DOM), tested in Node: "x done · y left" for a
// labeler, "n waiting for review" for a reviewer, from the server's numbers (so a reload
// keeps them) plus what was submitted since those numbers were read (a prefetched task's
// numbers are one submission old when it is shown).

export function progressText(progress, mode, submittedSince = 0) {
  if (!progress) return '';
  if (mode === 'review') {
    const waiting = Math.max(0, (progress.waiting ?? 0) - submittedSince);
    return `${waiting} waiting for review`;
  }
  const done = (progress.done ?? 0) + submittedSince;
  const left = Math.max(0, progress.left ?? 0);
  // the server counts the backlog up to a cap ("1000+"): a full count grew with the backlog
  return `${done} done · ${left}${progress.left_capped ? '+' : ''} more left`;
}

// Preset reasons the skip dialog offers (the person can still write their own).
export const SKIP_REASONS = ['Instructions unclear for this task', 'Content does not load', 'Outside my expertise', 'Not enough context to decide'];

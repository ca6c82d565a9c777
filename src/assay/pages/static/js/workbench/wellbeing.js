// Well-being in the workbench, pure (no DOM), tested in Node: whether a task's content is
// hidden until revealed, and when to suggest a break.

// Content with a warning stays blurred until the person reveals it (per task).
export function blurred(task, revealedTaskId) {
  return !!task?.content_warning && task.task_id !== revealedTaskId;
}

// Continuous work: submissions closer together than `gapMs` form one stretch; a break of
// at least `gapMs` starts a new one. A reminder is due once a stretch reaches `afterMs`
// (0: never), and again each `afterMs` after the last reminder.
export class BreakClock {
  constructor(afterMs, gapMs = 5 * 60 * 1000) {
    this.afterMs = afterMs;
    this.gapMs = gapMs;
    this.start = null;
    this.last = null;
    this.reminded = null;
  }

  // Record work at `now` (ms); returns the minutes worked when a reminder is due, else 0.
  worked(now) {
    if (this.last === null || now - this.last >= this.gapMs) {
      this.start = now;
      this.reminded = null;
    }
    this.last = now;
    if (!this.afterMs) return 0;
    const since = this.reminded ?? this.start;
    if (now - since >= this.afterMs) {
      this.reminded = now;
      return Math.round((now - this.start) / 60000);
    }
    return 0;
  }
}

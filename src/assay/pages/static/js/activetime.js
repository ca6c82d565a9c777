// Active time on task: wall time while the page is visible and the person did
// something (key, click, scroll, mouse move) within the idle window. Idle stretches
// and hidden tabs do not count.
export class ActiveTimer {
  constructor(idleMs) {
    this.idleMs = idleMs;
    this.reset();
    const touch = () => { this.lastActivity = performance.now(); };
    for (const type of ['keydown', 'mousedown', 'mousemove', 'wheel', 'scroll', 'touchstart', 'input']) {
      window.addEventListener(type, touch, { passive: true, capture: true });
    }
    document.addEventListener('visibilitychange', () => this.tick());
    setInterval(() => this.tick(), 250);
  }

  reset() {
    this.activeMs = 0;
    this.shownMs = 0; // visible, active or idle: the timesheet's on-screen time
    this.lastTick = performance.now();
    this.lastActivity = this.lastTick;
  }

  tick() {
    const now = performance.now();
    if (document.visibilityState === 'visible') {
      // count only the part of this interval that lies within the idle window
      const activeUntil = Math.min(now, this.lastActivity + this.idleMs);
      if (activeUntil > this.lastTick) this.activeMs += activeUntil - this.lastTick;
      this.shownMs += now - this.lastTick;
    }
    this.lastTick = now;
  }

  seconds() {
    this.tick();
    return Math.round(this.activeMs) / 1000;
  }

  shownSeconds() {
    this.tick();
    return Math.round(this.shownMs) / 1000;
  }
}

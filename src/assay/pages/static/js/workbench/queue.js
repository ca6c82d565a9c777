// The assignments the page holds and the next one to show. While a task is on screen the
// next one is already claimed (prefetched), so submitting shows it at once; going back
// stacks the tasks it leaves. No DOM and no fetch of its own: `claim(holding)` is given,
// so the rules are tested in Node.
export class WorkQueue {
  // claim(holding) → Promise of the queue's answer ({assignment, task, …} or {reason});
  // current() → the data of the task on screen, or null.
  constructor({ claim, current }) {
    this.claimWith = claim;
    this.current = current;
    this.prefetched = null; // {promise, data}: data once the claim answered with a task
    this.backStack = []; // tasks left by going back, shown again first
  }

  // Every assignment the page keeps leased (sent with each claim, renewed by heartbeats).
  holding() {
    return [this.current()?.assignment?.id, this.prefetched?.data?.assignment?.id, ...this.backStack.map((d) => d.assignment.id)]
      .filter(Boolean);
  }

  claim() { return this.claimWith(this.holding()); }

  prefetch() {
    if (this.prefetched || !this.current()?.assignment) return;
    const slot = { data: null };
    slot.promise = this.claim().then((data) => { slot.data = data.assignment ? data : null; return data; }).catch(() => null);
    this.prefetched = slot;
  }

  // The prefetched task if it came, else a fresh claim.
  async next() {
    if (this.prefetched) {
      const slot = this.prefetched;
      const data = await slot.promise;
      this.prefetched = null;
      if (data && data.assignment) return data;
    }
    return this.claim();
  }

  // After a submit: a task left by going back, else the next one.
  async advance() {
    if (this.backStack.length) return this.backStack.pop();
    return this.next();
  }

  leave(data) { this.backStack.push(data); }
}

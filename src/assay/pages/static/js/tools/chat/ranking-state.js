// Ranking of N responses, without the DOM (tested in Node). The order starts as shown
// (or from a starting answer that ranks every response); it counts as an answer only once
// touched: moved, typed, dragged, or confirmed as right.

// "BAC" for one-letter ids, "x y z" otherwise.
export function formatOrder(order) {
  return order.every((id) => id.length === 1) ? order.join('') : order.join(' ');
}

// "BAC", "b a c", "B > A > C", "2 1 3" (the responses' keys) → ids, or null unless every id once.
export function parseOrder(text, ids, keyOf) {
  let tokens = text.split(/[\s,;>]+/).filter(Boolean);
  if (tokens.length === 1 && ids.every((id) => id.length === 1) && tokens[0].length > 1) tokens = [...tokens[0]];
  const byKey = Object.fromEntries(Object.entries(keyOf).map(([id, key]) => [key, id]));
  const lower = new Map(ids.map((id) => [id.toLowerCase(), id]));
  const order = [];
  for (const token of tokens) {
    const id = ids.includes(token) ? token : lower.get(token.toLowerCase()) ?? byKey[token];
    if (!id || order.includes(id)) return null;
    order.push(id);
  }
  return order.length === ids.length ? order : null;
}

const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

export class Ranking {
  // keys: one per response (select it), then the key that confirms the order shown
  constructor(ids, keys, initial) {
    this.ids = ids;
    this.keyOf = Object.fromEntries(ids.map((id, i) => [id, keys[i]]));
    this.confirmKey = keys[ids.length];
    const start = Array.isArray(initial?.ranking) && initial.ranking.length === ids.length && ids.every((id) => initial.ranking.includes(id));
    this.order = start ? [...initial.ranking] : [...ids];
    this.touched = start;
    this.selected = null; // the response ↑/↓ move (not part of the answer)
  }

  select(id) { this.selected = this.selected === id ? null : id; }

  // ↑/↓ on the selected response; true when the order changed
  move(delta) {
    if (!this.selected) return false;
    const from = this.order.indexOf(this.selected);
    const to = Math.max(0, Math.min(this.order.length - 1, from + delta));
    if (to === from) return false;
    this.order.splice(from, 1);
    this.order.splice(to, 0, this.selected);
    this.touched = true;
    return true;
  }

  // The order shown is right.
  confirm() {
    if (this.touched) return false;
    this.touched = true;
    return true;
  }

  // A typed order: {error} unless it names every response once, else {changed}.
  type(text) {
    const order = parseOrder(text, this.ids, this.keyOf);
    if (!order) return { error: `Type every response once, best first (${this.ids.join(', ')}).` };
    if (this.touched && same(order, this.order)) return { changed: false };
    this.order = order;
    this.touched = true;
    return { changed: true };
  }

  // A drag ended with `order` on screen: a new order selects the dragged response; no
  // move is a click (toggles its selection).
  dropped(order, id) {
    if (same(order, this.order)) { this.select(id); return false; }
    this.order = [...order];
    this.touched = true;
    this.selected = id;
    return true;
  }

  response() {
    if (!this.touched) throw new Error(`Rank the responses first: move them into order, or press ${this.confirmKey} if the order shown is right.`);
    return { ranking: [...this.order] };
  }

  snapshot() { return { order: [...this.order], touched: this.touched }; }
  restore(state) { this.order = [...state.order]; this.touched = state.touched; }
}

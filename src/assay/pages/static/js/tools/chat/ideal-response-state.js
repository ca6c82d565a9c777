// Ideal response, without the DOM (tested in Node): the text the assistant should have
// given, at least `min_characters` long (code points, spaces at the ends not counted),
// and the response it was started from (based_on) while it has text.

export function chars(text) { return [...(text || '').trim()].length; }

export class IdealResponse {
  constructor(params, initial) {
    this.least = params.min_characters || 0;
    this.responses = params.responses || [];
    const init = typeof initial?.ideal_response === 'string' ? initial : null;
    this.state = { text: init?.ideal_response ?? '', based_on: init && this.responses.some((r) => r.id === init.based_on) ? init.based_on : null };
  }

  // Start from a response (replaces the text).
  copyFrom(id) {
    const r = this.responses.find((x) => x.id === id);
    if (!r) return false;
    this.state = { text: r.content ?? '', based_on: r.id };
    return true;
  }

  // Typing; emptying the editor forgets what it was based on.
  setText(text) {
    this.state.text = text;
    if (!text.trim()) this.state.based_on = null;
  }

  // The line above the editor: {count, short, basedOn}
  meta() {
    const n = chars(this.state.text);
    return {
      count: this.least ? `${n} / ${this.least} characters minimum` : `${n} characters`,
      short: n < Math.max(this.least, 1),
      basedOn: this.state.based_on ? `Based on response ${this.state.based_on}` : '',
    };
  }

  response() {
    const text = this.state.text.trim();
    if (!text) throw new Error('Write the ideal response first.');
    if (chars(text) < this.least) throw new Error(`The ideal response needs at least ${this.least} characters (it has ${chars(text)}).`);
    const out = { ideal_response: text };
    if (this.state.based_on) out.based_on = this.state.based_on;
    return out;
  }

  snapshot() { return { ...this.state }; }
  restore(state) { this.state = { ...state }; }
}

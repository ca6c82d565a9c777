// Pairwise preference, without the DOM (tested in Node): which response is better (or a
// tie), by how much (the task's strength levels; a tie has none), and why.
export const TIE = 'tie';

export class Pairwise {
  // keys: the choice keys, winners first, then the strength levels (named in messages)
  constructor(params, keys, initial) {
    const responses = params.responses || [];
    this.levels = params.strength_levels || [];
    this.options = [...responses.map((r) => ({ value: r.id, label: `${r.id} is better` })),
      ...(params.allow_ties !== false ? [{ value: TIE, label: 'Tie (about the same)' }] : [])];
    this.winnerKeys = keys.slice(0, this.options.length);
    this.strengthKeys = keys.slice(this.options.length);
    const init = initial?.preference ? initial : null;
    this.state = { winner: init?.preference.winner ?? null, strength: init?.preference.strength ?? null, justification: init?.justification ?? '' };
  }

  get isTie() { return this.state.winner === TIE; }

  pickWinner(value) {
    this.state.winner = value;
    if (value === TIE) this.state.strength = null;
    return true;
  }

  // false (nothing changes) on a tie
  pickStrength(level) {
    if (this.isTie) return false;
    this.state.strength = level;
    return true;
  }

  setJustification(text) { this.state.justification = text; }

  strengthTitle() {
    const { winner } = this.state;
    if (winner && winner !== TIE) return `How much better is ${winner}?`;
    return winner === TIE ? 'A tie has no strength' : 'How much better?';
  }

  response() {
    const { winner, strength, justification } = this.state;
    if (!winner) throw new Error(`Choose the better response (${this.options.map((o, i) => `${this.winnerKeys[i]}: ${o.value}`).join(', ')}).`);
    const preference = { winner };
    if (winner !== TIE && this.levels.length) {
      if (!strength) throw new Error(`Choose how much better ${winner} is (${this.levels.map((l, i) => `${this.strengthKeys[i]}: ${l}`).join(', ')}).`);
      preference.strength = strength;
    }
    const out = { preference };
    if (justification.trim()) out.justification = justification.trim();
    return out;
  }

  snapshot() { return { ...this.state }; }
  restore(state) { this.state = { ...state }; }
}

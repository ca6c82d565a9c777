// Live chat (multichat), without the DOM (tested in Node): the turns the server stored
// (prompt and model replies, never changed here), the labeler's choice, ratings and edit
// per turn, the draft prompt, and for red-teaming the harm rating. Undo restores choices,
// not turns: a turn the model answered stays part of the chat.
export class LiveChat {
  constructor(params, initial) {
    this.params = params;
    this.perTurn = params.replies_per_turn ?? 2;
    this.minTurns = params.min_turns ?? 1;
    this.maxTurns = params.max_turns ?? 10;
    this.scale = params.rating_scale ?? 5;
    this.redTeam = params.red_team || null;
    const turns = Array.isArray(initial?.turns) ? initial.turns : [];
    this.turns = turns.map((t) => ({ prompt: t.prompt, replies: t.replies.map((r) => ({ ...r })) }));
    this.choices = turns.map((t) => ({ chosen: t.chosen ?? null, ratings: { ...(t.ratings || {}) }, edited: t.edited ?? null }));
    this.harm = { category: initial?.harm?.category ?? null, severity: initial?.harm?.severity ?? null, notes: initial?.harm?.notes ?? '' };
    this.draft = '';
  }

  get canSend() { return this.turns.length < this.maxTurns && this.draft.trim().length > 0; }
  get harmCategories() { return this.redTeam?.harm_categories || []; }
  get severityLevels() { return this.redTeam?.severity_levels || []; }

  setDraft(text) { this.draft = text; }

  // The body of POST /api/assignments/{id}/chat for the draft; throws when it cannot be sent.
  nextRequest() {
    if (this.turns.length >= this.maxTurns) throw new Error(`This chat allows ${this.maxTurns} turns.`);
    if (!this.draft.trim()) throw new Error('Write a message first.');
    const open = this.choices.findIndex((c) => !c.chosen);
    if (open !== -1) throw new Error(`Choose the best reply of turn ${open + 1} first: the conversation continues from it.`);
    return { turn: this.turns.length, prompt: this.draft, previous: this.choices.map((c) => ({ chosen: c.chosen, edited: c.edited })) };
  }

  // A turn the server answered: {turn, prompt, replies}. Turns are kept in their order.
  addTurn(turn) {
    if (turn.turn !== this.turns.length) return false;
    this.turns.push({ prompt: turn.prompt, replies: turn.replies.map((r) => ({ ...r })) });
    this.choices.push({ chosen: turn.replies.length === 1 ? turn.replies[0].id : null, ratings: {}, edited: null });
    this.draft = '';
    return true;
  }

  choose(index, replyId) {
    const turn = this.turns[index];
    if (!turn || !turn.replies.some((r) => r.id === replyId)) return false;
    const choice = this.choices[index];
    if (choice.chosen !== replyId) choice.edited = null; // an edit belongs to the reply it was made on
    choice.chosen = replyId;
    return true;
  }

  rate(index, replyId, score) {
    const n = Number(score);
    if (!this.turns[index]?.replies.some((r) => r.id === replyId) || !Number.isInteger(n) || n < 1 || n > this.scale) return false;
    this.choices[index].ratings[replyId] = n;
    return true;
  }

  // The labeler's rewrite of the chosen reply; blank or unchanged: no edit.
  edit(index, text) {
    const choice = this.choices[index];
    if (!choice?.chosen) return false;
    const original = this.turns[index].replies.find((r) => r.id === choice.chosen).content;
    choice.edited = text.trim() && text !== original ? text : null;
    return true;
  }

  setHarm(key, value) { this.harm[key] = value || (key === 'notes' ? '' : null); }

  response() {
    if (this.turns.length < this.minTurns) {
      throw new Error(`Chat for at least ${this.minTurns} turn${this.minTurns === 1 ? '' : 's'} (so far ${this.turns.length}).`);
    }
    const open = this.choices.findIndex((c) => !c.chosen);
    if (open !== -1) throw new Error(`Choose the best reply of turn ${open + 1}.`);
    const turns = this.turns.map((t, i) => {
      const c = this.choices[i];
      const out = { prompt: t.prompt, replies: t.replies.map((r) => ({ ...r })), chosen: c.chosen };
      if (Object.keys(c.ratings).length) out.ratings = { ...c.ratings };
      if (c.edited) out.edited = c.edited;
      return out;
    });
    const answer = { turns };
    if (this.redTeam) {
      if (!this.harm.category) throw new Error('Rate the harm: choose its category.');
      if (!this.harm.severity) throw new Error('Rate the harm: choose its severity.');
      answer.harm = { category: this.harm.category, severity: this.harm.severity };
      if (this.harm.notes.trim()) answer.harm.notes = this.harm.notes.trim();
    }
    return answer;
  }

  snapshot() { return { choices: structuredClone(this.choices), harm: { ...this.harm }, turns: this.turns.length }; }

  restore(state) {
    // earlier snapshots know fewer turns: the later turns keep their current choices
    state.choices.forEach((c, i) => { if (i < this.choices.length) this.choices[i] = structuredClone(c); });
    this.harm = { ...state.harm };
  }
}

// Rubric scoring, without the DOM (tested in Node): a grid of criteria (rows) × responses
// (columns), each cell a score from 1 to the criterion's scale and, unless the criterion
// says 'none', a justification ('required' ones must have one). The cursor is the cell the
// digit keys score.

// Digit key → score: 1…9, and 0 for 10.
export const SCORE_KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0'];

// Why the answer is not complete: which cell, and what it lacks ('score' | 'justification').
export class RubricGap extends Error {
  constructor(message, row, col, missing) {
    super(message);
    this.row = row;
    this.col = col;
    this.missing = missing;
  }
}

export class Rubric {
  constructor(criteria, ids, initial) {
    this.criteria = criteria;
    this.ids = ids;
    this.state = { scores: Object.fromEntries(ids.map((id) => [id, {}])), notes: Object.fromEntries(ids.map((id) => [id, {}])) };
    this.cursor = { row: 0, col: 0 };
    const scores = initial?.scores;
    if (scores && typeof scores === 'object') {
      for (const id of ids) {
        for (const c of criteria) {
          const entry = scores[id]?.[c.id];
          if (entry && Number.isInteger(entry.score)) this.state.scores[id][c.id] = entry.score;
          if (entry && typeof entry.justification === 'string') this.state.notes[id][c.id] = entry.justification;
        }
      }
    }
  }

  score(row, col) { return this.state.scores[this.ids[col]]?.[this.criteria[row]?.id]; }
  note(row, col) { return this.state.notes[this.ids[col]]?.[this.criteria[row]?.id] ?? ''; }
  get maxScale() { return Math.max(...this.criteria.map((c) => c.scale), 1); }

  // 'scored', 'out-of-scale' (nothing changes), or null outside the grid
  setScore(row, col, score) {
    const c = this.criteria[row];
    const id = this.ids[col];
    if (!c || id === undefined) return null;
    if (score > c.scale) return 'out-of-scale';
    this.state.scores[id][c.id] = score;
    return 'scored';
  }

  setNote(row, col, text) { this.state.notes[this.ids[col]][this.criteria[row].id] = text; }

  // Arrows: the cursor stays inside the grid.
  moveCursor(dr, dc) {
    this.cursor = {
      row: Math.max(0, Math.min(this.criteria.length - 1, this.cursor.row + dr)),
      col: Math.max(0, Math.min(this.ids.length - 1, this.cursor.col + dc)),
    };
    return this.cursor;
  }

  // Every cell scored, required justifications written; else a RubricGap for the first
  // gap, response by response.
  response() {
    const scores = {};
    for (const [col, id] of this.ids.entries()) {
      scores[id] = {};
      for (const [row, c] of this.criteria.entries()) {
        const score = this.state.scores[id][c.id];
        if (score === undefined) throw new RubricGap(`Score response ${id} on “${c.title}” (1–${c.scale}).`, row, col, 'score');
        const entry = { score };
        const note = (this.state.notes[id][c.id] ?? '').trim();
        if (c.justification === 'required' && !note) {
          throw new RubricGap(`Justify the “${c.title}” score of response ${id} (required).`, row, col, 'justification');
        }
        if (note && c.justification !== 'none') entry.justification = note;
        scores[id][c.id] = entry;
      }
    }
    return { scores };
  }

  snapshot() { return structuredClone(this.state); }
  restore(state) { this.state = structuredClone(state); }
}

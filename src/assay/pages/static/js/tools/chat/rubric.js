// Rubric scoring: a grid of criteria × responses; digits score the focused cell, arrows
// (and Tab) move between cells, a justification box per cell (j writes it, Esc leaves it).
import { h, trustedServerHtml } from '../../api.js';
import { responseCard, textBox } from './common.js';
import { Rubric, SCORE_KEYS } from './rubric-state.js';

// One cell: the score buttons and, unless the criterion takes none, its justification
// box. on: {score(n), note(text), focus()}
function cellView(c, id, on, ctx) {
  const buttons = Array.from({ length: c.scale }, (_, i) => h('button', {
    type: 'button', class: 'chat-score', tabindex: '-1', dataset: { score: String(i + 1) },
    'aria-label': `${c.title}: ${i + 1} of ${c.scale} for response ${id}`,
    onclick: () => on.score(i + 1),
  }, String(i + 1)));
  const box = c.justification === 'none' ? null : textBox({
    class: 'chat-cell-note', rows: 2, 'aria-label': `Justification: ${c.title}, response ${id}`,
    placeholder: c.justification === 'required' ? 'Why? (required)' : 'Why? (optional)',
  }, (value) => { on.note(value); if (value.trim()) box.removeAttribute('aria-invalid'); }, ctx);
  const cell = h('div', { class: 'chat-cell', tabindex: '0', role: 'group', dataset: { response: id, criterion: c.id }, 'aria-label': `${c.title}, response ${id}` },
    h('div', { class: 'chat-scores' }, buttons), box);
  cell.addEventListener('focus', on.focus);
  box?.addEventListener('focus', on.focus);
  // Esc leaves the box back to its cell, so digits and arrows go on from there
  box?.addEventListener('keydown', (event) => { if (event.key === 'Escape') cell.focus(); });
  return { cell, buttons, box };
}

function rubricTable(criteria, ids, cells) {
  return h('table', { class: 'chat-rubric' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Criterion'), ids.map((id) => h('th', { scope: 'col' }, `Response ${id}`)))),
    h('tbody', {}, criteria.map((c, row) => h('tr', {},
      h('th', { scope: 'row' }, h('div', { class: 'chat-criterion' }, c.title),
        c.description_html !== undefined ? trustedServerHtml(h('div', { class: 'markdown hint chat-criterion-desc' }), c.description_html)
          : c.description ? h('div', { class: 'hint chat-criterion-desc' }, c.description) : null,
        h('div', { class: 'hint' }, `1–${c.scale}`, c.justification === 'required' ? ' · justification required' : '')),
      cells[row].map(({ cell }) => h('td', {}, cell))))));
}

function keysHint(maxScale) {
  return h('p', { class: 'hint' }, 'Digits (', h('kbd', {}, '1'), '…', h('kbd', {}, String(Math.min(9, maxScale))),
    maxScale === 10 ? [', ', h('kbd', {}, '0'), ' = 10'] : null,
    ') score the focused cell; ', h('kbd', {}, '←'), h('kbd', {}, '→'), h('kbd', {}, '↑'), h('kbd', {}, '↓'),
    ' or ', h('kbd', {}, 'Tab'), ' move; ', h('kbd', {}, 'j'), ' writes the justification, ', h('kbd', {}, 'Esc'), ' leaves it.');
}

export function rubric(el, params, ctx) {
  const responses = params.responses || [];
  const criteria = params.rubric || [];
  const ids = responses.map((r) => r.id);
  const grid = new Rubric(criteria, ids, ctx.initial);

  const cells = criteria.map((c, row) => ids.map((id, col) => cellView(c, id, {
    score: (i) => { setScore(row, col, i); focusCell(row, col); },
    note: (value) => grid.setNote(row, col, value),
    focus: () => { grid.cursor = { row, col }; paintCursor(); },
  }, ctx)));

  SCORE_KEYS.forEach((d, i) => ctx.hotkey(d, `Score the focused cell ${i + 1}`, () => setScore(grid.cursor.row, grid.cursor.col, i + 1)));
  ctx.hotkey('ArrowRight', 'Next response (cell to the right)', () => moveCursor(0, 1), { display: '→' });
  ctx.hotkey('ArrowLeft', 'Previous response (cell to the left)', () => moveCursor(0, -1), { display: '←' });
  ctx.hotkey('ArrowDown', 'Next criterion (cell below)', () => moveCursor(1, 0), { display: '↓' });
  ctx.hotkey('ArrowUp', 'Previous criterion (cell above)', () => moveCursor(-1, 0), { display: '↑' });
  ctx.hotkey('j', 'Write the justification of the focused cell', () => cells[grid.cursor.row]?.[grid.cursor.col]?.box?.focus());

  el.append(
    h('div', { class: 'chat-responses stacked' }, responses.map((r) => responseCard(r))),
    h('section', { class: 'chat-judgement' }, h('h3', {}, 'Scores'), keysHint(grid.maxScale), rubricTable(criteria, ids, cells)),
  );

  function setScore(row, col, score) {
    const result = grid.setScore(row, col, score);
    if (result === 'out-of-scale') {
      const { cell } = cells[row][col];
      cell.classList.add('chat-out-of-scale');
      setTimeout(() => cell.classList.remove('chat-out-of-scale'), 600);
    } else if (result === 'scored') {
      paint();
      ctx.changed();
    }
  }
  function moveCursor(dr, dc) {
    const { row, col } = grid.moveCursor(dr, dc);
    focusCell(row, col);
  }
  function focusCell(row, col) {
    grid.cursor = { row, col };
    cells[row][col].cell.focus();
    paintCursor();
  }
  function paintCursor() {
    const { cursor } = grid;
    cells.forEach((r, row) => r.forEach(({ cell }, col) => cell.classList.toggle('cursor', row === cursor.row && col === cursor.col)));
  }
  function paint() {
    cells.forEach((r, row) => r.forEach(({ cell, buttons, box }, col) => {
      const score = grid.score(row, col);
      buttons.forEach((b, i) => { const on = score === i + 1; b.classList.toggle('selected', on); b.setAttribute('aria-pressed', String(on)); });
      cell.classList.toggle('scored', score !== undefined);
      if (box) {
        const note = grid.note(row, col);
        if (box.value !== note) box.value = note;
        if (note.trim()) box.removeAttribute('aria-invalid');
      }
    }));
    paintCursor();
  }
  paint();

  return {
    getResponse() {
      try {
        return grid.response();
      } catch (gap) {
        // show the cell that is not done: focus it, or mark its justification box
        if (gap.missing === 'score') focusCell(gap.row, gap.col);
        if (gap.missing === 'justification') cells[gap.row][gap.col].box.setAttribute('aria-invalid', 'true');
        throw gap;
      }
    },
    getState: () => grid.snapshot(),
    setState(state) { grid.restore(state); paint(); },
  };
}

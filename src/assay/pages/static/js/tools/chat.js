// chat: judge model responses to a conversation. The transcript and the responses are
// server-rendered Markdown (content_html, raw HTML escaped there); the rest is text nodes.
// Four evaluation modes:
//   pairwise        keys pick A / B / tie and the strength; optional justification
//   ranking         drag the cards, or select one with its key and move it with ↑/↓, or
//                   type the order ("BAC")
//   rubric          a grid of criteria × responses; digits score the focused cell, arrows
//                   (and Tab) move between cells, justification boxes per cell
//   ideal_response  an editor (prefilled from the starting answer, or from a response
//                   copied with its key, recorded as based_on) with a live character count
import { h, trustedServerHtml } from '../api.js';
import { transcriptView } from './common.js';

const TIE = 'tie';

function markdown(item, cls = '') {
  const body = h('div', { class: `markdown ${cls}` });
  if (item.content_html !== undefined) trustedServerHtml(body, item.content_html); else body.textContent = item.content ?? '';
  return body;
}

// One response as a card: its label (model names stay hidden: judging is blind) and content.
function responseCard(r, extra = {}) {
  return h('article', { class: 'chat-response', dataset: { id: r.id }, 'aria-label': `Response ${r.id}` },
    h('header', { class: 'chat-response-head' }, extra.head || null, h('span', { class: 'chat-response-label' }, `Response ${r.id}`), extra.tail || null),
    markdown(r, 'chat-response-body'));
}

function chars(text) { return [...(text || '').trim()].length; }

// Text boxes: one undo step per edit session (on change = when the box loses focus).
function textBox(attrs, onEdit, ctx) {
  const box = h('textarea', attrs);
  box.addEventListener('input', () => onEdit(box.value, false));
  box.addEventListener('change', () => { onEdit(box.value, true); ctx.changed(); });
  return box;
}

export default {
  mount(el, task, ctx) {
    const p = task.params;
    const responses = p.responses || [];
    el.classList.add(`chat-${p.evaluation}`);
    el.append(h('section', { class: 'chat-transcript', 'aria-label': 'Conversation' }, h('h3', {}, 'Conversation'), transcriptView(p.messages)));
    const modes = { pairwise, ranking, rubric, ideal_response: idealResponse };
    const mode = modes[p.evaluation];
    if (!mode) {
      el.append(h('p', { class: 'error' }, `Unknown evaluation mode ${p.evaluation}.`));
      return { getResponse() { throw new Error('This task has an unknown evaluation mode.'); }, getState() { return null; }, setState() {} };
    }
    return mode(el, p, responses, ctx);
  },
};

// ----------------------------------------------------------------------------- pairwise

function pairwise(el, p, responses, ctx) {
  const levels = p.strength_levels || [];
  const allowTies = p.allow_ties !== false;
  const init = ctx.initial?.preference ? ctx.initial : null;
  let state = { winner: init?.preference.winner ?? null, strength: init?.preference.strength ?? null, justification: init?.justification ?? '' };
  const keys = ctx.freeKeys;

  const winnerOptions = [...responses.map((r) => ({ value: r.id, label: `${r.id} is better` })), ...(allowTies ? [{ value: TIE, label: 'Tie (about the same)' }] : [])];
  const winnerButtons = winnerOptions.map((o, i) => choiceButton(keys[i], o.label, o.value, () => pickWinner(o.value)));
  winnerOptions.forEach((o, i) => keys[i] && ctx.hotkey(keys[i], o.value === TIE ? 'Tie' : `Response ${o.value} is better`, () => pickWinner(o.value)));
  const strengthKeys = keys.slice(winnerOptions.length);
  const strengthButtons = levels.map((level, i) => choiceButton(strengthKeys[i], level, level, () => pickStrength(level)));
  levels.forEach((level, i) => strengthKeys[i] && ctx.hotkey(strengthKeys[i], `Strength: ${level}`, () => pickStrength(level)));
  const strengthTitle = h('h3', {}, 'How much better?');
  const strengthRow = h('div', { class: 'chat-strength' }, strengthTitle, h('div', { class: 'choices', role: 'radiogroup', 'aria-label': 'Strength' }, strengthButtons));
  const justification = textBox({ class: 'chat-justification', rows: 3, placeholder: 'Why? (optional)', 'aria-label': 'Justification' },
    (value) => { state.justification = value; }, ctx);

  el.append(
    h('div', { class: 'chat-responses side-by-side' }, responses.map((r) => responseCard(r))),
    h('section', { class: 'chat-judgement' },
      h('h3', {}, 'Which response is better?'),
      h('div', { class: 'choices', role: 'radiogroup', 'aria-label': 'Preference' }, winnerButtons),
      levels.length ? strengthRow : null,
      h('label', { class: 'chat-justification-label' }, 'Justification (optional)', justification)),
  );

  function paint() {
    for (const b of winnerButtons) mark(b, b.dataset.value === state.winner);
    for (const b of strengthButtons) {
      mark(b, b.dataset.value === state.strength && state.winner !== TIE);
      b.disabled = state.winner === TIE;
    }
    strengthRow.classList.toggle('muted', state.winner === TIE);
    strengthTitle.textContent = state.winner && state.winner !== TIE ? `How much better is ${state.winner}?` : state.winner === TIE ? 'A tie has no strength' : 'How much better?';
    if (justification.value !== state.justification) justification.value = state.justification;
  }
  function pickWinner(value) {
    state.winner = value;
    if (value === TIE) state.strength = null;
    paint();
    ctx.changed();
  }
  function pickStrength(level) {
    if (state.winner === TIE) return;
    state.strength = level;
    paint();
    ctx.changed();
  }
  paint();

  return {
    getResponse() {
      if (!state.winner) throw new Error(`Choose the better response (${winnerOptions.map((o, i) => `${keys[i]}: ${o.value}`).join(', ')}).`);
      const preference = { winner: state.winner };
      if (state.winner !== TIE && levels.length) {
        if (!state.strength) throw new Error(`Choose how much better ${state.winner} is (${levels.map((l, i) => `${strengthKeys[i]}: ${l}`).join(', ')}).`);
        preference.strength = state.strength;
      }
      const out = { preference };
      if (state.justification.trim()) out.justification = state.justification.trim();
      return out;
    },
    getState() { return { ...state }; },
    setState(s) { state = { ...s }; paint(); },
  };
}

function choiceButton(key, label, value, onclick) {
  return h('button', { type: 'button', class: 'choice', role: 'radio', dataset: { value }, onclick }, key ? h('kbd', {}, key) : null, ' ', label);
}

function mark(button, on) {
  button.classList.toggle('selected', on);
  button.setAttribute('aria-checked', String(on));
}

// ----------------------------------------------------------------------------- ranking

function ranking(el, p, responses, ctx) {
  const ids = responses.map((r) => r.id);
  const keyOf = Object.fromEntries(ids.map((id, i) => [id, ctx.freeKeys[i]]));
  const confirmKey = ctx.freeKeys[ids.length];
  const start = Array.isArray(ctx.initial?.ranking) && ctx.initial.ranking.length === ids.length && ids.every((id) => ctx.initial.ranking.includes(id));
  let state = { order: start ? [...ctx.initial.ranking] : [...ids], touched: start };
  let selected = null;

  const items = new Map();
  for (const r of responses) {
    const rank = h('span', { class: 'chat-rank', 'aria-label': 'rank' });
    const handle = h('span', { class: 'chat-handle', title: 'Drag to reorder', 'aria-hidden': 'true' }, '⠿');
    const card = responseCard(r, { head: [handle, rank], tail: h('span', { class: 'hint chat-select-key' }, h('kbd', {}, keyOf[r.id]), ' select') });
    const li = h('li', { class: 'chat-rank-item', dataset: { id: r.id } }, card);
    card.querySelector('.chat-response-head').addEventListener('pointerdown', (event) => startDrag(event, li));
    items.set(r.id, { li, rank });
    ctx.hotkey(keyOf[r.id], `Select response ${r.id} (then ↑/↓ to move it)`, () => select(r.id));
  }
  const list = h('ol', { class: 'chat-ranking', 'aria-label': 'Ranking, best first' });
  const orderInput = h('input', { type: 'text', class: 'chat-order', 'aria-label': 'Type the order, best first', placeholder: ids.length && ids.every((id) => id.length === 1) ? `e.g. ${[...ids].reverse().join('')}` : `e.g. ${[...ids].reverse().join(' ')}`, autocomplete: 'off', spellcheck: 'false' });
  const orderHint = h('span', { class: 'hint chat-order-hint' });
  const confirm = h('button', { type: 'button', class: 'chat-confirm', onclick: () => confirmOrder() }, h('kbd', {}, confirmKey), ' This order is right');
  ctx.hotkey(confirmKey, 'Keep the order shown (it is right)', () => confirmOrder());
  ctx.hotkey('ArrowUp', 'Move the selected response up', () => move(-1), { display: '↑' });
  ctx.hotkey('ArrowDown', 'Move the selected response down', () => move(1), { display: '↓' });
  ctx.hotkey('Alt+ArrowUp', 'Move the selected response up', () => move(-1), { display: 'Alt+↑' });
  ctx.hotkey('Alt+ArrowDown', 'Move the selected response down', () => move(1), { display: 'Alt+↓' });

  orderInput.addEventListener('input', () => {
    const order = parseOrder(orderInput.value, ids, keyOf);
    if (!order) { orderHint.textContent = `Type every response once, best first (${ids.join(', ')}).`; return; }
    orderHint.textContent = '';
    if (state.touched && order.join('\u0000') === state.order.join('\u0000')) return;
    state.order = order;
    state.touched = true;
    paint({ keepInput: true });
    ctx.changed();
  });
  orderInput.addEventListener('change', () => paint());

  el.append(
    h('p', { class: 'hint' }, 'Best first. Drag a response by its header, or press its key (',
      ...ids.flatMap((id, i) => [i ? ' ' : '', h('kbd', {}, keyOf[id])]), ') and move it with ', h('kbd', {}, '↑'), ' ', h('kbd', {}, '↓'),
      ' (or ', h('kbd', {}, 'Alt+↑'), ' ', h('kbd', {}, 'Alt+↓'), '), or type the order.'),
    h('div', { class: 'chat-order-row' }, h('label', {}, 'Order ', orderInput), confirm, orderHint),
    list,
  );

  function paint({ keepInput = false } = {}) {
    list.replaceChildren(...state.order.map((id) => items.get(id).li));
    state.order.forEach((id, i) => {
      const { li, rank } = items.get(id);
      rank.textContent = String(i + 1);
      li.classList.toggle('selected', id === selected);
      li.setAttribute('aria-label', `Rank ${i + 1}: response ${id}`);
    });
    if (!keepInput) orderInput.value = state.touched ? formatOrder(state.order) : '';
    confirm.classList.toggle('selected', state.touched);
    el.classList.toggle('chat-ranked', state.touched);
  }
  function select(id) {
    selected = selected === id ? null : id;
    paint();
    if (selected) items.get(id).li.scrollIntoView({ block: 'nearest' });
  }
  function move(delta) {
    if (!selected) return;
    const from = state.order.indexOf(selected);
    const to = Math.max(0, Math.min(state.order.length - 1, from + delta));
    if (to === from) return;
    state.order.splice(from, 1);
    state.order.splice(to, 0, selected);
    state.touched = true;
    paint();
    items.get(selected).li.scrollIntoView({ block: 'nearest' });
    ctx.changed();
  }
  function confirmOrder() {
    if (state.touched) return;
    state.touched = true;
    paint();
    ctx.changed();
  }
  function startDrag(event, li) {
    if (event.button !== 0) return;
    event.preventDefault();
    const head = event.currentTarget;
    head.setPointerCapture?.(event.pointerId);
    const before = state.order.join('\u0000');
    li.classList.add('dragging');
    const scroller = li.closest('.wb-task') || document.scrollingElement;
    const onMove = (e) => {
      // near an edge of the scrolling panel: scroll it, so long lists can be dragged through
      const edge = scroller.getBoundingClientRect();
      if (e.clientY < Math.max(edge.top, 0) + 40) scroller.scrollTop -= 20;
      else if (e.clientY > Math.min(edge.bottom, window.innerHeight) - 40) scroller.scrollTop += 20;
      const others = [...list.children].filter((x) => x !== li);
      const next = others.find((x) => { const box = x.getBoundingClientRect(); return e.clientY < box.top + box.height / 2; });
      if (next) { if (li.nextSibling !== next) list.insertBefore(li, next); } else if (list.lastChild !== li) list.append(li);
    };
    const onUp = () => {
      head.removeEventListener('pointermove', onMove);
      head.removeEventListener('pointerup', onUp);
      head.removeEventListener('pointercancel', onUp);
      li.classList.remove('dragging');
      const order = [...list.children].map((x) => x.dataset.id);
      if (order.join('\u0000') !== before) {
        state.order = order;
        state.touched = true;
        selected = li.dataset.id;
        paint();
        ctx.changed();
      } else {
        select(li.dataset.id);
      }
    };
    head.addEventListener('pointermove', onMove);
    head.addEventListener('pointerup', onUp);
    head.addEventListener('pointercancel', onUp);
  }
  paint();

  return {
    getResponse() {
      if (!state.touched) throw new Error(`Rank the responses first: move them into order, or press ${confirmKey} if the order shown is right.`);
      return { ranking: [...state.order] };
    },
    getState() { return { order: [...state.order], touched: state.touched }; },
    setState(s) { state = { order: [...s.order], touched: s.touched }; paint(); },
  };
}

function formatOrder(order) {
  return order.every((id) => id.length === 1) ? order.join('') : order.join(' ');
}

// "BAC", "b a c", "B > A > C", "2 1 3" (the responses' keys) → ids, or null unless every id once.
function parseOrder(text, ids, keyOf) {
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

// ----------------------------------------------------------------------------- rubric

function rubric(el, p, responses, ctx) {
  const criteria = p.rubric || [];
  const ids = responses.map((r) => r.id);
  const blank = () => ({ scores: Object.fromEntries(ids.map((id) => [id, {}])), notes: Object.fromEntries(ids.map((id) => [id, {}])) });
  let state = blank();
  const initScores = ctx.initial?.scores;
  if (initScores && typeof initScores === 'object') {
    for (const id of ids) {
      for (const c of criteria) {
        const entry = initScores[id]?.[c.id];
        if (entry && Number.isInteger(entry.score)) state.scores[id][c.id] = entry.score;
        if (entry && typeof entry.justification === 'string') state.notes[id][c.id] = entry.justification;
      }
    }
  }
  let cursor = { row: 0, col: 0 }; // row: criterion, col: response

  const cells = criteria.map((c, row) => ids.map((id, col) => {
    const buttons = Array.from({ length: c.scale }, (_, i) => h('button', {
      type: 'button', class: 'chat-score', tabindex: '-1', dataset: { score: String(i + 1) },
      'aria-label': `${c.title}: ${i + 1} of ${c.scale} for response ${id}`,
      onclick: () => { setScore(row, col, i + 1); focusCell(row, col); },
    }, String(i + 1)));
    const box = c.justification === 'none' ? null : textBox({
      class: 'chat-cell-note', rows: 2, 'aria-label': `Justification: ${c.title}, response ${id}`,
      placeholder: c.justification === 'required' ? 'Why? (required)' : 'Why? (optional)',
    }, (value) => { state.notes[id][c.id] = value; if (value.trim()) box.removeAttribute('aria-invalid'); }, ctx);
    const cell = h('div', { class: 'chat-cell', tabindex: '0', role: 'group', dataset: { response: id, criterion: c.id }, 'aria-label': `${c.title}, response ${id}` },
      h('div', { class: 'chat-scores' }, buttons), box);
    cell.addEventListener('focus', () => { cursor = { row, col }; paintCursor(); });
    box?.addEventListener('focus', () => { cursor = { row, col }; paintCursor(); });
    // Esc leaves the box back to its cell, so digits and arrows go on from there
    box?.addEventListener('keydown', (event) => { if (event.key === 'Escape') cell.focus(); });
    return { cell, buttons, box };
  }));

  const digits = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0'];
  digits.forEach((d, i) => ctx.hotkey(d, `Score the focused cell ${i + 1}`, () => setScore(cursor.row, cursor.col, i + 1)));
  ctx.hotkey('ArrowRight', 'Next response (cell to the right)', () => moveCursor(0, 1), { display: '→' });
  ctx.hotkey('ArrowLeft', 'Previous response (cell to the left)', () => moveCursor(0, -1), { display: '←' });
  ctx.hotkey('ArrowDown', 'Next criterion (cell below)', () => moveCursor(1, 0), { display: '↓' });
  ctx.hotkey('ArrowUp', 'Previous criterion (cell above)', () => moveCursor(-1, 0), { display: '↑' });
  ctx.hotkey('j', 'Write the justification of the focused cell', () => cells[cursor.row]?.[cursor.col]?.box?.focus());

  const table = h('table', { class: 'chat-rubric' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Criterion'), ids.map((id) => h('th', { scope: 'col' }, `Response ${id}`)))),
    h('tbody', {}, criteria.map((c, row) => h('tr', {},
      h('th', { scope: 'row' }, h('div', { class: 'chat-criterion' }, c.title),
        c.description_html !== undefined ? trustedServerHtml(h('div', { class: 'markdown hint chat-criterion-desc' }), c.description_html)
          : c.description ? h('div', { class: 'hint chat-criterion-desc' }, c.description) : null,
        h('div', { class: 'hint' }, `1–${c.scale}`, c.justification === 'required' ? ' · justification required' : '')),
      cells[row].map(({ cell }) => h('td', {}, cell))))));

  el.append(
    h('div', { class: 'chat-responses stacked' }, responses.map((r) => responseCard(r))),
    h('section', { class: 'chat-judgement' },
      h('h3', {}, 'Scores'),
      h('p', { class: 'hint' }, 'Digits (', h('kbd', {}, '1'), '…', h('kbd', {}, String(Math.min(9, Math.max(...criteria.map((c) => c.scale), 1)))),
        Math.max(...criteria.map((c) => c.scale), 1) === 10 ? [', ', h('kbd', {}, '0'), ' = 10'] : null,
        ') score the focused cell; ', h('kbd', {}, '←'), h('kbd', {}, '→'), h('kbd', {}, '↑'), h('kbd', {}, '↓'),
        ' or ', h('kbd', {}, 'Tab'), ' move; ', h('kbd', {}, 'j'), ' writes the justification, ', h('kbd', {}, 'Esc'), ' leaves it.'),
      table),
  );

  function setScore(row, col, score) {
    const c = criteria[row];
    const id = ids[col];
    if (!c || id === undefined) return;
    if (score > c.scale) { cells[row][col].cell.classList.add('chat-out-of-scale'); setTimeout(() => cells[row][col].cell.classList.remove('chat-out-of-scale'), 600); return; }
    state.scores[id][c.id] = score;
    paint();
    ctx.changed();
  }
  function moveCursor(dr, dc) {
    const row = Math.max(0, Math.min(criteria.length - 1, cursor.row + dr));
    const col = Math.max(0, Math.min(ids.length - 1, cursor.col + dc));
    focusCell(row, col);
  }
  function focusCell(row, col) {
    cursor = { row, col };
    cells[row][col].cell.focus();
    paintCursor();
  }
  function paintCursor() {
    cells.forEach((r, row) => r.forEach(({ cell }, col) => cell.classList.toggle('cursor', row === cursor.row && col === cursor.col)));
  }
  function paint() {
    criteria.forEach((c, row) => ids.forEach((id, col) => {
      const { cell, buttons, box } = cells[row][col];
      const score = state.scores[id][c.id];
      buttons.forEach((b, i) => { const on = score === i + 1; b.classList.toggle('selected', on); b.setAttribute('aria-pressed', String(on)); });
      cell.classList.toggle('scored', score !== undefined);
      if (box) {
        const note = state.notes[id][c.id] ?? '';
        if (box.value !== note) box.value = note;
        if (note.trim()) box.removeAttribute('aria-invalid');
      }
    }));
    paintCursor();
  }
  paint();

  return {
    getResponse() {
      const scores = {};
      for (const [col, id] of ids.entries()) {
        scores[id] = {};
        for (const [row, c] of criteria.entries()) {
          const score = state.scores[id][c.id];
          if (score === undefined) {
            focusCell(row, col);
            throw new Error(`Score response ${id} on “${c.title}” (1–${c.scale}).`);
          }
          const entry = { score };
          const note = (state.notes[id][c.id] ?? '').trim();
          if (c.justification === 'required' && !note) {
            const { box } = cells[row][col];
            box.setAttribute('aria-invalid', 'true');
            throw new Error(`Justify the “${c.title}” score of response ${id} (required).`);
          }
          if (note && c.justification !== 'none') entry.justification = note;
          scores[id][c.id] = entry;
        }
      }
      return { scores };
    },
    getState() { return structuredClone(state); },
    setState(s) { state = structuredClone(s); paint(); },
  };
}

// ----------------------------------------------------------------------------- ideal response

function idealResponse(el, p, responses, ctx) {
  const least = p.min_characters || 0;
  const init = typeof ctx.initial?.ideal_response === 'string' ? ctx.initial : null;
  let state = { text: init?.ideal_response ?? '', based_on: init && responses.some((r) => r.id === init.based_on) ? init.based_on : null };
  const keys = ctx.freeKeys;

  const cards = responses.map((r, i) => responseCard(r, {
    tail: h('button', { type: 'button', class: 'link chat-copy', onclick: () => copyFrom(r) }, h('kbd', {}, keys[i]), ' Start from this response'),
  }));
  responses.forEach((r, i) => ctx.hotkey(keys[i], `Copy response ${r.id} into the editor as a starting point`, () => copyFrom(r)));
  const editKey = keys[responses.length];
  ctx.hotkey(editKey, 'Go to the editor', () => editor.focus());

  const editor = textBox({ class: 'chat-editor', rows: 10, 'aria-label': 'Ideal response', placeholder: 'Write the response the assistant should have given (Markdown).', spellcheck: 'true' },
    (value) => { state.text = value; if (!value.trim()) state.based_on = null; paintMeta(); }, ctx);
  const count = h('span', { class: 'chat-count', role: 'status' });
  const basedOn = h('span', { class: 'chat-based-on' });

  el.append(
    responses.length ? h('div', { class: 'chat-responses stacked' }, cards) : null,
    h('section', { class: 'chat-judgement' },
      h('h3', {}, 'Ideal response'),
      responses.length ? h('p', { class: 'hint' }, 'Write it yourself, or press a response’s key to start from it (replaces the editor’s text). ',
        h('kbd', {}, editKey), ' goes to the editor, ', h('kbd', {}, 'Ctrl+Enter'), ' submits from it, ', h('kbd', {}, 'Esc'), ' leaves it.')
        : h('p', { class: 'hint' }, h('kbd', {}, editKey), ' goes to the editor, ', h('kbd', {}, 'Ctrl+Enter'), ' submits from it.'),
      h('div', { class: 'chat-editor-meta' }, count, basedOn),
      editor),
  );

  function copyFrom(r) {
    state = { text: r.content ?? '', based_on: r.id };
    paint();
    ctx.changed();
    editor.focus();
    editor.setSelectionRange(editor.value.length, editor.value.length);
  }
  function paintMeta() {
    const n = chars(state.text);
    count.textContent = least ? `${n} / ${least} characters minimum` : `${n} characters`;
    count.classList.toggle('error', n < Math.max(least, 1));
    basedOn.textContent = state.based_on ? `Based on response ${state.based_on}` : '';
    cards.forEach((card) => card.classList.toggle('selected', card.dataset.id === state.based_on));
  }
  function paint() {
    if (editor.value !== state.text) editor.value = state.text;
    paintMeta();
  }
  paint();

  return {
    getResponse() {
      const text = state.text.trim();
      if (!text) throw new Error('Write the ideal response first.');
      if (chars(text) < least) throw new Error(`The ideal response needs at least ${least} characters (it has ${chars(text)}).`);
      const out = { ideal_response: text };
      if (state.based_on) out.based_on = state.based_on;
      return out;
    },
    getState() { return { ...state }; },
    setState(s) { state = { ...s }; paint(); },
  };
}

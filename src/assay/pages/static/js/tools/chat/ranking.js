// Ranking of N responses: drag the cards by their header, or select one with its key and
// move it with ↑/↓, or type the order ("BAC").
import { h } from '../../api.js';
import { responseCard } from './common.js';
import { Ranking, formatOrder } from './ranking-state.js';

function keysHint(ids, keyOf) {
  return h('p', { class: 'hint' }, 'Best first. Drag a response by its header, or press its key (',
    ...ids.flatMap((id, i) => [i ? ' ' : '', h('kbd', {}, keyOf[id])]), ') and move it with ', h('kbd', {}, '↑'), ' ', h('kbd', {}, '↓'),
    ' (or ', h('kbd', {}, 'Alt+↑'), ' ', h('kbd', {}, 'Alt+↓'), '), or type the order.');
}

// Drags a card by its header (pointer events) through the list; `done()` when released,
// with the list's children in their new order.
function dragCard(event, li, list, done) {
  if (event.button !== 0) return;
  event.preventDefault();
  const head = event.currentTarget;
  head.setPointerCapture?.(event.pointerId);
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
    done();
  };
  head.addEventListener('pointermove', onMove);
  head.addEventListener('pointerup', onUp);
  head.addEventListener('pointercancel', onUp);
}

// A response's card in the list: drag handle, rank, its select key; the header starts a drag.
function rankItem(r, key, onGrab) {
  const rank = h('span', { class: 'chat-rank', 'aria-label': 'rank' });
  const handle = h('span', { class: 'chat-handle', title: 'Drag to reorder', 'aria-hidden': 'true' }, '⠿');
  const card = responseCard(r, { head: [handle, rank], tail: h('span', { class: 'hint chat-select-key' }, h('kbd', {}, key), ' select') });
  const li = h('li', { class: 'chat-rank-item', dataset: { id: r.id } }, card);
  card.querySelector('.chat-response-head').addEventListener('pointerdown', (event) => onGrab(event, li));
  return { li, rank };
}

export function ranking(el, params, ctx) {
  const responses = params.responses || [];
  const rank = new Ranking(responses.map((r) => r.id), ctx.freeKeys, ctx.initial);
  const { ids, keyOf, confirmKey } = rank;

  const items = new Map();
  for (const r of responses) {
    items.set(r.id, rankItem(r, keyOf[r.id], startDrag));
    ctx.hotkey(keyOf[r.id], `Select response ${r.id} (then ↑/↓ to move it)`, () => select(r.id));
  }
  const list = h('ol', { class: 'chat-ranking', 'aria-label': 'Ranking, best first' });
  const orderInput = h('input', { type: 'text', class: 'chat-order', 'aria-label': 'Type the order, best first',
    placeholder: `e.g. ${formatOrder([...ids].reverse())}`, autocomplete: 'off', spellcheck: 'false' });
  const orderHint = h('span', { class: 'hint chat-order-hint' });
  const confirm = h('button', { type: 'button', class: 'chat-confirm', onclick: () => confirmOrder() }, h('kbd', {}, confirmKey), ' This order is right');
  ctx.hotkey(confirmKey, 'Keep the order shown (it is right)', () => confirmOrder());
  ctx.hotkey('ArrowUp', 'Move the selected response up', () => move(-1), { display: '↑' });
  ctx.hotkey('ArrowDown', 'Move the selected response down', () => move(1), { display: '↓' });
  ctx.hotkey('Alt+ArrowUp', 'Move the selected response up', () => move(-1), { display: 'Alt+↑' });
  ctx.hotkey('Alt+ArrowDown', 'Move the selected response down', () => move(1), { display: 'Alt+↓' });

  orderInput.addEventListener('input', () => {
    const got = rank.type(orderInput.value);
    orderHint.textContent = got.error || '';
    if (!got.changed) return;
    paint({ keepInput: true });
    ctx.changed();
  });
  orderInput.addEventListener('change', () => paint());

  el.append(
    keysHint(ids, keyOf),
    h('div', { class: 'chat-order-row' }, h('label', {}, 'Order ', orderInput), confirm, orderHint),
    list,
  );

  function paint({ keepInput = false } = {}) {
    list.replaceChildren(...rank.order.map((id) => items.get(id).li));
    rank.order.forEach((id, i) => {
      const { li, rank: rankEl } = items.get(id);
      rankEl.textContent = String(i + 1);
      li.classList.toggle('selected', id === rank.selected);
      li.setAttribute('aria-label', `Rank ${i + 1}: response ${id}`);
    });
    if (!keepInput) orderInput.value = rank.touched ? formatOrder(rank.order) : '';
    confirm.classList.toggle('selected', rank.touched);
    el.classList.toggle('chat-ranked', rank.touched);
  }
  const scrollTo = (id) => items.get(id).li.scrollIntoView({ block: 'nearest' });
  function select(id) {
    rank.select(id);
    paint();
    if (rank.selected) scrollTo(id);
  }
  function move(delta) {
    if (!rank.move(delta)) return;
    paint();
    scrollTo(rank.selected);
    ctx.changed();
  }
  function confirmOrder() {
    if (!rank.confirm()) return;
    paint();
    ctx.changed();
  }
  function startDrag(event, li) {
    dragCard(event, li, list, () => {
      const changed = rank.dropped([...list.children].map((x) => x.dataset.id), li.dataset.id);
      paint();
      if (changed) ctx.changed();
      else if (rank.selected) scrollTo(rank.selected);
    });
  }
  paint();

  return {
    getResponse: () => rank.response(),
    getState: () => rank.snapshot(),
    setState(state) { rank.restore(state); paint(); },
  };
}

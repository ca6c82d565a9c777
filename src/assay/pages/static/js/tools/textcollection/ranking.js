// The ranking widget: ranked places (an <ol>) above the pool of choices still to rank.
// Choice keys rank in order (again: take back); on a focused ranked item ↑/↓ move the
// focus, Alt+↑/↓ (the tool's hotkeys, through moveFocused) move the item, Delete takes
// it back; the mouse drags between pool and places. The order itself is a RankingValue.
import { h } from '../../api.js';
import { RankingValue } from './values.js';

export function ranking(f, env) {
  const value = new RankingValue(f);
  const { options, places } = value;
  const keyOf = (v) => env.keys[options.findIndex((o) => o.value === v)];
  const rankedEl = h('ol', { class: 'tc-ranked', 'aria-label': `${f.title}: ranked` });
  const poolEl = h('div', { class: 'tc-pool choices', 'aria-label': `${f.title}: to rank` });
  let dragged = null;
  const draggable = (el, v) => {
    el.addEventListener('dragstart', (ev) => { dragged = v; ev.dataTransfer.setData('text/plain', v); ev.dataTransfer.effectAllowed = 'move'; });
    el.addEventListener('dragend', () => { dragged = null; });
    return el;
  };

  // apply a change to the value; repaint (focusing `focusValue`) and record it
  function apply(got, focusValue) {
    if (got.error) { env.say(got.error); return; }
    if (!got.changed) return;
    env.say('');
    paint(focusValue);
    env.changed();
  }
  const add = (v) => apply(value.add(v));
  const unrank = (v) => apply(value.unrank(v));
  const move = (v, step) => apply(value.move(v, step), v);

  function item(v, i) {
    const action = (title, label, text, fn, cls = 'link') => h('button', { type: 'button', class: cls, tabindex: '-1', title, 'aria-label': label, onclick: fn }, text);
    return draggable(h('li', { class: 'tc-rank-item', tabindex: '-1', draggable: 'true', dataset: { value: v } },
      h('span', { class: 'tc-rank-pos' }, value.placeName(i)), ' ',
      keyOf(v) ? h('kbd', {}, keyOf(v)) : null, ' ', h('span', { class: 'tc-rank-label' }, value.labelOf(v)),
      h('span', { class: 'tc-rank-actions' },
        action('Move up (Alt+↑)', 'Move up', '↑', () => move(v, -1)),
        action('Move down (Alt+↓)', 'Move down', '↓', () => move(v, 1)),
        action('Unrank (Del)', 'Unrank', '×', () => unrank(v), 'link danger'))), v);
  }

  function slot(i) {
    return h('li', { class: 'tc-rank-slot', dataset: { slot: String(i) } },
      h('span', { class: 'tc-rank-pos' }, value.placeName(i)), ' ', h('span', { class: 'hint' }, 'drop or press a key'));
  }

  function paint(focusValue) {
    const { ranked } = value;
    rankedEl.replaceChildren(...ranked.map(item), ...Array.from({ length: Math.max(0, places - ranked.length) }, (_, j) => slot(ranked.length + j)));
    const pool = value.unranked().map((o) => {
      const b = h('button', { type: 'button', class: 'choice tc-pool-item', tabindex: '-1', draggable: 'true', dataset: { value: o.value } },
        keyOf(o.value) ? h('kbd', {}, keyOf(o.value)) : null, ' ', o.label);
      b.addEventListener('click', () => add(o.value));
      return draggable(b, o.value);
    });
    poolEl.replaceChildren(...(pool.length ? pool : [h('span', { class: 'hint' }, 'All ranked.')]));
    if (focusValue !== undefined) rankedEl.querySelector(`.tc-rank-item[data-value="${CSS.escape(focusValue)}"]`)?.focus();
  }

  rankedEl.addEventListener('dragover', (ev) => { if (dragged) { ev.preventDefault(); ev.dataTransfer.dropEffect = 'move'; } });
  rankedEl.addEventListener('drop', (ev) => {
    if (!dragged) return;
    ev.preventDefault();
    const target = ev.target.closest('.tc-rank-item, .tc-rank-slot');
    let index = value.ranked.length;
    if (target?.classList.contains('tc-rank-item')) {
      // above or below the item dropped on, by which half of it
      index = value.ranked.indexOf(target.dataset.value);
      const box = target.getBoundingClientRect();
      if (ev.clientY > box.top + box.height / 2) index += 1;
      if (value.ranked.indexOf(dragged) >= 0 && value.ranked.indexOf(dragged) < index) index -= 1;
    }
    const v = dragged;
    dragged = null;
    apply(value.dropAt(v, index));
  });
  poolEl.addEventListener('dragover', (ev) => { if (dragged && value.ranked.includes(dragged)) ev.preventDefault(); });
  poolEl.addEventListener('drop', (ev) => {
    if (!dragged || !value.ranked.includes(dragged)) return;
    ev.preventDefault();
    const v = dragged;
    dragged = null;
    unrank(v);
  });

  const root = h('div', { class: 'tc-ranking' }, rankedEl,
    h('div', { class: 'tc-pool-box' }, h('span', { class: 'hint' }, 'To rank: '), poolEl),
    h('p', { class: 'hint tc-hint' }, places < options.length ? `Rank your top ${places} of ${options.length}. ` : 'Rank every choice, best first. ',
      'Press the keys in order or drag; on a ranked item ', h('kbd', {}, 'Alt+↑'), h('kbd', {}, 'Alt+↓'), ' move it, ',
      h('kbd', {}, 'Del'), ' takes it back.'));
  root.addEventListener('keydown', (ev) => {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return; // Alt+↑/↓ are tool hotkeys
    const li = ev.target.closest?.('.tc-rank-item');
    const items = [...rankedEl.querySelectorAll('.tc-rank-item')];
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      if (!items.length) return;
      ev.preventDefault();
      const at = items.indexOf(li);
      const next = at < 0 ? 0 : Math.max(0, Math.min(items.length - 1, at + (ev.key === 'ArrowDown' ? 1 : -1)));
      items[next].focus();
    } else if (li && (ev.key === 'Delete' || ev.key === 'Backspace')) {
      ev.preventDefault();
      const at = items.indexOf(li);
      unrank(li.dataset.value);
      const rest = [...rankedEl.querySelectorAll('.tc-rank-item')];
      (rest[Math.min(at, rest.length - 1)] || env.box()).focus();
    }
  });
  paint();
  return {
    el: root,
    keys: options.length,
    key: (i) => apply(value.key(i)),
    moveFocused(step) {
      const li = document.activeElement?.closest?.('.tc-rank-item');
      if (li && rankedEl.contains(li)) move(li.dataset.value, step);
    },
    read: () => value.read(),
    getState: () => value.getState(),
    setState(s) { value.setState(s); paint(); },
  };
}

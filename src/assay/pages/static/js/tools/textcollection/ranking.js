// The ranking widget: ranked places (an <ol>) above the pool of choices still to rank.
// Choice keys rank in order (again: take back); on a focused ranked item ↑/↓ move the
// focus, Alt+↑/↓ (the tool's hotkeys, through moveFocused) move the item, Delete takes
// it back; the mouse drags between pool and places. The order itself is a RankingValue.
import { h } from '../../api.js';
import { RankingValue } from './values.js';

class RankingWidget {
  constructor(f, env) {
    this.env = env;
    this.value = new RankingValue(f);
    this.keys = this.value.options.length;
    this.dragged = null; // the choice being dragged
    this.rankedEl = h('ol', { class: 'tc-ranked', 'aria-label': `${f.title}: ranked` });
    this.poolEl = h('div', { class: 'tc-pool choices', 'aria-label': `${f.title}: to rank` });
    const { places, options } = this.value;
    this.el = h('div', { class: 'tc-ranking' }, this.rankedEl,
      h('div', { class: 'tc-pool-box' }, h('span', { class: 'hint' }, 'To rank: '), this.poolEl),
      h('p', { class: 'hint tc-hint' }, places < options.length ? `Rank your top ${places} of ${options.length}. ` : 'Rank every choice, best first. ',
        'Press the keys in order or drag; on a ranked item ', h('kbd', {}, 'Alt+↑'), h('kbd', {}, 'Alt+↓'), ' move it, ',
        h('kbd', {}, 'Del'), ' takes it back.'));
    this.rankedEl.addEventListener('dragover', (ev) => { if (this.dragged) { ev.preventDefault(); ev.dataTransfer.dropEffect = 'move'; } });
    this.rankedEl.addEventListener('drop', (ev) => this.dropOnPlaces(ev));
    this.poolEl.addEventListener('dragover', (ev) => { if (this.dragged && this.value.ranked.includes(this.dragged)) ev.preventDefault(); });
    this.poolEl.addEventListener('drop', (ev) => this.dropOnPool(ev));
    this.el.addEventListener('keydown', (ev) => this.onKeydown(ev));
    this.paint();
  }

  keyOf(v) { return this.env.keys[this.value.options.findIndex((o) => o.value === v)]; }

  // a change to the value: its message, or repaint (focusing `focusValue`) and one undo step
  apply(got, focusValue) {
    if (got.error) { this.env.say(got.error); return; }
    if (!got.changed) return;
    this.env.say('');
    this.paint(focusValue);
    this.env.changed();
  }

  draggable(el, v) {
    el.addEventListener('dragstart', (ev) => { this.dragged = v; ev.dataTransfer.setData('text/plain', v); ev.dataTransfer.effectAllowed = 'move'; });
    el.addEventListener('dragend', () => { this.dragged = null; });
    return el;
  }

  item(v, i) {
    const { value } = this;
    const action = (title, label, text, fn, cls = 'link') => h('button', { type: 'button', class: cls, tabindex: '-1', title, 'aria-label': label, onclick: fn }, text);
    return this.draggable(h('li', { class: 'tc-rank-item', tabindex: '-1', draggable: 'true', dataset: { value: v } },
      h('span', { class: 'tc-rank-pos' }, value.placeName(i)), ' ',
      this.keyOf(v) ? h('kbd', {}, this.keyOf(v)) : null, ' ', h('span', { class: 'tc-rank-label' }, value.labelOf(v)),
      h('span', { class: 'tc-rank-actions' },
        action('Move up (Alt+↑)', 'Move up', '↑', () => this.apply(value.move(v, -1), v)),
        action('Move down (Alt+↓)', 'Move down', '↓', () => this.apply(value.move(v, 1), v)),
        action('Unrank (Del)', 'Unrank', '×', () => this.apply(value.unrank(v)), 'link danger'))), v);
  }

  slot(i) {
    return h('li', { class: 'tc-rank-slot', dataset: { slot: String(i) } },
      h('span', { class: 'tc-rank-pos' }, this.value.placeName(i)), ' ', h('span', { class: 'hint' }, 'drop or press a key'));
  }

  poolItem(o) {
    const b = h('button', { type: 'button', class: 'choice tc-pool-item', tabindex: '-1', draggable: 'true', dataset: { value: o.value } },
      this.keyOf(o.value) ? h('kbd', {}, this.keyOf(o.value)) : null, ' ', o.label);
    b.addEventListener('click', () => this.apply(this.value.add(o.value)));
    return this.draggable(b, o.value);
  }

  paint(focusValue) {
    const { ranked, places } = this.value;
    this.rankedEl.replaceChildren(...ranked.map((v, i) => this.item(v, i)),
      ...Array.from({ length: Math.max(0, places - ranked.length) }, (_, j) => this.slot(ranked.length + j)));
    const pool = this.value.unranked().map((o) => this.poolItem(o));
    this.poolEl.replaceChildren(...(pool.length ? pool : [h('span', { class: 'hint' }, 'All ranked.')]));
    if (focusValue !== undefined) this.rankedEl.querySelector(`.tc-rank-item[data-value="${CSS.escape(focusValue)}"]`)?.focus();
  }

  dropOnPlaces(ev) {
    const { dragged, value } = this;
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
    this.dragged = null;
    this.apply(value.dropAt(dragged, index));
  }

  dropOnPool(ev) {
    const { dragged } = this;
    if (!dragged || !this.value.ranked.includes(dragged)) return;
    ev.preventDefault();
    this.dragged = null;
    this.apply(this.value.unrank(dragged));
  }

  onKeydown(ev) {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return; // Alt+↑/↓ are tool hotkeys
    const li = ev.target.closest?.('.tc-rank-item');
    const items = [...this.rankedEl.querySelectorAll('.tc-rank-item')];
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      if (!items.length) return;
      ev.preventDefault();
      const at = items.indexOf(li);
      const next = at < 0 ? 0 : Math.max(0, Math.min(items.length - 1, at + (ev.key === 'ArrowDown' ? 1 : -1)));
      items[next].focus();
    } else if (li && (ev.key === 'Delete' || ev.key === 'Backspace')) {
      ev.preventDefault();
      const at = items.indexOf(li);
      this.apply(this.value.unrank(li.dataset.value));
      const rest = [...this.rankedEl.querySelectorAll('.tc-rank-item')];
      (rest[Math.min(at, rest.length - 1)] || this.env.box()).focus();
    }
  }

  // ---------------------------------------------------------------- the widget interface
  key(i) { this.apply(this.value.key(i)); }

  moveFocused(step) {
    const li = document.activeElement?.closest?.('.tc-rank-item');
    if (li && this.rankedEl.contains(li)) this.apply(this.value.move(li.dataset.value, step), li.dataset.value);
  }

  read() { return this.value.read(); }
  getState() { return this.value.getState(); }
  setState(s) { this.value.setState(s); this.paint(); }
}

export const ranking = (f, env) => new RankingWidget(f, env);

// namedentityrecognition: select spans of the text and give each one a label; link
// labeled spans with relationships when the task defines them.
//
// Mouse: drag over text (the selection snaps to whole words), then click a label or
// press its key. Keyboard: ←/→ move a word caret (the caret word is the selection),
// Shift+←/→ extend it, a label key labels it. ↑/↓ walk the annotations and relations,
// Delete/Backspace removes the selected one, a label key relabels the selected
// annotation. L links: select the source, press L, pick the target (↑/↓ or a click),
// press L again, then the relationship name's key when there is a choice.
//
// Offsets are Python string indices (code points), not JavaScript's UTF-16 indices:
// the text is handled as an array of code points throughout.
import { h } from '../api.js';

const PALETTE = ['#f6c945', '#72c1f7', '#9edb7c', '#ff9fb2', '#c3a4ff', '#ffb26b', '#5fdccb', '#d9d96a', '#f39be0', '#9fb3ff',
  '#e8a87c', '#a0d2a0'];
const LINK_KEY = 'l';

function randomId() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

// Words (letters, digits, marks, _) are one token; any other non-space character is a token of its own.
function tokenize(cps) {
  const tokens = [];
  let i = 0;
  const isSpace = (c) => /\s/u.test(c);
  const isWord = (c) => /[\p{L}\p{N}\p{M}_]/u.test(c);
  while (i < cps.length) {
    if (isSpace(cps[i])) { i += 1; continue; }
    if (isWord(cps[i])) {
      const start = i;
      while (i < cps.length && isWord(cps[i])) i += 1;
      tokens.push({ start, end: i });
    } else {
      tokens.push({ start: i, end: i + 1 });
      i += 1;
    }
  }
  return tokens;
}

// The label tree, flattened in order: [{name, title, depth}].
function flattenLabels(labels, depth = 0, out = []) {
  for (const label of labels || []) {
    const item = typeof label === 'string' ? { name: label } : label;
    if (!item || typeof item.name !== 'string') continue;
    out.push({ name: item.name, title: item.display_name || item.name, depth, description: item.description || '' });
    flattenLabels(item.children, depth + 1, out);
  }
  return out;
}

function childrenMap(labels, parent = null, map = new Map()) {
  for (const label of labels || []) {
    const item = typeof label === 'string' ? { name: label } : label;
    if (!item || typeof item.name !== 'string') continue;
    if (parent !== null) map.set(parent, [...(map.get(parent) || []), item.name]);
    childrenMap(item.children, item.name, map);
  }
  return map;
}

export default {
  mount(el, task, ctx) {
    const p = task.params;
    const text = String(p.text ?? '');
    const cps = Array.from(text); // code points: cps.length is Python's len(text)
    const slice = (s, e) => cps.slice(s, e).join('');
    const tokens = tokenize(cps);
    const labels = flattenLabels(p.labels);
    const byName = new Map(labels.map((l, i) => [l.name, { ...l, color: PALETTE[i % PALETTE.length] }]));
    const kids = childrenMap(p.labels);
    const allowOverlap = !!p.allow_overlap;
    const definitions = Array.isArray(p.relationships) ? p.relationships : [];
    const hasRelations = definitions.length > 0;
    const labelKeys = ctx.freeKeys.filter((k) => k !== LINK_KEY);

    // ------------------------------------------------------------------ state
    // anns: [{k, id, start, end, label, extra}] in answer order; rels: [{k, id, source, target, name, extra}]
    // (source/target are annotation keys k). getState()/setState() carry exactly these.
    let anns = [];
    let rels = [];
    let serial = 0;
    const nextKey = () => `k${++serial}`;

    // ui state (not undone)
    let caret = -1; // token index
    let sel = null; // {a, f}: pending selection, token indexes
    let selected = null; // {kind: 'ann'|'rel', k}
    let link = null; // {source, target?, names?}: choosing a relationship
    let message = '';

    function loadAnswer(answer) {
      anns = [];
      rels = [];
      const idToKey = new Map();
      for (const a of answer?.annotations || []) {
        if (!a || !Number.isInteger(a.start) || !Number.isInteger(a.end) || a.end <= a.start || a.end > cps.length) continue;
        const { id, start, end, label, text: _t, ...extra } = a;
        const k = nextKey();
        if (typeof id === 'string') idToKey.set(id, k);
        anns.push({ k, id: typeof id === 'string' ? id : null, start, end, label, extra });
      }
      for (const r of answer?.relationships || []) {
        if (!r || !idToKey.has(r.source_ref) || !idToKey.has(r.target_ref)) continue;
        const { id, source_ref: s, target_ref: t, name, ...extra } = r;
        rels.push({ k: nextKey(), id: typeof id === 'string' ? id : null, source: idToKey.get(s), target: idToKey.get(t),
          name: name ?? null, extra });
      }
    }
    loadAnswer(ctx.initial);

    const annByKey = (k) => anns.find((a) => a.k === k);
    const sortedAnns = () => [...anns].sort((x, y) => x.start - y.start || x.end - y.end || anns.indexOf(x) - anns.indexOf(y));
    const labelOf = (name) => byName.get(name) || { name, title: name, color: '#ccc' };
    const describe = (a) => `“${slice(a.start, a.end)}” (${labelOf(a.label).title})`;

    function freshId() {
      const used = new Set([...anns.map((a) => a.id), ...rels.map((r) => r.id)]);
      let id = randomId();
      while (used.has(id)) id = randomId();
      return id;
    }

    // ------------------------------------------------------------------ dom
    const textEl = h('div', { class: 'ner-text', 'aria-label': 'Text to label' });
    const messageEl = h('p', { class: 'ner-message error', role: 'alert' });
    const selectionEl = h('p', { class: 'ner-selection hint' });
    const paletteEl = h('div', { class: 'ner-labels choices', role: 'group', 'aria-label': 'Labels' });
    const annListEl = h('ol', { class: 'ner-list ner-annotations' });
    const relListEl = h('ol', { class: 'ner-list ner-relations' });
    const relPickerEl = h('div', { class: 'ner-relpicker choices', role: 'group', 'aria-label': 'Relationship' });
    const annCount = h('span', { class: 'ner-count' });
    const relCount = h('span', { class: 'ner-count' });

    const labelButtons = labels.map((label, i) => {
      const key = labelKeys[i];
      const color = labelOf(label.name).color;
      const swatch = h('span', { class: 'ner-swatch' });
      swatch.style.background = color;
      const b = h('button', { type: 'button', class: 'choice ner-label', dataset: { label: label.name }, title: label.description || null },
        key ? h('kbd', {}, key) : null, ' ', swatch, label.title);
      if (label.depth) b.style.marginLeft = `${label.depth * 0.75}rem`;
      b.addEventListener('click', () => applyLabel(label.name));
      if (key) ctx.hotkey(key, `Label the selection “${label.title}” (or relabel the selected annotation)`, () => labelKey(i));
      return b;
    });
    paletteEl.append(...labelButtons);

    const keysHint = h('p', { class: 'hint ner-keys' },
      'Drag over text or use ', h('kbd', {}, '←'), h('kbd', {}, '→'), ' (', h('kbd', {}, 'Shift'), ' to extend), then a label key. ',
      h('kbd', {}, '↑'), h('kbd', {}, '↓'), ' select an annotation, ', h('kbd', {}, 'Del'), ' removes it',
      hasRelations ? [', ', h('kbd', {}, 'L'), ' links it to another'] : null, ', ', h('kbd', {}, 'Esc'), ' cancels.',
      allowOverlap ? ' Spans may overlap.' : ' Spans may not overlap.');

    el.append(
      h('div', { class: 'ner-layout' },
        h('div', { class: 'ner-main' }, paletteEl, keysHint, textEl, selectionEl, messageEl, relPickerEl),
        h('aside', { class: 'ner-side' },
          h('h3', {}, 'Annotations ', annCount), annListEl,
          hasRelations ? [h('h3', {}, 'Relations ', relCount), relListEl] : null)),
    );

    // ------------------------------------------------------------------ painting
    function selRange() {
      if (!sel) return null;
      const lo = Math.min(sel.a, sel.f);
      const hi = Math.max(sel.a, sel.f);
      return { start: tokens[lo].start, end: tokens[hi].end };
    }

    function paintText() {
      const range = selRange();
      const cuts = new Set([0, cps.length]);
      for (const t of tokens) { cuts.add(t.start); cuts.add(t.end); }
      for (const a of anns) { cuts.add(a.start); cuts.add(a.end); }
      const points = [...cuts].sort((x, y) => x - y);
      const caretTok = tokens[caret];
      const selectedAnn = selected?.kind === 'ann' ? selected.k : null;
      // the pieces are rebuilt only when the cut points change (keeps a double-click's target in place)
      const signature = points.join(',');
      const reuse = signature === textEl.dataset.cuts;
      const pieces = reuse ? [...textEl.children] : [];
      for (let i = 0; i + 1 < points.length; i += 1) {
        const s = points[i];
        const e = points[i + 1];
        let span = pieces[i];
        if (!reuse) {
          span = h('span', { class: 'ner-piece', dataset: { s: String(s), e: String(e) } }, slice(s, e));
          pieces.push(span);
        }
        span.className = 'ner-piece';
        span.style.removeProperty('--ner-color');
        span.style.removeProperty('--ner-color2');
        delete span.dataset.tags;
        const covering = anns.filter((a) => a.start <= s && e <= a.end);
        if (covering.length) {
          // the innermost (shortest) span shows its colour; a second one underlines
          covering.sort((x, y) => (x.end - x.start) - (y.end - y.start));
          span.classList.add('ner-ann');
          span.style.setProperty('--ner-color', labelOf(covering[0].label).color);
          if (covering.length > 1) {
            span.classList.add('ner-multi');
            span.style.setProperty('--ner-color2', labelOf(covering[1].label).color);
          }
          if (covering.some((a) => a.k === selectedAnn)) span.classList.add('ner-selected');
          if (link && covering.some((a) => a.k === link.source)) span.classList.add('ner-source');
          const ending = anns.filter((a) => a.end === e && covering.includes(a));
          if (ending.length) span.dataset.tags = ending.map((a) => labelOf(a.label).title).join(' · ');
        }
        if (range && range.start <= s && e <= range.end) span.classList.add('ner-pending');
        if (!range && caretTok && caretTok.start <= s && e <= caretTok.end) span.classList.add('ner-caret');
      }
      if (!reuse) {
        textEl.replaceChildren(...pieces);
        textEl.dataset.cuts = signature;
      }
    }

    function paintLists() {
      annCount.textContent = `(${anns.length})`;
      const rows = sortedAnns().map((a) => {
        const swatch = h('span', { class: 'ner-swatch' });
        swatch.style.background = labelOf(a.label).color;
        const row = h('li', { class: 'ner-item', dataset: { k: a.k } },
          swatch, h('span', { class: 'ner-item-text' }, `“${slice(a.start, a.end)}”`), ' ',
          h('span', { class: 'ner-item-label' }, labelOf(a.label).title),
          h('span', { class: 'ner-item-offsets muted' }, ` ${a.start}–${a.end}`),
          h('span', { class: 'ner-item-actions' },
            hasRelations ? h('button', { type: 'button', class: 'link ner-link', title: 'Link to another annotation (L)',
              onclick: (ev) => { ev.stopPropagation(); select({ kind: 'ann', k: a.k }); startLink(); } }, 'link') : null,
            h('button', { type: 'button', class: 'link danger ner-delete', title: 'Delete (Del)', 'aria-label': 'Delete',
              onclick: (ev) => { ev.stopPropagation(); removeItem({ kind: 'ann', k: a.k }); } }, '×')));
        if (selected?.kind === 'ann' && selected.k === a.k) row.classList.add('selected');
        if (link?.source === a.k) row.classList.add('ner-source');
        row.addEventListener('click', () => pickAnnotation(a.k));
        return row;
      });
      annListEl.replaceChildren(...(rows.length ? rows : [h('li', { class: 'empty' }, 'None yet.')]));
      if (!hasRelations) return;
      relCount.textContent = `(${rels.length})`;
      const relRows = rels.map((r) => {
        const s = annByKey(r.source);
        const t = annByKey(r.target);
        const row = h('li', { class: 'ner-item ner-rel', dataset: { k: r.k } },
          h('span', { class: 'ner-item-text' }, `“${slice(s.start, s.end)}”`), ` ${r.name ? `— ${relTitle(r.name)} →` : '—'} `,
          h('span', { class: 'ner-item-text' }, `“${slice(t.start, t.end)}”`),
          h('span', { class: 'ner-item-actions' },
            h('button', { type: 'button', class: 'link danger ner-delete', title: 'Delete (Del)', 'aria-label': 'Delete',
              onclick: (ev) => { ev.stopPropagation(); removeItem({ kind: 'rel', k: r.k }); } }, '×')));
        if (selected?.kind === 'rel' && selected.k === r.k) row.classList.add('selected');
        row.addEventListener('click', () => { select({ kind: 'rel', k: r.k }); paint(); });
        return row;
      });
      relListEl.replaceChildren(...(relRows.length ? relRows : [h('li', { class: 'empty' }, 'None yet.')]));
    }

    function relTitle(name) {
      const d = definitions.find((x) => x.name === name);
      return d?.display_name || name;
    }

    function paintStatus() {
      const range = selRange();
      let line = '';
      if (link && link.names) line = `Which relationship links ${describe(annByKey(link.source))} to ${describe(annByKey(link.target))}? Press its key.`;
      else if (link) line = `Linking from ${describe(annByKey(link.source))}: pick the target with ↑/↓ and press L, or click it. Esc cancels.`;
      else if (range) line = `Selected “${slice(range.start, range.end)}” (${range.start}–${range.end}): press a label key or click a label.`;
      else if (selected?.kind === 'ann' && annByKey(selected.k)) line = `Annotation ${describe(annByKey(selected.k))}: a label key relabels it, Del removes it.`;
      selectionEl.textContent = line;
      messageEl.textContent = message;
      messageEl.hidden = !message;
      relPickerEl.hidden = !(link && link.names);
      if (link && link.names) {
        relPickerEl.replaceChildren(...link.names.map((name, i) => h('button', { type: 'button', class: 'choice', dataset: { relation: name },
          onclick: () => finishLink(name) }, labelKeys[i] ? h('kbd', {}, labelKeys[i]) : null, ' ', relTitle(name))));
      }
    }

    function paint() {
      paintText();
      paintLists();
      paintStatus();
    }

    function say(text) { message = text; paintStatus(); }

    function select(item) {
      selected = item;
      if (item) sel = null;
    }

    // ------------------------------------------------------------------ edits
    function applyLabel(name) {
      if (link) { say('Finish or cancel (Esc) the relationship first.'); return; }
      const range = selRange();
      if (range) { addAnnotation(range.start, range.end, name); return; }
      const current = selected?.kind === 'ann' ? annByKey(selected.k) : null;
      if (current) {
        if (current.label === name) return;
        current.label = name;
        const broken = rels.filter((r) => (r.source === current.k || r.target === current.k) && !relationFits(r));
        rels = rels.filter((r) => !broken.includes(r));
        message = broken.length ? `Removed ${broken.length} relation(s) that no longer fit the new label.` : '';
        paint();
        ctx.changed();
        return;
      }
      say('Select some text first: drag over it, or move with ←/→ (Shift+←/→ to extend).');
    }

    function labelKey(i) {
      if (link && link.names) {
        if (i < link.names.length) finishLink(link.names[i]);
        return;
      }
      applyLabel(labels[i].name);
    }

    function addAnnotation(start, end, label) {
      const same = anns.find((a) => a.start === start && a.end === end && a.label === label);
      if (same) { say(`“${slice(start, end)}” is already labeled ${labelOf(label).title}.`); return; }
      if (!allowOverlap) {
        const clash = sortedAnns().find((a) => a.start < end && start < a.end);
        if (clash) {
          say(`Overlaps ${describe(clash)}: this task does not allow overlapping spans. Delete that annotation first.`);
          return;
        }
      }
      const ann = { k: nextKey(), id: freshId(), start, end, label, extra: {} };
      anns.push(ann);
      if (sel) caret = Math.max(sel.a, sel.f);
      sel = null;
      selected = { kind: 'ann', k: ann.k };
      message = '';
      paint();
      ctx.changed();
    }

    function removeItem(item) {
      if (!item) return;
      if (item.kind === 'ann') {
        const ann = annByKey(item.k);
        if (!ann) return;
        const orderBefore = sortedAnns();
        const dropped = rels.filter((r) => r.source === item.k || r.target === item.k).length;
        anns = anns.filter((a) => a.k !== item.k);
        rels = rels.filter((r) => r.source !== item.k && r.target !== item.k);
        // keep a selection nearby so Del can be pressed again
        const next = orderBefore[orderBefore.indexOf(ann) + 1] || orderBefore[orderBefore.indexOf(ann) - 1];
        selected = next ? { kind: 'ann', k: next.k } : null;
        message = dropped ? `Also removed ${dropped} relation(s) of ${describe(ann)}.` : '';
      } else {
        if (!rels.some((r) => r.k === item.k)) return;
        rels = rels.filter((r) => r.k !== item.k);
        selected = null;
        message = '';
      }
      if (link) link = null;
      paint();
      ctx.changed();
    }

    // ------------------------------------------------------------------ relationships
    function expand(names) {
      const out = new Set();
      const stack = [...names];
      while (stack.length) {
        const n = stack.pop();
        if (out.has(n)) continue;
        out.add(n);
        stack.push(...(kids.get(n) || []));
      }
      return out;
    }

    function ends(d, side) {
      const names = [];
      if (d[`${side}_label`]) names.push(d[`${side}_label`]);
      names.push(...(d[`${side}_labels`] || []));
      return names.length ? expand(names) : null;
    }

    function fits(d, source, target) {
      const ok = (side, label) => { const e = ends(d, side); return !e || e.has(label); };
      if (ok('source', source) && ok('target', target)) return true;
      return !d.is_directed && ok('source', target) && ok('target', source);
    }

    function relationFits(r) {
      const s = annByKey(r.source);
      const t = annByKey(r.target);
      if (!s || !t) return false;
      const candidates = r.name ? definitions.filter((d) => d.name === r.name) : definitions;
      return candidates.some((d) => fits(d, s.label, t.label));
    }

    function startLink() {
      if (!hasRelations) return;
      if (link && !link.names) { // L again: the selected annotation is the target
        if (selected?.kind === 'ann' && selected.k !== link.source) chooseTarget(selected.k);
        else say('Pick a different annotation as the target (↑/↓ or click), then press L.');
        return;
      }
      const source = selected?.kind === 'ann' ? annByKey(selected.k) : null;
      if (!source) { say('Select the source annotation first (↑/↓ or click it), then press L.'); return; }
      if (anns.length < 2) { say('A relationship needs two annotations.'); return; }
      link = { source: source.k };
      message = '';
      paint();
    }

    function chooseTarget(k) {
      const s = annByKey(link.source);
      const t = annByKey(k);
      const fitting = definitions.filter((d) => fits(d, s.label, t.label));
      if (!fitting.length) {
        link = null;
        selected = { kind: 'ann', k: s.k };
        message = `No relationship of this task links ${labelOf(s.label).title} to ${labelOf(t.label).title}.`;
        paint();
        return;
      }
      const names = [...new Set(fitting.map((d) => d.name).filter(Boolean))];
      if (names.length > 1) {
        link = { source: s.k, target: t.k, names };
        message = '';
        paint();
        return;
      }
      link = { source: s.k, target: t.k };
      finishLink(names[0] || null);
    }

    function finishLink(name) {
      const { source, target } = link;
      link = null;
      if (rels.some((r) => r.source === source && r.target === target && (r.name || null) === (name || null))) {
        message = 'That relation is already there.';
        paint();
        return;
      }
      for (const k of [source, target]) {
        const a = annByKey(k);
        if (!a.id) a.id = freshId();
      }
      const rel = { k: nextKey(), id: freshId(), source, target, name: name || null, extra: {} };
      rels.push(rel);
      selected = { kind: 'rel', k: rel.k };
      message = '';
      paint();
      ctx.changed();
    }

    // clicking an annotation (text or list): the target while linking, else select it
    function pickAnnotation(k) {
      if (link && !link.names) {
        if (k === link.source) { say('Pick a different annotation as the target.'); return; }
        chooseTarget(k);
        return;
      }
      select({ kind: 'ann', k });
      message = '';
      paint();
    }

    // ------------------------------------------------------------------ keyboard
    function moveCaret(step, extend) {
      if (!tokens.length || link?.names) return;
      if (extend) {
        if (!sel) {
          const at = caret >= 0 ? caret : 0;
          sel = { a: at, f: at };
          if (caret >= 0) sel.f = Math.max(0, Math.min(tokens.length - 1, at + step));
        } else {
          sel.f = Math.max(0, Math.min(tokens.length - 1, sel.f + step));
        }
        caret = sel.f;
      } else {
        const base = sel ? sel.f : caret;
        caret = base < 0 ? (step > 0 ? 0 : tokens.length - 1) : Math.max(0, Math.min(tokens.length - 1, base + step));
        sel = { a: caret, f: caret };
      }
      if (!link) selected = null;
      message = '';
      paint();
      textEl.querySelector('.ner-pending')?.scrollIntoView({ block: 'nearest' });
    }

    function walk(step) {
      if (link?.names) return;
      let items = sortedAnns().map((a) => ({ kind: 'ann', k: a.k }));
      if (link) items = items.filter((i) => i.k !== link.source);
      else items.push(...rels.map((r) => ({ kind: 'rel', k: r.k })));
      if (!items.length) return;
      const at = items.findIndex((i) => selected && i.kind === selected.kind && i.k === selected.k);
      const next = at < 0 ? (step > 0 ? 0 : items.length - 1) : (at + step + items.length) % items.length;
      select(items[next]);
      message = '';
      paint();
      el.querySelector(`.ner-item[data-k="${items[next].k}"]`)?.scrollIntoView({ block: 'nearest' });
    }

    function escape() {
      if (link) { link = null; message = ''; paint(); return; }
      sel = null;
      selected = null;
      message = '';
      paint();
    }

    ctx.hotkey('ArrowRight', 'Select the next word', () => moveCaret(1, false), { display: '→' });
    ctx.hotkey('ArrowLeft', 'Select the previous word', () => moveCaret(-1, false), { display: '←' });
    ctx.hotkey('Shift+ArrowRight', 'Extend the selection by a word', () => moveCaret(1, true), { display: 'Shift+→' });
    ctx.hotkey('Shift+ArrowLeft', 'Shrink/extend the selection to the left', () => moveCaret(-1, true), { display: 'Shift+←' });
    ctx.hotkey('ArrowDown', hasRelations ? 'Next annotation or relation' : 'Next annotation', () => walk(1), { display: '↓' });
    ctx.hotkey('ArrowUp', hasRelations ? 'Previous annotation or relation' : 'Previous annotation', () => walk(-1), { display: '↑' });
    ctx.hotkey('Delete', 'Delete the selected annotation or relation', () => removeItem(selected), { display: 'Del' });
    ctx.hotkey('Backspace', 'Delete the selected annotation or relation', () => removeItem(selected));
    ctx.hotkey('Escape', 'Cancel the selection or the relationship being made', () => escape(), { display: 'Esc' });
    if (hasRelations) ctx.hotkey(LINK_KEY, 'Link the selected annotation to another (press again on the target)', () => startLink(), { display: 'L' });

    // ------------------------------------------------------------------ mouse
    function pieceOf(node) {
      const elNode = node.nodeType === Node.TEXT_NODE ? node.parentElement : node;
      return elNode?.closest?.('.ner-piece') || null;
    }

    function pointToOffset(node, offset) {
      if (node === textEl) {
        const child = textEl.childNodes[offset];
        return child ? Number(child.dataset.s) : cps.length;
      }
      const piece = pieceOf(node);
      if (!piece || !textEl.contains(piece)) return null;
      if (node.nodeType === Node.TEXT_NODE) return Number(piece.dataset.s) + Array.from(node.data.slice(0, offset)).length;
      return offset === 0 ? Number(piece.dataset.s) : Number(piece.dataset.e);
    }

    function offsetAtPoint(x, y) {
      if (document.caretPositionFromPoint) {
        const pos = document.caretPositionFromPoint(x, y);
        return pos ? pointToOffset(pos.offsetNode, pos.offset) : null;
      }
      const range = document.caretRangeFromPoint?.(x, y);
      return range ? pointToOffset(range.startContainer, range.startOffset) : null;
    }

    let down = null;
    textEl.addEventListener('mousedown', (event) => { down = { x: event.clientX, y: event.clientY }; });
    textEl.addEventListener('mouseup', (event) => {
      const selection = window.getSelection();
      let a = null;
      let b = null;
      let dragged = false;
      if (selection && !selection.isCollapsed && selection.rangeCount) {
        const range = selection.getRangeAt(0);
        a = pointToOffset(range.startContainer, range.startOffset);
        b = pointToOffset(range.endContainer, range.endOffset);
        dragged = true;
      } else if (down && Math.hypot(event.clientX - down.x, event.clientY - down.y) > 4) {
        // a drag that ended on a label tag leaves no selection: use the points instead
        a = offsetAtPoint(down.x, down.y);
        b = offsetAtPoint(event.clientX, event.clientY);
        dragged = a !== null && b !== null && a !== b;
      }
      down = null;
      if (dragged) {
        selection?.removeAllRanges();
        if (a === null || b === null) return;
        const start = Math.min(a, b);
        const end = Math.max(a, b);
        const first = tokens.findIndex((t) => t.end > start);
        let last = -1;
        tokens.forEach((t, i) => { if (t.start < end) last = i; });
        if (first < 0 || last < first) return; // only spaces
        if (link) { say('Finish or cancel (Esc) the relationship first.'); return; }
        sel = { a: first, f: last };
        caret = last;
        selected = null;
        message = '';
        paint();
        return;
      }
      const piece = pieceOf(event.target);
      if (!piece) return;
      const s = Number(piece.dataset.s);
      const covering = sortedAnns().filter((x) => x.start <= s && s < x.end).sort((x, y) => (x.end - x.start) - (y.end - y.start));
      if (covering.length) {
        // clicking again on stacked spans walks through them
        const at = covering.findIndex((x) => selected?.kind === 'ann' && x.k === selected.k);
        const pick = covering[at >= 0 && !link ? (at + 1) % covering.length : 0];
        pickAnnotation(link && pick.k === link.source && covering.length > 1 ? covering[1].k : pick.k);
        return;
      }
      if (link) return;
      const t = tokens.findIndex((x) => x.start <= s && s < x.end);
      sel = null;
      selected = null;
      if (t >= 0) caret = t;
      message = '';
      paint();
    });

    paint();

    // ------------------------------------------------------------------ interface
    return {
      getResponse() {
        if (link) throw new Error('Finish or cancel (Esc) the relationship you started first.');
        const annotations = anns.map((a) => {
          const out = { ...a.extra, start: a.start, end: a.end, text: slice(a.start, a.end), label: a.label };
          if (a.id) out.id = a.id;
          return out;
        });
        const relationships = rels.map((r) => {
          const out = { ...r.extra, source_ref: annByKey(r.source).id, target_ref: annByKey(r.target).id };
          if (r.id) out.id = r.id;
          if (r.name) out.name = r.name;
          return out;
        });
        return { annotations, relationships };
      },
      getState() {
        return { anns: structuredClone(anns), rels: structuredClone(rels) };
      },
      setState(state) {
        anns = structuredClone(state.anns || []);
        rels = structuredClone(state.rels || []);
        for (const item of [...anns, ...rels]) serial = Math.max(serial, Number(String(item.k).slice(1)) || 0);
        if (selected && !(selected.kind === 'ann' ? annByKey(selected.k) : rels.some((r) => r.k === selected.k))) selected = null;
        sel = null;
        link = null;
        message = '';
        paint();
      },
    };
  },
};

// Keys and mouse of the named-entity tool: each event becomes one editing-session call,
// then the view is repainted and, when the answer changed, ctx.changed() records an undo
// step. Mouse positions become code-point offsets through the pieces' data-s/data-e.
export const LINK_KEY = 'l';

export function bindInput(editor, view, ctx, labelKeys) {
  const doc = editor.answer;
  // an editing call, then repaint (and `after`, e.g. scrolling); an edit is one undo step
  const act = (fn, after) => (...args) => {
    const result = fn(...args);
    view.paint();
    after?.(result);
    if (result === true) ctx.changed();
  };

  const actions = {
    label: act((name) => editor.applyLabel(name)),
    pick: act((k) => editor.pickAnnotation(k)),
    selectRelation: act((k) => editor.selectRelation(k)),
    remove: act((item) => editor.removeItem(item)),
    link: act((k) => { editor.select({ kind: 'ann', k }); return editor.startLink(); }),
    finishLink: act((name) => editor.finishLink(name)),
  };

  doc.labels.forEach((label, i) => {
    const key = labelKeys[i];
    if (key) ctx.hotkey(key, `Label the selection “${label.title}” (or relabel the selected annotation)`, act(() => editor.labelKey(i)));
  });
  const caret = (step, extend) => act(() => editor.moveCaret(step, extend), () => view.scrollToPending());
  const walk = (step) => act(() => editor.walk(step), (item) => item && view.scrollToItem(item.k));
  const removeSelected = act(() => editor.removeItem(editor.selected));
  const rels = doc.hasRelations;
  ctx.hotkey('ArrowRight', 'Select the next word', caret(1, false), { display: '→' });
  ctx.hotkey('ArrowLeft', 'Select the previous word', caret(-1, false), { display: '←' });
  ctx.hotkey('Shift+ArrowRight', 'Extend the selection by a word', caret(1, true), { display: 'Shift+→' });
  ctx.hotkey('Shift+ArrowLeft', 'Shrink/extend the selection to the left', caret(-1, true), { display: 'Shift+←' });
  ctx.hotkey('ArrowDown', rels ? 'Next annotation or relation' : 'Next annotation', walk(1), { display: '↓' });
  ctx.hotkey('ArrowUp', rels ? 'Previous annotation or relation' : 'Previous annotation', walk(-1), { display: '↑' });
  ctx.hotkey('Delete', 'Delete the selected annotation or relation', removeSelected, { display: 'Del' });
  ctx.hotkey('Backspace', 'Delete the selected annotation or relation', removeSelected);
  ctx.hotkey('Escape', 'Cancel the selection or the relationship being made', act(() => editor.escape()), { display: 'Esc' });
  if (rels) ctx.hotkey(LINK_KEY, 'Link the selected annotation to another (press again on the target)', act(() => editor.startLink()), { display: 'L' });

  bindMouse(editor, view, act);
  return actions;
}

function bindMouse(editor, view, act) {
  const { textEl } = view;
  const length = editor.answer.cps.length;
  const pieceOf = (node) => {
    const elNode = node.nodeType === Node.TEXT_NODE ? node.parentElement : node;
    return elNode?.closest?.('.ner-piece') || null;
  };

  // a DOM point (node, offset) in the text → a code-point offset, or null outside it
  function pointToOffset(node, offset) {
    if (node === textEl) {
      const child = textEl.childNodes[offset];
      return child ? Number(child.dataset.s) : length;
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

  const selectBetween = act((a, b) => editor.selectBetween(a, b));
  const clickAt = act((offset) => editor.clickAt(offset));
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
      if (a !== null && b !== null) selectBetween(a, b);
      return;
    }
    const piece = pieceOf(event.target);
    if (piece) clickAt(Number(piece.dataset.s));
  });
}

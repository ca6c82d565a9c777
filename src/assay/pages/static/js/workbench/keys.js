// Which key binding an event runs. Pure: works on plain {key, ctrlKey, …} objects, so the
// rules (the shell's keys first, single keys never fire inside a text box, Enter in a
// textarea is a newline) are tested in Node.

// Keys the shell owns; tools get the rest (digits first).
export function shellKeys(mode) {
  return mode === 'review' ? ['a', 'f', 'r', 'i', '?'] : ['s', 'b', 'i', '?'];
}

export function freeKeys(mode) {
  const taken = shellKeys(mode);
  return '1234567890qwetyuopdghjklzxcvnm'.split('').filter((k) => !taken.includes(k));
}

// 'Ctrl+Shift+ArrowUp', 'Ctrl+z', '?': modifiers in a fixed order, letters lower case.
// Shift is named only for non-printing keys ('?' already says it).
export function comboOf(event) {
  let key = event.key;
  if (key.length === 1) key = key.toLowerCase();
  const mods = [];
  if (event.ctrlKey || event.metaKey) mods.push('Ctrl');
  if (event.altKey) mods.push('Alt');
  if (event.shiftKey && event.key.length > 1) mods.push('Shift');
  return [...mods, key].join('+');
}

// A binding as the help dialog lists it and the dispatcher matches it.
export function binding(key, label, fn, opts = {}) {
  return { key: key.length === 1 ? key.toLowerCase() : key, label, fn, inText: !!opts.inText, display: opts.display || key };
}

// The first binding that runs for `combo`, or null. In a text box only bindings made for
// it run (Ctrl+ keys, Enter), and a textarea keeps plain Enter for new lines.
export function findBinding(bindings, combo, { inText = false, inTextarea = false } = {}) {
  for (const b of bindings) {
    if (b.key !== combo) continue;
    if (inText && !b.inText) continue;
    if (inText && inTextarea && combo === 'Enter') continue;
    return b;
  }
  return null;
}

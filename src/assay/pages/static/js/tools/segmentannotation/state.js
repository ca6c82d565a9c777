// The segmentation answer without the DOM (tested in Node): one class-index mask the size
// of the image (0: unlabeled), painted with a brush or eraser, filled by polygon, set from
// an assist's region (GrabCut); the classes (a label each, and one per instance for the
// task's instance labels) with their index and colour; row-major runs for snapshots and
// for the upload that turns the mask into Scale's PNG files.

const COLORS = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#bfef45', '#fabed4', '#469990',
  '#dcbeff', '#9a6324', '#800000', '#aaffc3', '#808000', '#000075'];

// The labels one paints with: strings and choices; a choice with subchoices paints as its
// subchoices (the most specific names).
export function leafLabels(items, out = []) {
  for (const item of items || []) {
    if (typeof item === 'string') out.push(item);
    else if (item && typeof item === 'object') {
      if (Array.isArray(item.subchoices) && item.subchoices.length) leafLabels(item.subchoices, out);
      else if (typeof item.choice === 'string') out.push(item.choice);
    }
  }
  return out;
}

// Row-major runs [[value, length], …] of a typed array, and back.
export function encodeRuns(mask) {
  const runs = [];
  let value = mask[0];
  let length = 0;
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] === value) { length += 1; continue; }
    runs.push([value, length]);
    value = mask[i];
    length = 1;
  }
  if (mask.length) runs.push([value, length]);
  return runs;
}

export function decodeRuns(runs, size) {
  const mask = new Uint16Array(size);
  let at = 0;
  for (const [value, length] of runs) { mask.fill(value, at, Math.min(size, at + length)); at += length; }
  return mask;
}

export class MaskAnswer {
  constructor(params, width, height) {
    this.labels = leafLabels(params?.labels);
    this.instanceLabels = new Set((params?.instance_labels || []).filter((l) => this.labels.includes(l)));
    this.width = width;
    this.height = height;
    this.mask = new Uint16Array(width * height);
    // classes: [{index, label, color}]; one per label, more for instances
    this.classes = this.labels.map((label, i) => ({ index: i + 1, label, color: COLORS[i % COLORS.length] }));
    this.current = this.classes[0]?.index || 1;
    this.hidden = new Set(); // indices not shown
  }

  classOf(index) { return this.classes.find((c) => c.index === index) || null; }
  currentClass() { return this.classOf(this.current); }

  // A label key: paint with that label (its latest instance for an instance label).
  chooseLabel(label) {
    const mine = this.classes.filter((c) => c.label === label);
    if (!mine.length) return false;
    this.current = mine[mine.length - 1].index;
    return true;
  }

  // A new instance of the current instance label; returns it (null for semantic labels).
  newInstance() {
    const cls = this.currentClass();
    if (!cls || !this.instanceLabels.has(cls.label)) return null;
    const index = Math.max(...this.classes.map((c) => c.index)) + 1;
    const made = { index, label: cls.label, color: COLORS[(index - 1) % COLORS.length] };
    this.classes.push(made);
    this.current = index;
    return made;
  }

  // A disc of radius r at (cx, cy): the current class, or 0 when erasing. Returns the
  // changed rectangle {left, top, right, bottom} or null.
  paintDisc(cx, cy, r, erase = false) {
    const value = erase ? 0 : this.current;
    const x0 = Math.max(0, Math.floor(cx - r));
    const x1 = Math.min(this.width - 1, Math.ceil(cx + r));
    const y0 = Math.max(0, Math.floor(cy - r));
    const y1 = Math.min(this.height - 1, Math.ceil(cy + r));
    if (x0 > x1 || y0 > y1) return null;
    const r2 = r * r;
    for (let y = y0; y <= y1; y++) {
      const dy = y + 0.5 - cy;
      for (let x = x0; x <= x1; x++) {
        const dx = x + 0.5 - cx;
        if (dx * dx + dy * dy <= r2) this.mask[y * this.width + x] = value;
      }
    }
    return { left: x0, top: y0, right: x1, bottom: y1 };
  }

  // A stroke from a to b: discs close enough together to leave no gaps.
  paintStroke(a, b, r, erase = false) {
    const steps = Math.max(1, Math.ceil(Math.hypot(b.x - a.x, b.y - a.y) / Math.max(1, r / 2)));
    let box = null;
    for (let i = 0; i <= steps; i++) box = union(box, this.paintDisc(a.x + ((b.x - a.x) * i) / steps, a.y + ((b.y - a.y) * i) / steps, r, erase));
    return box;
  }

  // Fills a polygon (pixel centres inside it, even-odd rule) with the current class.
  fillPolygon(vertices, erase = false) {
    if (vertices.length < 3) return null;
    const value = erase ? 0 : this.current;
    const ys = vertices.map((v) => v.y);
    const y0 = Math.max(0, Math.floor(Math.min(...ys)));
    const y1 = Math.min(this.height - 1, Math.ceil(Math.max(...ys)));
    let box = null;
    for (let y = y0; y <= y1; y++) {
      const yc = y + 0.5;
      const xs = [];
      for (let i = 0, j = vertices.length - 1; i < vertices.length; j = i++) {
        const a = vertices[i];
        const b = vertices[j];
        if ((a.y > yc) !== (b.y > yc)) xs.push(a.x + ((yc - a.y) * (b.x - a.x)) / (b.y - a.y));
      }
      xs.sort((p, q) => p - q);
      for (let k = 0; k + 1 < xs.length; k += 2) {
        const from = Math.max(0, Math.ceil(xs[k] - 0.5));
        const to = Math.min(this.width - 1, Math.floor(xs[k + 1] - 0.5));
        if (from > to) continue;
        this.mask.fill(value, y * this.width + from, y * this.width + to + 1);
        box = union(box, { left: from, top: y, right: to, bottom: y });
      }
    }
    return box;
  }

  // An assist's region (GrabCut): runs over a box, starting with a run of "no"; the
  // "yes" pixels take the current class.
  applyRegion(region) {
    let at = 0;
    let inside = false;
    for (const length of region.runs) {
      if (inside) {
        for (let k = at; k < at + length; k++) {
          const x = region.left + (k % region.width);
          const y = region.top + Math.floor(k / region.width);
          if (x < this.width && y < this.height) this.mask[y * this.width + x] = this.current;
        }
      }
      at += length;
      inside = !inside;
    }
    return { left: region.left, top: region.top, right: region.left + region.width - 1, bottom: region.top + region.height - 1 };
  }

  // Pixels of each class index (for the list and for "nothing painted yet").
  counts() {
    const out = new Map();
    for (const v of this.mask) if (v) out.set(v, (out.get(v) || 0) + 1);
    return out;
  }

  // What the upload sends: the mask as runs and the classes that appear in it.
  uploadBody() {
    const used = this.counts();
    if (!used.size) throw new Error('Paint at least one region first (brush, polygon fill or GrabCut).');
    return { width: this.width, height: this.height, runs: encodeRuns(this.mask), labels: this.classes.filter((c) => used.has(c.index)) };
  }

  // Starts from an indexed image's pixel values and a labelMapping (a previous answer).
  loadIndexed(values, labelMapping) {
    const known = [];
    for (const [label, entry] of Object.entries(labelMapping || {})) {
      for (const item of Array.isArray(entry) ? entry : [entry]) known.push({ index: item.index, label, color: item.color });
    }
    const labelsOk = known.filter((c) => this.labels.includes(c.label));
    // labels the answer did not paint get indices after every index it used
    const base = Math.max(0, ...known.map((k) => k.index));
    if (labelsOk.length) this.classes = [...labelsOk, ...this.classes.filter((c) => !labelsOk.some((k) => k.label === c.label))
      .map((c, i) => ({ ...c, index: base + i + 1 }))];
    const valid = new Set(this.classes.map((c) => c.index));
    for (let i = 0; i < this.mask.length && i < values.length; i++) this.mask[i] = valid.has(values[i]) ? values[i] : 0;
    this.current = this.classes[0]?.index || 1;
  }

  snapshot() { return { runs: encodeRuns(this.mask), classes: this.classes, current: this.current }; }

  restore(saved) {
    this.mask = decodeRuns(saved.runs, this.width * this.height);
    this.classes = saved.classes;
    // undo takes back paint, not the label in hand
    if (!this.classOf(this.current)) this.current = saved.current;
  }
}

function union(a, b) {
  if (!a) return b;
  if (!b) return a;
  return { left: Math.min(a.left, b.left), top: Math.min(a.top, b.top), right: Math.max(a.right, b.right), bottom: Math.max(a.bottom, b.bottom) };
}

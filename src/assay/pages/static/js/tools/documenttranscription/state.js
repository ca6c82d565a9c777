// The document-transcription answer and the page navigation, without the DOM (tested in
// Node). Boxes are in the page image's own pixels (natural size), whatever size it is
// shown at. A page that is not an image (a PDF) is shown in a frame: its page number can
// still move (#page=N for a single PDF) but nothing is drawn there.

// The feature tree, flattened in order: [{label, type, depth}].
export function flattenFeatures(features, depth = 0, out = []) {
  for (const f of features || []) {
    if (!f || typeof f.label !== 'string') continue;
    out.push({ label: f.label, type: f.type, depth });
    flattenFeatures(f.children, depth + 1, out);
  }
  return out;
}

export function newUuid() {
  const c = globalThis.crypto;
  if (c?.randomUUID) return c.randomUUID();
  const b = c.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

// The bounding box of a box or polygon location.
export function bbox(location) {
  if (location?.type === 'box') return { left: location.left, top: location.top, width: location.width, height: location.height };
  const xs = (location?.vertices || []).map((v) => v.x);
  const ys = (location?.vertices || []).map((v) => v.y);
  if (!xs.length) return { left: 0, top: 0, width: 0, height: 0 };
  const left = Math.min(...xs);
  const top = Math.min(...ys);
  return { left, top, width: Math.max(...xs) - left, height: Math.max(...ys) - top };
}

export const looksLikePdf = (url) => /\.pdf$/i.test(String(url).split(/[?#]/)[0]);

// A drag between two image points → a box location in whole pixels, or null when it
// has no area.
export function boxBetween(a, b) {
  const left = Math.round(Math.min(a.x, b.x));
  const top = Math.round(Math.min(a.y, b.y));
  const width = Math.round(Math.max(a.x, b.x)) - left;
  const height = Math.round(Math.max(a.y, b.y)) - top;
  return width < 1 || height < 1 ? null : { type: 'box', left, top, width, height };
}

// The annotations (answer order) and the selected one; `label` is what new boxes get.
export class DocAnswer {
  constructor(features, initial, { uuid = newUuid } = {}) {
    this.features = flattenFeatures(features);
    this.labels = this.features.map((f) => f.label);
    this.featureOf = new Map(this.features.map((f) => [f.label, f]));
    this.uuid = uuid;
    this.state = { annotations: [], selected: null };
    if (Array.isArray(initial?.annotations)) {
      this.state.annotations = JSON.parse(JSON.stringify(initial.annotations)).filter((a) => a && typeof a === 'object');
    }
    this.label = this.labels[0];
  }

  get annotations() { return this.state.annotations; }
  get selected() { return this.state.selected; }
  find(uuid) { return this.annotations.find((a) => a.uuid === uuid) || null; }
  selectedAnn() { return this.find(this.state.selected); }
  needsText(label) { return this.featureOf.get(label)?.type === 'text'; }

  // Selecting a box makes its label the one for new boxes.
  select(uuid) {
    this.state.selected = uuid;
    const ann = this.selectedAnn();
    if (ann) this.label = ann.label;
    return ann;
  }

  add(page, location) {
    const ann = { uuid: this.uuid(), page, label: this.label, text: '', location };
    this.annotations.push(ann);
    this.state.selected = ann.uuid;
    return ann;
  }

  // A label key: the label for new boxes, and the selected box's (true when that changed).
  chooseLabel(label) {
    this.label = label;
    const ann = this.selectedAnn();
    if (!ann || ann.label === label) return false;
    ann.label = label;
    return true;
  }

  relabel(uuid, label) {
    const ann = this.find(uuid);
    if (ann) ann.label = label;
    this.label = label;
  }

  // Removes an annotation and the references to it; the next one (or the last) is selected.
  remove(uuid) {
    const i = this.annotations.findIndex((a) => a.uuid === uuid);
    if (i === -1) return false;
    this.annotations.splice(i, 1);
    for (const a of this.annotations) {
      if (Array.isArray(a.refs)) {
        a.refs = a.refs.filter((r) => r !== uuid);
        if (!a.refs.length) delete a.refs;
      }
    }
    const next = this.annotations[Math.min(i, this.annotations.length - 1)];
    this.state.selected = next ? next.uuid : null;
    return true;
  }

  // ↑/↓ in answer order (clamped); the first when none is selected.
  step(delta) {
    const list = this.annotations;
    if (!list.length) return null;
    const i = list.findIndex((a) => a.uuid === this.state.selected);
    return list[i === -1 ? 0 : Math.max(0, Math.min(list.length - 1, i + delta))].uuid;
  }

  // The smallest box on `page` under an image point (a cell inside its row), or null.
  hitAt(page, point) {
    const area = (a) => { const b = bbox(a.location); return b.width * b.height; };
    const hits = this.annotations.filter((a) => {
      if (a.page !== page) return false;
      const b = bbox(a.location);
      return point.x >= b.left && point.x <= b.left + b.width && point.y >= b.top && point.y <= b.top + b.height;
    }).sort((a, b) => area(a) - area(b));
    return hits.length ? hits[0].uuid : null;
  }

  response() {
    if (!this.annotations.length) throw new Error('Draw a box around each feature first: drag on the page.');
    return {
      annotations: this.annotations.map((a, i) => {
        const text = String(a.text ?? '');
        if (this.needsText(a.label) && !text.trim()) throw new Error(`Type the text of annotation ${i + 1} (“${a.label}”).`);
        const out = { ...a, text };
        if (Array.isArray(out.refs) && !out.refs.length) delete out.refs;
        return out;
      }),
    };
  }

  snapshot() { return JSON.parse(JSON.stringify(this.state)); }

  restore(saved) {
    this.state = JSON.parse(JSON.stringify(saved));
    const ann = this.selectedAnn();
    if (ann) this.label = ann.label;
  }
}

// The page shown: an index into `pages` (attachment URLs), or, for a single PDF shown in
// a frame, any page number (the viewer knows how many there are).
export class PageNav {
  constructor(pages) {
    this.pages = pages;
    this.single = pages.length === 1;
    this.page = 0;
    this.frames = new Set(); // pages shown as a frame (not an image)
  }

  count() { return this.single && this.frames.has(0) ? Infinity : this.pages.length; }
  url(page = this.page) { return this.pages[this.single ? 0 : page]; }
  isFrame(page = this.page) { return this.frames.has(this.single ? 0 : page); }
  markFrame() { this.frames.add(this.single ? 0 : this.page); }
  frameSrc() { return this.single ? `${this.url()}#page=${this.page + 1}` : this.url(); }
  label() {
    const count = this.count();
    return Number.isFinite(count) ? `Page ${this.page + 1} of ${count}` : `PDF page ${this.page + 1}`;
  }

  // true when the page changed
  go(page) {
    const target = Math.max(0, Math.min(this.count() - 1, page));
    if (target === this.page) return false;
    this.page = target;
    return true;
  }
}

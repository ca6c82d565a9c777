// The drawing surface: the picture and an SVG of the shapes in image pixels under one
// transform (zoom and pan change a transform, not the shapes), the selected shape's
// handles and the crosshair in screen pixels, and the reviewer's overlays of each
// labeler's shapes. Dragging one shape repaints only that shape.
import { h } from '../../api.js';
import { BOX_HANDLES, boxHandlePoint, bboxOf, boxCenter, ellipseOutline, outlineOf } from './geometry-state.js';
import { ImageLayer } from './imagelayer.js';
import { Viewport } from './view-state.js';

const SVG = 'http://www.w3.org/2000/svg';
export function s(tag, attrs = {}) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  return el;
}
const pts = (list) => list.map((p) => `${p.x},${p.y}`).join(' ');
const ROTATE_OFFSET = 24; // screen pixels above the box's top edge

export class Stage {
  // colorOf(label); on: {ready(), failed(message)}
  constructor(answer, colorOf, on) {
    this.answer = answer;
    this.colorOf = colorOf;
    this.view = new Viewport();
    this.overlays = []; // [{name, color, shapes, visible}]
    this.picture = new ImageLayer({
      ready: (width, height) => {
        // a new picture of the same size (the next video frame) keeps the zoom and pan
        const same = this.view.image.width === width && this.view.image.height === height;
        this.view.image = { width, height };
        this.resize();
        if (!same || !this.fitted) this.fitOnce();
        this.apply();
        on.ready();
      },
      failed: on.failed,
    });
    this.canvas = h('div', { class: 'ia-canvas' }, this.picture.el);
    this.shapesG = s('g', { class: 'ia-shapes' });
    this.overlayG = s('g', { class: 'ia-overlays' });
    this.draftG = s('g', { class: 'ia-draft' });
    this.handlesG = s('g', { class: 'ia-handles' });
    this.crossG = s('g', { class: 'ia-cross', visibility: 'hidden' });
    this.crossH = s('line', { class: 'ia-crossline' });
    this.crossV = s('line', { class: 'ia-crossline' });
    this.crossG.append(this.crossH, this.crossV);
    this.svg = s('svg', { class: 'ia-svg' });
    this.svg.append(this.overlayG, this.shapesG, this.draftG, this.handlesG, this.crossG);
    this.el = h('div', { class: 'ia-stage', tabindex: '-1', 'aria-label': 'Image: draw and edit shapes here' }, this.canvas, this.svg);
    this.nodes = new Map(); // uuid -> <g>
    // a stage laid out after its picture arrived is fitted then
    new ResizeObserver(() => { if (this.resize()) { if (!this.fitted) this.fitOnce(); this.apply(); } }).observe(this.el);
  }

  fitOnce() {
    this.view.fit();
    this.fitted = this.view.screen.width > 0 && this.view.image.width > 0;
  }

  resize() {
    const { width, height } = this.el.getBoundingClientRect();
    if (width === this.view.screen.width && height === this.view.screen.height) return false;
    this.view.screen = { width, height };
    return true;
  }

  // Screen point of a mouse event, relative to the stage.
  at(event) {
    const r = this.el.getBoundingClientRect();
    return { x: event.clientX - r.left, y: event.clientY - r.top };
  }

  ready() { return this.view.image.width > 0; }

  // After a zoom or pan: the transform, tiles, and everything sized in screen pixels.
  apply() {
    const v = this.view;
    this.canvas.style.transform = `translate(${v.x}px, ${v.y}px) scale(${v.scale})`;
    const t = `translate(${v.x} ${v.y}) scale(${v.scale})`;
    for (const g of [this.shapesG, this.overlayG, this.draftG]) g.setAttribute('transform', t);
    this.picture.update(v);
    this.paint();
  }

  // ------------------------------------------------------------------ shapes
  paint() {
    const a = this.answer;
    this.nodes.clear();
    this.shapesG.replaceChildren(...a.shapes.filter((x) => !a.isHidden(x.uuid)).map((x) => this.node(x)));
    this.paintOverlays();
    this.paintHandles();
  }

  paintShape(uuid) {
    const shape = this.answer.find(uuid);
    const old = this.nodes.get(uuid);
    if (!shape || !old) { this.paint(); return; }
    old.replaceWith(this.node(shape));
    this.paintHandles();
  }

  outline(shape, color, extra = {}) {
    const k = 1 / this.view.scale;
    const common = { stroke: color, fill: color, ...extra };
    switch (shape.type) {
      case 'point': return s('circle', { cx: shape.x, cy: shape.y, r: 4.5 * k, class: 'ia-point', ...common });
      case 'line': return s('polyline', { points: pts(shape.vertices), class: 'ia-line', ...common, fill: 'none' });
      case 'ellipse': return s('polygon', { points: pts(ellipseOutline(shape.vertices)), class: 'ia-area', ...common });
      case 'cuboid': return this.cuboid(shape, common);
      default: return s('polygon', { points: pts(outlineOf(shape)), class: 'ia-area', ...common });
    }
  }

  cuboid(shape, attrs) {
    const v = shape.vertices;
    const g = s('g', { class: 'ia-cuboid' });
    const face = (idx, cls) => s('polygon', { points: pts(idx.filter((i) => v[i]).map((i) => v[i])), class: cls, ...attrs });
    g.append(face([0, 1, 2, 3], 'ia-area'));
    if (v.length === 8) {
      g.append(face([4, 5, 6, 7], 'ia-area ia-back'));
      for (let i = 0; i < 4; i++) g.append(s('line', { x1: v[i].x, y1: v[i].y, x2: v[i + 4].x, y2: v[i + 4].y, class: 'ia-edge', stroke: attrs.stroke }));
    }
    return g;
  }

  node(shape) {
    const a = this.answer;
    const selected = shape.uuid === a.selected;
    const color = this.colorOf(shape.label);
    const g = s('g', { class: `ia-shape${selected ? ' selected' : ''}${a.isLocked(shape.uuid) ? ' locked' : ''}`, 'data-uuid': shape.uuid });
    g.append(this.outline(shape, color));
    const b = bboxOf(shape);
    const k = 1 / this.view.scale;
    const tag = s('text', { x: b.left, y: b.top - 4 * k, 'font-size': 12 * k, class: 'ia-tag', fill: color });
    tag.textContent = shape.label; // text only, never markup
    g.append(tag);
    this.nodes.set(shape.uuid, g);
    return g;
  }

  // ------------------------------------------------------------------ handles
  // The selected shape's handles in screen pixels: [{kind, handle?|index?, p}].
  handles() {
    const a = this.answer;
    const shape = a.selectedShape();
    if (!shape || a.isHidden(shape.uuid) || a.isLocked(shape.uuid)) return [];
    const v = this.view;
    if (shape.type === 'box') {
      const out = Object.keys(BOX_HANDLES).map((handle) => ({ kind: 'resize', handle, p: v.toScreen(boxHandlePoint(shape, handle)) }));
      if (a.canRotate()) {
        const top = v.toScreen(boxHandlePoint(shape, 'n'));
        const c = v.toScreen(boxCenter(shape));
        const len = Math.hypot(top.x - c.x, top.y - c.y) || 1;
        out.push({ kind: 'rotate', p: { x: top.x + ((top.x - c.x) / len) * ROTATE_OFFSET, y: top.y + ((top.y - c.y) / len) * ROTATE_OFFSET } });
      }
      return out;
    }
    if (shape.type === 'point') return [];
    return shape.vertices.map((p, index) => ({ kind: 'vertex', index, p: v.toScreen(p) }));
  }

  handleAt(screen, radius = 7) {
    let best = null;
    let bestD = radius;
    for (const handle of this.handles()) {
      const d = Math.hypot(handle.p.x - screen.x, handle.p.y - screen.y);
      if (d <= bestD) { best = handle; bestD = d; }
    }
    return best;
  }

  paintHandles() {
    const items = this.handles().map((handle) => s(handle.kind === 'rotate' ? 'circle' : 'rect', handle.kind === 'rotate'
      ? { cx: handle.p.x, cy: handle.p.y, r: 5, class: 'ia-handle rotate' }
      : { x: handle.p.x - 4, y: handle.p.y - 4, width: 8, height: 8, class: `ia-handle ${handle.kind}`,
        'data-handle': handle.handle ?? handle.index }));
    this.handlesG.replaceChildren(...items);
  }

  // ------------------------------------------------------------------ drafts and overlays
  // What is being drawn: {type, from, to} (a drag) or {type, vertices, cursor} (clicks).
  paintDraft(draft) {
    if (!draft) { this.draftG.replaceChildren(); return; }
    const color = this.colorOf(this.answer.label);
    const attrs = { stroke: color, fill: 'none', class: 'ia-draftline' };
    if (draft.vertices) {
      const list = draft.cursor ? [...draft.vertices, draft.cursor] : draft.vertices;
      const k = 1 / this.view.scale;
      this.draftG.replaceChildren(s('polyline', { points: pts(list), ...attrs }),
        ...draft.vertices.map((p) => s('circle', { cx: p.x, cy: p.y, r: 3.5 * k, fill: color })));
      return;
    }
    const x = Math.min(draft.from.x, draft.to.x);
    const y = Math.min(draft.from.y, draft.to.y);
    this.draftG.replaceChildren(s('rect', { x, y, width: Math.abs(draft.to.x - draft.from.x), height: Math.abs(draft.to.y - draft.from.y), ...attrs }));
  }

  paintOverlays() {
    const items = [];
    for (const layer of this.overlays) {
      if (!layer.visible) continue;
      for (const shape of layer.shapes) items.push(this.outline(shape, layer.color, { class: 'ia-overlay', 'data-labeler': layer.name }));
    }
    this.overlayG.replaceChildren(...items);
  }

  crosshair(screen) {
    if (!screen) { this.crossG.setAttribute('visibility', 'hidden'); return; }
    const { width, height } = this.view.screen;
    Object.entries({ x1: 0, x2: width, y1: screen.y, y2: screen.y }).forEach(([k, v]) => this.crossH.setAttribute(k, v));
    Object.entries({ x1: screen.x, x2: screen.x, y1: 0, y2: height }).forEach(([k, v]) => this.crossV.setAttribute(k, v));
    this.crossG.setAttribute('visibility', 'visible');
  }
}

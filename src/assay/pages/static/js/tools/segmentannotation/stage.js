// The segmentation surface: the picture with the mask painted over it on a canvas of the
// image's own size (both under one zoom/pan transform), and an SVG in screen pixels for
// the brush outline, the polygon being clicked out and the GrabCut box being dragged.
import { h } from '../../api.js';
import { ImageLayer } from '../imageannotation/imagelayer.js';
import { s } from '../imageannotation/stage.js';
import { Viewport } from '../imageannotation/view-state.js';

const rgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));

export class MaskStage {
  // on: {ready(width, height), failed(message)}
  constructor(on) {
    this.view = new Viewport();
    this.answer = null;
    this.picture = new ImageLayer({
      ready: (width, height) => {
        this.view.image = { width, height };
        this.canvas.width = width;
        this.canvas.height = height;
        this.resize();
        this.view.fit();
        on.ready(width, height);
        this.apply();
      },
      failed: on.failed,
    });
    this.canvas = h('canvas', { class: 'sa-mask' });
    this.ctx2d = this.canvas.getContext('2d');
    this.wrap = h('div', { class: 'ia-canvas' }, this.picture.el, this.canvas);
    this.overlay = s('g');
    this.svg = s('svg', { class: 'ia-svg' });
    this.svg.append(this.overlay);
    this.el = h('div', { class: 'ia-stage sa-stage', 'aria-label': 'Image: paint the mask here' }, this.wrap, this.svg);
    new ResizeObserver(() => { if (this.resize()) this.apply(); }).observe(this.el);
  }

  resize() {
    const { width, height } = this.el.getBoundingClientRect();
    if (width === this.view.screen.width && height === this.view.screen.height) return false;
    this.view.screen = { width, height };
    return true;
  }

  at(event) {
    const r = this.el.getBoundingClientRect();
    return { x: event.clientX - r.left, y: event.clientY - r.top };
  }

  ready() { return this.view.image.width > 0 && !!this.answer; }

  apply() {
    const v = this.view;
    this.wrap.style.transform = `translate(${v.x}px, ${v.y}px) scale(${v.scale})`;
    this.picture.update(v);
  }

  setOpacity(percent) { this.canvas.style.opacity = String(percent / 100); }

  // Repaints the mask inside rect {left, top, right, bottom} (all of it without one).
  paint(rect = null) {
    const a = this.answer;
    if (!a) return;
    const r = rect || { left: 0, top: 0, right: a.width - 1, bottom: a.height - 1 };
    const w = r.right - r.left + 1;
    const hgt = r.bottom - r.top + 1;
    if (w <= 0 || hgt <= 0) return;
    const colors = new Map(a.classes.filter((c) => !a.hidden.has(c.index)).map((c) => [c.index, rgb(c.color)]));
    const img = this.ctx2d.createImageData(w, hgt);
    const px = img.data;
    for (let y = 0; y < hgt; y++) {
      const row = (r.top + y) * a.width + r.left;
      for (let x = 0; x < w; x++) {
        const color = colors.get(a.mask[row + x]);
        if (!color) continue;
        const o = (y * w + x) * 4;
        px[o] = color[0];
        px[o + 1] = color[1];
        px[o + 2] = color[2];
        px[o + 3] = 255;
      }
    }
    this.ctx2d.putImageData(img, r.left, r.top);
  }

  // Screen-space guides: {brush: {at, r}} | {polygon: [points], cursor} | {box: {from, to}}
  guide(what) {
    const v = this.view;
    const items = [];
    if (what?.brush) items.push(s('circle', { cx: what.brush.at.x, cy: what.brush.at.y, r: Math.max(1, what.brush.r * v.scale), class: 'sa-brush' }));
    if (what?.polygon) {
      const list = [...what.polygon, ...(what.cursor ? [what.cursor] : [])].map((p) => v.toScreen(p));
      items.push(s('polyline', { points: list.map((p) => `${p.x},${p.y}`).join(' '), class: 'ia-draftline', stroke: '#fff', fill: 'none' }));
    }
    if (what?.box) {
      const a = v.toScreen(what.box.from);
      const b = v.toScreen(what.box.to);
      items.push(s('rect', { x: Math.min(a.x, b.x), y: Math.min(a.y, b.y), width: Math.abs(b.x - a.x), height: Math.abs(b.y - a.y),
        class: 'ia-draftline', stroke: '#ffd600', fill: 'none' }));
    }
    this.overlay.replaceChildren(...items);
  }
}

// The page on screen: the image with its boxes and the drawing layer, or a frame for a
// page that is not an image, and the page buttons. Mouse drags become box locations in
// the image's own pixels.
import { h } from '../../api.js';
import { bbox, boxBetween, looksLikePdf } from './state.js';

const MIN_DRAG_PX = 4; // screen pixels: a smaller drag is a click (select the box under it)

const pdfNote = () => h('p', { class: 'notice dt-pdf-note' }, 'This page is not an image (a PDF?): boxes can only be drawn on page images. ',
  'Read it here and fix the annotations listed on the right, or skip the task (S) and say why.');

export class Stage {
  // on: {draw(location), click(point), goPage(page), shown()} — shown() after every page change
  constructor(doc, nav, colorOf, on) {
    this.doc = doc;
    this.nav = nav;
    this.colorOf = colorOf;
    this.on = on;
    this.drag = null; // {start, ghost} while drawing
    this.img = h('img', { class: 'dt-image', alt: 'document page', draggable: 'false' });
    this.layer = h('div', { class: 'dt-layer', 'aria-label': 'Drawing area: drag to draw a box' });
    this.frame = h('div', { class: 'dt-frame', hidden: true });
    this.pageBox = h('div', { class: 'dt-page' }, this.img, this.layer);
    this.pageLabel = h('span', { class: 'dt-page-label' });
    this.prevButton = h('button', { type: 'button', class: 'dt-prev', onclick: () => on.goPage(nav.page - 1) }, '‹ Page', ' ', h('kbd', {}, '['));
    this.nextButton = h('button', { type: 'button', class: 'dt-next', onclick: () => on.goPage(nav.page + 1) }, 'Page ›', ' ', h('kbd', {}, ']'));
    this.hint = h('p', { class: 'hint dt-stage-hint' });
    this.el = h('div', { class: 'dt-stage' }, h('div', { class: 'dt-toolbar' }, this.prevButton, this.pageLabel, this.nextButton),
      this.pageBox, this.frame, this.hint);
    this.img.addEventListener('load', () => this.paintBoxes());
    this.img.addEventListener('error', () => { if (this.img.getAttribute('src')) this.markFrame(); });
    this.onMove = (event) => this.moveDrag(event);
    this.onUp = (event) => this.endDrag(event);
    this.layer.addEventListener('mousedown', (event) => this.startDrag(event));
  }

  showPage() {
    const { nav, img } = this;
    const url = nav.url();
    this.pageLabel.textContent = nav.label();
    this.prevButton.disabled = nav.page === 0;
    this.nextButton.disabled = nav.page >= nav.count() - 1;
    if (nav.isFrame()) {
      this.pageBox.hidden = true;
      this.frame.hidden = false;
      const src = nav.frameSrc();
      this.frame.replaceChildren(pdfNote(), h('iframe', { src, title: 'document', class: 'dt-iframe' }),
        h('p', {}, h('a', { href: src, target: '_blank', rel: 'noopener noreferrer' }, 'Open the document in a new tab')));
      this.hint.textContent = '';
    } else {
      this.frame.hidden = true;
      this.frame.replaceChildren();
      this.pageBox.hidden = false;
      if (img.getAttribute('src') !== url) {
        img.removeAttribute('src');
        if (looksLikePdf(url)) { this.markFrame(); return; }
        img.setAttribute('src', url);
      }
      this.hint.textContent = 'Drag on the page to draw a box around a feature.';
    }
    this.paintBoxes();
    this.on.shown();
  }

  markFrame() {
    this.nav.markFrame();
    this.showPage();
  }

  // a box's place as percentages of the shown image
  place(box, b) {
    const w = this.img.naturalWidth;
    const hgt = this.img.naturalHeight;
    box.style.left = `${(b.left / w) * 100}%`;
    box.style.top = `${(b.top / hgt) * 100}%`;
    box.style.width = `${(b.width / w) * 100}%`;
    box.style.height = `${(b.height / hgt) * 100}%`;
  }

  paintBoxes() {
    const { doc, nav, img } = this;
    const boxes = [];
    if (img.naturalWidth && img.naturalHeight && !nav.isFrame()) {
      for (const ann of doc.annotations) {
        if (ann.page !== nav.page) continue;
        const box = h('div', { class: `dt-box${ann.uuid === doc.selected ? ' selected' : ''}${ann.location?.type === 'polygon' ? ' polygon' : ''}`,
          dataset: { uuid: ann.uuid } }, h('span', { class: 'dt-tag' }, ann.label));
        this.place(box, bbox(ann.location));
        box.style.borderColor = this.colorOf(ann.label);
        box.firstChild.style.background = this.colorOf(ann.label);
        boxes.push(box);
      }
    }
    this.layer.replaceChildren(...boxes);
  }

  // ------------------------------------------------------------------ drawing
  toImage(event) {
    const { img } = this;
    const rect = img.getBoundingClientRect();
    const fx = Math.min(1, Math.max(0, (event.clientX - rect.left) / rect.width));
    const fy = Math.min(1, Math.max(0, (event.clientY - rect.top) / rect.height));
    return { x: fx * img.naturalWidth, y: fy * img.naturalHeight, sx: event.clientX, sy: event.clientY };
  }

  placeGhost(a, b) {
    this.place(this.drag.ghost, { left: Math.min(a.x, b.x), top: Math.min(a.y, b.y), width: Math.abs(b.x - a.x), height: Math.abs(b.y - a.y) });
  }

  startDrag(event) {
    if (event.button !== 0 || !this.img.naturalWidth) return;
    event.preventDefault();
    if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
    const start = this.toImage(event);
    const ghost = h('div', { class: 'dt-box drawing' });
    ghost.style.borderColor = this.colorOf(this.doc.label);
    this.drag = { start, ghost };
    this.layer.append(ghost);
    this.placeGhost(start, start);
    document.addEventListener('mousemove', this.onMove);
    document.addEventListener('mouseup', this.onUp);
  }

  moveDrag(event) { if (this.drag) this.placeGhost(this.drag.start, this.toImage(event)); }

  endDrag(event) {
    document.removeEventListener('mousemove', this.onMove);
    document.removeEventListener('mouseup', this.onUp);
    if (!this.drag) return;
    const { start, ghost } = this.drag;
    this.drag = null;
    ghost.remove();
    if (!this.el.isConnected) return;
    const end = this.toImage(event);
    if (Math.abs(end.sx - start.sx) < MIN_DRAG_PX && Math.abs(end.sy - start.sy) < MIN_DRAG_PX) { this.on.click(end); return; }
    const location = boxBetween(start, end);
    if (location) this.on.draw(location);
  }
}

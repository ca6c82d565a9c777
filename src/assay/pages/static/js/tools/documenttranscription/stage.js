// The page on screen: the image with its boxes and the drawing layer, or a frame for a
// page that is not an image, and the page buttons. Mouse drags become box locations in
// the image's own pixels.
import { h } from '../../api.js';
import { bbox, boxBetween, looksLikePdf } from './state.js';

const MIN_DRAG_PX = 4; // screen pixels: a smaller drag is a click (select the box under it)

// on: {draw(location), click(point), goPage(page), shown()} — shown() after every page change
export function createStage(doc, nav, colorOf, on) {
  const img = h('img', { class: 'dt-image', alt: 'document page', draggable: 'false' });
  const layer = h('div', { class: 'dt-layer', 'aria-label': 'Drawing area: drag to draw a box' });
  const frame = h('div', { class: 'dt-frame', hidden: true });
  const pageBox = h('div', { class: 'dt-page' }, img, layer);
  const pageLabel = h('span', { class: 'dt-page-label' });
  const prevButton = h('button', { type: 'button', class: 'dt-prev', onclick: () => on.goPage(nav.page - 1) }, '‹ Page', ' ', h('kbd', {}, '['));
  const nextButton = h('button', { type: 'button', class: 'dt-next', onclick: () => on.goPage(nav.page + 1) }, 'Page ›', ' ', h('kbd', {}, ']'));
  const stageHint = h('p', { class: 'hint dt-stage-hint' });
  const el = h('div', { class: 'dt-stage' }, h('div', { class: 'dt-toolbar' }, prevButton, pageLabel, nextButton), pageBox, frame, stageHint);

  function showPage() {
    const url = nav.url();
    pageLabel.textContent = nav.label();
    prevButton.disabled = nav.page === 0;
    nextButton.disabled = nav.page >= nav.count() - 1;
    if (nav.isFrame()) {
      pageBox.hidden = true;
      frame.hidden = false;
      const src = nav.frameSrc();
      frame.replaceChildren(
        h('p', { class: 'notice dt-pdf-note' }, 'This page is not an image (a PDF?): boxes can only be drawn on page images. ',
          'Read it here and fix the annotations listed on the right, or skip the task (S) and say why.'),
        h('iframe', { src, title: 'document', class: 'dt-iframe' }),
        h('p', {}, h('a', { href: src, target: '_blank', rel: 'noopener noreferrer' }, 'Open the document in a new tab')));
      stageHint.textContent = '';
    } else {
      frame.hidden = true;
      frame.replaceChildren();
      pageBox.hidden = false;
      if (img.getAttribute('src') !== url) {
        img.removeAttribute('src');
        if (looksLikePdf(url)) { markFrame(); return; }
        img.setAttribute('src', url);
      }
      stageHint.textContent = 'Drag on the page to draw a box around a feature.';
    }
    paintBoxes();
    on.shown();
  }

  function markFrame() {
    nav.markFrame();
    showPage();
  }
  img.addEventListener('load', () => paintBoxes());
  img.addEventListener('error', () => { if (img.getAttribute('src')) markFrame(); });

  // a box's place as percentages of the shown image
  function place(box, b) {
    const w = img.naturalWidth;
    const hgt = img.naturalHeight;
    box.style.left = `${(b.left / w) * 100}%`;
    box.style.top = `${(b.top / hgt) * 100}%`;
    box.style.width = `${(b.width / w) * 100}%`;
    box.style.height = `${(b.height / hgt) * 100}%`;
  }

  function paintBoxes() {
    const boxes = [];
    if (img.naturalWidth && img.naturalHeight && !nav.isFrame()) {
      for (const ann of doc.annotations) {
        if (ann.page !== nav.page) continue;
        const box = h('div', { class: `dt-box${ann.uuid === doc.selected ? ' selected' : ''}${ann.location?.type === 'polygon' ? ' polygon' : ''}`,
          dataset: { uuid: ann.uuid } }, h('span', { class: 'dt-tag' }, ann.label));
        place(box, bbox(ann.location));
        box.style.borderColor = colorOf(ann.label);
        box.firstChild.style.background = colorOf(ann.label);
        boxes.push(box);
      }
    }
    layer.replaceChildren(...boxes);
  }

  // ------------------------------------------------------------------ drawing
  let drag = null;
  function toImage(event) {
    const rect = img.getBoundingClientRect();
    const fx = Math.min(1, Math.max(0, (event.clientX - rect.left) / rect.width));
    const fy = Math.min(1, Math.max(0, (event.clientY - rect.top) / rect.height));
    return { x: fx * img.naturalWidth, y: fy * img.naturalHeight, sx: event.clientX, sy: event.clientY };
  }
  const ghostBox = (a, b) => ({ left: Math.min(a.x, b.x), top: Math.min(a.y, b.y), width: Math.abs(b.x - a.x), height: Math.abs(b.y - a.y) });
  layer.addEventListener('mousedown', (event) => {
    if (event.button !== 0 || !img.naturalWidth) return;
    event.preventDefault();
    if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
    const start = toImage(event);
    const ghost = h('div', { class: 'dt-box drawing' });
    ghost.style.borderColor = colorOf(doc.label);
    drag = { start, ghost };
    layer.append(ghost);
    place(ghost, ghostBox(start, start));
    document.addEventListener('mousemove', onMove);
    document.addEventListener('mouseup', onUp);
  });
  function onMove(event) { if (drag) place(drag.ghost, ghostBox(drag.start, toImage(event))); }
  function onUp(event) {
    document.removeEventListener('mousemove', onMove);
    document.removeEventListener('mouseup', onUp);
    if (!drag) return;
    const { start, ghost } = drag;
    drag = null;
    ghost.remove();
    if (!el.isConnected) return;
    const end = toImage(event);
    if (Math.abs(end.sx - start.sx) < MIN_DRAG_PX && Math.abs(end.sy - start.sy) < MIN_DRAG_PX) { on.click(end); return; }
    const location = boxBetween(start, end);
    if (location) on.draw(location);
  }

  return { el, showPage, paintBoxes };
}

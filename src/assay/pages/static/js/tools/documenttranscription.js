// documenttranscription: locate and transcribe the features of a document.
// The page image is shown with a drawing layer: drag to draw a box (it is selected and
// takes the last label used), press its feature label's key (keys per label from the
// `features` tree; a key relabels the selected box and becomes the label for new ones),
// t to type its text, Esc or Enter to leave the text box (Ctrl+Enter submits). Boxes are stored in the image's own pixels (natural
// size), whatever size the page is shown at. Pages come from `attachments` (one URL a
// page) or the single `attachment`; [ and ] switch pages.
//
// PDFs: a page that is not an image (a PDF, or any URL the browser cannot show as an
// image) is shown in an embedded frame with a link, and the page number can still be
// moved (#page=N for a single PDF). Boxes cannot be drawn there: the tool has no PDF
// renderer, and coordinates on the browser's PDF viewer would mean nothing. Annotations
// that came with the task (a pre-label, a previous answer) can still be relabeled,
// retyped or deleted. Send page images in `attachments` to have documents located here.
import { h } from '../api.js';
import { editSteps } from './common.js';

const PALETTE = ['#2f5bd3', '#c23b2a', '#1f8a4c', '#b26a00', '#7a3fc1', '#00838f', '#ad1457', '#5d6b00'];
const MIN_DRAG_PX = 4; // screen pixels: a smaller drag is a click (select the box under it)

function flatten(features, depth = 0, out = []) {
  for (const f of features || []) {
    if (!f || typeof f.label !== 'string') continue;
    out.push({ label: f.label, type: f.type, depth });
    flatten(f.children, depth + 1, out);
  }
  return out;
}

function newUuid() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

function bbox(location) {
  if (location?.type === 'box') return { left: location.left, top: location.top, width: location.width, height: location.height };
  const xs = (location?.vertices || []).map((v) => v.x);
  const ys = (location?.vertices || []).map((v) => v.y);
  if (!xs.length) return { left: 0, top: 0, width: 0, height: 0 };
  const left = Math.min(...xs);
  const top = Math.min(...ys);
  return { left, top, width: Math.max(...xs) - left, height: Math.max(...ys) - top };
}

const looksLikePdf = (url) => /\.pdf$/i.test(String(url).split(/[?#]/)[0]);

export default {
  mount(el, task, ctx) {
    const p = task.params;
    const features = flatten(p.features);
    const labels = features.map((f) => f.label);
    const featureOf = new Map(features.map((f) => [f.label, f]));
    const colorOf = (label) => PALETTE[Math.max(0, labels.indexOf(label)) % PALETTE.length];
    const pages = Array.isArray(p.attachments) && p.attachments.length ? p.attachments : [p.attachment];
    const single = pages.length === 1;

    let state = { annotations: [], selected: null };
    if (Array.isArray(ctx.initial?.annotations)) {
      state.annotations = JSON.parse(JSON.stringify(ctx.initial.annotations)).filter((a) => a && typeof a === 'object');
    }
    const view = { page: 0, label: labels[0], frame: new Set() }; // frame: pages shown as a frame (not an image)

    // ------------------------------------------------------------------ edits
    const steps = editSteps(ctx, () => render());
    const { typed, flushTyping, edit } = steps;
    const selectedAnn = () => state.annotations.find((a) => a.uuid === state.selected) || null;

    // ------------------------------------------------------------------ page view
    const img = h('img', { class: 'dt-image', alt: 'document page', draggable: 'false' });
    const layer = h('div', { class: 'dt-layer', 'aria-label': 'Drawing area: drag to draw a box' });
    const frame = h('div', { class: 'dt-frame', hidden: true });
    const pageBox = h('div', { class: 'dt-page' }, img, layer);
    const pageLabel = h('span', { class: 'dt-page-label' });
    const prevButton = h('button', { type: 'button', class: 'dt-prev', onclick: () => goPage(view.page - 1) }, '‹ Page', ' ', h('kbd', {}, '['));
    const nextButton = h('button', { type: 'button', class: 'dt-next', onclick: () => goPage(view.page + 1) }, 'Page ›', ' ', h('kbd', {}, ']'));
    const stageHint = h('p', { class: 'hint dt-stage-hint' });

    const pageCount = () => (single && view.frame.has(0) ? Infinity : pages.length);
    const urlOf = (page) => pages[single ? 0 : page];
    const isFrame = (page) => view.frame.has(single ? 0 : page);

    function goPage(page) {
      const target = Math.max(0, Math.min(pageCount() - 1, page));
      if (target === view.page) return;
      flushTyping();
      view.page = target;
      showPage();
    }

    function showPage() {
      const url = urlOf(view.page);
      const count = pageCount();
      pageLabel.textContent = Number.isFinite(count) ? `Page ${view.page + 1} of ${count}` : `PDF page ${view.page + 1}`;
      prevButton.disabled = view.page === 0;
      nextButton.disabled = view.page >= count - 1;
      if (isFrame(view.page)) {
        pageBox.hidden = true;
        frame.hidden = false;
        const src = single ? `${url}#page=${view.page + 1}` : url;
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
      paintRows();
    }

    function markFrame() {
      view.frame.add(single ? 0 : view.page);
      showPage();
    }
    img.addEventListener('load', () => paintBoxes());
    img.addEventListener('error', () => { if (img.getAttribute('src')) markFrame(); });

    function paintBoxes() {
      const w = img.naturalWidth;
      const hgt = img.naturalHeight;
      const boxes = [];
      if (w && hgt && !isFrame(view.page)) {
        for (const ann of state.annotations) {
          if (ann.page !== view.page) continue;
          const b = bbox(ann.location);
          const box = h('div', { class: `dt-box${ann.uuid === state.selected ? ' selected' : ''}${ann.location?.type === 'polygon' ? ' polygon' : ''}`,
            dataset: { uuid: ann.uuid } }, h('span', { class: 'dt-tag' }, ann.label));
          box.style.left = `${(b.left / w) * 100}%`;
          box.style.top = `${(b.top / hgt) * 100}%`;
          box.style.width = `${(b.width / w) * 100}%`;
          box.style.height = `${(b.height / hgt) * 100}%`;
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
    layer.addEventListener('mousedown', (event) => {
      if (event.button !== 0 || !img.naturalWidth) return;
      event.preventDefault();
      if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
      const start = toImage(event);
      const ghost = h('div', { class: 'dt-box drawing' });
      ghost.style.borderColor = colorOf(view.label);
      drag = { start, ghost };
      layer.append(ghost);
      moveGhost(start);
      document.addEventListener('mousemove', onMove);
      document.addEventListener('mouseup', onUp);
    });
    function moveGhost(point) {
      const { start, ghost } = drag;
      const w = img.naturalWidth;
      const hgt = img.naturalHeight;
      ghost.style.left = `${(Math.min(start.x, point.x) / w) * 100}%`;
      ghost.style.top = `${(Math.min(start.y, point.y) / hgt) * 100}%`;
      ghost.style.width = `${(Math.abs(point.x - start.x) / w) * 100}%`;
      ghost.style.height = `${(Math.abs(point.y - start.y) / hgt) * 100}%`;
    }
    function onMove(event) { if (drag) moveGhost(toImage(event)); }
    function onUp(event) {
      document.removeEventListener('mousemove', onMove);
      document.removeEventListener('mouseup', onUp);
      if (!drag) return;
      const { start, ghost } = drag;
      drag = null;
      ghost.remove();
      if (!el.isConnected) return;
      const end = toImage(event);
      if (Math.abs(end.sx - start.sx) < MIN_DRAG_PX && Math.abs(end.sy - start.sy) < MIN_DRAG_PX) { pickAt(end); return; }
      const left = Math.round(Math.min(start.x, end.x));
      const top = Math.round(Math.min(start.y, end.y));
      const width = Math.round(Math.max(start.x, end.x)) - left;
      const height = Math.round(Math.max(start.y, end.y)) - top;
      if (width < 1 || height < 1) return;
      const ann = { uuid: newUuid(), page: view.page, label: view.label, text: '', location: { type: 'box', left, top, width, height } };
      edit(() => { state.annotations.push(ann); state.selected = ann.uuid; });
    }

    function pickAt(point) {
      // the smallest box under the point wins (a cell inside its row)
      const hits = state.annotations.filter((a) => {
        if (a.page !== view.page) return false;
        const b = bbox(a.location);
        return point.x >= b.left && point.x <= b.left + b.width && point.y >= b.top && point.y <= b.top + b.height;
      }).sort((a, b) => bbox(a.location).width * bbox(a.location).height - bbox(b.location).width * bbox(b.location).height);
      select(hits.length ? hits[0].uuid : null);
    }

    // ------------------------------------------------------------------ labels
    const labelKeys = ctx.freeKeys.filter((k) => k !== 't');
    const labelButtons = features.map((f, i) => {
      const key = labelKeys[i];
      const b = h('button', { type: 'button', class: 'choice dt-label', dataset: { value: f.label } },
        key ? h('kbd', {}, key) : null, ' ', h('span', { class: 'dt-swatch' }), ' ', f.label, ' ', h('span', { class: 'muted dt-type' }, f.type));
      b.style.marginLeft = `${f.depth * 1.1}rem`;
      b.querySelector('.dt-swatch').style.background = colorOf(f.label);
      b.addEventListener('click', () => chooseLabel(f.label));
      if (key) ctx.hotkey(key, `Label “${f.label}” (new boxes and the selected one)`, () => chooseLabel(f.label));
      return b;
    });

    function chooseLabel(label) {
      view.label = label;
      const ann = selectedAnn();
      if (ann && ann.label !== label) edit(() => { ann.label = label; });
      else paintLabels();
    }
    function paintLabels() {
      for (const b of labelButtons) {
        const on = b.dataset.value === view.label;
        b.classList.toggle('selected', on);
        b.setAttribute('aria-pressed', String(on));
      }
    }

    // ------------------------------------------------------------------ annotation list
    const list = h('ol', { class: 'dt-annotations' });
    const listTitle = h('h3', { class: 'dt-list-title' });

    function select(uuid, focus = false) {
      flushTyping();
      state.selected = uuid;
      const ann = selectedAnn();
      if (ann) {
        view.label = ann.label;
        if (ann.page !== view.page && ann.page < pageCount()) { view.page = ann.page; showPage(); }
      }
      paintBoxes();
      paintRows();
      paintLabels();
      if (focus) focusText();
    }

    function focusText() {
      const input = list.querySelector(`li[data-uuid="${CSS.escape(state.selected || '')}"] .dt-text`);
      if (input) input.focus();
    }

    function removeAnn(uuid) {
      edit(() => {
        const i = state.annotations.findIndex((a) => a.uuid === uuid);
        if (i === -1) return;
        state.annotations.splice(i, 1);
        for (const a of state.annotations) {
          if (Array.isArray(a.refs)) {
            a.refs = a.refs.filter((r) => r !== uuid);
            if (!a.refs.length) delete a.refs;
          }
        }
        const next = state.annotations[Math.min(i, state.annotations.length - 1)];
        state.selected = next ? next.uuid : null;
      });
    }

    function step(delta) {
      if (!state.annotations.length) return;
      const i = state.annotations.findIndex((a) => a.uuid === state.selected);
      const j = i === -1 ? 0 : Math.max(0, Math.min(state.annotations.length - 1, i + delta));
      select(state.annotations[j].uuid);
    }

    function row(ann, i) {
      const b = bbox(ann.location);
      const text = h('input', { type: 'text', class: 'dt-text', value: String(ann.text ?? ''), 'aria-label': `Text of annotation ${i + 1}`,
        placeholder: featureOf.get(ann.label)?.type === 'text' ? 'Type the text (required)' : 'Type the text' });
      text.addEventListener('input', () => { ann.text = text.value; typed(); });
      text.addEventListener('change', flushTyping);
      text.addEventListener('keydown', leaveOnEnter);
      text.addEventListener('focus', () => { if (state.selected !== ann.uuid) select(ann.uuid); });
      const choose = h('select', { class: 'dt-ann-label', 'aria-label': `Label of annotation ${i + 1}` },
        labels.map((l) => h('option', { value: l, selected: l === ann.label }, l)));
      choose.value = ann.label;
      choose.addEventListener('change', () => edit(() => { ann.label = choose.value; view.label = choose.value; }));
      const where = `p${ann.page + 1} · x ${Math.round(b.left)}, y ${Math.round(b.top)} · ${Math.round(b.width)}×${Math.round(b.height)} px`
        + (ann.location?.type === 'polygon' ? ` · polygon (${ann.location.vertices.length} points)` : '');
      const li = h('li', { class: `dt-ann${ann.uuid === state.selected ? ' selected' : ''}${ann.page === view.page ? '' : ' other-page'}`,
        dataset: { uuid: ann.uuid } },
        h('span', { class: 'dt-swatch' }), choose,
        h('button', { type: 'button', class: 'link danger dt-remove', 'aria-label': `Delete annotation ${i + 1}`, onclick: () => removeAnn(ann.uuid) }, '×'),
        text,
        h('span', { class: 'dt-where muted' }, where));
      li.querySelector('.dt-swatch').style.background = colorOf(ann.label);
      li.addEventListener('mousedown', (event) => { if (event.target === li || event.target.classList.contains('dt-where')) select(ann.uuid); });
      return li;
    }

    // Enter in a box's text leaves the text box (as Esc does) rather than submitting the
    // whole task half done; Ctrl+Enter still submits.
    function leaveOnEnter(event) {
      if (event.key !== 'Enter' || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
      event.preventDefault();
      event.stopPropagation();
      event.target.blur();
    }

    // selection and page marks on the existing rows (no rebuild: a focused text box keeps its caret)
    function paintRows() {
      for (const li of list.querySelectorAll('li.dt-ann')) {
        const ann = state.annotations.find((a) => a.uuid === li.dataset.uuid);
        li.classList.toggle('selected', li.dataset.uuid === state.selected);
        li.classList.toggle('other-page', !!ann && ann.page !== view.page);
      }
    }

    function paintList() {
      listTitle.textContent = `Annotations (${state.annotations.length})`;
      const focused = document.activeElement;
      const keepFocus = focused && list.contains(focused) && focused.classList.contains('dt-text') ? focused.closest('li')?.dataset.uuid : null;
      list.replaceChildren(...state.annotations.map(row));
      if (!state.annotations.length) list.append(h('li', { class: 'hint dt-empty' }, 'None yet: choose a label, then drag on the page.'));
      if (keepFocus) list.querySelector(`li[data-uuid="${CSS.escape(keepFocus)}"] .dt-text`)?.focus();
    }

    function render() {
      paintBoxes();
      paintList();
      paintLabels();
    }

    ctx.hotkey('[', 'Previous page', () => goPage(view.page - 1));
    ctx.hotkey(']', 'Next page', () => goPage(view.page + 1));
    ctx.hotkey('ArrowUp', 'Select the previous annotation', () => step(-1), { display: '↑' });
    ctx.hotkey('ArrowDown', 'Select the next annotation', () => step(1), { display: '↓' });
    ctx.hotkey('t', 'Type the text of the selected annotation', () => focusText(), { display: 't' });
    ctx.hotkey('Delete', 'Delete the selected annotation', () => { if (state.selected) removeAnn(state.selected); });
    ctx.hotkey('Backspace', 'Delete the selected annotation', () => { if (state.selected) removeAnn(state.selected); });

    el.append(h('div', { class: 'dt-layout' },
      h('div', { class: 'dt-stage' },
        h('div', { class: 'dt-toolbar' }, prevButton, pageLabel, nextButton),
        pageBox, frame, stageHint),
      h('div', { class: 'dt-side' },
        h('h3', {}, 'Feature labels'),
        h('div', { class: 'dt-labels', role: 'radiogroup', 'aria-label': 'Feature labels' }, labelButtons),
        listTitle, list,
        h('p', { class: 'hint' }, 'Drag to draw a box, press its label key, ', h('kbd', {}, 't'), ' to type its text, ',
          h('kbd', {}, 'Esc'), ' or ', h('kbd', {}, 'Enter'), ' when done. ', h('kbd', {}, '↑'), h('kbd', {}, '↓'), ' select, ',
          h('kbd', {}, 'Delete'), ' delete, ', h('kbd', {}, '['), h('kbd', {}, ']'), ' pages.'))));
    showPage();
    render();

    return {
      getResponse() {
        if (!state.annotations.length) throw new Error('Draw a box around each feature first: drag on the page.');
        return {
          annotations: state.annotations.map((a, i) => {
            const text = String(a.text ?? '');
            if (featureOf.get(a.label)?.type === 'text' && !text.trim()) {
              throw new Error(`Type the text of annotation ${i + 1} (“${a.label}”).`);
            }
            const out = { ...a, text };
            if (Array.isArray(out.refs) && !out.refs.length) delete out.refs;
            return out;
          }),
        };
      },
      getState() {
        return JSON.parse(JSON.stringify(state));
      },
      setState(saved) {
        steps.cancel();
        state = JSON.parse(JSON.stringify(saved));
        const ann = selectedAnn();
        if (ann) view.label = ann.label;
        render();
      },
    };
  },
};

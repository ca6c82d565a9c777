// documenttranscription: locate and transcribe the features of a document.
// The page image is shown with a drawing layer: drag to draw a box (it is selected and
// takes the last label used), press its feature label's key (keys per label from the
// `features` tree; a key relabels the selected box and becomes the label for new ones),
// t to type its text, Esc or Enter to leave the text box (Ctrl+Enter submits). Boxes are
// stored in the image's own pixels (natural size), whatever size the page is shown at.
// Pages come from `attachments` (one URL a page) or the single `attachment`; [ and ]
// switch pages.
//
// PDFs: a page that is not an image (a PDF, or any URL the browser cannot show as an
// image) is shown in an embedded frame with a link, and the page number can still be
// moved (#page=N for a single PDF). Boxes cannot be drawn there: the tool has no PDF
// renderer, and coordinates on the browser's PDF viewer would mean nothing. Annotations
// that came with the task (a pre-label, a previous answer) can still be relabeled,
// retyped or deleted. Send page images in `attachments` to have documents located here.
//
// Modules in documenttranscription/: state.js (the answer, page navigation) is pure and
// tested in Node; stage.js shows the page and draws boxes; side.js the labels and list.
import { h } from '../api.js';
import { editSteps } from './common.js';
import { SidePanel } from './documenttranscription/side.js';
import { Stage } from './documenttranscription/stage.js';
import { DocAnswer, PageNav } from './documenttranscription/state.js';

const PALETTE = ['#2f5bd3', '#c23b2a', '#1f8a4c', '#b26a00', '#7a3fc1', '#00838f', '#ad1457', '#5d6b00'];

function bindKeys(ctx, doc, labelKeys, act) {
  doc.features.forEach((f, i) => {
    if (labelKeys[i]) ctx.hotkey(labelKeys[i], `Label “${f.label}” (new boxes and the selected one)`, () => act.chooseLabel(f.label));
  });
  const step = (delta) => { const uuid = doc.step(delta); if (uuid) act.select(uuid); };
  const removeSelected = () => { if (doc.selected) act.remove(doc.selected); };
  ctx.hotkey('[', 'Previous page', () => act.goPage(act.page() - 1));
  ctx.hotkey(']', 'Next page', () => act.goPage(act.page() + 1));
  ctx.hotkey('ArrowUp', 'Select the previous annotation', () => step(-1), { display: '↑' });
  ctx.hotkey('ArrowDown', 'Select the next annotation', () => step(1), { display: '↓' });
  ctx.hotkey('t', 'Type the text of the selected annotation', act.focusText, { display: 't' });
  ctx.hotkey('Delete', 'Delete the selected annotation', removeSelected);
  ctx.hotkey('Backspace', 'Delete the selected annotation', removeSelected);
}

export default {
  mount(el, task, ctx) {
    const p = task.params;
    const doc = new DocAnswer(p.features, ctx.initial);
    const nav = new PageNav(Array.isArray(p.attachments) && p.attachments.length ? p.attachments : [p.attachment]);
    const colorOf = (label) => PALETTE[Math.max(0, doc.labels.indexOf(label)) % PALETTE.length];

    // Typing is one undo step per burst; every other edit is one step.
    const steps = editSteps(ctx, () => render());
    const { typed, flushTyping, edit } = steps;

    function goPage(page) {
      if (!nav.go(page)) return;
      flushTyping();
      stage.showPage();
    }

    function select(uuid) {
      flushTyping();
      const ann = doc.select(uuid);
      if (ann && ann.page !== nav.page && ann.page < nav.count()) { nav.page = ann.page; stage.showPage(); }
      stage.paintBoxes();
      side.paintRows();
      side.paintLabels();
    }

    function remove(uuid) {
      flushTyping();
      if (doc.remove(uuid)) { render(); ctx.changed(); }
    }

    function chooseLabel(label) {
      const ann = doc.selectedAnn();
      if (ann && ann.label !== label) edit(() => doc.chooseLabel(label));
      else { doc.chooseLabel(label); side.paintLabels(); }
    }

    const stage = new Stage(doc, nav, colorOf, {
      draw: (location) => edit(() => doc.add(nav.page, location)),
      click: (point) => select(doc.hitAt(nav.page, point)),
      goPage,
      shown: () => side.paintRows(),
    });
    const labelKeys = ctx.freeKeys.filter((k) => k !== 't');
    const side = new SidePanel(doc, nav, labelKeys, colorOf, {
      chooseLabel,
      select,
      relabel: (uuid, label) => edit(() => doc.relabel(uuid, label)),
      remove,
      typed,
      flushTyping,
    });

    function render() {
      stage.paintBoxes();
      side.paintList();
      side.paintLabels();
    }

    bindKeys(ctx, doc, labelKeys, { chooseLabel, goPage, select, remove, focusText: () => side.focusText(), page: () => nav.page });

    el.append(h('div', { class: 'dt-layout' }, stage.el, side.el));
    stage.showPage();
    render();

    return {
      getResponse: () => doc.response(),
      getState: () => doc.snapshot(),
      setState(saved) {
        steps.cancel();
        doc.restore(saved);
        render();
      },
    };
  },
};

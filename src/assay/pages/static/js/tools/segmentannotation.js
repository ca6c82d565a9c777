// segmentannotation: paint a class mask over the image. D brush, E eraser ([ and ] change
// the size), P polygon fill, G GrabCut (drag a box: the server finds the object in it and
// paints it with the current class, to refine with the brush); digits choose the label,
// N starts a new instance of an instance label; Alt+digit hides a class, O cycles the
// mask's opacity. Zoom and pan as in the image tool (wheel, =/-, Z, X, space-drag).
// Submitting uploads the mask: the server writes Scale's PNG files (per label or instance,
// combined, indexed) as files of the organization, and the answer names them.
//
// Modules in segmentannotation/: state.js (the mask and its edits) is pure and tested in
// Node; stage.js draws, paint.js takes the mouse.
import { api, h } from '../api.js';
import { swatch } from './imageannotation/side.js';
import { Painter } from './segmentannotation/paint.js';
import { MaskStage } from './segmentannotation/stage.js';
import { MaskAnswer } from './segmentannotation/state.js';

const TOOLS = [['brush', 'Brush', 'd'], ['eraser', 'Eraser', 'e'], ['polygon', 'Polygon fill', 'p'], ['grabcut', 'GrabCut box', 'g']];
const OPACITY = [55, 80, 30];

// A previous answer's indexed image → its pixel values (the red channel of a grey PNG).
async function indexedValues(url, width, height) {
  const img = new Image();
  img.src = url;
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const c = canvas.getContext('2d', { willReadFrequently: true });
  c.drawImage(img, 0, 0);
  const rgba = c.getImageData(0, 0, width, height).data;
  const out = new Uint16Array(width * height);
  for (let i = 0; i < out.length; i++) out[i] = rgba[i * 4];
  return out;
}

export default {
  mount(el, task, ctx) {
    let answer = null;
    let opacity = 0;
    const message = h('p', { class: 'ia-message', role: 'status' });
    const toolbar = h('div', { class: 'ia-toolbar' });
    const classesEl = h('div', { class: 'ia-labels' });
    const say = (text) => { message.textContent = text || ''; };
    const stage = new MaskStage({
      ready: (width, height) => { start(width, height); },
      failed: say,
    });
    const painter = new Painter(stage, {
      changed: () => { say(''); paintSide(); ctx.changed(); },
      message: say,
      zoomed: () => paintToolbar(),
      grabcut: async (box) => {
        say('GrabCut is finding the object…');
        try {
          const region = await api('POST', `/api/assignments/${ctx.assignmentId}/grabcut`, { box });
          stage.paint(answer.applyRegion(region));
          say('');
          paintSide();
          ctx.changed();
        } catch (err) { say(err.message); }
      },
    });

    async function start(width, height) {
      answer = new MaskAnswer(task.params, width, height);
      const indexed = ctx.initial?.annotations?.combined?.indexedImage;
      if (indexed && /^(https?:|\/)/.test(indexed)) {
        try { answer.loadIndexed(await indexedValues(indexed, width, height), ctx.initial.labelMapping); } catch { say('The previous mask could not be loaded.'); }
      }
      stage.answer = answer;
      stage.setOpacity(OPACITY[opacity]);
      stage.paint();
      ctx.changed(); // the mask as loaded is the first undo state
      paintToolbar();
      paintSide();
    }

    function paintToolbar() {
      toolbar.replaceChildren(...TOOLS.map(([name, title, key]) => h('button', { type: 'button', class: `ia-tool${painter.tool === name ? ' selected' : ''}`,
        dataset: { tool: name }, onclick: () => choose(name) }, title, ' ', h('kbd', {}, key.toUpperCase()))),
      h('span', { class: 'ia-zoom sa-size' }, `brush ${painter.radius * 2} px`),
      h('span', { class: 'ia-zoom' }, `${Math.round(stage.view.scale * 100)}%`));
    }

    function paintSide() {
      if (!answer) return;
      const counts = answer.counts();
      classesEl.replaceChildren(...answer.classes.map((c) => {
        const n = answer.labels.indexOf(c.label);
        const instances = answer.classes.filter((x) => x.label === c.label);
        const name = instances.length > 1 ? `${c.label} #${instances.indexOf(c) + 1}` : c.label;
        return h('button', { type: 'button', class: `choice ia-label${c.index === answer.current ? ' selected' : ''}${answer.hidden.has(c.index) ? ' other' : ''}`,
          dataset: { label: c.label, index: String(c.index) }, onclick: () => { answer.current = c.index; paintSide(); } },
        swatch(c.color), ` ${name} `, h('span', { class: 'muted' }, `${counts.get(c.index) || 0} px`), n < 9 ? h('kbd', {}, String(n + 1)) : null);
      }));
    }

    function choose(tool) { painter.cancel(); painter.tool = tool; paintToolbar(); }
    const zoom = (how) => {
      const v = stage.view;
      if (how === 'fit') v.fit(); else if (how === 'one') v.zoomTo(1); else v.zoomBy(how === 'in' ? 2 : 0.5);
      stage.apply();
      paintToolbar();
    };

    for (const [name, title, key] of TOOLS) ctx.hotkey(key, title, () => choose(name));
    const labels = [...new Set((task.params.labels ? new MaskAnswer(task.params, 1, 1).labels : []))];
    labels.slice(0, 9).forEach((label, i) => ctx.hotkey(String(i + 1), `Paint “${label}”`, () => { if (answer?.chooseLabel(label)) paintSide(); }));
    labels.slice(0, 9).forEach((label, i) => ctx.hotkey(`Alt+${i + 1}`, `Show or hide “${label}”`, () => {
      if (!answer) return;
      for (const c of answer.classes.filter((x) => x.label === label)) { if (answer.hidden.has(c.index)) answer.hidden.delete(c.index); else answer.hidden.add(c.index); }
      stage.paint();
      paintSide();
    }));
    ctx.hotkey('n', 'New instance of the current label (instance labels)', () => {
      if (answer?.newInstance()) paintSide(); else say('Only instance labels have instances.');
    });
    ctx.hotkey('[', 'Smaller brush', () => { painter.radius = Math.max(1, Math.round(painter.radius / 1.5)); paintToolbar(); });
    ctx.hotkey(']', 'Larger brush', () => { painter.radius = Math.min(400, Math.round(painter.radius * 1.5) + 1); paintToolbar(); });
    ctx.hotkey('o', 'Mask opacity', () => { opacity = (opacity + 1) % OPACITY.length; stage.setOpacity(OPACITY[opacity]); });
    ctx.hotkey('Shift+Enter', 'Fill the polygon being clicked out', () => painter.fill());
    ctx.hotkey('Escape', 'Drop the polygon being clicked out', () => painter.cancel(), { display: 'Esc' });
    ctx.hotkey('=', 'Zoom in', () => zoom('in'));
    ctx.hotkey('-', 'Zoom out', () => zoom('out'));
    ctx.hotkey('z', 'Fit the image', () => zoom('fit'));
    ctx.hotkey('x', 'Zoom to 1:1', () => zoom('one'));
    ctx.hotkey(' ', 'Hold and drag to pan', () => {
      painter.space = true;
      const up = (e) => { if (e.key === ' ') { painter.space = false; document.removeEventListener('keyup', up); } };
      document.addEventListener('keyup', up);
    }, { display: 'Space' });

    el.append(h('div', { class: 'ia-layout' }, h('div', { class: 'ia-main' }, toolbar, stage.el, message),
      h('div', { class: 'ia-side' }, h('h3', {}, 'Classes'), classesEl,
        h('p', { class: 'hint' }, 'Paint with the brush, fill polygons, or drag a GrabCut box and refine it. Only painted classes are answered.'))));
    stage.picture.load(task.params.attachment);
    paintToolbar();
    el.saView = stage.view; // for tests and scripts: screen = image × scale + offset

    return {
      // Uploads the mask; the answer names the PNG files the server made of it.
      async getResponse() {
        if (!answer) throw new Error('The image is still loading.');
        return api('POST', `/api/assignments/${ctx.assignmentId}/masks`, answer.uploadBody());
      },
      getState: () => (answer ? answer.snapshot() : null),
      setState(saved) {
        if (!answer || !saved) return;
        painter.cancel();
        answer.restore(saved);
        stage.paint();
        paintSide();
      },
    };
  },
};

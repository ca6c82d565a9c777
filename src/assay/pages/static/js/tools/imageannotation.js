// imageannotation: boxes (rotated when the task's box has can_rotate), polygons, lines,
// points, ellipses and 2D cuboids on an image, keyboard first. Q/P/L/O/E/C choose the
// geometry to draw, V selects and moves; digits choose the label (of new shapes and of
// the selected one; only the geometry's own labels are accepted). Shapes are stored in the
// image's own pixels whatever the zoom: the wheel and =/- zoom at the cursor, Z fits, X is
// 1:1, space-drag or arrows (with nothing selected) pan. The task's constraints are kept
// while drawing (min_width/min_height, min/max vertices, labels per geometry) and a
// refused shape says why. Large uploaded images open as a preview and sharpen with tiles.
//
// In review, each labeler's shapes are drawn in their own colour (Alt+1…9 toggles one,
// Alt+0 the editable consolidated answer); the reviewer fixes the consolidated shapes.
//
// Modules in imageannotation/: state.js (the answer and its edits), geometry-state.js and
// view-state.js are pure and tested in Node; stage.js draws, pointer.js takes the mouse,
// side.js the controls, imagelayer.js the picture (preview and tiles).
import { h } from '../api.js';
import { Pointer } from './imageannotation/pointer.js';
import { GEOMETRY_KEYS, Side, swatch } from './imageannotation/side.js';
import { Stage } from './imageannotation/stage.js';
import { ImageAnswer } from './imageannotation/state.js';

const PALETTE = ['#2f5bd3', '#e0452b', '#1f9d55', '#d68a00', '#8e44d1', '#00a3b4', '#d81b76', '#7c8f00'];
export const LABELER_COLORS = ['#ff6b00', '#00b3ff', '#c000ff', '#00c853', '#ffd600', '#ff1744', '#76ff03', '#2979ff', '#f50057'];
const NUDGE = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

function bindKeys(ctx, a, act) {
  ctx.hotkey('v', 'Select and move shapes', () => act.tool('select'));
  for (const g of a.geometries) ctx.hotkey(GEOMETRY_KEYS[g], `Draw ${g}s`, () => act.tool(g));
  act.labelKeys.forEach((key, i) => { if (a.allLabels[i]) ctx.hotkey(key, `Label “${a.allLabels[i]}”`, () => act.label(a.allLabels[i])); });
  const sel = (fn) => () => { if (a.selected) fn(a.selected); };
  ctx.hotkey('Delete', 'Delete the selected shape', sel(act.remove));
  ctx.hotkey('Backspace', 'Delete the selected shape', sel(act.remove));
  ctx.hotkey('d', 'Duplicate the selected shape', sel(act.duplicate));
  ctx.hotkey('h', 'Hide or show the selected shape', sel((u) => act.toggle('hidden', u)));
  ctx.hotkey('k', 'Lock or unlock the selected shape', sel((u) => act.toggle('locked', u)));
  ctx.hotkey(']', 'Bring the selected shape forward', sel((u) => act.restack(u, 1)));
  ctx.hotkey('[', 'Send the selected shape back', sel((u) => act.restack(u, -1)));
  ctx.hotkey('.', 'Select the next shape', () => act.step(1));
  ctx.hotkey(',', 'Select the previous shape', () => act.step(-1));
  ctx.hotkey('Escape', 'Cancel the shape being drawn, or deselect', act.escape, { display: 'Esc' });
  ctx.hotkey('Shift+Enter', 'Finish the polygon or line being drawn', act.finish);
  ctx.hotkey('=', 'Zoom in', () => act.zoom('in'));
  ctx.hotkey('+', 'Zoom in', () => act.zoom('in'));
  ctx.hotkey('-', 'Zoom out', () => act.zoom('out'));
  ctx.hotkey('z', 'Fit the image', () => act.zoom('fit'));
  ctx.hotkey('x', 'Zoom to 1:1 (one image pixel a screen pixel)', () => act.zoom('one'));
  ctx.hotkey('w', 'Crosshair on or off', act.crosshair);
  ctx.hotkey('u', 'Copy the shapes of the previous task', act.copyPrevious);
  ctx.hotkey(' ', 'Hold and drag to pan', act.spaceDown, { display: 'Space' });
  for (const [key, [dx, dy]] of Object.entries(NUDGE)) {
    ctx.hotkey(key, 'Move the selected shape 1 px (or pan)', () => act.nudge(dx, dy, 1), { display: key.replace('Arrow', '') });
    ctx.hotkey(`Shift+${key}`, 'Move the selected shape 10 px', () => act.nudge(dx, dy, 10), { display: `Shift+${key.replace('Arrow', '')}` });
  }
  for (let i = 0; i <= 9; i++) ctx.hotkey(`Alt+${i}`, i ? `Show or hide labeler ${i}'s shapes (review)` : 'Show or hide the editable shapes', () => act.layer(i));
}

export default {
  mount(el, task, ctx) {
    const a = new ImageAnswer(task.params, ctx.initial, { prelabel: !!ctx.fromPrelabel });
    const colorOf = (label) => PALETTE[Math.max(0, a.allLabels.indexOf(label)) % PALETTE.length];
    const labelKeys = ctx.freeKeys.filter((k) => /\d/.test(k));
    let ownHidden = false;

    const stage = new Stage(a, colorOf, { ready: () => render(), failed: (m) => side.message(m) });
    const pointer = new Pointer(stage, a, {
      changed: () => { side.message(''); render(); ctx.changed(); },
      selected: () => renderSide(),
      message: (m) => side.message(m),
      zoomed: () => side.paintToolbar(pointer.mode, stage.view.scale),
    });

    function renderSide() {
      side.paintToolbar(pointer.mode, stage.view.scale);
      side.paintLabels();
      side.paintList();
      side.paintAttributes();
    }
    function render() { stage.paint(); renderSide(); }
    function edit(fn) { if (fn()) { side.message(''); render(); ctx.changed(); } else renderSide(); }
    const report = (result) => { if (result?.error) side.message(result.error); return result?.changed; };

    const act = {
      labelKeys,
      tool(name) {
        pointer.cancel();
        if (name === 'select') pointer.mode = 'select';
        else if (a.chooseTool(name)) { pointer.mode = 'draw'; a.select(null); }
        render();
      },
      label: (label) => edit(() => report(a.chooseLabel(label))),
      select(uuid) { a.select(uuid); render(); },
      remove: (uuid) => edit(() => a.remove(uuid)),
      duplicate: (uuid) => edit(() => !!a.duplicate(uuid)),
      toggle: (list, uuid) => edit(() => a.toggle(list, uuid)),
      restack: (uuid, d) => edit(() => a.restack(uuid, d)),
      attribute: (uuid, name, value) => edit(() => a.setAttribute(uuid, name, value)),
      step(d) { const uuid = a.step(d); if (uuid) act.select(uuid); },
      escape() { if (!pointer.cancel()) act.select(null); },
      finish: () => pointer.finish(),
      zoom(how) {
        const v = stage.view;
        if (how === 'fit') v.fit(); else if (how === 'one') v.zoomTo(1); else v.zoomBy(how === 'in' ? 2 : 0.5);
        stage.apply();
        side.paintToolbar(pointer.mode, v.scale);
      },
      adjust: (b, c) => stage.picture.adjust(b, c),
      crosshair() { pointer.crosshair = !pointer.crosshair; if (!pointer.crosshair) stage.crosshair(null); },
      copyPrevious() {
        if (!ctx.previousResponse) { side.message('No previous task in this session to copy from.'); return; }
        edit(() => a.copyFrom(ctx.previousResponse) > 0);
      },
      spaceDown() {
        pointer.space = true;
        stage.el.classList.add('panning');
        const up = (e) => {
          if (e.key !== ' ') return;
          pointer.space = false;
          stage.el.classList.remove('panning');
          document.removeEventListener('keyup', up);
        };
        document.addEventListener('keyup', up);
      },
      nudge(dx, dy, px) {
        if (!a.selected) { stage.view.pan(-dx * 50, -dy * 50); stage.apply(); return; }
        edit(() => { const moved = a.move(a.selected, dx * px, dy * px); a.settle(a.selected); return moved; });
      },
      layer(i) {
        if (i === 0) { ownHidden = !ownHidden; stage.shapesG.style.display = ownHidden ? 'none' : ''; legend.paint(); return; }
        const layer = stage.overlays[i - 1];
        if (layer) { layer.visible = !layer.visible; stage.paintOverlays(); legend.paint(); }
      },
    };
    const side = new Side(a, labelKeys, colorOf, act);
    bindKeys(ctx, a, act);

    const legend = reviewLegend(stage, ctx, act, () => ownHidden);
    el.append(h('div', { class: 'ia-layout' }, h('div', { class: 'ia-main' }, side.toolbar, stage.el, side.messageEl, legend.el), side.el));
    stage.picture.load(task.params.attachment);
    render();
    // for tests and scripts: the view's transform (screen = image × scale + offset), the stage
    el.iaView = stage.view;
    el.iaStage = stage;

    return {
      getResponse() {
        if (pointer.draft) throw new Error('Finish the shape being drawn first (Shift+Enter), or press Esc to drop it.');
        return a.response();
      },
      getState: () => a.snapshot(),
      setState(saved) { pointer.cancel(); a.restore(saved); render(); },
    };
  },
};

// Review: each labeler's shapes in their own colour, listed with the key that toggles them.
function reviewLegend(stage, ctx, act, ownHidden) {
  const answers = ctx.mode === 'review' ? ctx.answers || [] : [];
  stage.overlays = answers.map((answer, i) => ({ name: answer.labeler || `labeler ${i + 1}`, color: LABELER_COLORS[i % LABELER_COLORS.length],
    shapes: Array.isArray(answer.response?.annotations) ? answer.response.annotations : [], visible: true }));
  const el = h('div', { class: 'ia-legend', hidden: !answers.length });
  const paint = () => el.replaceChildren(h('strong', {}, 'Layers: '), ...stage.overlays.map((layer, i) => h('button', {
    type: 'button', class: `link ia-layer${layer.visible ? '' : ' off'}`, dataset: { labeler: layer.name }, onclick: () => act.layer(i + 1),
  }, swatch(layer.color), ` ${layer.name} (${layer.shapes.length}) `, h('kbd', {}, `Alt+${i + 1}`))),
  h('button', { type: 'button', class: `link ia-layer${ownHidden() ? ' off' : ''}`, onclick: () => act.layer(0) }, 'consolidated (editable) ', h('kbd', {}, 'Alt+0')));
  paint();
  return { el, paint };
}

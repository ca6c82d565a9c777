// videoannotation: tracks of boxes, points, polygons and lines over the frames of a video, drawn and
// edited as in the image tool. Frames come from the task's `attachments` or from its
// video, decoded on the server. ← / → step a frame (Shift: ten), Home / End, K plays and
// pauses, [ and ] change the speed. Editing an object on a frame makes a keyframe there;
// between keyframes the object moves linearly. H marks the selected object outside the
// view from this frame (again: back in), U removes this frame's keyframe, T follows the
// selected box through the next 30 frames with the server's tracker (its boxes become
// keyframes to correct), Delete removes the whole track.
//
// Modules in videoannotation/: state.js (tracks, interpolation, the answer) is pure and
// tested in Node; timeline.js draws the player bar and the tracks over time. The picture,
// shapes and mouse are the image tool's.
import { api, h } from '../api.js';
import { Pointer } from './imageannotation/pointer.js';
import { GEOMETRY_KEYS, Side } from './imageannotation/side.js';
import { Stage } from './imageannotation/stage.js';
import { ImageAnswer } from './imageannotation/state.js';
import { mediaBase } from './imageannotation/imagelayer.js';
import { SPEEDS, Timeline } from './videoannotation/timeline.js';
import { VideoAnswer } from './videoannotation/state.js';

const PALETTE = ['#ff6b00', '#00b3ff', '#c000ff', '#00c853', '#ffd600', '#ff1744', '#2979ff', '#f50057'];
const TRACK_FRAMES = 30;
const TRACKED = ['box', 'point', 'polygon', 'line']; // ellipses and cuboids are image-only for now

// Frame n's URL: an attachment, or a frame of the decoded video.
async function frameSource(params) {
  if (Array.isArray(params.attachments) && params.attachments.length) return { count: params.attachments.length, url: (n) => params.attachments[n] };
  const media = mediaBase(params.attachment);
  if (!media) throw new Error('This video is not a file of this server: upload it, or send its frames as attachments.');
  const res = await fetch(`${media.base}/video?${media.query}`, { credentials: 'same-origin' });
  const info = await res.json();
  if (!res.ok) throw new Error(info.error || 'The video could not be decoded.');
  return { count: info.frames, url: (n) => `${media.base}/frames/${n}?${media.query}` };
}

export default {
  mount(el, task, ctx) {
    const p = task.params;
    const geometries = Object.fromEntries(Object.entries(p.geometries || {}).filter(([g]) => TRACKED.includes(g)));
    const shapes = new ImageAnswer({ geometries, annotation_attributes: p.annotation_attributes }, null, { prelabel: false });
    const colorOf = (label) => PALETTE[Math.max(0, shapes.allLabels.indexOf(label)) % PALETTE.length];
    const message = (text) => side.message(text);
    let video = null;
    let source = null;
    let timeline = null;
    let frame = 0;
    let playing = null;
    let speed = 2; // index into SPEEDS

    const stage = new Stage(shapes, colorOf, { ready: () => render(), failed: message });
    const pointer = new Pointer(stage, shapes, {
      changed: () => sync(),
      selected: () => renderSide(),
      message,
      zoomed: () => side.paintToolbar(pointer.mode, stage.view.scale),
    });

    // The frame's shapes were edited: each changed object gets a keyframe here.
    function sync() {
      const before = new Map(video.shapesAt(frame).map((s) => [s.uuid, JSON.stringify(s)]));
      for (const shape of shapes.shapes) {
        if (before.get(shape.uuid) !== JSON.stringify(shape)) video.setKey(shape, frame);
      }
      for (const uuid of before.keys()) if (!shapes.find(uuid)) video.removeTrack(uuid);
      message('');
      ctx.changed();
      show(frame);
    }

    function show(n) {
      frame = Math.max(0, Math.min(video.count - 1, n));
      const selected = shapes.selected;
      shapes.state.shapes = video.shapesAt(frame);
      shapes.state.selected = shapes.find(selected) ? selected : null;
      const url = source.url(frame);
      if (stage.picture.url !== url) stage.picture.load(url);
      render();
    }

    function renderSide() {
      side.paintToolbar(pointer.mode, stage.view.scale);
      side.paintLabels();
      side.paintList();
      side.paintAttributes();
      timeline?.paintRows(frame, shapes.selected);
      timeline?.paintPlayer(frame, !!playing, SPEEDS[speed]);
      keyNote.textContent = shapes.selected ? (video.isKey(shapes.selected, frame) ? 'keyframe here' : 'interpolated here') : '';
    }
    function render() { stage.paint(); renderSide(); }

    function edit(fn) { if (video && fn()) { ctx.changed(); show(frame); } }
    function play() {
      if (playing) { clearInterval(playing); playing = null; renderSide(); return; }
      playing = setInterval(() => {
        if (frame >= video.count - 1 || !el.isConnected) { clearInterval(playing); playing = null; renderSide(); return; }
        show(frame + 1);
      }, 1000 / (8 * SPEEDS[speed]));
      renderSide();
    }
    async function trackForward() {
      const uuid = shapes.selected;
      const shape = shapes.selectedShape();
      if (!shape || shape.type !== 'box') { message('Select a box to follow.'); return; }
      const box = { left: Math.round(shape.left), top: Math.round(shape.top), width: Math.max(2, Math.round(shape.width)), height: Math.max(2, Math.round(shape.height)) };
      message('Following the box…');
      try {
        const result = await api('POST', `/api/assignments/${ctx.assignmentId}/track`, { box, frame, frames: TRACK_FRAMES });
        video.setKey(shape, frame);
        const n = video.applyTracker(uuid, result.first_frame, result.boxes);
        ctx.changed();
        show(frame);
        message(`The tracker followed it through ${n} frame${n === 1 ? '' : 's'}; correct any frame to make it a keyframe.`);
      } catch (err) { message(err.message); }
    }

    const side = new Side(shapes, ctx.freeKeys.filter((k) => /\d/.test(k)), colorOf, {
      tool(name) { pointer.cancel(); if (name === 'select') pointer.mode = 'select'; else if (shapes.chooseTool(name)) pointer.mode = 'draw'; renderSide(); },
      label(label) { const r = shapes.chooseLabel(label); if (r.error) message(r.error); if (r.changed) sync(); else renderSide(); },
      select(uuid) { shapes.select(uuid); render(); },
      remove: (uuid) => edit(() => video.removeTrack(uuid)),
      toggle: (list, uuid) => edit(() => (list === 'hidden' ? video.toggleOutside(uuid, frame) : false)),
      restack: () => {},
      attribute: () => message('Attributes are not kept per track yet.'),
      zoom(how) { const v = stage.view; if (how === 'fit') v.fit(); else if (how === 'one') v.zoomTo(1); else v.zoomBy(how === 'in' ? 2 : 0.5); stage.apply(); renderSide(); },
      adjust: (b, c) => stage.picture.adjust(b, c),
      crosshair() { pointer.crosshair = !pointer.crosshair; if (!pointer.crosshair) stage.crosshair(null); },
    });
    const keyNote = h('span', { class: 'muted va-keynote' });

    ctx.hotkey('v', 'Select and move objects', () => side.act.tool('select'));
    for (const g of shapes.geometries) ctx.hotkey(GEOMETRY_KEYS[g], `Draw ${g}s (a new track)`, () => side.act.tool(g));
    shapes.allLabels.slice(0, 10).forEach((label, i) => ctx.hotkey(String((i + 1) % 10), `Label “${label}”`, () => side.act.label(label)));
    ctx.hotkey('ArrowRight', 'Next frame', () => show(frame + 1), { display: '→' });
    ctx.hotkey('ArrowLeft', 'Previous frame', () => show(frame - 1), { display: '←' });
    ctx.hotkey('Shift+ArrowRight', '10 frames on', () => show(frame + 10), { display: 'Shift+→' });
    ctx.hotkey('Shift+ArrowLeft', '10 frames back', () => show(frame - 10), { display: 'Shift+←' });
    ctx.hotkey('Home', 'First frame', () => show(0));
    ctx.hotkey('End', 'Last frame', () => show(video.count - 1));
    ctx.hotkey('k', 'Play or pause', play);
    ctx.hotkey(']', 'Faster', () => { speed = Math.min(SPEEDS.length - 1, speed + 1); renderSide(); });
    ctx.hotkey('[', 'Slower', () => { speed = Math.max(0, speed - 1); renderSide(); });
    ctx.hotkey('h', 'Selected object outside the view from this frame (or back)', () => { if (shapes.selected) edit(() => video.toggleOutside(shapes.selected, frame)); });
    ctx.hotkey('u', "Remove this frame's keyframe of the selected object", () => { if (shapes.selected) edit(() => video.removeKey(shapes.selected, frame)); });
    ctx.hotkey('t', `Follow the selected box through the next ${TRACK_FRAMES} frames (tracker)`, trackForward);
    ctx.hotkey('Delete', 'Delete the selected track', () => { if (shapes.selected) edit(() => video.removeTrack(shapes.selected)); });
    ctx.hotkey('Escape', 'Cancel drawing, or deselect', () => { if (!pointer.cancel()) side.act.select(null); }, { display: 'Esc' });
    ctx.hotkey('=', 'Zoom in', () => side.act.zoom('in'));
    ctx.hotkey('-', 'Zoom out', () => side.act.zoom('out'));
    ctx.hotkey('z', 'Fit the frame', () => side.act.zoom('fit'));
    ctx.hotkey('x', 'Zoom to 1:1', () => side.act.zoom('one'));

    const events = h('div', { class: 'va-events' });
    const paintEvents = () => events.replaceChildren(...(video?.eventLabels || []).map((label) => h('button', { type: 'button', class: 'link',
      onclick: () => { edit(() => !!video.addEvent(label, frame)); paintEvents(); } }, `Mark “${label}” here`)),
    h('span', { class: 'muted' }, video?.state.events.length ? ` ${video.state.events.length} event(s)` : ''));
    const timelineSlot = h('div');
    el.append(h('div', { class: 'ia-layout' }, h('div', { class: 'ia-main' }, side.toolbar, stage.el, h('div', {}, side.messageEl, keyNote), timelineSlot, events), side.el));
    el.iaView = stage.view;

    frameSource(p).then((src) => {
      source = src;
      video = new VideoAnswer(p, src.count, ctx.initial, { uuid: shapes.uuid });
      timeline = new Timeline(video, colorOf, { go: show, play, select: (uuid) => side.act.select(uuid) });
      timelineSlot.replaceChildren(timeline.el);
      el.vaFrame = () => frame;
      ctx.changed(); // the tracks as loaded are the first undo state
      paintEvents();
      show(0);
    }).catch((err) => message(err.message));

    return {
      getResponse() {
        if (!video) throw new Error('The frames are still loading.');
        return video.response();
      },
      getState: () => (video ? video.snapshot() : null),
      setState(saved) { if (video && saved) { video.restore(saved); paintEvents(); show(frame); } },
    };
  },
};

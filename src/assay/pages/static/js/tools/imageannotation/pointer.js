// Mouse and wheel on the stage. In draw mode a drag draws the current geometry (a click
// selects what is under it), clicks place a point or a polygon's / line's vertices
// (double-click, a click on the first vertex, or Shift+Enter finishes); in select mode a
// click selects and a drag moves the shape (or pans on empty space). The selected shape's
// handles resize, rotate and move vertices in either mode (Alt+click removes a vertex,
// double-click on an edge adds one). Space-drag or the middle button pans; the wheel zooms
// at the cursor.
import { hitShape } from './geometry-state.js';

const CLICK_PX = 4; // a smaller drag is a click
const CLOSE_PX = 8; // a click this near the first vertex closes a polygon

export class Pointer {
  // act: {changed(), selected(), message(text), zoomed()}
  constructor(stage, answer, act) {
    this.stage = stage;
    this.answer = answer;
    this.act = act;
    this.mode = 'draw'; // or 'select'
    this.gesture = null;
    this.draft = null; // {type, vertices, cursor} while clicking out a polygon or line
    this.space = false;
    this.crosshair = false;
    this.frame = 0;
    const el = stage.el;
    el.addEventListener('mousedown', (e) => this.down(e));
    el.addEventListener('wheel', (e) => this.wheel(e), { passive: false });
    el.addEventListener('mousemove', (e) => this.hover(e));
    el.addEventListener('mouseleave', () => stage.crosshair(null));
    this.onMove = (e) => this.move(e);
    this.onUp = (e) => this.up(e);
  }

  hit(p) {
    const tol = 5 / this.stage.view.scale;
    return this.answer.hitAt(p, (shape, q) => hitShape(shape, q, tol));
  }

  clamp(p) {
    const { width, height } = this.stage.view.image;
    return { x: Math.max(0, Math.min(width, p.x)), y: Math.max(0, Math.min(height, p.y)) };
  }

  down(e) {
    if (!this.stage.ready() || this.gesture) return;
    e.preventDefault();
    if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
    const screen = this.stage.at(e);
    const p = this.stage.view.toImage(screen);
    const start = { screen, p, last: p };
    // double clicks are told apart here: the shapes under the mouse are repainted between
    // the two clicks, so the browser's own dblclick does not always arrive
    const previous = this.lastDown;
    this.lastDown = { at: e.timeStamp, screen };
    if (e.button === 0 && previous && e.timeStamp - previous.at < 400 && Math.hypot(screen.x - previous.screen.x, screen.y - previous.screen.y) < CLICK_PX) {
      this.lastDown = null;
      if (this.double(p)) return;
    }
    if (e.button === 1 || (e.button === 0 && this.space)) return this.begin({ kind: 'pan', ...start });
    if (e.button !== 0) return;
    if (this.draft) { this.addDraftVertex(this.clamp(p), screen); return; }
    const handle = this.stage.handleAt(screen);
    const uuid = this.answer.selected;
    if (handle) {
      if (e.altKey && handle.kind === 'vertex') { this.report(this.answer.removeVertex(uuid, handle.index)); return; }
      return this.begin({ kind: handle.kind, handle, uuid, ...start });
    }
    const a = this.answer;
    if (this.mode === 'select') {
      const hit = this.hit(p);
      this.select(hit);
      if (!hit) return this.begin({ kind: 'pan', ...start });
      if (!a.isLocked(hit)) this.begin({ kind: 'move', uuid: hit, ...start });
      return;
    }
    if (a.tool === 'polygon' || a.tool === 'line') {
      this.draft = { type: a.tool, vertices: [this.clamp(p)], cursor: null };
      this.stage.paintDraft(this.draft);
      return;
    }
    if (a.tool === 'point') {
      const near = this.hit(p);
      if (near && a.find(near).type === 'point') {
        this.select(near);
        if (!a.isLocked(near)) this.begin({ kind: 'move', uuid: near, ...start });
        return;
      }
      this.created(a.create({ at: this.clamp(p) }));
      return;
    }
    this.begin({ kind: 'draw', ...start, from: this.clamp(p) });
  }

  begin(gesture) {
    this.gesture = { ...gesture, moved: false };
    document.addEventListener('mousemove', this.onMove);
    document.addEventListener('mouseup', this.onUp);
  }

  move(e) {
    const g = this.gesture;
    if (!g) return;
    const screen = this.stage.at(e);
    const p = this.stage.view.toImage(screen);
    if (Math.abs(screen.x - g.screen.x) >= CLICK_PX || Math.abs(screen.y - g.screen.y) >= CLICK_PX) g.moved = true;
    const a = this.answer;
    switch (g.kind) {
      case 'pan': this.stage.view.pan(screen.x - (g.lastScreen || g.screen).x, screen.y - (g.lastScreen || g.screen).y); g.lastScreen = screen; this.later(null, true); break;
      case 'draw': g.to = this.clamp(p); this.stage.paintDraft({ type: a.tool, from: g.from, to: g.to }); break;
      case 'move': if (g.moved) { a.move(g.uuid, p.x - g.last.x, p.y - g.last.y); g.last = p; this.later(g.uuid); } break;
      case 'resize': a.resize(g.uuid, g.handle.handle, p); this.later(g.uuid); break;
      case 'rotate': a.rotate(g.uuid, p); this.later(g.uuid); break;
      case 'vertex': a.moveVertex(g.uuid, g.handle.index, p); this.later(g.uuid); break;
      default: break;
    }
  }

  // One repaint per animation frame however many mouse events arrive.
  later(uuid, whole = false) {
    this.pending = { uuid, whole: whole || this.pending?.whole };
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      const { uuid: id, whole: all } = this.pending;
      this.pending = null;
      if (all) this.stage.apply(); else this.stage.paintShape(id);
    });
  }

  up(e) {
    document.removeEventListener('mousemove', this.onMove);
    document.removeEventListener('mouseup', this.onUp);
    const g = this.gesture;
    this.gesture = null;
    if (!g) return;
    if (g.kind === 'draw') {
      this.stage.paintDraft(null);
      const to = this.clamp(this.stage.view.toImage(this.stage.at(e)));
      if (!g.moved) { this.select(this.hit(g.p)); return; }
      this.created(this.answer.create({ from: g.from, to }));
      return;
    }
    if (g.kind === 'pan') { this.stage.apply(); return; }
    if (g.moved || g.kind !== 'move') {
      this.answer.settle(g.uuid);
      this.stage.paint();
      this.act.changed();
    }
  }

  // ------------------------------------------------------------------ polygons and lines
  addDraftVertex(p, screen) {
    const d = this.draft;
    const first = this.stage.view.toScreen(d.vertices[0]);
    if (d.type === 'polygon' && d.vertices.length >= 3 && Math.hypot(first.x - screen.x, first.y - screen.y) <= CLOSE_PX) { this.finish(); return; }
    d.vertices.push(p);
    this.stage.paintDraft(d);
    if (d.vertices.length >= this.answer.maxVertices(d.type)) this.finish();
  }

  finish() {
    const d = this.draft;
    if (!d) return;
    // a double-click's two clicks land on one spot: keep one vertex there
    const vertices = d.vertices.filter((v, i) => i === 0 || Math.hypot(v.x - d.vertices[i - 1].x, v.y - d.vertices[i - 1].y) > 0.5);
    this.cancel();
    this.created(this.answer.create({ vertices }));
  }

  cancel() {
    const had = !!this.draft;
    this.draft = null;
    this.stage.paintDraft(null);
    return had;
  }

  // true when the double click was used (finishing a drawing, adding a vertex)
  double(p) {
    if (this.draft) { this.finish(); return true; }
    const uuid = this.answer.selected;
    if (!uuid || this.mode !== 'select' || !['polygon', 'line'].includes(this.answer.find(uuid)?.type)) return false;
    const result = this.answer.addVertex(uuid, p, 8 / this.stage.view.scale);
    this.report(result);
    return !!(result.changed || result.error);
  }

  // ------------------------------------------------------------------ the rest
  created(result) {
    if (result.error) { this.act.message(result.error); this.stage.paint(); return; }
    this.stage.paint();
    this.act.changed();
  }

  report(result) {
    if (result.error) this.act.message(result.error);
    if (result.changed) { this.stage.paint(); this.act.changed(); }
  }

  select(uuid) {
    this.answer.select(uuid);
    this.stage.paint();
    this.act.selected();
  }

  wheel(e) {
    if (!this.stage.ready()) return;
    e.preventDefault();
    this.stage.view.zoomBy(Math.exp(-e.deltaY / 400), this.stage.at(e));
    this.stage.apply();
    this.act.zoomed();
  }

  hover(e) {
    const screen = this.stage.at(e);
    if (this.crosshair) this.stage.crosshair(screen);
    if (this.draft && !this.gesture) {
      this.draft.cursor = this.clamp(this.stage.view.toImage(screen));
      this.stage.paintDraft(this.draft);
    }
  }
}

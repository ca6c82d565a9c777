// Mouse and wheel on the segmentation stage: brush and eraser strokes, polygon fill
// (clicks; double-click, a click on the first point or Shift+Enter fills), the GrabCut box
// (a drag; the server answers with the object's pixels), space-drag or middle-button pan,
// wheel zoom at the cursor.
const CLOSE_PX = 8;

export class Painter {
  // act: {changed(), message(text), grabcut(box) → Promise, zoomed()}
  constructor(stage, act) {
    this.stage = stage;
    this.act = act;
    this.tool = 'brush'; // brush | eraser | polygon | grabcut
    this.radius = 8; // image pixels
    this.polygon = null;
    this.gesture = null;
    this.space = false;
    const el = stage.el;
    el.addEventListener('mousedown', (e) => this.down(e));
    el.addEventListener('mousemove', (e) => this.hover(e));
    el.addEventListener('mouseleave', () => this.stage.guide(this.polygon ? { polygon: this.polygon } : null));
    el.addEventListener('wheel', (e) => this.wheel(e), { passive: false });
    this.onMove = (e) => this.move(e);
    this.onUp = (e) => this.up(e);
  }

  get answer() { return this.stage.answer; }
  image(e) { return this.stage.view.toImage(this.stage.at(e)); }

  down(e) {
    if (!this.stage.ready() || this.gesture) return;
    e.preventDefault();
    const screen = this.stage.at(e);
    const p = this.stage.view.toImage(screen);
    if (e.button === 1 || (e.button === 0 && this.space)) { this.begin({ kind: 'pan', last: screen }); return; }
    if (e.button !== 0) return;
    if (this.tool === 'polygon') { this.click(p, screen, e.timeStamp); return; }
    if (this.tool === 'grabcut') { this.begin({ kind: 'box', from: p, to: p }); return; }
    const erase = this.tool === 'eraser';
    this.stage.paint(this.answer.paintDisc(p.x, p.y, this.radius, erase));
    this.begin({ kind: 'stroke', last: p, erase });
  }

  begin(gesture) {
    this.gesture = gesture;
    document.addEventListener('mousemove', this.onMove);
    document.addEventListener('mouseup', this.onUp);
  }

  move(e) {
    const g = this.gesture;
    if (!g) return;
    if (g.kind === 'pan') {
      const screen = this.stage.at(e);
      this.stage.view.pan(screen.x - g.last.x, screen.y - g.last.y);
      g.last = screen;
      this.stage.apply();
      return;
    }
    const p = this.image(e);
    if (g.kind === 'stroke') {
      this.stage.paint(this.answer.paintStroke(g.last, p, this.radius, g.erase));
      g.last = p;
      this.stage.guide({ brush: { at: this.stage.at(e), r: this.radius } });
    } else if (g.kind === 'box') {
      g.to = p;
      this.stage.guide({ box: g });
    }
  }

  up() {
    document.removeEventListener('mousemove', this.onMove);
    document.removeEventListener('mouseup', this.onUp);
    const g = this.gesture;
    this.gesture = null;
    if (!g) return;
    if (g.kind === 'stroke') this.act.changed();
    if (g.kind === 'box') {
      this.stage.guide(null);
      const left = Math.round(Math.max(0, Math.min(g.from.x, g.to.x)));
      const top = Math.round(Math.max(0, Math.min(g.from.y, g.to.y)));
      const width = Math.round(Math.min(this.answer.width, Math.max(g.from.x, g.to.x))) - left;
      const height = Math.round(Math.min(this.answer.height, Math.max(g.from.y, g.to.y))) - top;
      if (width < 4 || height < 4) { this.act.message('Drag a box around the object for GrabCut.'); return; }
      this.act.grabcut({ left, top, width, height });
    }
  }

  // ------------------------------------------------------------------ polygon fill
  click(p, screen, at) {
    const pts = this.polygon;
    const last = this.lastClick;
    const double = !!last && at - last.at < 400 && Math.hypot(screen.x - last.screen.x, screen.y - last.screen.y) < 4;
    this.lastClick = { at, screen };
    if (pts && pts.length >= 3) {
      const first = this.stage.view.toScreen(pts[0]);
      if (double || Math.hypot(first.x - screen.x, first.y - screen.y) <= CLOSE_PX) { this.fill(); return; }
    }
    this.polygon = [...(pts || []), p];
    this.stage.guide({ polygon: this.polygon });
  }

  fill() {
    const pts = this.polygon;
    this.polygon = null;
    this.stage.guide(null);
    if (!pts || pts.length < 3) { this.act.message('A polygon fill needs at least 3 points.'); return; }
    this.stage.paint(this.answer.fillPolygon(pts, false));
    this.act.changed();
  }

  cancel() {
    const had = !!this.polygon;
    this.polygon = null;
    this.stage.guide(null);
    return had;
  }

  // ------------------------------------------------------------------ the rest
  hover(e) {
    if (this.gesture) return;
    const screen = this.stage.at(e);
    if (this.tool === 'brush' || this.tool === 'eraser') this.stage.guide({ brush: { at: screen, r: this.radius } });
    else if (this.polygon) this.stage.guide({ polygon: this.polygon, cursor: this.stage.view.toImage(screen) });
  }

  wheel(e) {
    if (!this.stage.ready()) return;
    e.preventDefault();
    this.stage.view.zoomBy(Math.exp(-e.deltaY / 400), this.stage.at(e));
    this.stage.apply();
    this.act.zoomed();
  }
}

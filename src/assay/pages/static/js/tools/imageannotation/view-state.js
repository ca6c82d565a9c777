// The image viewport's arithmetic, without the DOM (tested in Node): a zoom `scale`
// (screen pixels per image pixel) and an offset (where image (0, 0) sits on screen).
export const MIN_SCALE = 0.02;
export const MAX_SCALE = 32;

export class Viewport {
  constructor() {
    this.scale = 1;
    this.x = 0;
    this.y = 0;
    this.image = { width: 0, height: 0 };
    this.screen = { width: 0, height: 0 };
  }

  toImage(s) { return { x: (s.x - this.x) / this.scale, y: (s.y - this.y) / this.scale }; }
  toScreen(p) { return { x: p.x * this.scale + this.x, y: p.y * this.scale + this.y }; }

  // The whole image in view, centred (never enlarged past 1:1 unless it is small).
  fit() {
    const { image, screen } = this;
    if (!image.width || !screen.width) return;
    this.scale = Math.max(MIN_SCALE, Math.min(screen.width / image.width, screen.height / image.height));
    this.x = Math.round((screen.width - image.width * this.scale) / 2);
    this.y = Math.round((screen.height - image.height * this.scale) / 2);
  }

  // Zoom to `scale` keeping the image point under screen point `at` where it is.
  zoomTo(scale, at = { x: this.screen.width / 2, y: this.screen.height / 2 }) {
    const next = Math.max(MIN_SCALE, Math.min(MAX_SCALE, scale));
    const p = this.toImage(at);
    this.scale = next;
    this.x = at.x - p.x * next;
    this.y = at.y - p.y * next;
  }

  zoomBy(factor, at) { this.zoomTo(this.scale * factor, at); }

  pan(dx, dy) { this.x += dx; this.y += dy; }

  // Image pixels in view, clipped to the image: {left, top, right, bottom}.
  visible() {
    const a = this.toImage({ x: 0, y: 0 });
    const b = this.toImage({ x: this.screen.width, y: this.screen.height });
    return {
      left: Math.max(0, a.x), top: Math.max(0, a.y),
      right: Math.min(this.image.width, b.x), bottom: Math.min(this.image.height, b.y),
    };
  }

  // Full-resolution tiles (`size` pixels square) that cover the view: [[col, row], …].
  tilesInView(size) {
    const v = this.visible();
    if (v.right <= v.left || v.bottom <= v.top) return [];
    const out = [];
    for (let row = Math.floor(v.top / size); row * size < v.bottom; row++) {
      for (let col = Math.floor(v.left / size); col * size < v.right; col++) out.push([col, row]);
    }
    return out;
  }
}

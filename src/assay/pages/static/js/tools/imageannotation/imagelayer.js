// The picture under the shapes. A file uploaded to this server (a signed /api/files/ link)
// opens through its media info: a downscaled preview first, then full-resolution tiles
// for the part in view once the zoom asks for more pixels than the preview has. Any other
// URL is shown as a plain image.
import { h } from '../../api.js';

const FILE_LINK = /^((?:https?:\/\/[^/]+)?)\/api\/files\/([A-Za-z0-9]+)\/([A-Za-z0-9]+)\?(.+)$/;
const MAX_TILES = 96; // tiles kept in the page; the oldest go first

export function mediaBase(url) {
  const m = FILE_LINK.exec(String(url || ''));
  return m ? { base: `${m[1]}/api/media/${m[2]}/${m[3]}`, query: m[4] } : null;
}

export class ImageLayer {
  // on: {ready(width, height), failed(message)}
  constructor(on) {
    this.on = on;
    this.el = h('div', { class: 'ia-picture' });
    this.base = h('img', { class: 'ia-base', alt: 'image to annotate', draggable: 'false' });
    this.el.append(this.base);
    this.info = null;
    this.tiles = new Map(); // "col/row" -> img
  }

  async load(url) {
    this.url = url;
    const media = mediaBase(url);
    if (media) {
      try {
        const res = await fetch(`${media.base}/info?${media.query}`, { credentials: 'same-origin' });
        if (res.ok) {
          this.info = { ...(await res.json()), ...media };
          this.show(this.info.preview ? `${media.base}/preview?${media.query}` : url, this.info.width, this.info.height);
          return;
        }
      } catch { /* fall back to the plain image */ }
    }
    this.info = null;
    this.base.addEventListener('load', () => this.sized(this.base.naturalWidth, this.base.naturalHeight), { once: true });
    this.base.addEventListener('error', () => this.on.failed('The image could not be loaded.'), { once: true });
    this.base.src = url;
  }

  show(src, width, height) {
    this.base.addEventListener('error', () => this.on.failed('The image could not be loaded.'), { once: true });
    this.base.src = src;
    this.sized(width, height);
  }

  sized(width, height) {
    this.width = width;
    this.height = height;
    this.el.style.width = `${width}px`;
    this.el.style.height = `${height}px`;
    this.on.ready(width, height);
  }

  // Whether the base picture has fewer pixels than the view shows (tiles then load).
  needsTiles(scale) {
    const info = this.info;
    return !!(info?.preview && info.tile_size) && scale * info.width > info.preview.width * 1.15;
  }

  update(viewport) {
    if (!this.needsTiles(viewport.scale)) return;
    const { tile_size: size, base, query } = this.info;
    for (const [col, row] of viewport.tilesInView(size)) {
      const key = `${col}/${row}`;
      if (this.tiles.has(key)) continue;
      const img = h('img', { class: 'ia-tile', alt: '', draggable: 'false', src: `${base}/tiles/${col}/${row}?${query}` });
      Object.assign(img.style, { left: `${col * size}px`, top: `${row * size}px`,
        width: `${Math.min(size, this.width - col * size)}px`, height: `${Math.min(size, this.height - row * size)}px` });
      this.tiles.set(key, img);
      this.el.append(img);
    }
    while (this.tiles.size > MAX_TILES) {
      const [key, img] = this.tiles.entries().next().value;
      img.remove();
      this.tiles.delete(key);
    }
  }

  // Brightness and contrast as CSS filters (percent; 100 is unchanged).
  adjust(brightness, contrast) { this.el.style.filter = `brightness(${brightness}%) contrast(${contrast}%)`; }
}

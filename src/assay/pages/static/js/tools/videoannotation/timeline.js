// The video tool's player bar and timeline: play/pause, frame slider and number, speed;
// one row per track showing where it is drawn and its keyframes (a click jumps there).
import { h } from '../../api.js';
import { swatch } from '../imageannotation/side.js';

export const SPEEDS = [0.25, 0.5, 1, 2, 4];

export class Timeline {
  // act: {go(frame), play(), select(uuid)}
  constructor(video, colorOf, act) {
    this.video = video;
    this.colorOf = colorOf;
    this.act = act;
    this.playButton = h('button', { type: 'button', class: 'va-play', onclick: () => act.play() }, 'Play ', h('kbd', {}, 'K'));
    this.slider = h('input', { type: 'range', min: '0', max: String(Math.max(0, video.count - 1)), value: '0', class: 'va-slider',
      'aria-label': 'Frame', oninput: () => act.go(Number(this.slider.value)) });
    this.frameLabel = h('span', { class: 'va-frame' });
    this.speedLabel = h('span', { class: 'va-speed' });
    this.rows = h('div', { class: 'va-rows' });
    this.el = h('div', { class: 'va-timeline' }, h('div', { class: 'va-player' }, this.playButton, this.slider, this.frameLabel, this.speedLabel), this.rows);
  }

  paintPlayer(frame, playing, speed) {
    this.slider.value = String(frame);
    this.frameLabel.textContent = `Frame ${frame + 1} / ${this.video.count}`;
    this.playButton.firstChild.textContent = playing ? 'Pause ' : 'Play ';
    this.speedLabel.textContent = `${speed}×`;
    for (const cursor of this.rows.querySelectorAll('.va-cursor')) cursor.style.left = `${this.at(frame)}%`;
  }

  at(frame) { return (100 * (frame + 0.5)) / Math.max(1, this.video.count); }

  paintRows(frame, selected) {
    const v = this.video;
    this.rows.replaceChildren(...v.tracks.map((track) => {
      const bar = h('div', { class: 'va-bar', onclick: (e) => {
        const r = bar.getBoundingClientRect();
        this.act.select(track.uuid);
        this.act.go(Math.min(v.count - 1, Math.floor(((e.clientX - r.left) / r.width) * v.count)));
      } });
      for (const [a, b] of v.spans(track.uuid)) {
        const span = h('span', { class: 'va-span' });
        span.style.left = `${(100 * a) / v.count}%`;
        span.style.width = `${(100 * (b - a + 1)) / v.count}%`;
        span.style.background = this.colorOf(track.label);
        bar.append(span);
      }
      for (const key of Object.keys(track.keys).map(Number)) {
        const tick = h('span', { class: `va-key${track.outside.includes(key) ? ' outside' : ''}`, dataset: { frame: String(key) } });
        tick.style.left = `${this.at(key)}%`;
        bar.append(tick);
      }
      const cursor = h('span', { class: 'va-cursor' });
      cursor.style.left = `${this.at(frame)}%`;
      bar.append(cursor);
      return h('div', { class: `va-row${track.uuid === selected ? ' selected' : ''}`, dataset: { uuid: track.uuid } },
        h('span', { class: 'va-name', onclick: () => this.act.select(track.uuid) }, swatch(this.colorOf(track.label)), ` ${track.label}`), bar);
    }));
  }
}

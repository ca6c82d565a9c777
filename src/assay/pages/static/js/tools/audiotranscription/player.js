// Our own player over an <audio> element (play/pause, back 5 s, speed 0.5×–2×,
// position), driven by Ctrl+ keys that also work while typing.
import { h } from '../../api.js';
import { BACK_SECONDS, backFrom, clock, nextRate } from './state.js';

export function createPlayer(src, ctx) {
  const audio = h('audio', { src, preload: 'auto' });
  const playButton = h('button', { type: 'button', class: 'at-play', onclick: () => togglePlay() });
  const timeEl = h('span', { class: 'at-time', 'aria-live': 'off' });
  const rateEl = h('span', { class: 'at-rate' });
  const seek = h('input', { type: 'range', class: 'at-seek', min: '0', max: '0', step: '0.01', value: '0', 'aria-label': 'Position' });
  const hint = h('span', { class: 'hint at-player-hint' });

  function paint() {
    playButton.replaceChildren(audio.paused ? '▶ Play' : '❚❚ Pause', ' ', h('kbd', {}, 'Ctrl+K'));
    playButton.setAttribute('aria-pressed', String(!audio.paused));
    timeEl.textContent = `${clock(audio.currentTime)} / ${clock(audio.duration)}`;
    rateEl.textContent = `${audio.playbackRate}×`;
    if (Number.isFinite(audio.duration)) seek.max = String(audio.duration);
    if (document.activeElement !== seek) seek.value = String(audio.currentTime);
  }
  for (const ev of ['play', 'pause', 'timeupdate', 'seeked', 'loadedmetadata', 'durationchange', 'ratechange', 'ended']) {
    audio.addEventListener(ev, paint);
  }
  audio.addEventListener('error', () => { hint.textContent = 'The audio could not be loaded.'; });
  seek.addEventListener('input', () => { audio.currentTime = Number(seek.value); });

  function togglePlay() {
    if (audio.paused) {
      audio.play().then(() => { hint.textContent = ''; }).catch((err) => { hint.textContent = `Cannot play: ${err.message}`; });
    } else {
      audio.pause();
    }
    paint(); // at once: the play/pause events arrive later
  }
  function back() {
    audio.currentTime = backFrom(audio.currentTime);
    paint();
  }
  function speed(step) {
    audio.playbackRate = nextRate(audio.playbackRate, step);
    paint();
  }

  const inText = { inText: true };
  ctx.hotkey('Ctrl+k', 'Play / pause the audio', togglePlay, { ...inText, display: 'Ctrl+K' });
  ctx.hotkey('Ctrl+j', `Jump back ${BACK_SECONDS} seconds`, back, { ...inText, display: 'Ctrl+J' });
  ctx.hotkey('Ctrl+,', 'Slower (down to 0.5×)', () => speed(-1), { ...inText, display: 'Ctrl+,' });
  ctx.hotkey('Ctrl+.', 'Faster (up to 2×)', () => speed(1), { ...inText, display: 'Ctrl+.' });

  const el = h('div', { class: 'at-player' },
    audio,
    playButton,
    h('button', { type: 'button', class: 'at-back', onclick: back }, `⟲ ${BACK_SECONDS} s`, ' ', h('kbd', {}, 'Ctrl+J')),
    h('span', { class: 'at-speed' },
      h('button', { type: 'button', class: 'at-slower', onclick: () => speed(-1), 'aria-label': 'Slower' }, '−', ' ', h('kbd', {}, 'Ctrl+,')),
      rateEl,
      h('button', { type: 'button', class: 'at-faster', onclick: () => speed(1), 'aria-label': 'Faster' }, '+', ' ', h('kbd', {}, 'Ctrl+.'))),
    timeEl,
    seek,
    hint);
  paint();
  return { el, audio };
}

// audiotranscription: listen and type. Our own player over an <audio> element (play/pause,
// back 5 s, speed 0.5×–2×, position), driven by Ctrl+ keys that also work while typing.
// Without `segments`: one transcript box. With `segments`: a list of timed segments, each
// with its text and speaker; Ctrl+[ starts a segment at the playback position and Ctrl+]
// ends the selected one there. The transcript is then the segment texts joined by spaces
// (what the server checks), shown read-only below the list.
import { h } from '../api.js';
import { editSteps } from './common.js';

const RATES = [0.5, 0.75, 1, 1.25, 1.5, 1.75, 2];
const BACK_SECONDS = 5;

function clock(seconds) {
  if (!Number.isFinite(seconds)) return '–:––';
  const m = Math.floor(seconds / 60);
  const s = seconds - m * 60;
  return `${m}:${s.toFixed(1).padStart(4, '0')}`;
}

const round2 = (t) => Math.round(t * 100) / 100;
const collapse = (text) => text.split(/\s+/).filter(Boolean).join(' ');

export default {
  mount(el, task, ctx) {
    const p = task.params;
    const speakers = Array.isArray(p.speakers) ? p.speakers : [];
    const segmented = !!p.segments;

    // ------------------------------------------------------------------- state
    let state = { transcript: '', segments: [], selected: -1 };
    const initial = ctx.initial;
    if (initial && typeof initial === 'object') {
      state.transcript = typeof initial.transcript === 'string' ? initial.transcript : '';
      if (segmented && Array.isArray(initial.segments)) {
        state.segments = initial.segments.map((s) => ({
          start: Number(s.start), end: s.end === undefined || s.end === null ? null : Number(s.end),
          text: String(s.text ?? ''), speaker: speakers.includes(s.speaker) ? s.speaker : '',
        }));
        state.selected = state.segments.length ? 0 : -1;
      }
    }

    // Typing is one undo step per burst: ctx.changed() once the burst ends (pause, blur).
    const steps = editSteps(ctx, () => render());
    const { typed, flushTyping, edit } = steps;

    // ------------------------------------------------------------------- player
    const audio = h('audio', { src: p.attachment, preload: 'auto' });
    const playButton = h('button', { type: 'button', class: 'at-play', onclick: () => togglePlay() });
    const timeEl = h('span', { class: 'at-time', 'aria-live': 'off' });
    const rateEl = h('span', { class: 'at-rate' });
    const seek = h('input', { type: 'range', class: 'at-seek', min: '0', max: '0', step: '0.01', value: '0', 'aria-label': 'Position' });
    const playerHint = h('span', { class: 'hint at-player-hint' });

    function paintPlayer() {
      playButton.replaceChildren(audio.paused ? '▶ Play' : '❚❚ Pause', ' ', h('kbd', {}, 'Ctrl+K'));
      playButton.setAttribute('aria-pressed', String(!audio.paused));
      timeEl.textContent = `${clock(audio.currentTime)} / ${clock(audio.duration)}`;
      rateEl.textContent = `${audio.playbackRate}×`;
      if (Number.isFinite(audio.duration)) seek.max = String(audio.duration);
      if (document.activeElement !== seek) seek.value = String(audio.currentTime);
    }
    for (const ev of ['play', 'pause', 'timeupdate', 'seeked', 'loadedmetadata', 'durationchange', 'ratechange', 'ended']) {
      audio.addEventListener(ev, paintPlayer);
    }
    audio.addEventListener('error', () => { playerHint.textContent = 'The audio could not be loaded.'; });
    seek.addEventListener('input', () => { audio.currentTime = Number(seek.value); });

    function togglePlay() {
      if (audio.paused) {
        audio.play().then(() => { playerHint.textContent = ''; }).catch((err) => { playerHint.textContent = `Cannot play: ${err.message}`; });
      } else {
        audio.pause();
      }
      paintPlayer(); // at once: the play/pause events arrive later
    }
    function back() {
      audio.currentTime = Math.max(0, audio.currentTime - BACK_SECONDS);
      paintPlayer();
    }
    function speed(step) {
      const i = RATES.indexOf(audio.playbackRate);
      const at = i === -1 ? RATES.indexOf(1) : i;
      audio.playbackRate = RATES[Math.min(RATES.length - 1, Math.max(0, at + step))];
      paintPlayer();
    }

    const inText = { inText: true };
    ctx.hotkey('Ctrl+k', 'Play / pause the audio', togglePlay, { ...inText, display: 'Ctrl+K' });
    ctx.hotkey('Ctrl+j', `Jump back ${BACK_SECONDS} seconds`, back, { ...inText, display: 'Ctrl+J' });
    ctx.hotkey('Ctrl+,', 'Slower (down to 0.5×)', () => speed(-1), { ...inText, display: 'Ctrl+,' });
    ctx.hotkey('Ctrl+.', 'Faster (up to 2×)', () => speed(1), { ...inText, display: 'Ctrl+.' });

    const player = h('div', { class: 'at-player' },
      audio,
      playButton,
      h('button', { type: 'button', class: 'at-back', onclick: back }, `⟲ ${BACK_SECONDS} s`, ' ', h('kbd', {}, 'Ctrl+J')),
      h('span', { class: 'at-speed' },
        h('button', { type: 'button', class: 'at-slower', onclick: () => speed(-1), 'aria-label': 'Slower' }, '−', ' ', h('kbd', {}, 'Ctrl+,')),
        rateEl,
        h('button', { type: 'button', class: 'at-faster', onclick: () => speed(1), 'aria-label': 'Faster' }, '+', ' ', h('kbd', {}, 'Ctrl+.'))),
      timeEl,
      seek,
      playerHint);

    // ------------------------------------------------------------------- task facts
    const facts = [];
    if (p.language) facts.push(h('span', { class: 'badge' }, `Language: ${p.language}`));
    facts.push(h('span', { class: 'badge' }, p.verbatim ? 'Verbatim: keep fillers, false starts, repetitions' : 'Clean: leave out fillers and false starts'));
    if (speakers.length) facts.push(h('span', { class: 'badge' }, `Speakers: ${speakers.join(', ')}`));

    // ------------------------------------------------------------------- plain transcript
    const transcriptBox = h('textarea', { class: 'at-transcript', rows: '8', 'aria-label': 'Transcript', placeholder: 'Type what is said…', spellcheck: 'true' });
    transcriptBox.addEventListener('input', () => { state.transcript = transcriptBox.value; typed(); });
    transcriptBox.addEventListener('change', flushTyping);

    // ------------------------------------------------------------------- segments
    const list = h('ol', { class: 'at-segments' });
    const joined = h('div', { class: 'at-joined attachment text', 'aria-label': 'Transcript (from the segments)' });
    const segHint = h('p', { class: 'hint at-seg-hint' });

    function speakerKey(i) { return ctx.freeKeys[i]; }

    function startSegment() {
      const t = round2(audio.currentTime);
      edit(() => {
        const seg = { start: t, end: null, text: '', speaker: state.segments[state.selected]?.speaker || '' };
        let at = state.segments.findIndex((s) => s.start > t);
        if (at === -1) at = state.segments.length;
        state.segments.splice(at, 0, seg);
        state.selected = at;
        segHint.textContent = '';
      });
      focusSelected();
    }

    function endSegment() {
      const seg = state.segments[state.selected];
      if (!seg) { segHint.textContent = 'Start a segment first (Ctrl+[).'; return; }
      const t = round2(audio.currentTime);
      if (!(t > seg.start)) { segHint.textContent = `The playback position (${clock(t)}) is not after this segment's start (${clock(seg.start)}).`; return; }
      edit(() => { seg.end = t; segHint.textContent = ''; });
      focusSelected();
    }

    function select(i, focus = true) {
      if (!state.segments.length) return;
      flushTyping();
      state.selected = Math.max(0, Math.min(state.segments.length - 1, i));
      paintSelection();
      if (focus) focusSelected();
    }

    function setSpeaker(name) {
      const seg = state.segments[state.selected];
      if (!seg) return;
      edit(() => { seg.speaker = name; });
    }

    function cycleSpeaker() {
      const seg = state.segments[state.selected];
      if (!seg || !speakers.length) return;
      const i = speakers.indexOf(seg.speaker);
      setSpeaker(speakers[(i + 1) % speakers.length]);
      focusSelected();
    }

    function removeSegment(i) {
      edit(() => {
        state.segments.splice(i, 1);
        state.selected = Math.min(state.selected, state.segments.length - 1);
      });
    }

    function focusSelected() {
      const input = list.querySelector(`li[data-index="${state.selected}"] .at-seg-text`);
      if (input) input.focus();
    }

    function paintSelection() {
      for (const li of list.children) li.classList.toggle('selected', Number(li.dataset.index) === state.selected);
    }

    function paintJoined() {
      const text = state.segments.map((s) => collapse(s.text)).filter(Boolean).join(' ');
      joined.textContent = text || 'The transcript is made of the segment texts.';
      joined.classList.toggle('empty', !text);
    }

    function timeInput(seg, key, i) {
      const input = h('input', { type: 'number', min: '0', step: '0.01', class: `at-${key}`, 'aria-label': `Segment ${i + 1} ${key}`,
        value: seg[key] === null ? '' : String(seg[key]) });
      input.addEventListener('change', () => {
        const value = input.value === '' ? null : round2(Number(input.value));
        if (key === 'start' && value === null) { input.value = String(seg.start); return; }
        edit(() => {
          seg[key] = value;
          if (key === 'start') {
            state.segments.sort((a, b) => a.start - b.start);
            state.selected = state.segments.indexOf(seg);
          }
        });
      });
      return input;
    }

    function segmentRow(seg, i) {
      const text = h('input', { type: 'text', class: 'at-seg-text', 'aria-label': `Segment ${i + 1} text`, value: seg.text, placeholder: 'What is said in this segment' });
      text.addEventListener('input', () => { seg.text = text.value; paintJoined(); typed(); });
      text.addEventListener('change', flushTyping);
      text.addEventListener('keydown', (event) => {
        // Enter leaves the segment's text box (as Esc does) instead of submitting half a job; Ctrl+Enter submits
        if (event.key !== 'Enter' || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
        event.preventDefault();
        event.stopPropagation();
        text.blur();
      });
      text.addEventListener('focus', () => { if (state.selected !== i) select(i, false); });
      const who = speakers.length ? h('select', { class: 'at-speaker', 'aria-label': `Segment ${i + 1} speaker` },
        h('option', { value: '' }, '(speaker)'),
        speakers.map((name, k) => h('option', { value: name, selected: seg.speaker === name }, speakerKey(k) ? `${speakerKey(k)} · ${name}` : name))) : null;
      if (who) {
        who.value = seg.speaker || '';
        who.addEventListener('change', () => { state.selected = i; setSpeaker(who.value); });
      }
      return h('li', { class: 'at-segment', dataset: { index: String(i) }, onclick: (e) => { if (e.target === e.currentTarget) select(i); } },
        h('button', { type: 'button', class: 'link at-goto', title: 'Play from the start of this segment',
          onclick: () => { audio.currentTime = seg.start; select(i); } }, '▶'),
        timeInput(seg, 'start', i), h('span', { class: 'muted' }, '–'), timeInput(seg, 'end', i),
        who, text,
        h('button', { type: 'button', class: 'link danger at-remove', 'aria-label': `Delete segment ${i + 1}`, onclick: () => removeSegment(i) }, '×'));
    }

    function render() {
      if (segmented) {
        list.replaceChildren(...state.segments.map(segmentRow));
        if (!state.segments.length) list.append(h('li', { class: 'hint at-empty' }, 'No segments yet: play the audio and press Ctrl+[ where speech starts.'));
        paintSelection();
        paintJoined();
      } else if (transcriptBox.value !== state.transcript) {
        transcriptBox.value = state.transcript;
      }
    }

    const keyRow = (keys, label) => h('span', { class: 'at-key' }, keys.map((k) => h('kbd', {}, k)), ' ', label);
    const body = [];
    if (segmented) {
      ctx.hotkey('Ctrl+[', 'Start a new segment at the playback position', startSegment, { ...inText, display: 'Ctrl+[' });
      ctx.hotkey('Ctrl+]', 'End the selected segment at the playback position', endSegment, { ...inText, display: 'Ctrl+]' });
      ctx.hotkey('Ctrl+ArrowUp', 'Select the previous segment', () => select(state.selected - 1), { ...inText, display: 'Ctrl+↑' });
      ctx.hotkey('Ctrl+ArrowDown', 'Select the next segment', () => select(state.selected + 1), { ...inText, display: 'Ctrl+↓' });
      if (speakers.length) {
        ctx.hotkey('Ctrl+g', 'Next speaker for the selected segment', cycleSpeaker, { ...inText, display: 'Ctrl+G' });
        speakers.forEach((name, k) => {
          if (speakerKey(k)) ctx.hotkey(speakerKey(k), `Speaker “${name}” for the selected segment (outside a text box)`, () => setSpeaker(name));
        });
      }
      ctx.hotkey('Delete', 'Delete the selected segment (outside a text box)', () => { if (state.segments[state.selected]) removeSegment(state.selected); });
      body.push(
        h('div', { class: 'at-keys hint' },
          keyRow(['Ctrl+['], 'start a segment here'), keyRow(['Ctrl+]'], 'end it here'),
          keyRow(['Ctrl+↑', 'Ctrl+↓'], 'previous / next'),
          speakers.length ? keyRow(['Ctrl+G'], 'next speaker') : null,
          speakers.length && speakerKey(0) ? keyRow([speakers.length > 1 ? `${speakerKey(0)}–${speakerKey(Math.min(speakers.length, 10) - 1)}` : speakerKey(0)],
            'speaker (after Esc)') : null,
          keyRow(['Delete'], 'delete (after Esc)')),
        list, segHint,
        h('h3', { class: 'at-joined-title' }, 'Transcript'),
        joined);
    } else {
      body.push(transcriptBox);
    }

    el.append(
      player,
      h('div', { class: 'at-facts' }, facts),
      ...body,
      h('p', { class: 'hint' }, 'Keys work while you type: ', h('kbd', {}, 'Ctrl+K'), ' play/pause, ', h('kbd', {}, 'Ctrl+J'),
        ` back ${BACK_SECONDS} s, `, h('kbd', {}, 'Ctrl+,'), ' / ', h('kbd', {}, 'Ctrl+.'), ' slower / faster. ',
        h('kbd', {}, 'Ctrl+Enter'), ' submits from a text box.'),
    );
    render();
    paintPlayer();
    if (!segmented && ctx.mode !== 'review') transcriptBox.focus(); // a reviewer's single-letter keys must not type

    function response() {
      if (!segmented) {
        const transcript = state.transcript.trim();
        if (!transcript) throw new Error('Type the transcript first.');
        return { transcript };
      }
      if (!state.segments.length) throw new Error('Mark at least one segment: press Ctrl+[ where speech starts.');
      const segments = [];
      state.segments.forEach((s, i) => {
        const n = i + 1;
        if (s.end === null || !Number.isFinite(s.end)) throw new Error(`Segment ${n} has no end: press Ctrl+] where it ends.`);
        if (!(s.end > s.start)) throw new Error(`Segment ${n} ends before it starts.`);
        if (i > 0 && s.start < state.segments[i - 1].end) throw new Error(`Segment ${n} starts before segment ${i} ends.`);
        const text = collapse(s.text);
        if (!text) throw new Error(`Type the text of segment ${n}.`);
        const out = { start: s.start, end: s.end, text };
        if (s.speaker) out.speaker = s.speaker;
        segments.push(out);
      });
      return { transcript: segments.map((s) => s.text).join(' '), segments };
    }

    return {
      getResponse: response,
      getState() {
        return JSON.parse(JSON.stringify(state));
      },
      setState(saved) {
        steps.cancel();
        state = JSON.parse(JSON.stringify(saved));
        render();
      },
    };
  },
};

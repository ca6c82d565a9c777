// The timed segments: a row each (play from its start, start and end times, speaker,
// text, delete), the keys that make and walk them, and the transcript they add up to.
import { h } from '../../api.js';

const keyRow = (keys, label) => h('span', { class: 'at-key' }, keys.map((k) => h('kbd', {}, k)), ' ', label);

// steps: the editSteps of the tool (typed, flushTyping, edit)
export function createSegments(answer, audio, ctx, steps) {
  const { speakers } = answer;
  const { typed, flushTyping, edit } = steps;
  const list = h('ol', { class: 'at-segments' });
  const joined = h('div', { class: 'at-joined attachment text', 'aria-label': 'Transcript (from the segments)' });
  const hint = h('p', { class: 'hint at-seg-hint' });
  const speakerKey = (i) => ctx.freeKeys[i];

  function startSegment() {
    const t = audio.currentTime;
    edit(() => { answer.startSegment(t); hint.textContent = ''; });
    focusSelected();
  }

  function endSegment() {
    const t = audio.currentTime;
    const error = answer.endError(t);
    if (error) { hint.textContent = error; return; }
    edit(() => { answer.endSegment(t); hint.textContent = ''; });
    focusSelected();
  }

  function select(i, focus = true) {
    if (!answer.segments.length) return;
    flushTyping();
    answer.select(i);
    paintSelection();
    if (focus) focusSelected();
  }

  function setSpeaker(name, i) {
    if (!answer.segments[i ?? answer.selected]) return;
    edit(() => answer.setSpeaker(name, i));
  }

  function removeSegment(i) { edit(() => answer.removeSegment(i)); }

  function focusSelected() { list.querySelector(`li[data-index="${answer.selected}"] .at-seg-text`)?.focus(); }

  function paintSelection() {
    for (const li of list.children) li.classList.toggle('selected', Number(li.dataset.index) === answer.selected);
  }

  function paintJoined() {
    const text = answer.joined();
    joined.textContent = text || 'The transcript is made of the segment texts.';
    joined.classList.toggle('empty', !text);
  }

  function timeInput(seg, key, i) {
    const input = h('input', { type: 'number', min: '0', step: '0.01', class: `at-${key}`, 'aria-label': `Segment ${i + 1} ${key}`,
      value: seg[key] === null ? '' : String(seg[key]) });
    input.addEventListener('change', () => {
      const value = input.value === '' ? null : Number(input.value);
      if (key === 'start' && value === null) { input.value = String(seg.start); return; }
      edit(() => answer.setTime(i, key, value));
    });
    return input;
  }

  function segmentRow(seg, i) {
    const text = h('input', { type: 'text', class: 'at-seg-text', 'aria-label': `Segment ${i + 1} text`, value: seg.text, placeholder: 'What is said in this segment' });
    text.addEventListener('input', () => { answer.setText(i, text.value); paintJoined(); typed(); });
    text.addEventListener('change', flushTyping);
    text.addEventListener('keydown', (event) => {
      // Enter leaves the segment's text box (as Esc does) instead of submitting half a job; Ctrl+Enter submits
      if (event.key !== 'Enter' || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
      event.preventDefault();
      event.stopPropagation();
      text.blur();
    });
    text.addEventListener('focus', () => { if (answer.selected !== i) select(i, false); });
    const who = speakers.length ? h('select', { class: 'at-speaker', 'aria-label': `Segment ${i + 1} speaker` },
      h('option', { value: '' }, '(speaker)'),
      speakers.map((name, k) => h('option', { value: name, selected: seg.speaker === name }, speakerKey(k) ? `${speakerKey(k)} · ${name}` : name))) : null;
    if (who) {
      who.value = seg.speaker || '';
      who.addEventListener('change', () => setSpeaker(who.value, i));
    }
    return h('li', { class: 'at-segment', dataset: { index: String(i) }, onclick: (e) => { if (e.target === e.currentTarget) select(i); } },
      h('button', { type: 'button', class: 'link at-goto', title: 'Play from the start of this segment',
        onclick: () => { audio.currentTime = seg.start; select(i); } }, '▶'),
      timeInput(seg, 'start', i), h('span', { class: 'muted' }, '–'), timeInput(seg, 'end', i),
      who, text,
      h('button', { type: 'button', class: 'link danger at-remove', 'aria-label': `Delete segment ${i + 1}`, onclick: () => removeSegment(i) }, '×'));
  }

  function render() {
    list.replaceChildren(...answer.segments.map(segmentRow));
    if (!answer.segments.length) list.append(h('li', { class: 'hint at-empty' }, 'No segments yet: play the audio and press Ctrl+[ where speech starts.'));
    paintSelection();
    paintJoined();
  }

  const inText = { inText: true };
  ctx.hotkey('Ctrl+[', 'Start a new segment at the playback position', startSegment, { ...inText, display: 'Ctrl+[' });
  ctx.hotkey('Ctrl+]', 'End the selected segment at the playback position', endSegment, { ...inText, display: 'Ctrl+]' });
  ctx.hotkey('Ctrl+ArrowUp', 'Select the previous segment', () => select(answer.selected - 1), { ...inText, display: 'Ctrl+↑' });
  ctx.hotkey('Ctrl+ArrowDown', 'Select the next segment', () => select(answer.selected + 1), { ...inText, display: 'Ctrl+↓' });
  if (speakers.length) {
    ctx.hotkey('Ctrl+g', 'Next speaker for the selected segment', () => {
      if (answer.selectedSegment() && speakers.length) { edit(() => answer.cycleSpeaker()); focusSelected(); }
    }, { ...inText, display: 'Ctrl+G' });
    speakers.forEach((name, k) => {
      if (speakerKey(k)) ctx.hotkey(speakerKey(k), `Speaker “${name}” for the selected segment (outside a text box)`, () => setSpeaker(name));
    });
  }
  ctx.hotkey('Delete', 'Delete the selected segment (outside a text box)', () => { if (answer.selectedSegment()) removeSegment(answer.selected); });

  const els = [
    h('div', { class: 'at-keys hint' },
      keyRow(['Ctrl+['], 'start a segment here'), keyRow(['Ctrl+]'], 'end it here'),
      keyRow(['Ctrl+↑', 'Ctrl+↓'], 'previous / next'),
      speakers.length ? keyRow(['Ctrl+G'], 'next speaker') : null,
      speakers.length && speakerKey(0) ? keyRow([speakers.length > 1 ? `${speakerKey(0)}–${speakerKey(Math.min(speakers.length, 10) - 1)}` : speakerKey(0)],
        'speaker (after Esc)') : null,
      keyRow(['Delete'], 'delete (after Esc)')),
    list, hint,
    h('h3', { class: 'at-joined-title' }, 'Transcript'),
    joined,
  ];
  return { els, render };
}

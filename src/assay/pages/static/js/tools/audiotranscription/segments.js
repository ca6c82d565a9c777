// The timed segments: a row each (play from its start, start and end times, speaker,
// text, delete), the keys that make and walk them, and the transcript they add up to.
import { h } from '../../api.js';

const keyRow = (keys, label) => h('span', { class: 'at-key' }, keys.map((k) => h('kbd', {}, k)), ' ', label);

// Enter leaves a segment's text box (as Esc does) instead of submitting half a job; Ctrl+Enter submits
function leaveOnEnter(event) {
  if (event.key !== 'Enter' || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
  event.preventDefault();
  event.stopPropagation();
  event.target.blur();
}

export class SegmentList {
  // steps: the tool's editSteps (typed, flushTyping, edit: one undo step each)
  constructor(answer, audio, ctx, steps) {
    this.answer = answer;
    this.audio = audio;
    this.ctx = ctx;
    this.steps = steps;
    this.list = h('ol', { class: 'at-segments' });
    this.joined = h('div', { class: 'at-joined attachment text', 'aria-label': 'Transcript (from the segments)' });
    this.hint = h('p', { class: 'hint at-seg-hint' });
    this.bindKeys();
    this.els = [this.keysHint(), this.list, this.hint, h('h3', { class: 'at-joined-title' }, 'Transcript'), this.joined];
  }

  speakerKey(i) { return this.ctx.freeKeys[i]; }

  bindKeys() {
    const { answer, ctx } = this;
    const inText = { inText: true };
    ctx.hotkey('Ctrl+[', 'Start a new segment at the playback position', () => this.startSegment(), { ...inText, display: 'Ctrl+[' });
    ctx.hotkey('Ctrl+]', 'End the selected segment at the playback position', () => this.endSegment(), { ...inText, display: 'Ctrl+]' });
    ctx.hotkey('Ctrl+ArrowUp', 'Select the previous segment', () => this.select(answer.selected - 1), { ...inText, display: 'Ctrl+↑' });
    ctx.hotkey('Ctrl+ArrowDown', 'Select the next segment', () => this.select(answer.selected + 1), { ...inText, display: 'Ctrl+↓' });
    if (answer.speakers.length) {
      ctx.hotkey('Ctrl+g', 'Next speaker for the selected segment', () => this.cycleSpeaker(), { ...inText, display: 'Ctrl+G' });
      answer.speakers.forEach((name, k) => {
        if (this.speakerKey(k)) ctx.hotkey(this.speakerKey(k), `Speaker “${name}” for the selected segment (outside a text box)`, () => this.setSpeaker(name));
      });
    }
    ctx.hotkey('Delete', 'Delete the selected segment (outside a text box)', () => { if (answer.selectedSegment()) this.remove(answer.selected); });
  }

  keysHint() {
    const { speakers } = this.answer;
    const first = this.speakerKey(0);
    return h('div', { class: 'at-keys hint' },
      keyRow(['Ctrl+['], 'start a segment here'), keyRow(['Ctrl+]'], 'end it here'),
      keyRow(['Ctrl+↑', 'Ctrl+↓'], 'previous / next'),
      speakers.length ? keyRow(['Ctrl+G'], 'next speaker') : null,
      speakers.length && first ? keyRow([speakers.length > 1 ? `${first}–${this.speakerKey(Math.min(speakers.length, 10) - 1)}` : first],
        'speaker (after Esc)') : null,
      keyRow(['Delete'], 'delete (after Esc)'));
  }

  // ------------------------------------------------------------------ edits
  startSegment() {
    const t = this.audio.currentTime;
    this.steps.edit(() => { this.answer.startSegment(t); this.hint.textContent = ''; });
    this.focusSelected();
  }

  endSegment() {
    const t = this.audio.currentTime;
    const error = this.answer.endError(t);
    if (error) { this.hint.textContent = error; return; }
    this.steps.edit(() => { this.answer.endSegment(t); this.hint.textContent = ''; });
    this.focusSelected();
  }

  setSpeaker(name, i = this.answer.selected) {
    if (!this.answer.segments[i]) return;
    this.steps.edit(() => this.answer.setSpeaker(name, i));
  }

  cycleSpeaker() {
    if (!this.answer.selectedSegment()) return;
    this.steps.edit(() => this.answer.cycleSpeaker());
    this.focusSelected();
  }

  remove(i) { this.steps.edit(() => this.answer.removeSegment(i)); }

  select(i, focus = true) {
    if (!this.answer.segments.length) return;
    this.steps.flushTyping();
    this.answer.select(i);
    this.paintSelection();
    if (focus) this.focusSelected();
  }

  focusSelected() { this.list.querySelector(`li[data-index="${this.answer.selected}"] .at-seg-text`)?.focus(); }

  // ------------------------------------------------------------------ painting
  paintSelection() {
    for (const li of this.list.children) li.classList.toggle('selected', Number(li.dataset.index) === this.answer.selected);
  }

  paintJoined() {
    const text = this.answer.joined();
    this.joined.textContent = text || 'The transcript is made of the segment texts.';
    this.joined.classList.toggle('empty', !text);
  }

  timeInput(seg, key, i) {
    const input = h('input', { type: 'number', min: '0', step: '0.01', class: `at-${key}`, 'aria-label': `Segment ${i + 1} ${key}`,
      value: seg[key] === null ? '' : String(seg[key]) });
    input.addEventListener('change', () => {
      const value = input.value === '' ? null : Number(input.value);
      if (key === 'start' && value === null) { input.value = String(seg.start); return; }
      this.steps.edit(() => this.answer.setTime(i, key, value));
    });
    return input;
  }

  speakerSelect(seg, i) {
    const { speakers } = this.answer;
    if (!speakers.length) return null;
    const who = h('select', { class: 'at-speaker', 'aria-label': `Segment ${i + 1} speaker` },
      h('option', { value: '' }, '(speaker)'),
      speakers.map((name, k) => h('option', { value: name, selected: seg.speaker === name }, this.speakerKey(k) ? `${this.speakerKey(k)} · ${name}` : name)));
    who.value = seg.speaker || '';
    who.addEventListener('change', () => this.setSpeaker(who.value, i));
    return who;
  }

  row(seg, i) {
    const text = h('input', { type: 'text', class: 'at-seg-text', 'aria-label': `Segment ${i + 1} text`, value: seg.text, placeholder: 'What is said in this segment' });
    text.addEventListener('input', () => { this.answer.setText(i, text.value); this.paintJoined(); this.steps.typed(); });
    text.addEventListener('change', this.steps.flushTyping);
    text.addEventListener('keydown', leaveOnEnter);
    text.addEventListener('focus', () => { if (this.answer.selected !== i) this.select(i, false); });
    return h('li', { class: 'at-segment', dataset: { index: String(i) }, onclick: (e) => { if (e.target === e.currentTarget) this.select(i); } },
      h('button', { type: 'button', class: 'link at-goto', title: 'Play from the start of this segment',
        onclick: () => { this.audio.currentTime = seg.start; this.select(i); } }, '▶'),
      this.timeInput(seg, 'start', i), h('span', { class: 'muted' }, '–'), this.timeInput(seg, 'end', i),
      this.speakerSelect(seg, i), text,
      h('button', { type: 'button', class: 'link danger at-remove', 'aria-label': `Delete segment ${i + 1}`, onclick: () => this.remove(i) }, '×'));
  }

  render() {
    const { segments } = this.answer;
    this.list.replaceChildren(...segments.map((seg, i) => this.row(seg, i)));
    if (!segments.length) this.list.append(h('li', { class: 'hint at-empty' }, 'No segments yet: play the audio and press Ctrl+[ where speech starts.'));
    this.paintSelection();
    this.paintJoined();
  }
}

// The audio-transcription answer and the player's arithmetic, without the DOM (tested in
// Node). Without `segments` the answer is one transcript. With them it is a list of
// timed segments kept in start order, each with its text and speaker; the transcript is
// then the segment texts (spaces collapsed) joined by spaces, which the server checks.

export const RATES = [0.5, 0.75, 1, 1.25, 1.5, 1.75, 2];
export const BACK_SECONDS = 5;

// m:ss.s
export function clock(seconds) {
  if (!Number.isFinite(seconds)) return '–:––';
  const m = Math.floor(seconds / 60);
  const s = seconds - m * 60;
  return `${m}:${s.toFixed(1).padStart(4, '0')}`;
}

export const round2 = (t) => Math.round(t * 100) / 100;
export const collapse = (text) => text.split(/\s+/).filter(Boolean).join(' ');

// The next playback rate up (+1) or down (-1), stopping at the ends; an unknown rate
// counts as 1×.
export function nextRate(rate, step) {
  const i = RATES.indexOf(rate);
  const at = i === -1 ? RATES.indexOf(1) : i;
  return RATES[Math.min(RATES.length - 1, Math.max(0, at + step))];
}

export const backFrom = (t) => Math.max(0, t - BACK_SECONDS);

export class AudioAnswer {
  constructor(params, initial) {
    this.speakers = Array.isArray(params.speakers) ? params.speakers : [];
    this.segmented = !!params.segments;
    this.state = { transcript: '', segments: [], selected: -1 };
    if (initial && typeof initial === 'object') {
      this.state.transcript = typeof initial.transcript === 'string' ? initial.transcript : '';
      if (this.segmented && Array.isArray(initial.segments)) {
        this.state.segments = initial.segments.map((s) => ({
          start: Number(s.start), end: s.end === undefined || s.end === null ? null : Number(s.end),
          text: String(s.text ?? ''), speaker: this.speakers.includes(s.speaker) ? s.speaker : '',
        }));
        this.state.selected = this.state.segments.length ? 0 : -1;
      }
    }
  }

  get segments() { return this.state.segments; }
  get selected() { return this.state.selected; }
  selectedSegment() { return this.segments[this.selected] || null; }

  // Ctrl+[: a new segment starting at `t`, in start order, with the selected one's
  // speaker; it becomes the selected one. Returns its index.
  startSegment(t) {
    const start = round2(t);
    const seg = { start, end: null, text: '', speaker: this.selectedSegment()?.speaker || '' };
    let at = this.segments.findIndex((s) => s.start > start);
    if (at === -1) at = this.segments.length;
    this.segments.splice(at, 0, seg);
    this.state.selected = at;
    return at;
  }

  // Why the selected segment cannot end at `t` (there is none, or `t` is not after its
  // start), or null.
  endError(t) {
    const seg = this.selectedSegment();
    if (!seg) return 'Start a segment first (Ctrl+[).';
    const end = round2(t);
    return end > seg.start ? null : `The playback position (${clock(end)}) is not after this segment's start (${clock(seg.start)}).`;
  }

  // Ctrl+]: the selected segment ends at `t`; false (nothing changes) when it cannot.
  endSegment(t) {
    if (this.endError(t)) return false;
    this.selectedSegment().end = round2(t);
    return true;
  }

  // false when there are no segments; the index is clamped
  select(i) {
    if (!this.segments.length) return false;
    this.state.selected = Math.max(0, Math.min(this.segments.length - 1, i));
    return true;
  }

  setSpeaker(name, i = this.selected) {
    const seg = this.segments[i];
    if (!seg) return false;
    this.state.selected = i;
    seg.speaker = name;
    return true;
  }

  // Ctrl+G: the next speaker of the task's list for the selected segment
  cycleSpeaker() {
    const seg = this.selectedSegment();
    if (!seg || !this.speakers.length) return false;
    return this.setSpeaker(this.speakers[(this.speakers.indexOf(seg.speaker) + 1) % this.speakers.length]);
  }

  removeSegment(i) {
    if (!this.segments[i]) return false;
    this.segments.splice(i, 1);
    this.state.selected = Math.min(this.selected, this.segments.length - 1);
    return true;
  }

  // A typed start or end (seconds, or null for an empty box). A start cannot be empty
  // (false: nothing changes); a new start re-sorts the segments, the segment stays selected.
  setTime(i, key, value) {
    const seg = this.segments[i];
    const t = value === null ? null : round2(value);
    if (!seg || (key === 'start' && t === null)) return false;
    seg[key] = t;
    if (key === 'start') {
      this.segments.sort((a, b) => a.start - b.start);
      this.state.selected = this.segments.indexOf(seg);
    }
    return true;
  }

  setText(i, text) { this.segments[i].text = text; }
  setTranscript(text) { this.state.transcript = text; }
  joined() { return this.segments.map((s) => collapse(s.text)).filter(Boolean).join(' '); }

  response() {
    if (!this.segmented) {
      const transcript = this.state.transcript.trim();
      if (!transcript) throw new Error('Type the transcript first.');
      return { transcript };
    }
    if (!this.segments.length) throw new Error('Mark at least one segment: press Ctrl+[ where speech starts.');
    const segments = this.segments.map((s, i) => {
      const n = i + 1;
      if (s.end === null || !Number.isFinite(s.end)) throw new Error(`Segment ${n} has no end: press Ctrl+] where it ends.`);
      if (!(s.end > s.start)) throw new Error(`Segment ${n} ends before it starts.`);
      if (i > 0 && s.start < this.segments[i - 1].end) throw new Error(`Segment ${n} starts before segment ${i} ends.`);
      const text = collapse(s.text);
      if (!text) throw new Error(`Type the text of segment ${n}.`);
      const out = { start: s.start, end: s.end, text };
      if (s.speaker) out.speaker = s.speaker;
      return out;
    });
    return { transcript: segments.map((s) => s.text).join(' '), segments };
  }

  snapshot() { return JSON.parse(JSON.stringify(this.state)); }
  restore(saved) { this.state = JSON.parse(JSON.stringify(saved)); }
}

// The video answer without the DOM (tested in Node): tracks (one object over time: a box,
// a point, a polygon or a line, a label, keyframes and the keyframes from which it is
// outside the view), linear interpolation between keyframes (as assay.quality.tracks does
// on the server; a polygon or line moves vertex by vertex when both keyframes have as many
// vertices, else it holds its shape until the next keyframe),
// the tracker's boxes taken as keyframes, events, and the inline /v1 answer (one entry per
// frame with every visible object under its track's uuid).
import { labelNames } from '../imageannotation/state.js';

const GEOMETRY = { box: ['left', 'top', 'width', 'height'], point: ['x', 'y'], polygon: ['vertices'], line: ['vertices'] };
const round2 = (v) => Math.round(v * 100) / 100;
const copy = (g) => JSON.parse(JSON.stringify(g));
const lerp = (a, b, t) => a * (1 - t) + b * t;

function blend(type, here, there, t) {
  if (GEOMETRY[type][0] !== 'vertices') return Object.fromEntries(GEOMETRY[type].map((f) => [f, lerp(here[f], there[f], t)]));
  if (here.vertices.length !== there.vertices.length) return copy(here);
  return { vertices: here.vertices.map((v, i) => ({ x: lerp(v.x, there.vertices[i].x, t), y: lerp(v.y, there.vertices[i].y, t) })) };
}

// Numbers to two decimals, in vertices too (the inline answer).
function rounded(value) {
  if (typeof value === 'number') return round2(value);
  if (Array.isArray(value)) return value.map(rounded);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rounded(v)]));
  return value;
}

// A track's geometry on `frame`, or null where it is not drawn.
export function interpolate(track, frame) {
  const frames = Object.keys(track.keys).map(Number).sort((a, b) => a - b);
  let k = -1;
  for (let i = 0; i < frames.length && frames[i] <= frame; i++) k = i;
  if (k === -1 || track.outside.includes(frames[k])) return null;
  const here = track.keys[frames[k]];
  const next = frames[k + 1];
  if (next === undefined || track.outside.includes(next) || frames[k] === frame) return copy(here);
  return blend(track.type, here, track.keys[next], (frame - frames[k]) / (next - frames[k]));
}

export class VideoAnswer {
  constructor(params, frameCount, initial, { uuid } = {}) {
    const geometries = params?.geometries || {};
    this.types = Object.keys(GEOMETRY).filter((g) => geometries[g]);
    this.labels = Object.fromEntries(this.types.map((g) => [g, labelNames(geometries[g].objects_to_annotate)]));
    this.eventLabels = params?.events_to_annotate || [];
    this.count = frameCount;
    this.uuid = uuid;
    this.state = { tracks: [], events: [] };
    if (initial?.annotations?.frames) this.loadFrames(initial.annotations.frames);
    if (Array.isArray(initial?.events)) this.state.events = JSON.parse(JSON.stringify(initial.events));
  }

  get tracks() { return this.state.tracks; }
  find(uuid) { return this.tracks.find((t) => t.uuid === uuid) || null; }

  // A previous inline answer: every frame an object appears on becomes a keyframe.
  loadFrames(frames) {
    const byUuid = new Map();
    frames.forEach((frame, f) => {
      for (const ann of frame?.annotations || []) {
        if (!GEOMETRY[ann.type]) continue;
        if (!byUuid.has(ann.uuid)) byUuid.set(ann.uuid, { uuid: ann.uuid, type: ann.type, label: ann.label, keys: {}, outside: [] });
        byUuid.get(ann.uuid).keys[f] = Object.fromEntries(GEOMETRY[ann.type].map((k) => [k, ann[k]]));
      }
    });
    for (const track of byUuid.values()) {
      const present = Object.keys(track.keys).map(Number);
      for (let f = Math.min(...present) + 1; f < frames.length; f++) {
        if (!(f in track.keys) && (f - 1) in track.keys) { track.keys[f] = copy(track.keys[f - 1]); track.outside.push(f); }
      }
    }
    this.state.tracks = [...byUuid.values()];
  }

  // The objects on `frame` as image-tool shapes (the uuid is the track's).
  shapesAt(frame) {
    const out = [];
    for (const track of this.tracks) {
      const g = interpolate(track, frame);
      if (g) out.push({ uuid: track.uuid, type: track.type, label: track.label, ...g });
    }
    return out;
  }

  isKey(uuid, frame) {
    const track = this.find(uuid);
    return !!track && frame in track.keys && !track.outside.includes(frame);
  }

  addTrack(shape, frame) {
    const track = { uuid: shape.uuid || this.uuid(), type: shape.type, label: shape.label, keys: {}, outside: [] };
    track.keys[frame] = pick(shape);
    this.tracks.push(track);
    return track;
  }

  // The shape as edited on `frame` becomes a keyframe there (label changes apply to the track).
  setKey(shape, frame) {
    const track = this.find(shape.uuid);
    if (!track) return this.addTrack(shape, frame);
    track.label = shape.label;
    track.keys[frame] = pick(shape);
    track.outside = track.outside.filter((f) => f !== frame);
    return track;
  }

  removeKey(uuid, frame) {
    const track = this.find(uuid);
    if (!track || !(frame in track.keys) || Object.keys(track.keys).length < 2) return false;
    delete track.keys[frame];
    track.outside = track.outside.filter((f) => f !== frame);
    return true;
  }

  // From `frame` on (until its next keyframe) the object is outside the view, or back in.
  toggleOutside(uuid, frame) {
    const track = this.find(uuid);
    if (!track) return false;
    if (track.outside.includes(frame)) {
      track.outside = track.outside.filter((f) => f !== frame);
      return true;
    }
    const g = interpolate(track, frame);
    if (!g) return false;
    track.keys[frame] = g;
    track.outside.push(frame);
    return true;
  }

  removeTrack(uuid) {
    const i = this.tracks.findIndex((t) => t.uuid === uuid);
    if (i === -1) return false;
    this.tracks.splice(i, 1);
    return true;
  }

  // A tracker's boxes for frames first, first+1, …: keyframes until it lost the object.
  applyTracker(uuid, first, boxes) {
    const track = this.find(uuid);
    if (!track || track.type !== 'box') return 0;
    let n = 0;
    boxes.forEach((box, i) => {
      if (!box || first + i >= this.count) return;
      track.keys[first + i] = { left: box.left, top: box.top, width: box.width, height: box.height };
      track.outside = track.outside.filter((f) => f !== first + i);
      n += 1;
    });
    return n;
  }

  // Frames where the track is drawn, as [start, end] spans, and its keyframes (timeline).
  spans(uuid) {
    const track = this.find(uuid);
    const out = [];
    let start = null;
    for (let f = 0; f <= this.count; f++) {
      const on = f < this.count && !!interpolate(track, f);
      if (on && start === null) start = f;
      if (!on && start !== null) { out.push([start, f - 1]); start = null; }
    }
    return out;
  }

  addEvent(label, start, end = null) {
    const event = { uuid: this.uuid(), label, type: end === null ? 'event' : 'range', start };
    if (end !== null) event.end = Math.max(start, end);
    this.state.events.push(event);
    return event;
  }

  response() {
    const frames = Array.from({ length: this.count }, (_, f) => ({
      annotations: this.shapesAt(f).map(rounded),
    }));
    const out = { annotations: { frames } };
    if (this.state.events.length) out.events = JSON.parse(JSON.stringify(this.state.events));
    return out;
  }

  snapshot() { return JSON.parse(JSON.stringify(this.state)); }
  restore(saved) { this.state = JSON.parse(JSON.stringify(saved)); }
}

function pick(shape) { return copy(Object.fromEntries(GEOMETRY[shape.type].map((k) => [k, shape[k]]))); }

"""Video tracks: keyframes to per-frame shapes, and consolidation of several labelers'
tracks by per-frame IoU matching. Plain functions over numpy arrays.

A track's keyframes are ``frames`` (sorted, unique ints) with one row of coordinates each
(a box as left, top, width, height; a point as x, y; a polygon's flattened vertices when
every keyframe has the same number). Between two keyframes the shape moves linearly; a
frame marked outside (the object left the view) breaks the interpolation: nothing is
drawn from it until the next keyframe. Several labelers' tracks consolidate by per-frame
IoU matching (:func:`consolidate_tracks`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

from assay.quality.geometry import box_iou

__all__ = ["ConsensusTrack", "consolidate_tracks", "interpolate_track", "match_tracks", "track_iou"]


def interpolate_track(frames: Sequence[int], values: np.ndarray, n_frames: int, outside: Sequence[int] = ()) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame coordinates ``(n_frames, d)`` and a visibility mask ``(n_frames,)``.

    Keyframe ``k`` at frame ``frames[k]`` has coordinates ``values[k]``; frames between two
    keyframes are interpolated linearly; after the last keyframe the shape stays put until
    the end; before the first nothing is drawn. A frame listed in ``outside`` (a keyframe
    that says "not visible from here") hides the object until the next keyframe."""
    f = np.asarray(frames, dtype=np.int64)
    v = np.asarray(values, dtype=np.float64).reshape(len(f), -1)
    if f.size and (np.any(np.diff(f) <= 0) or f[0] < 0 or f[-1] >= n_frames):
        raise ValueError("keyframes must be sorted, unique and within the video")
    out = np.full((n_frames, v.shape[1] if v.size else 0), np.nan)
    visible = np.zeros(n_frames, dtype=bool)
    hidden = set(int(x) for x in outside)
    for k in range(len(f)):
        start = int(f[k])
        end = int(f[k + 1]) if k + 1 < len(f) else n_frames
        if start in hidden:
            continue
        span = np.arange(start, end)
        if k + 1 < len(f) and int(f[k + 1]) not in hidden:
            t = ((span - start) / (end - start))[:, None]
            out[span] = v[k] * (1 - t) + v[k + 1] * t
        else:
            out[span] = v[k]
        visible[span] = True
    return out, visible


def track_iou(a: np.ndarray, a_visible: np.ndarray, b: np.ndarray, b_visible: np.ndarray) -> float:
    """Mean per-frame box IoU of two box tracks over the frames where either is visible
    (a frame where only one is visible counts 0). 1 when neither is ever visible."""
    either = a_visible | b_visible
    if not either.any():
        return 1.0
    both = a_visible & b_visible
    ious = np.zeros(int(either.sum()))
    idx = np.flatnonzero(either)
    for i, frame in enumerate(idx):
        if both[frame]:
            ious[i] = box_iou(a[frame], b[frame])[0, 0]
    return float(ious.mean())


def match_tracks(tracks_a: Sequence[tuple[np.ndarray, np.ndarray]], tracks_b: Sequence[tuple[np.ndarray, np.ndarray]],
                 threshold: float = 0.5) -> list[tuple[int, int, float]]:
    """One-to-one matching of two labelers' box tracks (each ``(boxes, visible)`` from
    :func:`interpolate_track`) maximising the summed mean per-frame IoU (Hungarian);
    pairs below ``threshold`` are left unmatched. Returns ``(i, j, iou)`` sorted by i."""
    if not tracks_a or not tracks_b:
        return []
    S = np.array([[track_iou(a, av, b, bv) for b, bv in tracks_b] for a, av in tracks_a])
    rows, cols = linear_sum_assignment(-S)
    return sorted((int(i), int(j), float(S[i, j])) for i, j in zip(rows, cols) if S[i, j] >= threshold)


@dataclass
class ConsensusTrack:
    """One consolidated object over time: per-frame boxes (NaN where not drawn), the frames
    where it is drawn, its label, its members' share of the weight (``support``), the mean
    per-frame IoU of its members with it (``similarity``) and the members' indices."""

    label: Any
    boxes: np.ndarray
    visible: np.ndarray
    support: float
    similarity: float
    members: list[int]


def consolidate_tracks(answers: Sequence[Sequence[tuple[Any, np.ndarray, np.ndarray]]], weights: Sequence[float] | None = None,
                       threshold: float = 0.5) -> list[ConsensusTrack]:
    """Labelers' box tracks → consensus tracks. ``answers[r]``: labeler r's tracks as
    ``(label, boxes (n_frames, 4), visible (n_frames,))``. Labelers are visited by
    descending weight; each one's tracks are matched one-to-one to the current consensus
    tracks by mean per-frame IoU (:func:`match_tracks`, pairs below ``threshold`` open new
    ones). A consensus track is kept when its members hold more than half the weight; on
    each frame it is drawn where members holding more than half of its weight draw it, at
    their weighted mean box; its label is the weighted majority."""
    w = np.ones(len(answers)) if weights is None else np.asarray(weights, dtype=np.float64)
    if not np.any(w > 0):
        w = np.ones(len(answers))
    total = float(w.sum())
    clusters: list[list[tuple[int, int]]] = []  # members as (labeler, track index)

    def centre(members):
        return _mean_track([answers[r][k] for r, k in members], [w[r] for r, _ in members])

    for r in sorted(range(len(answers)), key=lambda i: -w[i]):
        centres = [centre(c)[:2] for c in clusters]
        tracks = [(b, v) for _, b, v in answers[r]]
        matched = {j: i for i, j, _ in match_tracks(tracks, centres, threshold)} if centres else {}
        for k in range(len(tracks)):
            if k in matched:
                clusters[matched[k]].append((r, k))
            else:
                clusters.append([(r, k)])
    out = []
    for members in clusters:
        weight = float(sum(w[r] for r, _ in members))
        if weight <= total / 2:
            continue
        boxes, visible, label = centre(members)
        sims = [track_iou(answers[r][k][1], answers[r][k][2], boxes, visible) for r, k in members]
        similarity = float(np.average(sims, weights=[w[r] for r, _ in members])) if weight > 0 else float(np.mean(sims))
        out.append(ConsensusTrack(label, boxes, visible, weight / total, similarity, sorted({r for r, _ in members})))
    return sorted(out, key=lambda t: (int(np.argmax(t.visible)) if t.visible.any() else 0, str(t.label)))


def _mean_track(tracks: list[tuple[Any, np.ndarray, np.ndarray]], weights: list[float]) -> tuple[np.ndarray, np.ndarray, Any]:
    w = np.asarray(weights, dtype=np.float64)
    w = w if w.sum() > 0 else np.ones(len(w))
    vis = np.stack([v for _, _, v in tracks]).astype(np.float64)  # (members, frames)
    boxes = np.stack([np.nan_to_num(b) for _, b, _ in tracks])
    share = (w[:, None] * vis).sum(axis=0)
    visible = share > w.sum() / 2
    mean = np.full(boxes.shape[1:], np.nan)
    shown = share > 0
    mean[shown] = (w[:, None, None] * vis[:, :, None] * boxes).sum(axis=0)[shown] / share[shown][:, None]
    votes: dict[Any, float] = {}
    for (label, _, _), wi in zip(tracks, w):
        votes[label] = votes.get(label, 0.0) + float(wi)
    return mean, visible, max(votes, key=lambda k: (votes[k], str(k)))

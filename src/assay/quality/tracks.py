"""Video tracks: keyframes to per-frame shapes, and consolidation of several labelers'
tracks by per-frame IoU matching. Plain functions over numpy arrays.

A track's keyframes are ``frames`` (sorted, unique ints) with one row of coordinates each
(a box as left, top, width, height; a point as x, y; a polygon's flattened vertices when
every keyframe has the same number). Between two keyframes the shape moves linearly; a
frame marked outside (the object left the view) breaks the interpolation: nothing is
drawn from it until the next keyframe.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

from assay.quality.geometry import box_iou

__all__ = ["interpolate_track", "match_tracks", "track_iou"]


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

"""Segmentation masks: COCO run-length encoding, consolidation by per-pixel weighted vote,
and STAPLE (Warfield, Zou & Wells, 2004) for binary masks. Plain functions over numpy
arrays; masks are (height, width) arrays of class indices (0 = unlabeled) or booleans.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["rle_decode", "rle_encode", "staple", "weighted_vote"]


def rle_encode(mask: np.ndarray) -> dict:
    """COCO's uncompressed RLE of a binary mask: ``{"size": [h, w], "counts": [...]}``,
    runs in column-major order starting with a run of zeros (possibly empty)."""
    m = np.asarray(mask, dtype=bool)
    flat = m.flatten(order="F").astype(np.int8)
    return {"size": [int(m.shape[0]), int(m.shape[1])], "counts": _runs(flat)}


def _runs(flat: np.ndarray) -> list[int]:
    if flat.size == 0:
        return [0]
    edges = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate([[0], edges, [flat.size]])
    runs = np.diff(bounds).tolist()
    return ([0] if flat[0] else []) + [int(r) for r in runs]


def rle_decode(rle: dict) -> np.ndarray:
    """The binary mask of an uncompressed COCO RLE."""
    h, w = (int(x) for x in rle["size"])
    counts = np.asarray(rle["counts"], dtype=np.int64)
    if counts.sum() != h * w or np.any(counts < 0):
        raise ValueError("RLE counts must be non-negative and add up to height × width")
    values = np.arange(len(counts)) % 2 == 1
    return np.repeat(values, counts).reshape((h, w), order="F")


def weighted_vote(masks: Sequence[np.ndarray], weights: Sequence[float] | None = None, n_classes: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel weighted majority over labelers' class-index masks. Returns the consensus
    mask and, per pixel, the winning class's share of the weight (ties: the lower class)."""
    arrays = [np.asarray(m) for m in masks]
    w = np.ones(len(arrays)) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (len(arrays),) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError("one non-negative weight per mask, not all zero")
    k = max(int(a.max()) for a in arrays) + 1 if n_classes is None else int(n_classes)
    # one class at a time keeps memory at a few image-sized arrays (a 40-MP image with ten
    # classes would need gigabytes as one votes tensor)
    winner = np.zeros(arrays[0].shape, dtype=np.int64)
    best = np.full(arrays[0].shape, -1.0)
    for c in range(k):
        votes = np.zeros(arrays[0].shape)
        for weight, a in zip(w, arrays):
            votes += weight * (a == c)
        better = votes > best  # strict: ties stay with the lower class
        winner[better] = c
        best[better] = votes[better]
    share = best / w.sum()
    return winner, share


def staple(masks: Sequence[np.ndarray], max_iter: int = 100, tol: float = 1e-7, prior: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """STAPLE for binary masks: EM over each labeler's sensitivity p and specificity q and
    the per-pixel probability W that the true mask is 1. Returns (W, p, q); the consensus
    mask is ``W >= 0.5``. ``prior``: the foreground share (default: the mean of the masks)."""
    D = np.stack([np.asarray(m, dtype=bool).ravel() for m in masks]).astype(np.float64)  # (raters, pixels)
    g = float(D.mean()) if prior is None else float(prior)
    g = min(max(g, 1e-6), 1 - 1e-6)
    p = np.full(len(D), 0.99)
    q = np.full(len(D), 0.99)
    W = D.mean(axis=0)
    for _ in range(max_iter):
        log_a = np.log(g) + (D * np.log(p)[:, None] + (1 - D) * np.log1p(-p)[:, None]).sum(axis=0)
        log_b = np.log1p(-g) + ((1 - D) * np.log(q)[:, None] + D * np.log1p(-q)[:, None]).sum(axis=0)
        W_new = 1.0 / (1.0 + np.exp(np.clip(log_b - log_a, -700, 700)))
        fg = W_new.sum()
        bg = (1 - W_new).sum()
        p = np.clip((D @ W_new) / max(fg, 1e-12), 1e-6, 1 - 1e-6)
        q = np.clip(((1 - D) @ (1 - W_new)) / max(bg, 1e-12), 1e-6, 1 - 1e-6)
        done = np.max(np.abs(W_new - W)) < tol
        W = W_new
        if done:
            break
    return W.reshape(np.asarray(masks[0]).shape), p, q

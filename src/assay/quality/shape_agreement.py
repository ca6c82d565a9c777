"""Agreement between labelers who drew boxes on the same images: mean matched IoU with a
bootstrap interval over images, overall and per label. Plain functions over numpy arrays.

For each image and each pair of labelers, their boxes of one label are matched one-to-one
(Hungarian on IoU, pairs under ``min_iou`` not matched); every matched pair adds its IoU
and counts as one object, every unmatched box counts as an object with IoU 0 (a box one
labeler missed is disagreement too). The agreement is the sum of IoUs over the number of
objects, pooled over images and pairs; the interval resamples images.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from assay.quality.bootstrap import percentile_interval, resample_weights
from assay.quality.geometry import box_iou

__all__ = ["matched_iou", "matched_iou_agreement"]

Box = tuple[float, float, float, float, Any]  # left, top, width, height, label


def matched_iou(a: Sequence[Box], b: Sequence[Box], min_iou: float = 0.1) -> tuple[dict[Any, float], dict[Any, int]]:
    """Per label: the summed IoU of the matched pairs between two labelers' boxes, and the
    number of objects (matched pairs plus unmatched boxes of either)."""
    from scipy.optimize import linear_sum_assignment  # noqa: PLC0415 - scipy.optimize costs ~50 MB of server memory: loaded on first use

    sums: dict[Any, float] = {}
    counts: dict[Any, int] = {}
    for label in {x[4] for x in a} | {x[4] for x in b}:
        pa = np.array([x[:4] for x in a if x[4] == label], dtype=np.float64).reshape(-1, 4)
        pb = np.array([x[:4] for x in b if x[4] == label], dtype=np.float64).reshape(-1, 4)
        matched = 0
        total = 0.0
        if len(pa) and len(pb):
            S = box_iou(pa, pb)
            rows, cols = linear_sum_assignment(-S)
            keep = S[rows, cols] >= min_iou
            matched = int(keep.sum())
            total = float(S[rows, cols][keep].sum())
        sums[label] = total
        counts[label] = len(pa) + len(pb) - matched
    return sums, counts


def matched_iou_agreement(images: Sequence[Sequence[Sequence[Box]]], n_bootstrap: int = 1000, confidence: float = 0.95,
                          seed: int = 0, min_iou: float = 0.1) -> dict[str, Any]:
    """``images[i][r]``: labeler r's boxes on image i (two or more labelers per image).
    Returns ``{"overall": {...}, "labels": {label: {...}}}``, each ``{"mean_iou", "low",
    "high", "objects", "images"}`` (None where nothing was drawn)."""
    labels = sorted({box[4] for image in images for answer in image for box in answer}, key=str)
    col = {label: j for j, label in enumerate(labels)}
    sums = np.zeros((len(images), len(labels)))
    counts = np.zeros((len(images), len(labels)))
    for i, image in enumerate(images):
        for r in range(len(image)):
            for s in range(r + 1, len(image)):
                pair_sums, pair_counts = matched_iou(image[r], image[s], min_iou)
                for label, value in pair_sums.items():
                    sums[i, col[label]] += value
                    counts[i, col[label]] += pair_counts[label]
    return {
        "overall": _summary(sums.sum(axis=1), counts.sum(axis=1), n_bootstrap, confidence, seed),
        "labels": {label: _summary(sums[:, j], counts[:, j], n_bootstrap, confidence, seed) for label, j in col.items()},
    }


def _summary(sums: np.ndarray, counts: np.ndarray, n_bootstrap: int, confidence: float, seed: int) -> dict[str, Any]:
    used = counts > 0
    total = float(counts.sum())
    if total == 0:
        return {"mean_iou": None, "low": None, "high": None, "objects": 0, "images": 0}
    s, c = sums[used], counts[used]
    replicates = []
    for w in resample_weights(len(s), n_bootstrap, seed):
        with np.errstate(invalid="ignore", divide="ignore"):
            replicates.append((w @ s) / (w @ c))
    low, high = percentile_interval(np.concatenate(replicates) if replicates else np.array([]), confidence)
    return {"mean_iou": float(s.sum() / c.sum()), "low": low, "high": high, "objects": int(total), "images": int(used.sum())}

"""Consensus of numeric answers: the weighted median (robust to a minority of wild values).
Weights and merged identical answers follow :mod:`assay.quality.answer_groups`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from assay.quality.answer_groups import checked_weights, group_answers

__all__ = ["MedianResult", "weighted_median"]


@dataclass
class MedianResult:
    """``answer``: the lower weighted median; ``confidence``: weight share of the values
    within ``tolerance`` of it; ``mad``: the weighted median absolute deviation."""

    answer: float
    confidence: float
    contributors: list[int]
    tolerance: float
    mad: float


def _lower_median(values: np.ndarray, w: np.ndarray) -> float:
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(w[order])
    # Lower weighted median: the smallest value with at least half the weight at or below.
    k = int(np.searchsorted(2.0 * cum, cum[-1], side="left"))
    return float(values[order][min(k, len(order) - 1)])


def weighted_median(values: Sequence[float], weights=None, abs_tol: float = 0.0, rel_tol: float = 0.01) -> MedianResult:
    """Weighted median of numeric answers (robust to a minority of wild values).

    The lower weighted median: the smallest value ``m`` with ``weight(v <= m) >= W / 2``;
    on an exact tie (half the weight on each side of a gap) it is the lower of the two
    middle values. Zero-weight values are never chosen (unless every weight is 0, when all
    count equally). ``confidence`` = weight share of values ``v`` with
    ``|v - m| <= max(abs_tol, rel_tol * |m|)``; those values are the ``contributors``.
    """
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    w = checked_weights(weights, len(v))
    if not np.all(np.isfinite(v)):
        raise ValueError("values must be finite")
    groups = group_answers([float(x) for x in v], w)
    uv = np.array(groups.keys, dtype=np.float64)
    m = _lower_median(uv, groups.weight)
    tol = max(float(abs_tol), float(rel_tol) * abs(m))
    near = np.abs(uv - m) <= tol
    mad = _lower_median(np.abs(uv - m), groups.weight)
    return MedianResult(
        answer=m,
        confidence=float(groups.weight[near].sum() / groups.total),
        contributors=groups.original(np.flatnonzero(near)),
        tolerance=tol,
        mad=mad,
    )

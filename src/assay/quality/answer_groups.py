"""Labeler weights and identical answers merged: the ground rules of every consolidation of
one task's non-categorical answers (spans, shapes, numbers, free text, comparisons).

Every consolidation function takes the answers that several labelers gave to ONE task, plus
optional per-labeler ``weights`` (a skill in [0, 1], e.g. ``AggregationResult.worker_skill``;
default 1 each), and returns a dataclass with the consolidated ``answer``, a ``confidence``
in [0, 1] and ``contributors`` — the (sorted) indices of the answers that support it.

Rules shared by all of them:

* Weights must be finite and >= 0. If they are all 0 they are replaced by 1 each (a task
  labelled only by zero-skill labelers still gets the plain unweighted consensus).
* No answers at all is a ``ValueError`` (there is nothing to consolidate).
* Labelers whose answers are identical are merged into one labeler with the summed weight,
  and the merged labelers are processed in a canonical order (sorted by answer). So the
  result depends on the multiset of (answer, weight) pairs only: permuting labelers changes
  nothing, not even rounding, and duplicating every labeler doubles every weight exactly
  (a power of two), which leaves every share, mean and threshold comparison bit-identical.
* All "majority" rules are strict: a share must be *more than* half of the total weight.

The consolidations: :mod:`assay.quality.spans` (named-entity spans),
:mod:`assay.quality.shapes` (boxes, points, polygons, ellipses), :mod:`assay.quality.numbers`
(weighted median), :mod:`assay.quality.text` (text medoid), :mod:`assay.quality.ranking`
(Bradley-Terry / Davidson) and :mod:`assay.quality.preference` (one pairwise judgement).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Hashable

import numpy as np

__all__ = ["AnswerGroups", "checked_weights", "group_answers"]


def checked_weights(weights: Any, n: int) -> np.ndarray:
    """``weights`` for ``n`` answers as a float array (1 each when None or all 0)."""
    if n == 0:
        raise ValueError("no answers to consolidate")
    if weights is None:
        return np.ones(n)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n,):
        raise ValueError(f"expected {n} weights, got shape {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite and >= 0")
    if not np.any(w > 0):
        return np.ones(n)
    return w


@dataclass
class AnswerGroups:
    """Identical answers merged: ``keys[g]`` (canonical order), summed ``weight[g]``,
    and the original answer indices ``members[g]``."""

    keys: list
    weight: np.ndarray
    members: list[list[int]]

    @property
    def total(self) -> float:
        return float(self.weight.sum())

    def original(self, groups) -> list[int]:
        return sorted(i for g in groups for i in self.members[g])


def group_answers(keys: list, w: np.ndarray) -> AnswerGroups:
    """Merge the answers with equal (hashable, sortable) ``keys``, summing their weights."""
    buckets: dict[Hashable, list[int]] = {}
    for i, k in enumerate(keys):
        buckets.setdefault(k, []).append(i)
    order = sorted(buckets)
    # fsum is exactly rounded, so a group's weight does not depend on the member order.
    gw = np.array([math.fsum(w[buckets[k]]) for k in order], dtype=np.float64)
    return AnswerGroups(order, gw, [buckets[k] for k in order])

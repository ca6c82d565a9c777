"""Vote-based truth inference: plurality vote and weighted majority vote (workers weighted
by their agreement with the current answers, iterated like crowd-kit's Wawa).

Input and output as for every method of :mod:`assay.quality.aggregation`; tasks without
any answer get the uniform distribution.
"""

from __future__ import annotations

import numpy as np

from assay.quality.label_data import as_label_data
from assay.quality.posteriors import AggregationResult, choose_labels, normalise_rows, result_from_posteriors, uniform_if_empty

__all__ = ["majority_vote", "weighted_majority_vote"]


def majority_vote(
    task_idx,
    worker_idx=None,
    label_idx=None,
    n_tasks: int | None = None,
    n_workers: int | None = None,
    n_classes: int | None = None,
    *,
    smoothing: float = 0.5,
) -> AggregationResult:
    """Plurality vote. Posterior = smoothed vote share ``(votes + a) / (n + C a)``.

    Worker skill = smoothed agreement with the majority answer, ``(agree + 1) / (n + 2)``.
    """
    data = as_label_data(task_idx, worker_idx, label_idx, n_tasks, n_workers, n_classes)
    votes = data.votes
    post = normalise_rows(votes + smoothing) if smoothing > 0 else uniform_if_empty(votes)
    labels = choose_labels(votes, data.class_score)
    agree = np.bincount(data.worker, weights=(labels[data.task] == data.label), minlength=data.n_workers)
    skill = (agree + 1.0) / (data.n_per_worker + 2.0)
    return result_from_posteriors("majority_vote", data, post, skill, scores=votes)


def weighted_majority_vote(
    task_idx,
    worker_idx=None,
    label_idx=None,
    n_tasks: int | None = None,
    n_workers: int | None = None,
    n_classes: int | None = None,
    *,
    max_iter: int = 20,
    smoothing: float = 0.5,
) -> AggregationResult:
    """Majority vote where each worker's vote weighs their (smoothed) agreement with the
    current weighted-majority answers; repeated until the answers stop changing.

    Posterior = smoothed weighted vote share (``smoothing`` in units of the mean weight).
    """
    data = as_label_data(task_idx, worker_idx, label_idx, n_tasks, n_workers, n_classes)
    C = data.n_classes
    labels = choose_labels(data.votes, data.class_score)
    weights = np.ones(data.n_workers)
    wvotes = data.votes
    it = 0
    converged = False
    for it in range(1, max_iter + 1):
        agree = np.bincount(data.worker, weights=(labels[data.task] == data.label), minlength=data.n_workers)
        weights = (agree + 1.0) / (data.n_per_worker + 2.0)
        wvotes = np.bincount(data.task_label, weights=weights[data.worker], minlength=data.n_tasks * C).reshape(
            data.n_tasks, C
        )
        new = choose_labels(wvotes, data.class_score)
        if np.array_equal(new, labels):
            converged = True
            labels = new
            break
        labels = new
    mean_w = float(weights[data.worker].mean()) if data.n else 1.0
    post = normalise_rows(wvotes + smoothing * mean_w) if smoothing > 0 else uniform_if_empty(wvotes)
    return result_from_posteriors("weighted_majority_vote", data, post, weights, scores=wvotes, n_iter=it, converged=converged)

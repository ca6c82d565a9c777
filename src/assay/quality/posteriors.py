"""What a categorical truth-inference method returns (:class:`AggregationResult`) and the
per-task posterior arithmetic the methods share: row normalisation and softmax, the class
prior, the majority-vote starting point, and the deterministic choice of a label.

A label is the argmax of the posterior; ties go to the class that is more frequent overall,
then to the lower index, so the choice does not depend on the order of tasks and workers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assay.quality.label_data import LabelData

__all__ = [
    "TINY",
    "AggregationResult",
    "choose_labels",
    "class_prior",
    "initial_posteriors",
    "normalise_rows",
    "result_from_posteriors",
    "softmax_rows",
    "uniform_if_empty",
]

TINY = 1e-300  # floor under probabilities before taking their log


@dataclass
class AggregationResult:
    """What an aggregator found. Arrays are indexed by task / worker / class index."""

    method: str
    posteriors: np.ndarray  # (n_tasks, n_classes), rows sum to 1
    labels: np.ndarray  # (n_tasks,) chosen class index
    confidence: np.ndarray  # (n_tasks,) posterior of the chosen class, in [0, 1]
    worker_skill: np.ndarray  # (n_workers,) estimated accuracy in [0, 1]
    n_labels: np.ndarray  # (n_tasks,) answers per task
    confusion: np.ndarray | None = None  # (n_workers, C, C): P(answer = l | truth = k) at [w, k, l]
    class_prior: np.ndarray | None = None  # (C,)
    population_confusion: np.ndarray | None = None  # (C, C): the prior used for unseen workers
    log_joint: np.ndarray | None = None  # (n_tasks, C): log prior + sum of log-likelihoods
    n_iter: int = 0
    converged: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_tasks(self) -> int:
        return self.posteriors.shape[0]

    @property
    def n_classes(self) -> int:
        return self.posteriors.shape[1]


def choose_labels(post: np.ndarray, class_score: np.ndarray, scores: np.ndarray | None = None) -> np.ndarray:
    """Argmax per row of ``scores`` (default ``post``); ties go to the best class_score."""
    s = post if scores is None else scores
    if s.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    is_max = s >= s.max(axis=1, keepdims=True)
    return np.where(is_max, class_score[None, :], -np.inf).argmax(axis=1).astype(np.int64)


def result_from_posteriors(method: str, data: LabelData, post: np.ndarray, skill: np.ndarray, **kw) -> AggregationResult:
    """The result of ``method``: labels chosen from ``post`` (or from ``scores=`` when given),
    their confidence, the skills clipped to [0, 1]; other keywords are result fields."""
    labels = choose_labels(post, data.class_score, kw.pop("scores", None))
    kw.setdefault("extra", {})["tie_break"] = data.class_score
    conf = np.clip(post[np.arange(data.n_tasks), labels], 0.0, 1.0) if data.n_tasks else np.zeros(0)
    return AggregationResult(
        method=method,
        posteriors=post,
        labels=labels,
        confidence=conf,
        worker_skill=np.clip(skill, 0.0, 1.0),
        n_labels=data.n_per_task.copy(),
        **kw,
    )


def normalise_rows(m: np.ndarray) -> np.ndarray:
    s = m.sum(axis=-1, keepdims=True)
    return m / np.where(s > 0, s, 1.0)


def uniform_if_empty(votes: np.ndarray) -> np.ndarray:
    """Vote shares per row; rows without any vote get the uniform distribution."""
    post = normalise_rows(votes)
    empty = votes.sum(axis=1) == 0
    post[empty] = 1.0 / votes.shape[1]
    return post


def initial_posteriors(data: LabelData) -> np.ndarray:
    """Majority-vote shares (uniform for unanswered tasks) — the EM starting point."""
    return uniform_if_empty(data.votes)


def class_prior(post: np.ndarray, has_labels: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """Add-``alpha`` smoothed class frequencies of the posteriors of the answered tasks."""
    counts = post.sum(axis=0) if has_labels.all() else post[has_labels].sum(axis=0)
    return (counts + alpha) / (counts.sum() + alpha * post.shape[1])


def _row_reduce(ufunc, m: np.ndarray) -> np.ndarray:
    """ufunc-reduce each row of a (rows, C) array. For few columns a loop over the columns
    (each step vectorised over all rows) is several times faster than ``reduce(axis=1)``,
    which pays a per-row overhead."""
    if m.ndim != 2 or m.shape[1] > 16 or m.shape[1] == 0:
        return ufunc.reduce(m, axis=1)
    out = m[:, 0].copy()
    for k in range(1, m.shape[1]):
        ufunc(out, m[:, k], out=out)
    return out


def softmax_rows(logj: np.ndarray) -> tuple[np.ndarray, float]:
    """Row softmax of log-joint scores and the total log-likelihood (sum of row logsumexp)."""
    m = _row_reduce(np.maximum, logj)
    p = logj - m[:, None]
    np.exp(p, out=p)
    s = _row_reduce(np.add, p)
    p /= s[:, None]
    return p, float(m.sum() + np.log(s).sum())

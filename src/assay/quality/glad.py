"""GLAD truth inference (Whitehill et al., 2009): P(answer correct) = sigmoid(ability_w *
easiness_t), fitted by EM with a damped per-coordinate Newton M-step (both blocks are
concave) under Gaussian priors. Input and output as for every method of
:mod:`assay.quality.aggregation`.
"""

from __future__ import annotations

import numpy as np

from assay.quality.label_data import LabelData, as_label_data
from assay.quality.posteriors import AggregationResult, class_prior, initial_posteriors, result_from_posteriors, softmax_rows

__all__ = ["glad"]


def _log_sigmoid(x: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -x)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.exp(_log_sigmoid(x))


def _newton_update(value: np.ndarray, index: np.ndarray, other: np.ndarray, q: np.ndarray, prior: tuple[float, float], n: int) -> np.ndarray:
    """One exact Newton step on every coordinate of ``value`` (abilities, or easiness values)
    with the other block fixed: coordinate ``i`` collects the answers with ``index == i``,
    ``other`` is the other factor of each answer's logit and ``q`` the posterior that the
    answer is correct; the Gaussian ``prior`` is (mean, variance). Steps are clipped to ±2,
    so it cannot diverge."""
    mu, var = prior
    s = _sigmoid(value[index] * other)
    g = np.bincount(index, weights=(q - s) * other, minlength=n) - (value - mu) / var
    h = np.bincount(index, weights=s * (1.0 - s) * other * other, minlength=n) + 1.0 / var
    return value + np.clip(g / h, -2.0, 2.0)


def _log_joint(data: LabelData, a: np.ndarray, b: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """(n_tasks, C) log prior + log-likelihood of each task's answers under every truth;
    wrong answers are spread evenly over the other classes."""
    T, C = data.n_tasks, data.n_classes
    x = a[data.worker] * b[data.task]
    ls = _log_sigmoid(x)
    lw = _log_sigmoid(-x) - np.log(max(C - 1, 1))
    base = np.bincount(data.task, weights=lw, minlength=T)
    delta = np.bincount(data.task_label, weights=ls - lw, minlength=T * C).reshape(T, C)
    return delta + base[:, None] + np.log(prior)[None, :]


def _worker_accuracy(data: LabelData, a: np.ndarray, b: np.ndarray, b_mu: float) -> np.ndarray:
    """Mean P(correct) over each worker's answers; at the prior easiness for a worker
    without any."""
    n_w = data.n_per_worker
    x = a[data.worker] * b[data.task]
    return np.where(
        n_w > 0,
        np.bincount(data.worker, weights=_sigmoid(x), minlength=data.n_workers) / np.maximum(n_w, 1),
        _sigmoid(a * b_mu),
    )


def glad(
    task_idx,
    worker_idx=None,
    label_idx=None,
    n_tasks: int | None = None,
    n_workers: int | None = None,
    n_classes: int | None = None,
    *,
    max_iter: int = 100,
    tol: float = 1e-6,
    newton_steps: int = 2,
    ability_prior: tuple[float, float] = (1.0, 1.0),
    easiness_prior: tuple[float, float] = (float(np.e), 1.0),
    class_prior_alpha: float = 1.0,
    fit_class_prior: bool = False,
) -> AggregationResult:
    """GLAD (Whitehill et al., 2009). P(answer correct) = sigmoid(a_w * b_t), a_w real
    (negative = adversarial), b_t > 0 the task's easiness (1 / difficulty); wrong answers are
    spread evenly over the other classes.

    EM from majority vote. M-step: ``newton_steps`` rounds of exact per-coordinate Newton
    updates, alternating the abilities (tasks fixed) and the easiness values (workers
    fixed); each block is a set of independent one-dimensional concave problems, and
    steps are clipped to ±2, so it cannot diverge. Priors: a_w ~ N(1, 1), b_t ~ N(e, 1)
    truncated at 1e-3 (``ability_prior``, ``easiness_prior`` give (mean, variance); e matches
    crowd-kit's start b = exp(1)). The class prior is uniform (as in the paper and crowd-kit)
    unless ``fit_class_prior`` — see :func:`assay.quality.dawid_skene.one_coin_dawid_skene`
    for why. All log-sigmoids use ``logaddexp`` (no overflow for any a * b).
    """
    data = as_label_data(task_idx, worker_idx, label_idx, n_tasks, n_workers, n_classes)
    C, T, W = data.n_classes, data.n_tasks, data.n_workers
    t, w = data.task, data.worker
    has = data.n_per_task > 0
    a = np.full(W, float(ability_prior[0]))
    b = np.full(T, float(easiness_prior[0]))
    post = initial_posteriors(data)
    prior = class_prior(post, has, class_prior_alpha) if fit_class_prior else np.full(C, 1.0 / C)
    if C == 1:
        post = np.ones((T, 1))
        return result_from_posteriors("glad", data, post, np.ones(W), log_joint=np.zeros((T, 1)), class_prior=np.ones(1))

    ll_prev = -np.inf
    converged = False
    it = 0
    ll = 0.0
    logj = None
    for it in range(1, max_iter + 1):
        q = post.ravel()[data.task_label]  # P(answer correct) under the current posterior
        for _ in range(newton_steps):
            a = _newton_update(a, w, b[t], q, ability_prior, W)
            b = np.maximum(_newton_update(b, t, a[w], q, easiness_prior, T), 1e-3)
        if fit_class_prior:
            prior = class_prior(post, has, class_prior_alpha)
        logj = _log_joint(data, a, b, prior)
        post, ll = softmax_rows(logj)
        if abs(ll - ll_prev) <= tol * max(data.n, 1):
            converged = True
            break
        ll_prev = ll
    if logj is None:
        logj = _log_joint(data, a, b, prior)
        post, ll = softmax_rows(logj)
    return result_from_posteriors(
        "glad",
        data,
        post,
        _worker_accuracy(data, a, b, easiness_prior[0]),
        class_prior=prior,
        log_joint=logj,
        n_iter=it,
        converged=converged,
        extra={"ability": a, "easiness": b, "log_likelihood": ll},
    )

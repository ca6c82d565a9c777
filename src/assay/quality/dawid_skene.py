"""Dawid-Skene truth inference: per-worker confusion matrices fitted by EM.

* :func:`dawid_skene` — full confusion matrix per worker, EM from the majority vote. The
  M-step is a MAP estimate under a Dirichlet prior centred on the *population* confusion
  matrix (all workers pooled), ``prior_strength`` pseudo-answers per row, so workers with
  few answers borrow strength from everyone instead of collapsing to 0/1 rates.
* :func:`one_coin_dawid_skene` — one accuracy per worker, errors spread evenly over the
  other classes; same shrinkage towards the population accuracy.
* :func:`update_posteriors` — fold a few new answers into either fit without refitting.

The answers are turned once into a sparse one-hot matrix ``A[task, worker * C + label]``
(scipy CSR, :attr:`LabelData.onehot`), so the E-step is one sparse-dense product
``A @ log(confusion)`` and the M-step ``posterior.T @ A``; no Python loop runs over answers.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from assay.quality.label_data import LabelData, as_label_data
from assay.quality.posteriors import (
    TINY,
    AggregationResult,
    choose_labels,
    class_prior,
    initial_posteriors,
    normalise_rows,
    result_from_posteriors,
    softmax_rows,
)

__all__ = [
    "dawid_skene", "expected_counts", "log_confusion_stack", "one_coin_dawid_skene", "symmetric_confusion", "update_posteriors",
]


# --------------------------------------------------------------------------- full confusion matrices


def _ds_confusion(counts: np.ndarray, prior_strength: float, smoothing: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """MAP confusion matrices from expected counts[w, k, l] with a Dirichlet prior centred
    on the pooled (population) confusion matrix."""
    pooled = counts.sum(axis=0) + smoothing
    population = normalise_rows(pooled)
    conf = normalise_rows(counts + prior_strength * population[None, :, :])
    return conf, population


def log_confusion_stack(conf: np.ndarray, already_log: bool = False) -> np.ndarray:
    """(W, K, C) confusion (or its log, ``already_log``) -> (W*C, K) matrix of
    log P(answer l | truth k) at row w*C+l: the right factor of the E-step ``A @ .``."""
    W, K, C = conf.shape
    logs = conf if already_log else np.log(np.maximum(conf, TINY))
    return np.ascontiguousarray(logs.transpose(0, 2, 1).reshape(W * C, K))


def expected_counts(data: LabelData, post: np.ndarray) -> np.ndarray:
    """counts[w, k, l] = sum over answers (w, t, l) of post[t, k]."""
    W, C = data.n_workers, data.n_classes
    # post.T @ A (dense @ sparse, (K, W*C)) is several times faster in scipy than A.T @ post
    m = np.asarray(post.T @ data.onehot)  # [k, w*C + l]
    return m.reshape(C, W, C).transpose(1, 0, 2)


def _em_round(data: LabelData, post: np.ndarray, has: np.ndarray, prior_strength: float, class_prior_alpha: float):
    """M-step from ``post``, then the E-step: ``(confusion, population, prior, log_joint,
    new posteriors, log-likelihood)``."""
    counts = expected_counts(data, post)
    conf, population = _ds_confusion(counts, prior_strength)
    prior = class_prior(post, has, class_prior_alpha)
    logj = data.onehot @ log_confusion_stack(conf)
    logj += np.log(prior)[None, :]
    post, ll = softmax_rows(logj)
    return conf, population, prior, logj, post, ll


def dawid_skene(
    task_idx,
    worker_idx=None,
    label_idx=None,
    n_tasks: int | None = None,
    n_workers: int | None = None,
    n_classes: int | None = None,
    *,
    max_iter: int = 100,
    tol: float = 1e-6,
    prior_strength: float = 1.0,
    class_prior_alpha: float = 1.0,
    init: np.ndarray | None = None,
) -> AggregationResult:
    """Dawid & Skene (1979) with full per-worker confusion matrices, fitted by EM.

    Starts from majority-vote shares. M-step: ``confusion[w, k] ∝ counts[w, k] +
    prior_strength * population[k]`` where ``population`` is the pooled confusion matrix of
    all workers (add-one smoothed), and the class prior is add-``class_prior_alpha``
    smoothed. Stops when the mean log-likelihood per answer changes by less than ``tol``, or
    after ``max_iter`` iterations. The returned posteriors are from an E-step with the
    returned parameters, so :func:`update_posteriors` continues exactly from them.
    """
    data = as_label_data(task_idx, worker_idx, label_idx, n_tasks, n_workers, n_classes)
    C = data.n_classes
    has = data.n_per_task > 0
    post = initial_posteriors(data) if init is None else np.asarray(init, dtype=np.float64)
    if post.shape != (data.n_tasks, C):
        raise ValueError(f"init must have shape (n_tasks, n_classes) = {(data.n_tasks, C)}")
    ll_prev = -np.inf
    converged = False
    it = 0
    fitted = None
    for it in range(1, max_iter + 1):
        fitted = _em_round(data, post, has, prior_strength, class_prior_alpha)
        post, ll = fitted[4], fitted[5]
        if abs(ll - ll_prev) <= tol * max(data.n, 1):
            converged = True
            break
        ll_prev = ll
    if fitted is None:  # max_iter < 1: parameters from the initial posteriors, one E-step
        fitted = _em_round(data, post, has, prior_strength, class_prior_alpha)
    conf, population, prior, logj, post, ll = fitted
    skill = np.einsum("k,wkk->w", prior, conf) if C > 0 else np.zeros(data.n_workers)
    return result_from_posteriors(
        "dawid_skene",
        data,
        post,
        skill,
        confusion=conf,
        class_prior=prior,
        population_confusion=population,
        log_joint=logj,
        n_iter=it,
        converged=converged,
        extra={"log_likelihood": ll},
    )


# --------------------------------------------------------------------------- one coin per worker


def symmetric_confusion(acc: np.ndarray, C: int) -> np.ndarray:
    """(W,) accuracies -> (W, C, C) confusion with errors spread evenly."""
    off = (1.0 - acc) / max(C - 1, 1)
    conf = np.repeat(off[:, None, None], C, axis=1).repeat(C, axis=2)
    idx = np.arange(C)
    conf[:, idx, idx] = acc[:, None]
    return conf


def _one_coin_m_step(data: LabelData, post: np.ndarray, has: np.ndarray, prior_strength: float, class_prior_alpha: float,
                     fit_class_prior: bool) -> tuple[np.ndarray, float, np.ndarray]:
    """Accuracy per worker (shrunk towards the pooled accuracy), the pooled accuracy, and
    the class prior (uniform unless fitted)."""
    C = data.n_classes
    n_w = data.n_per_worker.astype(np.float64)
    correct = np.bincount(data.worker, weights=post.ravel()[data.task_label], minlength=data.n_workers)
    p_pop = (correct.sum() + 1.0) / (n_w.sum() + 2.0)
    acc = (correct + prior_strength * p_pop) / (n_w + prior_strength)
    if C == 1:
        acc = np.ones_like(acc)
    prior = class_prior(post, has, class_prior_alpha) if fit_class_prior else np.full(C, 1.0 / C)
    return np.clip(acc, 1e-9, 1 - 1e-9), p_pop, prior


def _one_coin_log_joint(data: LabelData, acc: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """(n_tasks, C) log prior + log-likelihood of each task's answers under every truth."""
    C = data.n_classes
    lw = np.log1p(-acc) - np.log(max(C - 1, 1))  # log P(a given wrong class)
    lp = np.log(acc)
    base = np.bincount(data.task, weights=lw[data.worker], minlength=data.n_tasks)
    delta = np.bincount(data.task_label, weights=(lp - lw)[data.worker], minlength=data.n_tasks * C).reshape(data.n_tasks, C)
    logj = delta + base[:, None] + np.log(prior)[None, :]
    if C == 1:
        logj = np.zeros((data.n_tasks, 1))
    return logj


def one_coin_dawid_skene(
    task_idx,
    worker_idx=None,
    label_idx=None,
    n_tasks: int | None = None,
    n_workers: int | None = None,
    n_classes: int | None = None,
    *,
    max_iter: int = 100,
    tol: float = 1e-6,
    prior_strength: float = 1.0,
    class_prior_alpha: float = 1.0,
    fit_class_prior: bool = False,
) -> AggregationResult:
    """One-coin Dawid-Skene: worker w answers correctly with probability p_w, otherwise
    uniformly one of the other classes. ``p_w = (expected correct + s * p_pop) / (n_w + s)``
    with ``p_pop`` the pooled accuracy. EM from majority vote like :func:`dawid_skene`.

    The class prior stays uniform unless ``fit_class_prior``: with symmetric errors the model
    cannot express "workers over-use class k", so a fitted prior absorbs that bias and drifts
    towards the over-used class (on trec2010_relevance accuracy falls from 0.48 to 0.19,
    which is also what crowd-kit's OneCoinDawidSkene gets)."""
    data = as_label_data(task_idx, worker_idx, label_idx, n_tasks, n_workers, n_classes)
    has = data.n_per_task > 0
    post = initial_posteriors(data)
    ll_prev = -np.inf
    converged = False
    it = 0
    for it in range(1, max(max_iter, 1) + 1):
        acc, p_pop, prior = _one_coin_m_step(data, post, has, prior_strength, class_prior_alpha, fit_class_prior)
        logj = _one_coin_log_joint(data, acc, prior)
        post, ll = softmax_rows(logj)
        if abs(ll - ll_prev) <= tol * max(data.n, 1):
            converged = True
            break
        ll_prev = ll
    return result_from_posteriors(
        "one_coin_dawid_skene",
        data,
        post,
        acc,
        confusion=symmetric_confusion(acc, data.n_classes),
        class_prior=prior,
        population_confusion=symmetric_confusion(np.array([p_pop]), data.n_classes)[0],
        log_joint=logj,
        n_iter=it,
        converged=converged,
        extra={"log_likelihood": ll},
    )


# --------------------------------------------------------------------------- incremental


def _checked_new_answers(result: AggregationResult, task_idx, worker_idx, label_idx) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if result.confusion is None or result.class_prior is None or result.log_joint is None:
        raise ValueError(f"{result.method} has no confusion matrices; incremental updates need dawid_skene or one_coin")
    t = np.asarray(task_idx, dtype=np.int64)
    w = np.asarray(worker_idx, dtype=np.int64)
    lab = np.asarray(label_idx, dtype=np.int64)
    if not (t.shape == w.shape == lab.shape) or t.ndim != 1:
        raise ValueError("task_idx, worker_idx and label_idx must be equally long 1-d arrays")
    if t.size and (t.min() < 0 or w.min() < 0 or lab.min() < 0 or lab.max() >= result.n_classes):
        raise ValueError("index out of range")
    return t, w, lab


def _resized(result: AggregationResult, new_T: int, inplace: bool) -> AggregationResult:
    """The result to update: grown to ``new_T`` tasks (new tasks at the class prior), or a
    copy of the per-task arrays unless ``inplace``."""
    old_T = result.n_tasks
    res = result if inplace else replace(result, extra=dict(result.extra))
    if new_T > old_T:
        grow = new_T - old_T
        log_prior = np.log(result.class_prior)
        res.log_joint = np.vstack([result.log_joint, np.repeat(log_prior[None, :], grow, axis=0)])
        res.posteriors = np.vstack([result.posteriors, np.repeat(result.class_prior[None, :], grow, axis=0)])
        res.labels = np.concatenate([result.labels, np.full(grow, int(np.argmax(result.class_prior)))])
        res.confidence = np.concatenate([result.confidence, np.full(grow, float(result.class_prior.max()))])
        res.n_labels = np.concatenate([result.n_labels, np.zeros(grow, dtype=result.n_labels.dtype)])
    elif not inplace:
        res.log_joint = result.log_joint.copy()
        res.posteriors = result.posteriors.copy()
        res.labels = result.labels.copy()
        res.confidence = result.confidence.copy()
        res.n_labels = result.n_labels.copy()
    return res


def _answer_log_likelihoods(result: AggregationResult, w: np.ndarray, lab: np.ndarray) -> np.ndarray:
    """(answers, C): log P(answer = lab | truth = k) for every k, by the worker's fitted
    confusion matrix (the population matrix for workers the fit has not seen)."""
    C = result.n_classes
    known = w < result.confusion.shape[0]
    rows = np.empty((w.size, C))
    rows[known] = np.log(np.maximum(result.confusion[w[known], :, lab[known]], TINY))
    pop = result.population_confusion if result.population_confusion is not None else np.full((C, C), 1.0 / C)
    rows[~known] = np.log(np.maximum(pop[:, lab[~known]].T, TINY))
    return rows


def update_posteriors(
    result: AggregationResult,
    task_idx,
    worker_idx,
    label_idx,
    *,
    n_tasks: int | None = None,
    inplace: bool = False,
) -> tuple[AggregationResult, np.ndarray]:
    """Fold a few new answers into a previous Dawid-Skene / one-coin fit without refitting.

    The worker confusion matrices and class prior stay as fitted; only the tasks that
    received answers get a new E-step: their stored log-joint scores gain
    ``log confusion[w, :, label]`` per new answer and their posterior, label and confidence
    are recomputed. Workers the fit has not seen use the population confusion matrix; task
    indices beyond the fit (up to ``n_tasks``) start from the class prior. Exactly equal to an
    E-step over all answers with the fitted parameters (tested). Refit periodically — the
    parameters themselves do not learn from the new answers.

    Returns ``(result, affected_task_indices)``; the input result is left untouched unless
    ``inplace`` (then arrays are updated in place where their size allows).
    """
    t, w, lab = _checked_new_answers(result, task_idx, worker_idx, label_idx)
    C = result.n_classes
    new_T = max(result.n_tasks, int(t.max()) + 1 if t.size else 0, n_tasks or 0)
    res = _resized(result, new_T, inplace)
    if t.size == 0:
        return res, np.zeros(0, dtype=np.int64)
    np.add.at(res.log_joint, t, _answer_log_likelihoods(result, w, lab))
    np.add.at(res.n_labels, t, 1)
    affected = np.unique(t)
    post, _ = softmax_rows(res.log_joint[affected])
    res.posteriors[affected] = post
    score = result.extra.get("tie_break")
    if score is None:  # tie-break by the fitted class prior
        score = np.empty(C)
        score[np.lexsort((np.arange(C), -result.class_prior))] = -np.arange(C, dtype=np.float64)
    chosen = choose_labels(post, score)
    res.labels[affected] = chosen
    res.confidence[affected] = post[np.arange(len(affected)), chosen]
    return res, affected

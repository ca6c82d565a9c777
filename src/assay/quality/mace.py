"""MACE (Hovy et al., 2013): every answer is either the worker's honest judgement (the
truth) or a draw from the worker's own "spam" distribution over the classes.

``P(answer = l | truth = k) = theta_w [l == k] + (1 - theta_w) xi_w[l]``: one competence
``theta_w`` per worker and one answer distribution ``xi_w`` used when not paying attention
(the worker who always says "yes" has ``xi_w`` concentrated on "yes"). Fitted by EM with a
Beta(``competence_prior``) prior on competence and add-``spam_smoothing`` smoothing of
``xi``, like the paper's MAP variant. Competence shrinks sparse workers towards the prior,
and a biased spammer's answers are explained by ``xi`` instead of distorting the truth.

Input and output as for every method of :mod:`assay.quality.aggregation`.
"""

from __future__ import annotations

import numpy as np

from assay.quality.dawid_skene import log_confusion_stack
from assay.quality.label_data import LabelData, as_label_data
from assay.quality.posteriors import AggregationResult, class_prior, initial_posteriors, result_from_posteriors, softmax_rows

__all__ = ["mace"]


def _confusion(theta: np.ndarray, xi: np.ndarray) -> np.ndarray:
    """(W,) competences and (W, C) spam distributions -> (W, C, C) confusion matrices."""
    C = xi.shape[1]
    return theta[:, None, None] * np.eye(C)[None, :, :] + ((1.0 - theta)[:, None] * xi)[:, None, :]


def _m_step(data: LabelData, post: np.ndarray, theta: np.ndarray, xi: np.ndarray, prior: tuple[float, float], smoothing: float):
    """Expected honest/spam split of every answer under the current parameters, then the
    MAP competences and spam distributions."""
    W, C = data.n_workers, data.n_classes
    q = post.ravel()[data.task_label]  # P(truth == answer)
    th = theta[data.worker]
    honest_given_match = th / (th + (1.0 - th) * xi[data.worker, data.label])
    honest = q * honest_given_match
    a, b = prior
    n_w = data.n_per_worker
    theta = (np.bincount(data.worker, weights=honest, minlength=W) + a - 1.0) / (n_w + a + b - 2.0)
    spam = np.bincount(data.worker * C + data.label, weights=1.0 - honest, minlength=W * C).reshape(W, C) + smoothing
    xi = spam / spam.sum(axis=1, keepdims=True)
    return np.clip(theta, 1e-6, 1 - 1e-6), xi


def mace(
    task_idx,
    worker_idx=None,
    label_idx=None,
    n_tasks: int | None = None,
    n_workers: int | None = None,
    n_classes: int | None = None,
    *,
    max_iter: int = 100,
    tol: float = 1e-6,
    competence_prior: tuple[float, float] = (2.0, 2.0),
    spam_smoothing: float = 1.0,
    class_prior_alpha: float = 1.0,
) -> AggregationResult:
    """MACE by EM from majority-vote shares (see module doc). The class prior is fitted
    (add-``class_prior_alpha``); ``extra`` holds ``competence`` and ``spam_distribution``."""
    data = as_label_data(task_idx, worker_idx, label_idx, n_tasks, n_workers, n_classes)
    W, C = data.n_workers, data.n_classes
    has = data.n_per_task > 0
    post = initial_posteriors(data)
    theta = np.full(W, 0.5)
    xi = np.full((W, C), 1.0 / C)
    ll_prev = -np.inf
    converged = False
    it = 0
    logj = None
    ll = 0.0
    prior = np.full(C, 1.0 / C)
    for it in range(1, max(max_iter, 1) + 1):
        theta, xi = _m_step(data, post, theta, xi, competence_prior, spam_smoothing)
        prior = class_prior(post, has, class_prior_alpha)
        logj = data.onehot @ log_confusion_stack(_confusion(theta, xi))
        logj += np.log(prior)[None, :]
        post, ll = softmax_rows(logj)
        if abs(ll - ll_prev) <= tol * max(data.n, 1):
            converged = True
            break
        ll_prev = ll
    conf = _confusion(theta, xi)
    population = _confusion(np.array([float(np.average(theta, weights=np.maximum(data.n_per_worker, 1e-9)) if W else 0.5)]),
                            xi.mean(axis=0, keepdims=True) if W else np.full((1, C), 1.0 / C))[0]
    skill = np.einsum("k,wkk->w", prior, conf) if W else np.zeros(0)
    return result_from_posteriors(
        "mace", data, post, skill, confusion=conf, class_prior=prior, population_confusion=population, log_joint=logj,
        n_iter=it, converged=converged, extra={"log_likelihood": ll, "competence": theta, "spam_distribution": xi},
    )

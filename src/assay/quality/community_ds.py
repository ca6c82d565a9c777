"""Community Dawid-Skene: sparse workers pooled into communities (after CBCC, Venanzi et al.
2014), fitted by variational EM.

Each worker belongs (softly) to one of a few communities; each community has a confusion
matrix; a worker's own confusion matrix is drawn from a Dirichlet centred on their
community's matrix. A worker with 3 answers is scored almost entirely by the community
their answers resemble (a careful majority, a lazy "always yes" group, spammers); one with
hundreds by their own record. This is the hierarchical sharing of strength that one
population prior (:mod:`assay.quality.bayesian_ds`) cannot give when the crowd is a mix of
very different kinds of workers.

Per round: expected counts from the posteriors; community matrices from the counts of
their members (weighted by membership, add-one smoothed); memberships from each worker's
counts under every community matrix (a multinomial likelihood, with the community sizes as
prior); each worker's Dirichlet posterior ``counts + strength * (membership-weighted
community matrix) + diagonal``; the E-step with ``E[log confusion]`` (digamma), as in
Bayesian Dawid-Skene. Communities start from the workers ranked by their agreement with the
majority vote, split into equal bins — deterministic, no random restarts.

Input and output as for every method of :mod:`assay.quality.aggregation`.
"""

from __future__ import annotations

import numpy as np

from assay.quality.bayesian_ds import expected_log
from assay.quality.dawid_skene import expected_counts, log_confusion_stack
from assay.quality.label_data import LabelData, as_label_data
from assay.quality.posteriors import AggregationResult, initial_posteriors, normalise_rows, result_from_posteriors, softmax_rows

__all__ = ["community_dawid_skene"]


def _initial_membership(data: LabelData, post: np.ndarray, n_communities: int) -> np.ndarray:
    """(W, M) hard memberships: workers ranked by agreement with the starting posteriors."""
    W = data.n_workers
    agree = np.bincount(data.worker, weights=post.ravel()[data.task_label], minlength=W)
    rate = (agree + 1.0) / (data.n_per_worker + 2.0)
    rank = np.empty(W, dtype=np.int64)
    rank[np.argsort(-rate, kind="stable")] = np.arange(W)
    member = np.zeros((W, n_communities))
    member[np.arange(W), np.minimum(rank * n_communities // max(W, 1), n_communities - 1)] = 1.0
    return member


def _communities(counts: np.ndarray, member: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Community confusion matrices (M, C, C) from members' counts, and the new (W, M)
    memberships: P(community m | worker's counts) under the multinomial likelihood."""
    W, C, _ = counts.shape
    M = member.shape[1]
    pooled = np.tensordot(member.T, counts, axes=1)  # (M, C, C)
    kappa = normalise_rows(pooled + 1.0)
    size = member.sum(axis=0) + 1.0
    loglik = counts.reshape(W, C * C) @ np.log(kappa).reshape(M, C * C).T + np.log(size / size.sum())[None, :]
    loglik -= loglik.max(axis=1, keepdims=True)
    new = np.exp(loglik)
    new /= new.sum(axis=1, keepdims=True)
    return kappa, new


def _round(data: LabelData, post: np.ndarray, member: np.ndarray, strength: float, diagonal: float, class_alpha: float):
    counts = expected_counts(data, post)
    kappa, member = _communities(counts, member)
    centre = np.tensordot(member, kappa, axes=1)  # (W, C, C)
    alpha = counts + strength * centre + diagonal * np.eye(data.n_classes)[None, :, :]
    has = data.n_per_task > 0
    beta = (post[has].sum(axis=0) if not has.all() else post.sum(axis=0)) + class_alpha
    logj = data.onehot @ log_confusion_stack(expected_log(alpha), already_log=True)
    logj += expected_log(beta)[None, :]
    new_post, ll = softmax_rows(logj)
    return alpha, kappa, member, beta, logj, new_post, ll


def community_dawid_skene(
    task_idx,
    worker_idx=None,
    label_idx=None,
    n_tasks: int | None = None,
    n_workers: int | None = None,
    n_classes: int | None = None,
    *,
    n_communities: int = 4,
    max_iter: int = 100,
    tol: float = 1e-6,
    prior_strength: float = 4.0,
    prior_diagonal: float = 0.5,
    class_prior_alpha: float = 1.0,
) -> AggregationResult:
    """Community Dawid-Skene (see module doc). ``n_communities`` (capped at the number of
    workers) communities; each worker's rows carry ``prior_strength`` pseudo-answers like
    their community plus ``prior_diagonal`` on the diagonal. Stops when the mean change of
    the log-likelihood per answer is below ``tol``.

    ``extra``: ``community`` (W, M) memberships and ``community_confusion`` (M, C, C)."""
    data = as_label_data(task_idx, worker_idx, label_idx, n_tasks, n_workers, n_classes)
    C = data.n_classes
    post = initial_posteriors(data)
    member = _initial_membership(data, post, max(1, min(n_communities, data.n_workers)))
    ll_prev = -np.inf
    converged = False
    it = 0
    fitted = None
    for it in range(1, max(max_iter, 1) + 1):
        fitted = _round(data, post, member, prior_strength, prior_diagonal, class_prior_alpha)
        member, post, ll = fitted[2], fitted[5], fitted[6]
        if abs(ll - ll_prev) <= tol * max(data.n, 1):
            converged = True
            break
        ll_prev = ll
    alpha, kappa, member, beta, logj, post, ll = fitted
    conf = normalise_rows(alpha)
    class_prior = beta / beta.sum()
    size = member.sum(axis=0)
    population = normalise_rows(np.tensordot(size / max(size.sum(), 1e-12), kappa, axes=1) * prior_strength
                                 + prior_diagonal * np.eye(C))
    skill = np.einsum("k,wkk->w", class_prior, conf) if C > 0 else np.zeros(data.n_workers)
    return result_from_posteriors(
        "community_dawid_skene",
        data,
        post,
        skill,
        confusion=conf,
        class_prior=class_prior,
        population_confusion=population,
        log_joint=logj,
        n_iter=it,
        converged=converged,
        extra={"log_likelihood": ll, "community": member, "community_confusion": kappa},
    )

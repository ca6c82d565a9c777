"""Consensus of comparisons: strengths of items from pairwise comparisons (and, via
:func:`ranking_to_comparisons`, full rankings) by Bradley-Terry, or Davidson's extension when
ties are modelled, fitted by Newton's method on the (concave) log-posterior, with standard
errors and 95 % intervals from its observed information.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
from scipy.special import ndtr

__all__ = ["BradleyTerryResult", "bradley_terry", "fit_pair_counts", "ranking_to_comparisons"]


@dataclass
class BradleyTerryResult:
    """``scores``: log-strengths (mean 0); ``se``: standard errors from the observed
    information of the log-posterior, projected onto the sum-to-zero constraint; ``ci_low``
    / ``ci_high``: ``scores -/+ 1.96 se``; ``ranking``: items best first (equal scores to
    the lower index); ``pair_confidence[k]``: approximate P(``ranking[k]`` really beats
    ``ranking[k+1]``), ``confidence`` their mean (1 for fewer than two items);
    ``tie_strength``: Davidson's nu (0 when ties are not modelled); ``contributors``: the
    comparisons with positive weight."""

    scores: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    ranking: list[int]
    pair_confidence: np.ndarray
    confidence: float
    contributors: list[int]
    tie_strength: float
    covariance: np.ndarray = field(repr=False)
    # Inverse observed information of the fitted parameters as fitted: log-strengths (not
    # centred) then, with ties, log nu. Differences of scores and nu's uncertainty use it.
    raw_covariance: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((0, 0)))
    log_posterior: float = 0.0
    n_iter: int = 0
    converged: bool = True

    @property
    def answer(self) -> list[int]:
        return self.ranking

    def score_table(self, items: Sequence | None = None, digits: int = 4) -> list[dict[str, Any]]:
        """JSON-ready scores, best first: ``{"item", "score", "low", "high"}`` per item, where
        ``item`` is ``items[k]`` (default: the index ``k``) and ``low`` / ``high`` the 95 %
        interval ends, rounded to ``digits`` (rounding keeps ``low <= score <= high``)."""
        names = list(range(len(self.scores))) if items is None else list(items)
        if len(names) != len(self.scores):
            raise ValueError(f"expected {len(self.scores)} item names, got {len(names)}")

        def r(x: float) -> float:
            return round(float(x), digits) + 0.0  # + 0.0: no "-0.0" in JSON

        return [{"item": names[k], "score": r(self.scores[k]), "low": r(self.ci_low[k]), "high": r(self.ci_high[k])} for k in self.ranking]


def ranking_to_comparisons(rankings: Sequence[Sequence[int]], weights=None) -> tuple[list[tuple[int, int, float]], np.ndarray]:
    """Full rankings (item indices, best first) -> pairwise comparisons ``(better, worse, 1.0)``
    and the per-comparison weights (each comparison inherits its ranking's weight), ready for
    ``bradley_terry(n_items, *ranking_to_comparisons(rankings, weights))``. Note: the
    ``k (k - 1) / 2`` comparisons from one ranking are not independent, so standard errors
    computed from them are optimistic."""
    w = np.ones(len(rankings)) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (len(rankings),):
        raise ValueError(f"expected {len(rankings)} weights, got shape {w.shape}")
    comps: list[tuple[int, int, float]] = []
    cw: list[float] = []
    for r, wt in zip(rankings, w):
        r = [int(x) for x in r]
        if len(set(r)) != len(r):
            raise ValueError(f"ranking lists an item twice: {r}")
        for a in range(len(r)):
            for b in range(a + 1, len(r)):
                comps.append((r[a], r[b], 1.0))
                cw.append(float(wt))
    return comps, np.array(cw, dtype=np.float64)


# Local Jacobian d(logits)/d(theta_a, theta_b, eta): win a, win b, tie (Davidson).
_J_DAVIDSON = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.5, 0.5, 1.0]])
_J_BT = np.eye(2)


def _checked_comparisons(n_items: int, comparisons: Sequence[tuple[int, int, float]], weights) -> tuple[np.ndarray, ...]:
    """``(i, j, outcome, weight)`` arrays of valid comparisons; ValueError names the problem."""
    m = len(comparisons)
    cw = np.ones(m) if weights is None else np.asarray(weights, dtype=np.float64)
    if cw.shape != (m,) or not np.all(np.isfinite(cw)) or np.any(cw < 0):
        raise ValueError(f"expected {m} finite weights >= 0")
    arr = np.asarray(comparisons, dtype=np.float64).reshape(m, 3)
    i, j, out = arr[:, 0], arr[:, 1], arr[:, 2]
    if m and (np.any(i != np.round(i)) or np.any(j != np.round(j)) or min(i.min(), j.min()) < 0 or max(i.max(), j.max()) >= n_items):
        raise ValueError(f"item indices must be integers in [0, {n_items})")
    if np.any(i == j):
        raise ValueError("an item cannot be compared with itself")
    if not np.all(np.isin(out, (0.0, 0.5, 1.0))):
        raise ValueError("outcomes must be 1 (i wins), 0 (j wins) or 0.5 (tie)")
    return i, j, out, cw


def _pair_counts(n_items: int, i: np.ndarray, j: np.ndarray, out: np.ndarray, cw: np.ndarray, ties: bool):
    """Weighted wins of a, wins of b and ties per distinct pair (a < b): ``(pa, pb, win_a,
    win_b, tie)``; without ``ties`` a tie counts as half a win for each side."""
    # Canonical form a < b, sorted, so the summation order (and rounding) does not depend
    # on the order the comparisons came in.
    swap = i > j
    a = np.where(swap, j, i).astype(np.int64)
    b = np.where(swap, i, j).astype(np.int64)
    oa = np.where(swap, 1.0 - out, out)
    order = np.lexsort((cw, oa, b, a))
    a, b, oa, wt = a[order], b[order], oa[order], cw[order]
    pair, inv = np.unique(a * max(n_items, 1) + b, return_inverse=True)
    pa, pb = pair // max(n_items, 1), pair % max(n_items, 1)
    win_a = np.bincount(inv, weights=wt * (oa == 1.0), minlength=len(pair))
    win_b = np.bincount(inv, weights=wt * (oa == 0.0), minlength=len(pair))
    tie = np.bincount(inv, weights=wt * (oa == 0.5), minlength=len(pair))
    if not ties:
        win_a, win_b = win_a + tie / 2.0, win_b + tie / 2.0
    return pa, pb, win_a, win_b, tie


class _LogPosterior:
    """The log-posterior as a function of the free parameters ``x`` (log-strengths, then
    with ties eta = log nu): one row per compared pair plus one per item against the
    virtual average item (index ``n_items``, log-strength fixed at 0) carrying the prior.
    Calling it gives the value, the gradient and the Hessian."""

    def __init__(self, n_items: int, pair_counts: tuple[np.ndarray, ...], ties: bool, prior: float) -> None:
        pa, pb, win_a, win_b, tie = pair_counts
        items = np.arange(n_items)
        virt = np.full(n_items, n_items)
        share = prior / (3.0 if ties else 2.0)
        A = np.concatenate([pa, items])
        B = np.concatenate([pb, virt])
        if ties:
            self.counts = np.column_stack(
                [
                    np.concatenate([win_a, np.full(n_items, share)]),
                    np.concatenate([win_b, np.full(n_items, share)]),
                    np.concatenate([tie, np.full(n_items, share)]),
                ]
            )
            self.J = _J_DAVIDSON
        else:
            self.counts = np.column_stack([np.concatenate([win_a, np.full(n_items, share)]), np.concatenate([win_b, np.full(n_items, share)])])
            self.J = _J_BT
        self.N = self.counts.sum(axis=1)
        self.n_items, self.ties = n_items, ties
        self.n_par = n_items + (1 if ties else 0)  # theta_0..n-1 (+ eta = log nu)
        # Parameter index per local column; the virtual item maps to a dropped slot (-1 -> n_par).
        cols = [A, np.where(B == n_items, self.n_par, B)] + ([np.full(len(A), n_items)] if ties else [])
        self.cols = np.column_stack(cols)

    def __call__(self, x: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        counts, N, J, cols_arr, n_par = self.counts, self.N, self.J, self.cols, self.n_par
        full = np.append(x, 0.0)  # slot n_par: the virtual item, fixed at 0
        theta_a, theta_b = full[cols_arr[:, 0]], full[cols_arr[:, 1]]
        if self.ties:
            eta = x[self.n_items]
            logits = np.column_stack([theta_a, theta_b, eta + 0.5 * (theta_a + theta_b)])
        else:
            logits = np.column_stack([theta_a, theta_b])
        mx = logits.max(axis=1, keepdims=True)
        ex = np.exp(logits - mx)
        z = ex.sum(axis=1, keepdims=True)
        p = ex / z
        lse = (mx + np.log(z))[:, 0]
        loglik = float(np.sum(counts * logits) - np.dot(N, lse))
        g_local = (counts - N[:, None] * p) @ J  # (P, k)
        grad = np.zeros(n_par + 1)
        np.add.at(grad, cols_arr, g_local)
        M = N[:, None, None] * (np.einsum("pk,kl->pkl", p, np.eye(p.shape[1])) - p[:, :, None] * p[:, None, :])
        H_local = np.einsum("ki,pkl,lj->pij", J, M, J)
        H = np.zeros((n_par + 1, n_par + 1))
        np.add.at(H, (cols_arr[:, :, None], cols_arr[:, None, :]), H_local)
        return loglik, grad[:n_par], H[:n_par, :n_par]


def _maximise(posterior: _LogPosterior, max_iter: int, tol: float, start: np.ndarray | None = None):
    """Newton's method with step halving from ``start`` (default x = 0): ``(x,
    log-posterior, Hessian, iterations, converged)``."""
    n_par = posterior.n_par
    x = np.zeros(n_par) if start is None else np.array(start, dtype=np.float64)
    loglik, grad, H = posterior(x)
    converged, it = n_par == 0, 0
    scale = 1.0 + float(posterior.N.sum())
    for it in range(1, max_iter + 1):
        if n_par == 0 or np.max(np.abs(grad)) <= tol * scale:
            converged = True
            break
        step = np.linalg.solve(H, grad)
        t = 1.0
        while True:
            new = posterior(x + t * step)
            if new[0] >= loglik - 1e-12 * abs(loglik) or t < 1e-10:
                break
            t *= 0.5
        x = x + t * step
        loglik, grad, H = new
    else:
        converged = bool(n_par == 0 or np.max(np.abs(grad)) <= tol * scale * 1e3)
    return x, loglik, H, it, converged


def fit_pair_counts(n_items: int, pa: np.ndarray, pb: np.ndarray, win_a: np.ndarray, win_b: np.ndarray, tie: np.ndarray,
                    ties: bool = True, prior: float = 1.0, start: np.ndarray | None = None, max_iter: int = 200,
                    tol: float = 1e-10) -> tuple[np.ndarray, np.ndarray, bool]:
    """The same fit as :func:`bradley_terry` from weighted counts per compared pair (``pa[k]``
    against ``pb[k]``: wins of each side and ties; without ``ties`` a tie must already be
    split into half a win each), for callers that aggregate millions of judgements first
    (leaderboards, their bootstrap). ``start``: where Newton's method begins (a nearby
    fit makes bootstrap replicates cheap). Returns ``(x, Hessian, converged)``: x holds
    the log-strengths (not centred) then, with ties, log nu."""
    counts = tuple(np.asarray(v, dtype=np.float64) for v in (win_a, win_b, tie))
    posterior = _LogPosterior(int(n_items), (np.asarray(pa, dtype=np.int64), np.asarray(pb, dtype=np.int64), *counts), bool(ties), prior)
    x, _, H, _, converged = _maximise(posterior, max_iter, tol, start)
    return x, H, converged


def _adjacent_confidence(scores: np.ndarray, cov: np.ndarray, ranking: list[int]) -> tuple[np.ndarray, float]:
    """P(each ranked item really beats the next) under the Gaussian approximation, and the mean."""
    if len(ranking) < 2:
        return np.zeros(0), 1.0
    r0, r1 = np.array(ranking[:-1]), np.array(ranking[1:])
    var = cov[r0, r0] + cov[r1, r1] - 2.0 * cov[r0, r1]
    pair_conf = ndtr((scores[r0] - scores[r1]) / np.sqrt(np.clip(var, 1e-300, None)))
    return pair_conf, float(pair_conf.mean())


def bradley_terry(
    n_items: int,
    comparisons: Sequence[tuple[int, int, float]],
    weights=None,
    ties: bool = True,
    prior: float = 1.0,
    max_iter: int = 200,
    tol: float = 1e-10,
) -> BradleyTerryResult:
    """Strengths from pairwise comparisons ``(i, j, outcome)``: outcome 1 = i wins, 0 = j
    wins, 0.5 = tie. ``weights``: one per comparison (e.g. the skill of its labeler).

    Model: ``ties=True`` — Davidson (1970): ``P(i wins) ∝ p_i``, ``P(j wins) ∝ p_j``,
    ``P(tie) ∝ nu sqrt(p_i p_j)``, with nu estimated. ``ties=False`` — plain Bradley-Terry,
    a tie counting as half a win for each side. Prior: every item plays ``prior`` virtual
    comparisons against a virtual average item (log-strength 0) whose outcome is split
    evenly over the possible results (win / loss / tie, or win / loss), so undefeated or
    unplayed items stay finite and nu stays finite. The log-posterior is concave in
    (log-strengths, log nu); it is maximised by Newton's method with step halving.
    """
    n_items = int(n_items)
    if n_items < 0:
        raise ValueError("n_items must be >= 0")
    ties = bool(ties) and n_items > 0  # no items: no tie parameter to estimate
    if not prior > 0:
        raise ValueError("prior must be > 0")
    i, j, out, cw = _checked_comparisons(n_items, comparisons, weights)
    posterior = _LogPosterior(n_items, _pair_counts(n_items, i, j, out, cw, ties), ties, prior)
    x, loglik, H, it, converged = _maximise(posterior, max_iter, tol)

    theta = x[:n_items]
    scores = theta - theta.mean() if n_items else theta
    cov_full = np.linalg.pinv(H) if posterior.n_par else np.zeros((0, 0))
    P = np.eye(n_items) - 1.0 / max(n_items, 1)
    cov = P @ cov_full[:n_items, :n_items] @ P
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    # Round before sorting so items equal up to solver noise fall back to index order.
    ranking = [int(k) for k in np.lexsort((np.arange(n_items), -np.round(scores, 9)))]
    pair_conf, confidence = _adjacent_confidence(scores, cov, ranking)
    return BradleyTerryResult(
        scores=scores,
        se=se,
        ci_low=scores - 1.96 * se,
        ci_high=scores + 1.96 * se,
        ranking=ranking,
        pair_confidence=pair_conf,
        confidence=confidence,
        contributors=[int(k) for k in np.flatnonzero(cw > 0)],
        tie_strength=float(np.exp(x[n_items])) if ties else 0.0,
        covariance=cov,
        raw_covariance=cov_full,
        log_posterior=loglik,
        n_iter=it,
        converged=converged,
    )

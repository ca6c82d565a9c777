"""Model leaderboards from pairwise judgements (Chatbot Arena's statistics): Bradley-Terry
strengths of models, with ties by Davidson's model, bootstrap intervals, rank
intervals, the win-rate matrix and what the fit predicts for each pair.

A judgement is ``(model_a, model_b, outcome)``: 1 = a won, 0 = b won, 0.5 = a tie. The
fit aggregates judgements into weighted counts per pair (so a million judgements over 50
models is a fit over at most 1,225 pairs) and calls :func:`assay.quality.ranking.fit_pair_counts`.
The bootstrap resamples judgements, or whole clusters of them (the judgements taken from
one ranking task are not independent: pass the task as the cluster), and refits from the
full fit's estimate."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
from scipy.special import ndtri

from assay.quality.ranking import fit_pair_counts

__all__ = ["ELO_SCALE", "LeaderboardResult", "fit_leaderboard", "judgement_arrays", "win_rates"]

ELO_SCALE = 400.0 / math.log(10.0)  # log-strength -> Elo points (as Chatbot Arena shows them)
ELO_BASE = 1000.0


@dataclass
class LeaderboardResult:
    """``scores``: log-strengths, mean 0; ``se``: the bootstrap standard error (from the
    observed information without a bootstrap); ``ci_low`` / ``ci_high``: ``scores -/+ z se``
    at ``confidence``;
    ``rank``: 1 = best; ``rank_low`` / ``rank_high``: the central interval of a model's rank
    over the bootstrap replicates; ``rank_ub``: 1 + the models whose interval lies wholly
    above this one's (Arena's upper-bound rank); ``games``, ``wins`` (wins + half the ties)
    and ``ties``: per ordered pair; ``expected``: the fitted P(row beats column) counting a
    tie as half."""

    scores: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    rank: np.ndarray
    rank_low: np.ndarray
    rank_high: np.ndarray
    rank_ub: np.ndarray
    tie_strength: float
    games: np.ndarray
    wins: np.ndarray
    ties: np.ndarray
    expected: np.ndarray
    n_judgements: int
    n_bootstrap: int
    confidence: float
    converged: bool
    replicates: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((0, 0)))

    @property
    def ratings(self) -> np.ndarray:
        """Scores on the Elo scale (1000 = the average model)."""
        return ELO_BASE + ELO_SCALE * self.scores

    def table(self, names: Sequence[str], digits: int = 4) -> list[dict[str, Any]]:
        """JSON-ready rows, best first."""
        def r(x: float) -> float:
            return round(float(x), digits) + 0.0

        order = np.lexsort((np.arange(len(self.scores)), -self.scores))
        return [{"model": names[k], "rank": int(self.rank[k]), "rank_low": int(self.rank_low[k]), "rank_high": int(self.rank_high[k]),
                 "rank_ub": int(self.rank_ub[k]), "score": r(self.scores[k]), "low": r(self.ci_low[k]), "high": r(self.ci_high[k]),
                 "rating": round(float(self.ratings[k]), 1), "rating_low": round(ELO_BASE + ELO_SCALE * float(self.ci_low[k]), 1),
                 "rating_high": round(ELO_BASE + ELO_SCALE * float(self.ci_high[k]), 1), "games": int(self.games[k].sum()),
                 "win_rate": r(self.wins[k].sum() / self.games[k].sum()) if self.games[k].sum() else None}
                for k in order]


def judgement_arrays(judgements: Sequence[tuple[int, int, float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(model_a, model_b, outcome)`` arrays from a list of judgements."""
    arr = np.asarray(judgements, dtype=np.float64).reshape(-1, 3)
    return arr[:, 0].astype(np.int64), arr[:, 1].astype(np.int64), arr[:, 2]


def _checked(n_models: int, a, b, outcome, weights) -> tuple[np.ndarray, ...]:
    a, b = np.asarray(a, dtype=np.int64).reshape(-1), np.asarray(b, dtype=np.int64).reshape(-1)
    out = np.asarray(outcome, dtype=np.float64).reshape(-1)
    if not (a.shape == b.shape == out.shape):
        raise ValueError("model_a, model_b and outcome must be equally long")
    w = np.ones(len(a)) if weights is None else np.asarray(weights, dtype=np.float64).reshape(-1)
    if w.shape != a.shape or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError(f"expected {len(a)} finite weights >= 0")
    if len(a) and (min(a.min(), b.min()) < 0 or max(a.max(), b.max()) >= n_models):
        raise ValueError(f"model indices must be in [0, {n_models})")
    if np.any(a == b):
        raise ValueError("a model cannot be judged against itself")
    if not np.all(np.isin(out, (0.0, 0.5, 1.0))):
        raise ValueError("outcomes must be 1 (a wins), 0 (b wins) or 0.5 (tie)")
    return a, b, out, w


def _cells(n_models: int, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Each judgement's cell: (pair with lo < hi) * 3 + (0: lo won, 1: hi won, 2: tie)."""
    swap = a > b
    lo, hi = np.where(swap, b, a), np.where(swap, a, b)
    lo_won = np.where(swap, 1.0 - out, out)
    result = np.where(lo_won == 0.5, 2, np.where(lo_won == 1.0, 0, 1))
    return (lo * n_models + hi) * 3 + result


def _pair_tables(n_models: int, cell_counts: np.ndarray, ties: bool):
    """Cell counts (n_models² * 3) -> the compared pairs and their counts for the fit."""
    c = cell_counts.reshape(n_models * n_models, 3)
    pairs = np.flatnonzero(c.sum(axis=1) > 0)
    win_a, win_b, tie = c[pairs, 0], c[pairs, 1], c[pairs, 2]
    if not ties:
        win_a, win_b, tie = win_a + tie / 2, win_b + tie / 2, np.zeros_like(tie)
    return pairs // n_models, pairs % n_models, win_a, win_b, tie


def win_rates(n_models: int, a, b, outcome, weights=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(games, wins, ties)`` matrices: ``games[i, j]`` judgements of i against j (either
    side), ``wins[i, j]`` those i won plus half the ties, ``ties[i, j]`` the ties."""
    a, b, out, w = _checked(n_models, a, b, outcome, weights)
    flat_ab, flat_ba = a * n_models + b, b * n_models + a
    size = n_models * n_models
    games = np.bincount(flat_ab, w, size) + np.bincount(flat_ba, w, size)
    wins = np.bincount(flat_ab, w * out, size) + np.bincount(flat_ba, w * (1.0 - out), size)
    tie = w * (out == 0.5)
    ties = np.bincount(flat_ab, tie, size) + np.bincount(flat_ba, tie, size)
    return games.reshape(n_models, n_models), wins.reshape(n_models, n_models), ties.reshape(n_models, n_models)


def _expected(theta: np.ndarray, tie_strength: float) -> np.ndarray:
    """Fitted P(i beats j) + half P(tie) under Davidson's model."""
    pi = np.exp(theta - theta.max())
    wi, wj = pi[:, None], pi[None, :]
    tie = tie_strength * np.sqrt(wi * wj)
    return (wi + 0.5 * tie) / (wi + wj + tie)


def _ranks(scores: np.ndarray) -> np.ndarray:
    """Rank of each model (1 = best); rows of a 2-d array ranked separately."""
    order = np.argsort(-scores, axis=-1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(1, scores.shape[-1] + 1)[None, :] if scores.ndim == 2 else np.arange(1, len(scores) + 1), axis=-1)
    return ranks


def _bootstrap_counts(cells: np.ndarray, clusters: np.ndarray | None, size: int, n_bootstrap: int, rng: np.random.Generator):
    """Yield resampled cell counts: a multinomial over cells for independent judgements
    (the same distribution as resampling judgements, far cheaper), else clusters drawn
    with replacement carrying all their judgements."""
    if clusters is None:
        counts = np.bincount(cells, minlength=size).astype(np.float64)
        total = int(counts.sum())
        for _ in range(n_bootstrap):
            yield rng.multinomial(total, counts / total).astype(np.float64)
        return
    _, cluster_index = np.unique(clusters, return_inverse=True)
    n_clusters = int(cluster_index.max()) + 1
    for _ in range(n_bootstrap):
        drawn = np.bincount(rng.integers(0, n_clusters, n_clusters), minlength=n_clusters).astype(np.float64)
        yield np.bincount(cells, weights=drawn[cluster_index], minlength=size)


def fit_leaderboard(n_models: int, model_a, model_b, outcome, *, clusters=None, n_bootstrap: int = 200, confidence: float = 0.95,
                    ties: bool = True, prior: float = 1.0, seed: int = 0) -> LeaderboardResult:
    """Fit the leaderboard of ``n_models`` from judgements (arrays of equal length).
    ``clusters``: one label per judgement (e.g. its task); the bootstrap resamples them
    whole. ``prior``: each model's virtual comparisons against an average model (keeps an
    unbeaten or unplayed model finite; negligible next to real data)."""
    if not 0 < confidence < 1:
        raise ValueError("confidence must be in (0, 1)")
    a, b, out, _ = _checked(n_models, model_a, model_b, outcome, None)
    if clusters is not None:
        clusters = np.asarray(clusters).reshape(-1)
        if clusters.shape != a.shape:
            raise ValueError(f"expected {len(a)} cluster labels")
    size = n_models * n_models * 3
    cells = _cells(n_models, a, b, out)
    counts = np.bincount(cells, minlength=size).astype(np.float64)
    x, H, converged = fit_pair_counts(n_models, *_pair_tables(n_models, counts, ties), ties=ties, prior=prior)
    theta = x[:n_models]
    scores = theta - theta.mean()
    P = np.eye(n_models) - 1.0 / max(n_models, 1)
    se = np.sqrt(np.clip(np.diag(P @ np.linalg.pinv(H)[:n_models, :n_models] @ P), 0.0, None))
    tie_strength = float(np.exp(x[n_models])) if ties else 0.0
    rank = _ranks(scores)
    alpha = (1.0 - confidence) / 2.0
    if n_bootstrap > 0 and len(a):
        rng = np.random.default_rng(seed)
        reps = np.empty((n_bootstrap, n_models))
        for k, resampled in enumerate(_bootstrap_counts(cells, clusters, size, n_bootstrap, rng)):
            xb = fit_pair_counts(n_models, *_pair_tables(n_models, resampled, ties), ties=ties, prior=prior, start=x)[0][:n_models]
            reps[k] = xb - xb.mean()
        # Normal intervals on the bootstrap standard error: in the planted 12-model check
        # (tests/test_leaderboard_math.py) percentile intervals covered 93.3 %, these 94.5 %
        # (the percentile interval inherits the fit's outward bias at the extremes).
        se = reps.std(axis=0, ddof=1)
        ci_low, ci_high = scores - ndtri(1 - alpha) * se, scores + ndtri(1 - alpha) * se
        rank_reps = _ranks(reps)
        rank_low, rank_high = (np.quantile(rank_reps, [alpha, 1 - alpha], axis=0, method="nearest")).astype(np.int64)
    else:
        reps = np.zeros((0, n_models))
        z = float(ndtri(1 - alpha))
        ci_low, ci_high = scores - z * se, scores + z * se
        rank_low = rank_high = rank
    rank_ub = 1 + (ci_low[None, :] > ci_high[:, None]).sum(axis=1)
    games, wins, tie_counts = win_rates(n_models, a, b, out)
    return LeaderboardResult(scores=scores, se=se, ci_low=ci_low, ci_high=ci_high, rank=rank, rank_low=rank_low, rank_high=rank_high,
                             rank_ub=rank_ub, tie_strength=tie_strength, games=games, wins=wins, ties=tie_counts,
                             expected=_expected(theta, tie_strength), n_judgements=int(len(a)), n_bootstrap=int(n_bootstrap) if len(a) else 0,
                             confidence=confidence, converged=converged, replicates=reps)

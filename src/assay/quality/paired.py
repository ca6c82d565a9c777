"""Paired comparison of two model versions on the same evaluation items: is the difference
real?

* :func:`paired_preference` — one verdict per item (1: A better, 0: B better, 0.5: a tie):
  A's win rate (ties half) with a paired-bootstrap interval, and the exact sign test on the
  items with a winner (McNemar's exact test on the discordant pairs: under "no difference"
  A wins each of them with probability 1/2).
* :func:`paired_scores` — one score per item and model (a rubric or reference score): the
  mean difference with a paired-bootstrap interval and the Wilcoxon signed-rank test.
* :func:`mean_interval` — one model's mean score with a bootstrap interval.

Items are resampled whole (both models' outcomes on an item stay together: that is what
makes the comparison paired). The verdict names the better model when the test rejects
"no difference" at ``alpha``; otherwise it says there is no significant difference."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

__all__ = ["mean_interval", "paired_preference", "paired_scores"]


def _bootstrap_means(values: np.ndarray, n_bootstrap: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(values), size=(n_bootstrap, len(values)))
    return values[idx].mean(axis=1)


def _interval(samples: np.ndarray, confidence: float) -> tuple[float, float]:
    lo, hi = np.quantile(samples, [(1 - confidence) / 2, 1 - (1 - confidence) / 2])
    return float(lo), float(hi)


def paired_preference(outcomes: Sequence[float], *, names: tuple[str, str] = ("A", "B"), alpha: float = 0.05,
                      confidence: float = 0.95, n_bootstrap: int = 2000, seed: int = 0) -> dict[str, Any]:
    """A against B from one verdict per item (see the module docstring)."""
    o = np.asarray(outcomes, dtype=np.float64).reshape(-1)
    if not np.all(np.isin(o, (0.0, 0.5, 1.0))):
        raise ValueError("outcomes must be 1 (A better), 0 (B better) or 0.5 (tie)")
    a_wins, b_wins, ties = int((o == 1).sum()), int((o == 0).sum()), int((o == 0.5).sum())
    out: dict[str, Any] = {"items": len(o), "wins": {names[0]: a_wins, names[1]: b_wins}, "ties": ties, "alpha": alpha,
                           "test": "exact sign test on the items with a winner (McNemar's exact test)"}
    if len(o) == 0:
        return {**out, "win_rate": None, "low": None, "high": None, "p_value": None, "significant": False,
                "verdict": "no items judged yet"}
    from scipy.stats import binomtest  # noqa: PLC0415 - scipy.stats costs ~70 MB of server memory and 0.5 s of start-up: loaded on first use

    low, high = _interval(_bootstrap_means(o, n_bootstrap, seed), confidence)
    p = float(binomtest(a_wins, a_wins + b_wins, 0.5).pvalue) if a_wins + b_wins else 1.0
    significant = p < alpha
    better = names[0] if a_wins > b_wins else names[1]
    verdict = f"{better} is better (p = {p:.3g})" if significant else f"no significant difference (p = {p:.3g})"
    return {**out, "win_rate": round(float(o.mean()), 4), "low": round(low, 4), "high": round(high, 4), "p_value": p,
            "significant": significant, "better": better if significant else None, "verdict": verdict}


def paired_scores(scores_a: Sequence[float], scores_b: Sequence[float], *, names: tuple[str, str] = ("A", "B"), alpha: float = 0.05,
                  confidence: float = 0.95, n_bootstrap: int = 2000, seed: int = 0) -> dict[str, Any]:
    """A's and B's scores on the same items (see the module docstring)."""
    a, b = np.asarray(scores_a, dtype=np.float64), np.asarray(scores_b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError("one score per item for each model")
    d = a - b
    out: dict[str, Any] = {"items": len(d), "alpha": alpha, "test": "Wilcoxon signed-rank test on the paired differences"}
    if len(d) == 0:
        return {**out, "mean_difference": None, "low": None, "high": None, "p_value": None, "significant": False,
                "verdict": "no items scored yet"}
    from scipy.stats import wilcoxon  # noqa: PLC0415 - scipy.stats costs ~70 MB of server memory and 0.5 s of start-up: loaded on first use

    low, high = _interval(_bootstrap_means(d, n_bootstrap, seed), confidence)
    p = float(wilcoxon(d).pvalue) if np.any(d != 0) else 1.0
    significant = p < alpha
    better = names[0] if d.mean() > 0 else names[1]
    verdict = f"{better} is better (p = {p:.3g})" if significant else f"no significant difference (p = {p:.3g})"
    return {**out, "mean_difference": round(float(d.mean()), 4), "low": round(low, 4), "high": round(high, 4), "p_value": p,
            "significant": significant, "better": better if significant else None, "verdict": verdict}


def mean_interval(scores: Sequence[float], *, confidence: float = 0.95, n_bootstrap: int = 2000, seed: int = 0) -> dict[str, Any]:
    """One model's mean score with a percentile-bootstrap interval over items."""
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if len(s) == 0:
        return {"items": 0, "mean": None, "low": None, "high": None}
    low, high = _interval(_bootstrap_means(s, n_bootstrap, seed), confidence)
    return {"items": len(s), "mean": round(float(s.mean()), 4), "low": round(low, 4), "high": round(high, 4)}

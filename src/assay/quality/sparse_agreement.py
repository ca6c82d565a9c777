"""Nominal agreement from the sparse answer list, for answers with many distinct values.

The dense functions of :mod:`assay.quality.agreement` build units × values count matrices
and C × C tables per pair of workers; for free-form answers the number of distinct values
can be as large as the number of answers, so these compute the same nominal statistics —
same definitions, and from the same seed the same bootstrap intervals — from sparse counts.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from assay.quality.agreement import Agreement
from assay.quality.bootstrap import percentile_interval, resample_weights

__all__ = ["sparse_nominal", "sparse_pairwise_kappa"]


def sparse_nominal(unit: np.ndarray, value: np.ndarray, n_units: int, n_values: int, *, fleiss: bool,
                   n_bootstrap: int = 200, seed: int = 0, confidence: float = 0.95) -> Agreement:
    """Nominal Krippendorff's alpha (or Fleiss' kappa) from the sparse answer list, with the
    same definitions as assay.quality.agreement, for when units × values is too large for
    its dense count matrix. Units with fewer than two answers are ignored. Bootstrap:
    units resampled with replacement (as weights), percentile interval."""
    m_all = np.bincount(unit, minlength=n_units).astype(np.float64)
    keep = m_all[unit] >= 2
    used, unit = np.unique(unit[keep], return_inverse=True)
    value = value[keep]
    n_u = len(used)
    if n_u == 0:
        return Agreement(float("nan"), confidence=confidence)
    m = m_all[used]
    cells, cnt = np.unique(unit.astype(np.int64) * n_values + value, return_counts=True)
    cu, cv = cells // n_values, cells % n_values
    cnt = cnt.astype(np.float64)
    counts = sp.csr_matrix((cnt, (cu, cv)), shape=(n_u, n_values))
    if fleiss:
        per_unit = np.bincount(cu, weights=cnt * (cnt - 1) / (m[cu] * (m[cu] - 1)), minlength=n_u)  # P_i
    else:
        per_unit = m - np.bincount(cu, weights=cnt * (cnt - 1) / (m[cu] - 1), minlength=n_u)  # off-diagonal coincidences

    def statistic(w: np.ndarray) -> np.ndarray:
        """w: (b, n_units) unit weights → (b,) statistic."""
        n_c = np.asarray((counts.T @ w.T).T)  # (b, values)
        n = w @ m
        sq = (n_c**2).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            if fleiss:
                p_e = sq / n**2
                p_bar = (w @ per_unit) / w.sum(axis=1)
                return np.where(p_e < 1, (p_bar - p_e) / (1 - p_e), np.nan)
            expected = n**2 - sq
            return np.where(expected > 0, 1 - (n - 1) * (w @ per_unit) / np.where(expected > 0, expected, 1), np.nan)

    point = float(statistic(np.ones((1, n_u)))[0])
    if n_bootstrap <= 0:
        return Agreement(point, n_units=n_u, confidence=confidence)
    samples = np.concatenate([statistic(w) for w in resample_weights(n_u, n_bootstrap, seed)])
    lo, hi = percentile_interval(samples, confidence)
    return Agreement(point, lo, hi, n_units=n_u, n_bootstrap=n_bootstrap, confidence=confidence)


def _same_unit_pairs(unit: np.ndarray, worker: np.ndarray, value: np.ndarray):
    """Every pair of answers to the same unit by two different workers, the lower worker
    first: ``(worker_a, worker_b, value_a, value_b)``."""
    order = np.lexsort((worker, unit))
    u, w, v = unit[order], worker[order], value[order]
    pa, pb, la, lb = [], [], [], []
    for d in range(1, int(np.bincount(u).max()) if u.size else 1):
        same = u[:-d] == u[d:]
        if not same.any():
            break
        pa.append(w[:-d][same])
        pb.append(w[d:][same])
        la.append(v[:-d][same])
        lb.append(v[d:][same])
    if not pa:
        return None
    wa, wb, xa, xb = (np.concatenate(x).astype(np.int64) for x in (pa, pb, la, lb))
    distinct = wa != wb
    return wa[distinct], wb[distinct], xa[distinct], xb[distinct]  # (sorted by worker within a unit: wa < wb)


def sparse_pairwise_kappa(unit: np.ndarray, worker: np.ndarray, value: np.ndarray, n_workers: int, *, min_overlap: int = 5):
    """Cohen's kappa of every pair of workers sharing ≥ min_overlap units, without C × C
    tables (for answers with many distinct values). Returns (worker_a, worker_b, kappa, n)."""
    pairs = _same_unit_pairs(unit, worker, value)
    if pairs is None:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0), empty
    wa, wb, xa, xb = pairs
    pair, inv = np.unique(wa * n_workers + wb, return_inverse=True)
    n = np.bincount(inv, minlength=len(pair)).astype(np.float64)
    p_o = np.bincount(inv, weights=(xa == xb).astype(np.float64), minlength=len(pair)) / n
    n_values = int(max(xa.max(), xb.max())) + 1
    ka, ca = np.unique(inv * n_values + xa, return_counts=True)
    kb, cb = np.unique(inv * n_values + xb, return_counts=True)
    _, ia, ib = np.intersect1d(ka, kb, assume_unique=True, return_indices=True)
    p_e = np.bincount(ka[ia] // n_values, weights=ca[ia].astype(np.float64) * cb[ib], minlength=len(pair)) / n**2
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = np.where(p_e < 1, (p_o - p_e) / (1 - p_e), np.nan)
    keep = n >= min_overlap
    return pair[keep] // n_workers, pair[keep] % n_workers, kappa[keep], n[keep].astype(np.int64)

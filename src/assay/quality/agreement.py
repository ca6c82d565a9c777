"""Inter-annotator agreement: Krippendorff's alpha, Fleiss' kappa, Cohen's kappa.

Each function returns an :class:`Agreement` with the point estimate and, when
``n_bootstrap > 0``, a percentile bootstrap confidence interval obtained by resampling
*units* (tasks / items) with replacement — the answers of a unit stay together.

* :func:`krippendorff_alpha` — reliability matrix ``(n_coders, n_units)`` with ``nan``
  (or ``None`` for string data) for missing answers, levels ``nominal``, ``ordinal``,
  ``interval``, ``ratio``. Same definition (coincidence matrix over pairable values) as
  Krippendorff (2011) and the ``krippendorff`` package, which the tests compare against.
  :func:`krippendorff_alpha_from_labels` takes the sparse ``(unit, coder, value)`` form.
* :func:`fleiss_kappa` — ``(n_units, n_categories)`` count matrix. Units may have
  different numbers of raters (per-unit agreement ``P_i`` uses that unit's own ``n_i``,
  category shares are pooled over all answers); with a constant number of raters this is
  exactly Fleiss (1971). Units with fewer than two answers are ignored.
* :func:`cohen_kappa` — two raters' labels on the same items (``-1``/``nan`` = missing).
* :func:`pairwise_cohen_kappa` — Cohen's kappa for every pair of workers who share at least
  ``min_overlap`` tasks, from the sparse answer list, via one sparse co-occurrence product.

A statistic that is undefined (no variation at all: expected disagreement 0) is ``nan``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from assay.quality.bootstrap import percentile_interval, resample_chunks
from assay.quality.label_data import LabelData

__all__ = [
    "Agreement",
    "PairwiseKappa",
    "cohen_kappa",
    "fleiss_kappa",
    "fleiss_kappa_from_labels",
    "krippendorff_alpha",
    "krippendorff_alpha_from_labels",
    "pairwise_cohen_kappa",
]

LEVELS = ("nominal", "ordinal", "interval", "ratio")


@dataclass
class Agreement:
    value: float
    ci_low: float | None = None
    ci_high: float | None = None
    n_units: int = 0
    n_bootstrap: int = 0
    confidence: float = 0.95

    def __float__(self) -> float:
        return self.value


def _safe_ratio(num: np.ndarray | float, den: np.ndarray | float):
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


# --------------------------------------------------------------------------- Krippendorff


def _delta(level: str, values: np.ndarray, marginals: np.ndarray | None = None) -> np.ndarray:
    """Squared distance between every pair of (sorted) values."""
    v = values.astype(np.float64)
    if level == "nominal":
        return 1.0 - np.eye(len(v))
    if level == "interval":
        return (v[:, None] - v[None, :]) ** 2
    if level == "ratio":
        s = v[:, None] + v[None, :]
        d = v[:, None] - v[None, :]
        return np.where(s != 0, (d / np.where(s != 0, s, 1.0)) ** 2, 0.0)
    if level == "ordinal":
        n = np.asarray(marginals, dtype=np.float64)
        cs = np.concatenate([[0.0], np.cumsum(n)])
        lo = np.minimum.outer(np.arange(len(n)), np.arange(len(n)))
        hi = np.maximum.outer(np.arange(len(n)), np.arange(len(n)))
        between = cs[hi + 1] - cs[lo]  # sum of n_g for g from lo to hi inclusive
        return (between - (n[:, None] + n[None, :]) / 2.0) ** 2 * (lo != hi)
    raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")


def _alpha_from_counts(counts: np.ndarray, values: np.ndarray, level: str) -> float:
    """Alpha from a (units, values) count matrix of pairable units (m_u >= 2)."""
    m = counts.sum(axis=1)
    if counts.shape[0] == 0 or m.sum() < 2:
        return float("nan")
    scaled = counts / (m - 1.0)[:, None]
    o = scaled.T @ counts - np.diag(scaled.sum(axis=0))
    n_c = o.sum(axis=0)
    n = n_c.sum()
    delta = _delta(level, values, n_c)
    observed = float((o * delta).sum())
    expected = float(n_c @ delta @ n_c)
    return float(1.0 - (n - 1.0) * _safe_ratio(observed, expected))


def _unit_value_counts(unit: np.ndarray, value_idx: np.ndarray, n_units: int, n_values: int) -> np.ndarray:
    return np.bincount(unit * n_values + value_idx, minlength=n_units * n_values).reshape(n_units, n_values).astype(
        np.float64
    )


def _alpha_core(counts: np.ndarray, values: np.ndarray, level: str, n_bootstrap: int, confidence: float, seed: int):
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    counts = counts[counts.sum(axis=1) >= 2]  # only pairable units carry information
    value = _alpha_from_counts(counts, values, level)
    U = counts.shape[0]
    if n_bootstrap <= 0 or U == 0:
        return Agreement(value, n_units=U, confidence=confidence)
    m = counts.sum(axis=1)
    samples = []
    if level == "ordinal":  # the distance depends on the resampled marginals: rebuild per replicate
        rng = np.random.default_rng(seed)
        for _ in range(n_bootstrap):
            w = np.bincount(rng.integers(0, U, size=U), minlength=U).astype(np.float64)
            scaled = counts * (w / (m - 1.0))[:, None]
            o = scaled.T @ counts - np.diag(scaled.sum(axis=0))
            n_c = o.sum(axis=0)
            delta = _delta(level, values, n_c)
            samples.append(1.0 - (n_c.sum() - 1.0) * _safe_ratio((o * delta).sum(), n_c @ delta @ n_c))
        samples = np.asarray(samples, dtype=np.float64)
    else:  # fixed distances: each unit's observed disagreement is a constant
        delta = _delta(level, values)
        d_u = ((counts @ delta) * counts).sum(axis=1) / (m - 1.0)
        out = []
        for idx in resample_chunks(U, n_bootstrap, counts.shape[1], seed):
            obs = d_u[idx].sum(axis=1)
            n_c = counts[idx].sum(axis=1)  # (b, V)
            exp = ((n_c @ delta) * n_c).sum(axis=1)
            out.append(1.0 - (n_c.sum(axis=1) - 1.0) * _safe_ratio(obs, exp))
        samples = np.concatenate(out)
    lo, hi = percentile_interval(samples, confidence)
    return Agreement(value, lo, hi, n_units=U, n_bootstrap=n_bootstrap, confidence=confidence)


def _encode_values(flat: np.ndarray, level: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(present mask, value index, sorted distinct values) for a flat array with missing."""
    if flat.dtype.kind in "OUS":
        present = np.array([x is not None and x == x and x != "" for x in flat], dtype=bool)
        vals = flat[present]
        try:
            numeric = vals.astype(np.float64)
        except (TypeError, ValueError):
            if level != "nominal":
                raise ValueError(f"{level} alpha needs numeric values") from None
            uniq, inv = np.unique(vals.astype(str), return_inverse=True)
            return present, inv, np.arange(len(uniq), dtype=np.float64)
        uniq, inv = np.unique(numeric, return_inverse=True)
        return present, inv, uniq
    f = flat.astype(np.float64)
    present = ~np.isnan(f)
    uniq, inv = np.unique(f[present], return_inverse=True)
    return present, inv, uniq


def krippendorff_alpha(
    data: Any,
    level: str = "nominal",
    *,
    n_bootstrap: int = 0,
    confidence: float = 0.95,
    seed: int = 0,
) -> Agreement:
    """Krippendorff's alpha of a ``(n_coders, n_units)`` reliability matrix (``nan`` = missing)."""
    arr = np.asarray(data)
    if arr.ndim != 2:
        raise ValueError("reliability data must be a (coders, units) matrix")
    n_units = arr.shape[1]
    unit = np.broadcast_to(np.arange(n_units)[None, :], arr.shape).ravel()
    present, inv, values = _encode_values(arr.ravel(), level)
    counts = _unit_value_counts(unit[present], inv, n_units, len(values))
    return _alpha_core(counts, values, level, n_bootstrap, confidence, seed)


def krippendorff_alpha_from_labels(
    unit_idx: Any,
    value: Any,
    level: str = "nominal",
    *,
    n_units: int | None = None,
    n_bootstrap: int = 0,
    confidence: float = 0.95,
    seed: int = 0,
) -> Agreement:
    """Alpha from the sparse form: one entry per answer (``unit_idx``, ``value``). For nominal
    data ``value`` may be class indices. Coders do not matter to alpha beyond the grouping."""
    unit = np.asarray(unit_idx, dtype=np.int64)
    present, inv, values = _encode_values(np.asarray(value), level)
    unit = unit[present]
    U = int(n_units if n_units is not None else (unit.max() + 1 if unit.size else 0))
    counts = _unit_value_counts(unit, inv, U, len(values))
    return _alpha_core(counts, values, level, n_bootstrap, confidence, seed)


# --------------------------------------------------------------------------- Fleiss


def _fleiss_parts(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = counts.sum(axis=1)
    p_i = ((counts * (counts - 1.0)).sum(axis=1)) / (n * (n - 1.0))
    return p_i, counts


def _fleiss_value(p_i_mean: np.ndarray, pooled: np.ndarray) -> np.ndarray:
    """kappa from mean per-unit agreement and pooled category counts (vectorised over rows)."""
    share = pooled / pooled.sum(axis=-1, keepdims=True)
    p_e = (share**2).sum(axis=-1)
    return _safe_ratio(p_i_mean - p_e, 1.0 - p_e)


def fleiss_kappa(
    counts: Any, *, n_bootstrap: int = 0, confidence: float = 0.95, seed: int = 0
) -> Agreement:
    """Fleiss' kappa of an ``(n_units, n_categories)`` matrix of answer counts."""
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 2:
        raise ValueError("counts must be a (units, categories) matrix")
    if np.any(counts < 0):
        raise ValueError("counts must be non-negative")
    counts = counts[counts.sum(axis=1) >= 2]
    U = counts.shape[0]
    if U == 0:
        return Agreement(float("nan"), n_units=0, confidence=confidence)
    p_i, _ = _fleiss_parts(counts)
    value = float(_fleiss_value(np.asarray(p_i.mean()), counts.sum(axis=0)))
    if n_bootstrap <= 0:
        return Agreement(value, n_units=U, confidence=confidence)
    out = []
    for idx in resample_chunks(U, n_bootstrap, counts.shape[1], seed):
        out.append(_fleiss_value(p_i[idx].mean(axis=1), counts[idx].sum(axis=1)))
    lo, hi = percentile_interval(np.concatenate(out), confidence)
    return Agreement(value, lo, hi, n_units=U, n_bootstrap=n_bootstrap, confidence=confidence)


def fleiss_kappa_from_labels(
    task_idx: Any,
    label_idx: Any,
    n_tasks: int | None = None,
    n_classes: int | None = None,
    **kw: Any,
) -> Agreement:
    """Fleiss' kappa from the sparse answer list (answers per task may vary)."""
    t = np.asarray(task_idx, dtype=np.int64)
    lab = np.asarray(label_idx, dtype=np.int64)
    T = int(n_tasks if n_tasks is not None else (t.max() + 1 if t.size else 0))
    C = int(n_classes if n_classes is not None else (lab.max() + 1 if lab.size else 1))
    return fleiss_kappa(_unit_value_counts(t, lab, T, C), **kw)


# --------------------------------------------------------------------------- Cohen


def _kappa_from_tables(tables: np.ndarray) -> np.ndarray:
    """Cohen's kappa of (..., C, C) contingency tables."""
    n = tables.sum(axis=(-2, -1))
    with np.errstate(divide="ignore", invalid="ignore"):
        p_o = np.trace(tables, axis1=-2, axis2=-1) / n
        p_e = (tables.sum(axis=-1) * tables.sum(axis=-2)).sum(axis=-1) / (n * n)
    return _safe_ratio(p_o - p_e, 1.0 - p_e)


def cohen_kappa(
    a: Any, b: Any, *, n_bootstrap: int = 0, confidence: float = 0.95, seed: int = 0
) -> Agreement:
    """Cohen's kappa of two raters' labels on the same items; items where either is missing
    (``nan``, ``None`` or a negative index) are dropped. Labels may be any hashable values."""
    a = np.asarray(a, dtype=object)
    b = np.asarray(b, dtype=object)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError("a and b must be equally long 1-d sequences")

    def missing(x):
        return x is None or (isinstance(x, float) and x != x) or (isinstance(x, (int, np.integer)) and x < 0)

    keep = np.array([not (missing(x) or missing(y)) for x, y in zip(a, b)], dtype=bool)
    a, b = a[keep], b[keep]
    if a.size == 0:
        return Agreement(float("nan"), n_units=0, confidence=confidence)
    _, inv = np.unique(np.concatenate([a, b]).astype(str), return_inverse=True)
    C = int(inv.max()) + 1
    ia, ib = inv[: a.size], inv[a.size :]
    pair = ia * C + ib
    table = np.bincount(pair, minlength=C * C).reshape(C, C).astype(np.float64)
    value = float(_kappa_from_tables(table))
    U = a.size
    if n_bootstrap <= 0:
        return Agreement(value, n_units=U, confidence=confidence)
    out = []
    for idx in resample_chunks(U, n_bootstrap, 1, seed):
        flat = (np.arange(idx.shape[0])[:, None] * (C * C) + pair[idx]).ravel()
        tables = np.bincount(flat, minlength=idx.shape[0] * C * C).reshape(idx.shape[0], C, C)
        out.append(_kappa_from_tables(tables.astype(np.float64)))
    lo, hi = percentile_interval(np.concatenate(out), confidence)
    return Agreement(value, lo, hi, n_units=U, n_bootstrap=n_bootstrap, confidence=confidence)


@dataclass
class PairwiseKappa:
    worker_a: np.ndarray  # (n_pairs,) with worker_a < worker_b
    worker_b: np.ndarray
    kappa: np.ndarray  # (n_pairs,) nan where undefined
    n_common: np.ndarray  # tasks both answered
    mean: Agreement  # mean over pairs with a defined kappa (CI: tasks resampled)
    n_workers: int

    def matrix(self) -> np.ndarray:
        """Dense symmetric (n_workers, n_workers) matrix, nan where no pair qualifies."""
        m = np.full((self.n_workers, self.n_workers), np.nan)
        m[self.worker_a, self.worker_b] = self.kappa
        m[self.worker_b, self.worker_a] = self.kappa
        return m


def _pair_tables(B: sp.csr_matrix, C: int, W: int, weights: np.ndarray | None = None):
    """Co-occurrence tables for every worker pair (a < b) from the one-hot answer matrix."""
    left = B if weights is None else sp.csr_matrix(B.multiply(weights[:, None]))
    M = (left.T @ B).tocoo()
    wa, la = np.divmod(M.row.astype(np.int64), C)
    wb, lb = np.divmod(M.col.astype(np.int64), C)
    upper = wa < wb
    wa, la, wb, lb, v = wa[upper], la[upper], wb[upper], lb[upper], M.data[upper]
    key = wa * W + wb
    pairs, inv = np.unique(key, return_inverse=True)
    tables = np.bincount(inv * (C * C) + la * C + lb, weights=v, minlength=len(pairs) * C * C)
    return pairs, tables.reshape(len(pairs), C, C)


def pairwise_cohen_kappa(
    task_idx: Any,
    worker_idx: Any,
    label_idx: Any,
    n_tasks: int | None = None,
    n_workers: int | None = None,
    n_classes: int | None = None,
    *,
    min_overlap: int = 2,
    n_bootstrap: int = 0,
    confidence: float = 0.95,
    seed: int = 0,
) -> PairwiseKappa:
    """Cohen's kappa for every pair of workers with at least ``min_overlap`` common tasks.

    Assumes one answer per (task, worker); repeated answers count as extra items. The mean's
    bootstrap CI resamples tasks (weights on the co-occurrence product), keeping the set of
    pairs fixed; a replicate's mean skips pairs whose kappa is undefined in it."""
    data = LabelData.build(task_idx, worker_idx, label_idx, n_tasks, n_workers, n_classes)
    C, W = data.n_classes, data.n_workers
    B = data.onehot
    pairs, tables = _pair_tables(B, C, W)
    n_common = tables.sum(axis=(1, 2))
    keep = n_common >= min_overlap
    pairs, tables, n_common = pairs[keep], tables[keep], n_common[keep]
    kappa = _kappa_from_tables(tables)
    defined = np.isfinite(kappa)
    mean_value = float(kappa[defined].mean()) if defined.any() else float("nan")
    lo = hi = None
    if n_bootstrap > 0 and pairs.size:
        rng = np.random.default_rng(seed)
        samples = np.empty(n_bootstrap)
        for i in range(n_bootstrap):
            w = np.bincount(rng.integers(0, data.n_tasks, size=data.n_tasks), minlength=data.n_tasks).astype(float)
            bp, bt = _pair_tables(B, C, W, w)
            pos = np.searchsorted(bp, pairs)
            pos = np.minimum(pos, max(len(bp) - 1, 0))
            found = (bp[pos] == pairs) if len(bp) else np.zeros(len(pairs), dtype=bool)
            k = np.full(len(pairs), np.nan)
            if found.any():
                k[found] = _kappa_from_tables(bt[pos[found]])
            samples[i] = np.nanmean(k) if np.isfinite(k).any() else np.nan
        lo, hi = percentile_interval(samples, confidence)
    mean = Agreement(mean_value, lo, hi, n_units=data.n_tasks, n_bootstrap=n_bootstrap, confidence=confidence)
    return PairwiseKappa(pairs // W, pairs % W, kappa, n_common.astype(np.int64), mean, W)

"""Bias checks over slices: does a label's share, agreement or accuracy differ between
slices of the data (a metadata value such as source or language, or an attribute of the
labeler) by more than chance?

Pure functions over counts. Each slice's rate gets a Wilson 95 % interval; every pair of
slices is compared (a 2×2 chi-square test of independence, exact Fisher's test when an
expected count is below 5), the p-values of one table are corrected with Holm's step-down
method (family-wise error rate at alpha whatever the dependence between the tests), and
a slice is flagged when it differs from more than half of the other slices."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion ((0, 1) when n is 0)."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def holm(p_values: list[float]) -> list[float]:
    """Holm-adjusted p-values (monotone, capped at 1), in the input order."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def one_vs_rest_p(successes: int, n: int, rest_successes: int, rest_n: int) -> float:
    """p-value of "this slice's rate equals the rest's" (two-sided)."""
    table = np.array([[successes, n - successes], [rest_successes, rest_n - rest_successes]], dtype=float)
    if n == 0 or rest_n == 0 or table.sum(axis=0).min() == 0:
        return 1.0
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    from scipy import stats  # noqa: PLC0415 - scipy.stats costs ~70 MB of server memory and 0.5 s of start-up: loaded on first use

    if expected.min() < 5:
        return float(stats.fisher_exact(table.astype(int))[1])
    return float(stats.chi2_contingency(table, correction=True)[1])


@dataclass(frozen=True)
class SliceRate:
    slice: str
    successes: int
    n: int
    rate: float | None
    low: float
    high: float
    p_value: float  # raw: this slice against all the others pooled (descriptive)
    p_adjusted: float  # Holm-adjusted pairwise p that decides the flag (see _flags)
    flagged: bool


def _pairwise(counts: dict[str, tuple[int, int]]) -> dict[tuple[str, str], float]:
    names = sorted(counts)
    return {(a, b): one_vs_rest_p(*counts[a], *counts[b]) for i, a in enumerate(names) for b in names[i + 1:]}


def _decisive(names: list[str], adjusted: dict[tuple[str, str], float]) -> dict[str, float]:
    """A slice differs when it differs (Holm-adjusted) from more than half of the other
    slices: one outlier among fair slices does not drag the fair ones into the flag, as a
    one-against-the-rest test would. The decisive p is the one that must clear alpha."""
    out = {}
    needed = (len(names) - 1) // 2 + 1
    for k in names:
        ps = sorted(p for (a, b), p in adjusted.items() if k in (a, b))
        out[k] = ps[needed - 1] if len(ps) >= needed else 1.0
    return out


def _rows(counts: dict[str, tuple[int, int]], decisive: dict[str, float], alpha: float) -> list[SliceRate]:
    total_s = sum(s for s, _ in counts.values())
    total_n = sum(n for _, n in counts.values())
    rows = []
    for k in sorted(counts):
        s, n = counts[k]
        low, high = wilson(s, n)
        raw = one_vs_rest_p(s, n, total_s - s, total_n - n)
        rows.append(SliceRate(k, s, n, s / n if n else None, low, high, raw, decisive[k], decisive[k] < alpha))
    return rows


def _holm_dict(raw: dict) -> dict:
    keys = list(raw)
    return dict(zip(keys, holm([raw[k] for k in keys]), strict=True))


def compare_rates(counts: dict[str, tuple[int, int]], alpha: float = 0.05) -> list[SliceRate]:
    """{slice: (successes, n)} → each slice's rate with its Wilson interval, compared with
    every other slice (Holm over the pairs), flagged where it differs from most of them."""
    adjusted = _holm_dict(_pairwise(counts))
    return _rows(counts, _decisive(sorted(counts), adjusted), alpha)


def label_distribution(table: dict[str, dict[str, int]], alpha: float = 0.05) -> dict[str, list[SliceRate]]:
    """{slice: {label: count}} → for each label, its share per slice compared across the
    slices; the Holm correction runs over every (label, pair of slices) test of the table."""
    labels = sorted({label for row in table.values() for label in row})
    per_label = {label: {k: (row.get(label, 0), sum(row.values())) for k, row in table.items()} for label in labels}
    raw = {(label, pair): p for label in labels for pair, p in _pairwise(per_label[label]).items()}
    adjusted = _holm_dict(raw)
    out: dict[str, list[SliceRate]] = {}
    for label in labels:
        mine = {pair: p for (lab, pair), p in adjusted.items() if lab == label}
        out[label] = _rows(per_label[label], _decisive(sorted(table), mine), alpha)
    return out


def independence_p(table: dict[str, dict[str, int]]) -> float | None:
    """The overall chi-square test of label × slice independence (None: too little data)."""
    labels = sorted({label for row in table.values() for label in row})
    names = [k for k in sorted(table) if sum(table[k].values())]
    if len(labels) < 2 or len(names) < 2:
        return None
    matrix = np.array([[table[k].get(label, 0) for label in labels] for k in names], dtype=float)
    matrix = matrix[:, matrix.sum(axis=0) > 0]
    if matrix.shape[1] < 2:
        return None
    from scipy import stats  # noqa: PLC0415 - scipy.stats costs ~70 MB of server memory and 0.5 s of start-up: loaded on first use

    return float(stats.chi2_contingency(matrix)[1])

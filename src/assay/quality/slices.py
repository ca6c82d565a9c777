"""Bias checks over slices: does a label's share, agreement or accuracy differ between
slices of the data (a metadata value such as source or language, or an attribute of the
labeler) by more than chance?

Pure functions over counts. Each slice's rate gets a Wilson 95 % interval; each slice
is tested against all the others together (a 2×2 chi-square test of independence, exact
Fisher's test when an expected count is below 5), and the p-values of one table are
corrected with Holm's step-down method, which keeps the family-wise error rate at alpha
whatever the dependence between the tests."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

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
    p_value: float  # raw, this slice against the rest
    p_adjusted: float  # Holm over the slices of this table
    flagged: bool


def compare_rates(counts: dict[str, tuple[int, int]], alpha: float = 0.05) -> list[SliceRate]:
    """{slice: (successes, n)} → each slice's rate with interval, tested against the rest,
    flagged where the Holm-adjusted p-value is below alpha."""
    names = sorted(counts)
    total_s = sum(s for s, _ in counts.values())
    total_n = sum(n for _, n in counts.values())
    raw = [one_vs_rest_p(counts[k][0], counts[k][1], total_s - counts[k][0], total_n - counts[k][1]) for k in names]
    adjusted = holm(raw) if raw else []
    out = []
    for k, p, q in zip(names, raw, adjusted, strict=True):
        s, n = counts[k]
        low, high = wilson(s, n)
        out.append(SliceRate(k, s, n, s / n if n else None, low, high, p, q, q < alpha))
    return out


def label_distribution(table: dict[str, dict[str, int]], alpha: float = 0.05) -> dict[str, list[SliceRate]]:
    """{slice: {label: count}} → for each label, its share per slice compared across
    slices; the Holm correction runs over every (label, slice) test of the table."""
    labels = sorted({label for row in table.values() for label in row})
    per_label = {label: {k: (row.get(label, 0), sum(row.values())) for k, row in table.items()} for label in labels}
    names = sorted(table)
    raw: list[float] = []
    for label in labels:
        counts = per_label[label]
        s_all = sum(s for s, _ in counts.values())
        n_all = sum(n for _, n in counts.values())
        raw += [one_vs_rest_p(counts[k][0], counts[k][1], s_all - counts[k][0], n_all - counts[k][1]) for k in names]
    adjusted = holm(raw) if raw else []
    out: dict[str, list[SliceRate]] = {}
    i = 0
    for label in labels:
        rows = []
        for k in names:
            s, n = per_label[label][k]
            low, high = wilson(s, n)
            rows.append(SliceRate(k, s, n, s / n if n else None, low, high, raw[i], adjusted[i], adjusted[i] < alpha))
            i += 1
        out[label] = rows
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
    return float(stats.chi2_contingency(matrix)[1])

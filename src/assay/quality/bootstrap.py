"""Percentile bootstrap over units (tasks / items): resampled unit indices or unit weights,
drawn a few replicates at a time so memory stays bounded, and the percentile interval of the
replicates. A unit's answers always stay together.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

__all__ = ["percentile_interval", "resample_chunks", "resample_weights"]

_CHUNK = 4_000_000  # elements per bootstrap chunk (bounds memory)


def percentile_interval(samples: np.ndarray, confidence: float) -> tuple[float | None, float | None]:
    """The central ``confidence`` interval of the finite replicates (None, None without any)."""
    samples = samples[np.isfinite(samples)]
    if samples.size == 0:
        return None, None
    lo, hi = np.quantile(samples, [(1 - confidence) / 2, 1 - (1 - confidence) / 2])
    return float(lo), float(hi)


def resample_chunks(n_units: int, n_bootstrap: int, per_unit: int, seed: int) -> Iterator[np.ndarray]:
    """Yield (b, n_units) arrays of resampled unit indices, a few replicates at a time."""
    rng = np.random.default_rng(seed)
    step = max(1, _CHUNK // max(n_units * max(per_unit, 1), 1))
    done = 0
    while done < n_bootstrap:
        b = min(step, n_bootstrap - done)
        yield rng.integers(0, n_units, size=(b, n_units))
        done += b


def resample_weights(n_units: int, n_bootstrap: int, seed: int) -> Iterator[np.ndarray]:
    """Yield (b, n_units) matrices: how often each unit is drawn in each of b replicates
    (the same draws as :func:`resample_chunks` with one value per unit)."""
    for idx in resample_chunks(n_units, n_bootstrap, 1, seed):
        b = idx.shape[0]
        draws = idx + (np.arange(b) * n_units)[:, None]
        yield np.bincount(draws.ravel(), minlength=b * n_units).reshape(b, n_units).astype(np.float64)

"""Calibration of reported confidences: how to measure it (with gold) and how `auto` fits a
temperature without gold.

* :func:`expected_calibration_error` — ECE over ``bins`` equal-width bins of the reported
  confidence (10 by default): ``sum_b |sum conf_b - sum correct_b| / n``.
* :func:`calibration_report` — ECE plus the calibration check the project promises: of the
  answers reported at >= 0.9, how many and which share are right.
* :func:`temper` — ``post ∝ post ** (1 / T)``: T > 1 softens over-confident posteriors,
  T < 1 sharpens; the argmax never changes.
* :func:`fit_temperature` — the T under which held-out posteriors best predict held-out
  *worker answers* (``P(answer l) = sum_k post_T(k) P(l | truth k, worker)``). No gold is
  needed: the answers a fit did not see are the test. It corrects over-confidence that the
  held-out answers can see (a model multiplying evidence as if workers erred
  independently); it cannot see errors every worker shares (a crowd wrong together).
"""

from __future__ import annotations

import numpy as np

from assay.quality.posteriors import TINY, softmax_rows

__all__ = ["CONFIDENT", "calibration_report", "expected_calibration_error", "fit_temperature", "temper"]

CONFIDENT = 0.9  # answers reported at >= 0.9 should be >= 90 % right
TEMPERATURE_BOUNDS = (0.25, 8.0)


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    """ECE over ``bins`` equal-width confidence bins ((0, 1/bins], ...; 0 falls in the
    first); NaN for no answers."""
    confidence = np.asarray(confidence, dtype=np.float64)
    if confidence.size == 0:
        return float("nan")
    which = np.clip(np.ceil(confidence * bins).astype(np.int64) - 1, 0, bins - 1)
    conf_sum = np.bincount(which, weights=confidence, minlength=bins)
    right_sum = np.bincount(which, weights=np.asarray(correct, dtype=np.float64), minlength=bins)
    return float(np.abs(conf_sum - right_sum).sum() / confidence.size)


def calibration_report(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> dict[str, float | int]:
    """``ece``, ``confident_count`` (answers at >= 0.9), ``confident_share`` (their share
    of all) and ``confident_accuracy`` (the share of those that are right; NaN when none)."""
    confidence = np.asarray(confidence, dtype=np.float64)
    correct = np.asarray(correct, dtype=bool)
    high = confidence >= CONFIDENT
    return {
        "ece": expected_calibration_error(confidence, correct, bins),
        "confident_count": int(high.sum()),
        "confident_share": float(high.mean()) if confidence.size else float("nan"),
        "confident_accuracy": float(correct[high].mean()) if high.any() else float("nan"),
    }


def temper(posteriors: np.ndarray, temperature: float) -> np.ndarray:
    """Rows of ``posteriors`` raised to ``1 / temperature`` and renormalised."""
    if temperature == 1.0 or posteriors.size == 0:
        return posteriors
    post, _ = softmax_rows(np.log(np.maximum(posteriors, TINY)) / temperature)
    return post


def fit_temperature(held_posteriors: np.ndarray, held_rows: np.ndarray) -> float:
    """The T in [0.25, 8] maximising ``mean log sum_k temper(held_posteriors, T)[i, k] *
    held_rows[i, k]``: held-out answer ``i``'s task posterior (from the task's other
    answers) and ``P(its label | truth k)`` for its worker. 1.0 for no answers."""
    if held_rows.shape[0] == 0:
        return 1.0
    logpost = np.log(np.maximum(held_posteriors, TINY))

    def loss(log_t: float) -> float:
        p, _ = softmax_rows(logpost / np.exp(log_t))
        return -float(np.log(np.maximum((p * held_rows).sum(axis=1), TINY)).mean())

    from scipy.optimize import minimize_scalar  # noqa: PLC0415 - scipy.optimize costs ~50 MB of server memory: loaded on first use

    lo, hi = np.log(TEMPERATURE_BOUNDS[0]), np.log(TEMPERATURE_BOUNDS[1])
    opt = minimize_scalar(loss, bounds=(lo, hi), method="bounded", options={"xatol": 1e-3})
    return float(np.exp(opt.x))

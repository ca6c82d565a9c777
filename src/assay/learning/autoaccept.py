"""Auto-accept model answers with an accuracy guarantee.

The model's score for a task (e.g. its highest class probability) decides whether its answer
is accepted without a human. The threshold is calibrated on tasks that humans have already
answered: for a candidate threshold t the n calibration tasks scoring ≥ t, k of them answered
correctly by the model, give an exact (Clopper-Pearson) lower confidence bound L(t) on the
model's accuracy above t. The chosen threshold is the lowest t with L(t) ≥ the target, so
that — with probability about ``confidence`` over the draw of the calibration tasks — the
accuracy of future tasks scoring ≥ t is at least the target (see ``calibrate_threshold`` for
the exact rules and their caveats). "Accuracy" means agreement with whatever the calibration
answers were: with crowd answers, it is agreement with the crowd, not with an unknown truth.

A share of would-be auto-accepted tasks should still go to humans (``audit_selected``) so that
the accuracy above the threshold keeps being measured after the model or the data drift.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy.special import betainc
from scipy.stats import beta

SIDES = ("lower", "upper", "two-sided")
RULES = ("lowest", "fixed_sequence")


def _check_level(name: str, value: float) -> float:
    value = float(value)
    if not 0.0 < value < 1.0:  # also rejects NaN
        raise ValueError(f"{name} must be strictly between 0 and 1, got {value}")
    return value


def _as_counts(name: str, value) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise ValueError(f"{name} must be a whole number (or an array of them)")
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise ValueError(f"{name} must be a whole number (or an array of them)")
    return arr.astype(np.int64)


def clopper_pearson(k, n, confidence: float = 0.95, side: str = "lower"):
    """Exact (Clopper-Pearson) confidence bound(s) on a binomial proportion from k successes in n trials.

    * ``side="lower"``: the one-sided lower bound at level ``confidence``,
      ``beta.ppf(1 - confidence, k, n - k + 1)``; 0 when k == 0. The true proportion is ≥ it
      with probability at least ``confidence``. For k == n it has the closed form
      ``(1 - confidence) ** (1 / n)``.
    * ``side="upper"``: the one-sided upper bound, ``beta.ppf(confidence, k + 1, n - k)``; 1 when k == n.
    * ``side="two-sided"``: ``(lower, upper)`` of the central interval at level ``confidence``
      (each tail ``(1 - confidence) / 2``), the same as
      ``scipy.stats.binomtest(k, n).proportion_ci(confidence, method="exact")``.

    With n == 0 there is no evidence: the bounds are 0 and 1. ``k`` and ``n`` may be arrays
    (broadcast together); scalars in give floats out.
    """
    confidence = _check_level("confidence", confidence)
    if side not in SIDES:
        raise ValueError(f"side must be one of {', '.join(SIDES)}, got {side!r}")
    k_arr, n_arr = np.broadcast_arrays(_as_counts("k", k), _as_counts("n", n))
    if np.any(n_arr < 0):
        raise ValueError("n must be ≥ 0")
    if np.any(k_arr < 0) or np.any(k_arr > n_arr):
        raise ValueError("k must be between 0 and n")
    scalar = np.ndim(k) == 0 and np.ndim(n) == 0

    def lower(tail: float) -> np.ndarray:
        # beta(0, ·) is undefined: feed a valid shape and overwrite those cells with 0.
        bound = beta.ppf(tail, np.maximum(k_arr, 1), n_arr - k_arr + 1)
        return np.where(k_arr == 0, 0.0, bound)

    def upper(tail: float) -> np.ndarray:
        bound = beta.ppf(1.0 - tail, k_arr + 1, np.maximum(n_arr - k_arr, 1))
        return np.where(k_arr == n_arr, 1.0, bound)

    alpha = 1.0 - confidence

    def out(a: np.ndarray):
        return float(a) if scalar else a

    if side == "lower":
        return out(lower(alpha))
    if side == "upper":
        return out(upper(alpha))
    return out(lower(alpha / 2)), out(upper(alpha / 2))


@dataclass(frozen=True)
class CalibrationTable:
    """One row per distinct calibration score t, highest first: the ``n`` calibration tasks with
    score ≥ t, the ``k`` of them the model got right, ``accuracy`` = k / n and the one-sided
    Clopper-Pearson ``lower_bound`` on it at ``confidence`` (computed on first use: inverting the
    beta distribution for 100k rows takes a noticeable fraction of a second)."""

    threshold: np.ndarray
    n: np.ndarray
    k: np.ndarray
    confidence: float

    def __len__(self) -> int:
        return len(self.threshold)

    @property
    def accuracy(self) -> np.ndarray:
        return self.k / np.maximum(self.n, 1)

    @cached_property
    def lower_bound(self) -> np.ndarray:
        return clopper_pearson(self.k, self.n, self.confidence) if len(self.n) else np.array([], dtype=float)

    def rows(self) -> list[dict]:
        """The table as plain dicts (for JSON and display)."""
        return [
            {"threshold": float(t), "n": int(n), "k": int(k), "accuracy": float(a), "lower_bound": float(lb)}
            for t, n, k, a, lb in zip(self.threshold, self.n, self.k, self.accuracy, self.lower_bound)
        ]


def _meets_target(k: np.ndarray, n: np.ndarray, target: float, confidence: float) -> np.ndarray:
    """L(k, n) ≥ target for every row, without inverting the beta distribution for each.

    The Clopper-Pearson lower bound L solves P(X ≥ k | n, L) = 1 - confidence, and that tail
    grows with the proportion, so L ≥ target ⇔ P(X ≥ k | n, target) ≤ 1 - confidence: a binomial
    tail (the regularized incomplete beta), ~15× faster than the inverse. Rows where the tail is
    within rounding of 1 - confidence are decided by the bound itself, so the answer is exactly
    ``clopper_pearson(k, n, confidence) >= target``.
    """
    alpha = 1.0 - confidence
    tail = np.where(k > 0, betainc(np.maximum(k, 1), n - k + 1, target), 1.0)
    meets = tail <= alpha
    near = np.flatnonzero(np.abs(tail - alpha) <= 1e-9 * alpha)
    if len(near):
        meets[near] = clopper_pearson(k[near], n[near], confidence) >= target
    return meets


@dataclass(frozen=True)
class ThresholdCalibration:
    """What ``calibrate_threshold`` chose. ``threshold`` is None when no candidate meets the target
    (then nothing may be auto-accepted); ``n``, ``k``, ``accuracy``, ``lower_bound`` describe the
    calibration tasks at or above the chosen threshold."""

    threshold: float | None
    n: int
    k: int
    accuracy: float | None
    lower_bound: float | None
    target_accuracy: float
    confidence: float
    min_count: int
    rule: str
    n_calibration: int
    table: CalibrationTable

    @property
    def share(self) -> float:
        """Share of the calibration tasks the threshold would have auto-accepted."""
        return self.n / self.n_calibration if self.n_calibration else 0.0


def _check_scores(scores) -> np.ndarray:
    arr = np.asarray(scores, dtype=float)
    if arr.ndim != 1:
        raise ValueError("scores must be one-dimensional")
    if np.isnan(arr).any():
        raise ValueError("scores must not contain NaN")
    return arr


def _check_correct(correct, n_scores: int) -> np.ndarray:
    correct_arr = np.asarray(correct)
    if correct_arr.ndim != 1:
        raise ValueError("correct must be one-dimensional")
    if len(correct_arr) != n_scores:
        raise ValueError(f"correct has {len(correct_arr)} entries but scores has {n_scores}")
    if correct_arr.dtype != bool:
        if not np.all(np.isin(correct_arr, (0, 1))):
            raise ValueError("correct must hold booleans (or 0/1)")
        correct_arr = correct_arr.astype(bool)
    return correct_arr


def _calibration_table(score_arr: np.ndarray, correct_arr: np.ndarray, confidence: float) -> CalibrationTable:
    """One row per distinct score, highest first, from one sort and cumulative sums."""
    order = np.argsort(-score_arr, kind="stable")
    sorted_scores = score_arr[order]
    correct_so_far = np.cumsum(correct_arr[order])
    # The last position of each run of equal scores: a threshold at that score takes the whole run.
    run_ends = np.flatnonzero(np.r_[sorted_scores[1:] != sorted_scores[:-1], True]) if len(sorted_scores) else np.array([], int)
    n = run_ends + 1
    k = correct_so_far[run_ends].astype(np.int64)
    return CalibrationTable(threshold=sorted_scores[run_ends], n=n, k=k, confidence=confidence)


def _chosen_row(table: CalibrationTable, target_accuracy: float, min_count: int, rule: str) -> int | None:
    """The table row of the chosen threshold under ``rule`` (see ``calibrate_threshold``), or None."""
    n, k, confidence = table.n, table.k, table.confidence
    eligible = n >= min_count
    passes = eligible & _meets_target(k, n, target_accuracy, confidence)
    if rule == "lowest":
        hits = np.flatnonzero(passes)
        return int(hits[-1]) if len(hits) else None  # rows run from the highest threshold to the lowest
    # Even k = n cannot reach the target while (1 - confidence) ** (1 / n) < target: skipping
    # those rows looks at n only, which keeps the fixed sequence valid.
    could_pass = eligible & ((1.0 - confidence) ** (1.0 / np.maximum(n, 1)) >= target_accuracy)
    tested = np.flatnonzero(could_pass)
    failed = np.flatnonzero(~passes[tested])
    passed_in_a_row = failed[0] if len(failed) else len(tested)  # the walk stops at the first failure
    return int(tested[passed_in_a_row - 1]) if passed_in_a_row > 0 else None


def calibrate_threshold(
    scores,
    correct,
    target_accuracy: float,
    confidence: float = 0.95,
    min_count: int = 1,
    rule: str = "lowest",
) -> ThresholdCalibration:
    """Pick the auto-accept threshold from human-answered calibration tasks.

    ``scores[i]`` is the model's score on calibration task i (higher = surer; e.g. its top class
    probability) and ``correct[i]`` whether the model's answer equals the human (consolidated)
    answer. Candidate thresholds are the distinct scores; for each, n tasks score ≥ t and k of
    them are correct, and L(t) is the one-sided Clopper-Pearson lower bound on k / n at
    ``confidence``. Candidates with n < ``min_count`` are never chosen.

    * ``rule="lowest"``: the lowest candidate t with L(t) ≥ ``target_accuracy``. Each L(t) alone
      is a valid bound, but picking the lowest passing t among many is a selection, so the
      guarantee is approximate (it is what bench/autoaccept.py measures).
    * ``rule="fixed_sequence"``: walk the candidates from the highest threshold down, skipping
      those whose n is too small to ever reach the target (even k = n fails — this depends on n
      only, not on correctness), and stop at the first one that fails; the threshold is the last
      one passed. This is fixed-sequence testing: P(the chosen threshold's true accuracy < target)
      ≤ 1 - confidence, with no multiplicity correction, at the price of stopping early when an
      error sits among the top-scored tasks.

    Sorting once and cumulative sums make this O(N log N): 100k tasks take milliseconds.
    """
    target_accuracy = _check_level("target_accuracy", target_accuracy)
    confidence = _check_level("confidence", confidence)
    if rule not in RULES:
        raise ValueError(f"rule must be one of {', '.join(RULES)}, got {rule!r}")
    if isinstance(min_count, bool) or not isinstance(min_count, (int, np.integer)) or min_count < 1:
        raise ValueError(f"min_count must be a whole number ≥ 1, got {min_count!r}")
    score_arr = _check_scores(scores)
    table = _calibration_table(score_arr, _check_correct(correct, len(score_arr)), confidence)
    n, k = table.n, table.k
    chosen = _chosen_row(table, target_accuracy, min_count, rule)
    if chosen is None:
        return ThresholdCalibration(None, 0, 0, None, None, target_accuracy, confidence, int(min_count), rule, len(score_arr), table)
    return ThresholdCalibration(
        threshold=float(table.threshold[chosen]),
        n=int(n[chosen]),
        k=int(k[chosen]),
        accuracy=float(table.accuracy[chosen]),
        lower_bound=float(clopper_pearson(int(k[chosen]), int(n[chosen]), confidence)),
        target_accuracy=target_accuracy,
        confidence=confidence,
        min_count=int(min_count),
        rule=rule,
        n_calibration=len(score_arr),
        table=table,
    )


def accept_mask(scores, threshold: float | None) -> np.ndarray:
    """Which tasks the model's answer may be auto-accepted for: score ≥ threshold (none when
    the threshold is None, i.e. calibration found no safe threshold)."""
    score_arr = _check_scores(scores)
    if threshold is None:
        return np.zeros(len(score_arr), dtype=bool)
    threshold = float(threshold)
    if np.isnan(threshold):
        raise ValueError("threshold must not be NaN")
    return score_arr >= threshold


def audit_selected(key: str | int, fraction: float, salt: str = "") -> bool:
    """Whether the task ``key`` goes to humans as an audit although it could be auto-accepted.

    Deterministic: a hash of the key (as text, so 7 and "7" agree) mapped to [0, 1) and compared
    with ``fraction``, so the same key always gets the same answer and about ``fraction`` of all
    keys are selected. A different ``salt`` (e.g. the project id) picks an independent subset.
    """
    if isinstance(key, bool) or not isinstance(key, (str, int, np.integer)):
        raise ValueError(f"key must be a string or an integer, got {type(key).__name__}")
    fraction = float(fraction)
    if not 0.0 <= fraction <= 1.0:  # also rejects NaN
        raise ValueError(f"fraction must be between 0 and 1, got {fraction}")
    digest = hashlib.blake2b(f"{salt}\x1f{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64 < fraction

"""Auto-accept thresholds (assay.learning.autoaccept): Clopper-Pearson bounds against closed forms,
scipy and an independent root-finder, threshold choice on a hand-made table and against brute
force, exact coverage, and the deterministic audit sample."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq
from scipy.stats import binom, binomtest

from assay.learning.autoaccept import accept_mask, audit_selected, calibrate_threshold, clopper_pearson

PROPS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def tail_at_least(k: int, n: int, p: float) -> float:
    """P(X ≥ k) for X ~ Binomial(n, p), summed term by term (independent of scipy's beta)."""
    return sum(math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(k, n + 1))


def lower_by_root(k: int, n: int, confidence: float) -> float:
    """The Clopper-Pearson lower bound from its definition: the p at which P(X ≥ k | p) = 1 - confidence."""
    if k == 0:
        return 0.0
    return brentq(lambda p: tail_at_least(k, n, p) - (1 - confidence), 1e-12, 1 - 1e-12, xtol=1e-14)


# ----------------------------------------------------------------------------- Clopper-Pearson


def test_lower_bound_closed_forms():
    # k = n: P(X ≥ n | p) = p ** n = 0.05  =>  p = 0.05 ** (1/10)
    assert clopper_pearson(10, 10, 0.95) == pytest.approx(0.05 ** (1 / 10), abs=1e-12)
    assert clopper_pearson(10, 10, 0.95) == pytest.approx(0.7411344491, abs=1e-9)
    assert clopper_pearson(59, 59, 0.95) == pytest.approx(0.05 ** (1 / 59), abs=1e-12)
    assert clopper_pearson(59, 59, 0.95) > 0.95 > clopper_pearson(58, 58, 0.95)  # 59 straight successes to claim 95 %
    assert clopper_pearson(0, 10, 0.95) == 0.0
    assert clopper_pearson(0, 0, 0.95) == 0.0
    # k = 1, n = 1 at 90 %: p = 0.1
    assert clopper_pearson(1, 1, 0.9) == pytest.approx(0.1, abs=1e-12)
    # k = n - 1: P(X ≥ n-1 | p) = n p^(n-1) (1-p) + p^n; check the bound solves it
    lb = clopper_pearson(4, 5, 0.95)
    assert 5 * lb**4 * (1 - lb) + lb**5 == pytest.approx(0.05, abs=1e-12)


@pytest.mark.parametrize("k,n", [(0, 1), (1, 1), (3, 10), (7, 10), (10, 10), (0, 25), (12, 25), (99, 100), (480, 500)])
@pytest.mark.parametrize("confidence", [0.8, 0.95, 0.99])
def test_two_sided_matches_scipy_binomtest(k, n, confidence):
    lo, hi = clopper_pearson(k, n, confidence, side="two-sided")
    ci = binomtest(k, n).proportion_ci(confidence_level=confidence, method="exact")
    assert lo == pytest.approx(ci.low, abs=1e-10)
    assert hi == pytest.approx(ci.high, abs=1e-10)


@pytest.mark.parametrize("k,n", [(1, 3), (5, 8), (17, 20), (29, 30), (40, 40)])
def test_one_sided_lower_matches_root_of_binomial_tail(k, n):
    for confidence in (0.9, 0.95, 0.99):
        assert clopper_pearson(k, n, confidence) == pytest.approx(lower_by_root(k, n, confidence), abs=1e-9)
        # a one-sided bound at c is the two-sided one at 2c - 1 (same tail)
        assert clopper_pearson(k, n, confidence) == pytest.approx(clopper_pearson(k, n, 2 * confidence - 1, side="two-sided")[0], abs=1e-12)


def test_upper_bound_mirrors_lower():
    assert clopper_pearson(10, 10, 0.95, side="upper") == 1.0
    for k, n in [(0, 10), (3, 10), (9, 12)]:
        assert clopper_pearson(k, n, 0.95, side="upper") == pytest.approx(1 - clopper_pearson(n - k, n, 0.95), abs=1e-12)


def test_arrays_in_arrays_out():
    out = clopper_pearson(np.array([0, 5, 10]), 10, 0.95)
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, [0.0, clopper_pearson(5, 10), 0.05**0.1], atol=1e-12)
    assert isinstance(clopper_pearson(5, 10), float)


@given(n=st.integers(1, 300), data=st.data(), confidence=st.floats(0.5, 0.999))
@PROPS
def test_lower_bound_properties(n, data, confidence):
    k = data.draw(st.integers(0, n))
    lb = clopper_pearson(k, n, confidence)
    assert 0.0 <= lb <= k / n
    if k < n:
        assert clopper_pearson(k + 1, n, confidence) > lb  # more successes, higher bound
    assert clopper_pearson(k, n + 1, confidence) <= lb + 1e-12  # one more trial that failed: lower bound
    assert clopper_pearson(k, n, min(confidence + 0.0005, 0.9995)) <= lb + 1e-12  # surer → lower
    lo, hi = clopper_pearson(k, n, confidence, side="two-sided")
    assert lo <= k / n <= hi


@given(n=st.integers(1, 60), p=st.floats(0.01, 0.99), confidence=st.sampled_from([0.8, 0.9, 0.95]))
@PROPS
def test_lower_bound_exact_coverage(n, p, confidence):
    # The guarantee itself: P_p(L(X) ≤ p) ≥ confidence, summed exactly over every outcome X.
    bounds = clopper_pearson(np.arange(n + 1), n, confidence)
    covered = binom.pmf(np.arange(n + 1), n, p)[bounds <= p].sum()
    assert covered >= confidence - 1e-9


def test_clopper_pearson_rejects_bad_input():
    with pytest.raises(ValueError, match="k must be between 0 and n"):
        clopper_pearson(11, 10)
    with pytest.raises(ValueError, match="k must be between 0 and n"):
        clopper_pearson(-1, 10)
    with pytest.raises(ValueError, match="n must be"):
        clopper_pearson(0, -1)
    with pytest.raises(ValueError, match="confidence"):
        clopper_pearson(3, 10, confidence=1.0)
    with pytest.raises(ValueError, match="confidence"):
        clopper_pearson(3, 10, confidence=float("nan"))
    with pytest.raises(ValueError, match="side"):
        clopper_pearson(3, 10, side="upper-ish")
    with pytest.raises(ValueError, match="k must be a whole number"):
        clopper_pearson(2.5, 10)


# ----------------------------------------------------------------------------- threshold


# scores 0.9 0.9 0.8 0.7 0.6 with the model right, right, right, wrong, right:
#   t = 0.9: n 2 k 2   t = 0.8: n 3 k 3   t = 0.7: n 4 k 3   t = 0.6: n 5 k 4
HAND_SCORES = [0.7, 0.9, 0.6, 0.9, 0.8]
HAND_CORRECT = [False, True, True, True, True]


def test_table_hand_computed():
    result = calibrate_threshold(HAND_SCORES, HAND_CORRECT, target_accuracy=0.75, confidence=0.5)
    table = result.table
    assert table.threshold.tolist() == [0.9, 0.8, 0.7, 0.6]
    assert table.n.tolist() == [2, 3, 4, 5]
    assert table.k.tolist() == [2, 3, 3, 4]
    np.testing.assert_allclose(table.accuracy, [1, 1, 0.75, 0.8])
    # k = n at 50 %: 0.5 ** (1/n); the others from the tail equation
    np.testing.assert_allclose(table.lower_bound, [0.5**0.5, 0.5 ** (1 / 3), lower_by_root(3, 4, 0.5), lower_by_root(4, 5, 0.5)], atol=1e-9)
    assert [row["n"] for row in table.rows()] == [2, 3, 4, 5]


def test_threshold_hand_computed():
    # bounds at 50 %: 0.7071, 0.7937, 0.6143, 0.6862
    assert lower_by_root(3, 4, 0.5) == pytest.approx(0.6143, abs=1e-4)
    assert lower_by_root(4, 5, 0.5) == pytest.approx(0.6862, abs=1e-4)
    r = calibrate_threshold(HAND_SCORES, HAND_CORRECT, target_accuracy=0.75, confidence=0.5)
    assert (r.threshold, r.n, r.k) == (0.8, 3, 3)  # only t = 0.8 reaches 0.75
    assert r.lower_bound == pytest.approx(0.5 ** (1 / 3))
    assert r.share == pytest.approx(3 / 5)
    # target 0.65: 0.9, 0.8 and 0.6 pass, 0.7 does not — the lowest passing threshold is 0.6 ...
    assert calibrate_threshold(HAND_SCORES, HAND_CORRECT, 0.65, 0.5).threshold == 0.6
    # ... but the fixed sequence stops at the first failure (0.7) and keeps 0.8
    assert calibrate_threshold(HAND_SCORES, HAND_CORRECT, 0.65, 0.5, rule="fixed_sequence").threshold == 0.8
    # min_count leaves only rows with n ≥ 5, then nothing
    assert calibrate_threshold(HAND_SCORES, HAND_CORRECT, 0.65, 0.5, min_count=5).threshold == 0.6
    none = calibrate_threshold(HAND_SCORES, HAND_CORRECT, 0.65, 0.5, min_count=6)
    assert none.threshold is None and none.n == 0 and none.lower_bound is None
    # nothing reaches 0.8 with five tasks at 50 %
    assert calibrate_threshold(HAND_SCORES, HAND_CORRECT, 0.8, 0.5).threshold is None


def test_fixed_sequence_skips_rows_that_cannot_pass_and_stops_at_first_failure():
    # 30 right answers on top, then one wrong, then 200 right. Target 0.9 at 95 %: n < 29 cannot
    # pass even with k = n (0.05 ** (1/28) = 0.899), so the walk starts at n = 29.
    scores = np.linspace(1.0, 0.0, 231)
    correct = np.ones(231, bool)
    correct[30] = False
    seq = calibrate_threshold(scores, correct, 0.9, 0.95, rule="fixed_sequence")
    assert seq.n == 30  # n = 31 (30 of 31) has bound 0.857 < 0.9: the walk stops there
    low = calibrate_threshold(scores, correct, 0.9, 0.95)
    assert low.n == 231 and low.k == 230  # the lowest threshold passes (230 of 231: bound 0.976)
    assert clopper_pearson(30, 31, 0.95) < 0.9 <= clopper_pearson(230, 231, 0.95)
    # the same data with the error among the very first tasks: the walk never passes a row
    correct = np.ones(231, bool)
    correct[0] = False
    assert calibrate_threshold(scores, correct, 0.9, 0.95, rule="fixed_sequence").threshold is None
    assert calibrate_threshold(scores, correct, 0.9, 0.95).threshold == 0.0


def test_target_equal_to_a_bound_counts_as_met():
    # The choice is "bound ≥ target": a target equal to the highest bound in the table must still
    # be met by that row (the fast binomial-tail test lands within rounding of 1 - confidence there).
    # (errors at 5 and 20 with confidence 0.9 or 0.99 are cases where the tail rounds above it.)
    scores = np.arange(50, 0, -1) / 50
    for errors in ([3, 17, 40], [5, 20], [1, 2, 30, 44]):
        correct = np.ones(50, bool)
        correct[errors] = False
        for confidence in (0.8, 0.9, 0.95, 0.99):
            table = calibrate_threshold(scores, correct, 0.5, confidence).table
            best = int(np.flatnonzero(table.lower_bound == table.lower_bound.max())[-1])
            target = float(table.lower_bound[best])
            r = calibrate_threshold(scores, correct, target, confidence)
            assert r.threshold == table.threshold[best]
            assert r.lower_bound >= target


def brute_force(scores, correct, target, confidence, min_count):
    rows = []
    for t in sorted(set(scores), reverse=True):
        mask = scores >= t
        n, k = int(mask.sum()), int(correct[mask].sum())
        rows.append((t, n, k, clopper_pearson(k, n, confidence)))
    return rows


@given(
    data=st.data(),
    size=st.integers(1, 80),
    target=st.floats(0.3, 0.97),
    confidence=st.sampled_from([0.5, 0.8, 0.95]),
    min_count=st.integers(1, 20),
)
@PROPS
def test_threshold_is_lowest_candidate_whose_bound_meets_target(data, size, target, confidence, min_count):
    # Few distinct scores, so ties are common.
    scores = np.array(data.draw(st.lists(st.integers(0, 12), min_size=size, max_size=size))) / 12
    correct = np.array(data.draw(st.lists(st.booleans(), min_size=size, max_size=size)))
    rows = brute_force(scores, correct, target, confidence, min_count)
    r = calibrate_threshold(scores, correct, target, confidence, min_count=min_count)
    assert r.table.threshold.tolist() == [t for t, *_ in rows]
    assert r.table.n.tolist() == [n for _, n, _, _ in rows]
    assert r.table.k.tolist() == [k for _, _, k, _ in rows]
    np.testing.assert_allclose(r.table.lower_bound, [lb for *_, lb in rows], atol=1e-12)
    passing = [t for t, n, _, lb in rows if n >= min_count and lb >= target]
    if not passing:
        assert r.threshold is None
        return
    assert r.threshold == min(passing)
    assert r.lower_bound >= target and r.n >= min_count
    # every lower candidate threshold fails the target (or has too few tasks)
    for t, n, _, lb in rows:
        if t < r.threshold:
            assert lb < target or n < min_count
    # and it accepts exactly the calibration tasks scoring at or above it
    assert r.n == int(accept_mask(scores, r.threshold).sum())


@given(data=st.data(), size=st.integers(1, 120), target=st.floats(0.5, 0.95), confidence=st.sampled_from([0.8, 0.95]))
@PROPS
def test_fixed_sequence_definition(data, size, target, confidence):
    scores = np.array(data.draw(st.lists(st.integers(0, 30), min_size=size, max_size=size))) / 30
    correct = np.array(data.draw(st.lists(st.booleans(), min_size=size, max_size=size)))
    rows = brute_force(scores, correct, target, confidence, 1)
    chosen = None
    for t, n, _, lb in rows:  # highest threshold first
        if clopper_pearson(n, n, confidence) < target:
            continue
        if lb < target:
            break
        chosen = t
    r = calibrate_threshold(scores, correct, target, confidence, rule="fixed_sequence")
    assert r.threshold == chosen
    lowest = calibrate_threshold(scores, correct, target, confidence).threshold
    if chosen is not None:
        assert lowest is not None and lowest <= chosen  # the fixed sequence is never more permissive


def test_empty_calibration_set_accepts_nothing():
    r = calibrate_threshold([], [], 0.9)
    assert r.threshold is None and len(r.table) == 0 and r.share == 0.0


def test_integer_correct_flags_are_accepted():
    a = calibrate_threshold(HAND_SCORES, [0, 1, 1, 1, 1], 0.65, 0.5)
    assert a.threshold == 0.6


def test_calibrate_threshold_rejects_bad_input():
    with pytest.raises(ValueError, match="target_accuracy"):
        calibrate_threshold([0.5], [True], 1.0)
    with pytest.raises(ValueError, match="target_accuracy"):
        calibrate_threshold([0.5], [True], 0.0)
    with pytest.raises(ValueError, match="confidence"):
        calibrate_threshold([0.5], [True], 0.9, confidence=1.5)
    with pytest.raises(ValueError, match="correct has 2 entries but scores has 1"):
        calibrate_threshold([0.5], [True, False], 0.9)
    with pytest.raises(ValueError, match="scores must not contain NaN"):
        calibrate_threshold([0.5, float("nan")], [True, False], 0.9)
    with pytest.raises(ValueError, match="correct must hold booleans"):
        calibrate_threshold([0.5, 0.7], [1, 2], 0.9)
    with pytest.raises(ValueError, match="min_count"):
        calibrate_threshold([0.5], [True], 0.9, min_count=0)
    with pytest.raises(ValueError, match="rule"):
        calibrate_threshold([0.5], [True], 0.9, rule="highest")
    with pytest.raises(ValueError, match="scores must be one-dimensional"):
        calibrate_threshold([[0.5]], [True], 0.9)


# ----------------------------------------------------------------------------- accept and audit


def test_accept_mask():
    assert accept_mask([0.2, 0.8, 0.5, 0.9], 0.5).tolist() == [False, True, True, True]
    assert accept_mask([0.2, 0.8], None).tolist() == [False, False]
    with pytest.raises(ValueError, match="NaN"):
        accept_mask([0.2, float("nan")], 0.5)


def test_audit_is_deterministic_and_hits_the_fraction():
    keys = range(10_000)
    first = [audit_selected(k, 0.05) for k in keys]
    assert first == [audit_selected(k, 0.05) for k in keys]
    assert abs(sum(first) / 10_000 - 0.05) < 0.01  # sd of the share is 0.0022
    assert abs(np.mean([audit_selected(f"task-{k}", 0.3) for k in keys]) - 0.3) < 0.02
    # an int and its text agree; a larger fraction keeps every key a smaller one chose
    assert all(audit_selected(k, 0.05) == audit_selected(str(k), 0.05) for k in range(500))
    assert all(audit_selected(k, 0.2) for k in keys if first[k])
    assert not any(audit_selected(k, 0.0) for k in range(1000))
    assert all(audit_selected(k, 1.0) for k in range(1000))
    # another salt picks a different, about independent subset
    other = [audit_selected(k, 0.05, salt="project-2") for k in keys]
    assert other != first
    assert sum(a and b for a, b in zip(first, other)) < 60  # 25 expected if independent


def test_audit_rejects_bad_input():
    with pytest.raises(ValueError, match="fraction"):
        audit_selected("x", 1.2)
    with pytest.raises(ValueError, match="fraction"):
        audit_selected("x", float("nan"))
    with pytest.raises(ValueError, match="key"):
        audit_selected(1.5, 0.1)
    with pytest.raises(ValueError, match="key"):
        audit_selected(True, 0.1)

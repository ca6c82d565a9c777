"""quality/calibration.py: ECE and the >= 0.9 check (known answers, properties of calibrated
and miscalibrated synthetic sets), tempering, and the temperature fitted on held-out answers
without gold."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assay.quality.calibration import calibration_report, expected_calibration_error, fit_temperature, temper

PROPS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ----------------------------------------------------------------------------- known answers


def test_ece_known_answers():
    # one bin (0.9, 1.0]: mean confidence 0.95, 9 of 10 right -> |9.5 - 9| / 10
    assert expected_calibration_error(np.full(10, 0.95), np.array([1] * 9 + [0])) == pytest.approx(0.05)
    # two bins, each off by 0.1 in opposite directions: the errors add, they do not cancel
    conf = np.array([0.55, 0.55, 0.85, 0.85])
    right = np.array([1, 1, 0, 1])  # bin (0.5, 0.6]: 100 % right at 0.55; bin (0.8, 0.9]: 50 % at 0.85
    assert expected_calibration_error(conf, right) == pytest.approx((abs(1.1 - 2) + abs(1.7 - 1)) / 4)
    # bins are equal-width and right-closed: 0.9 is in (0.8, 0.9], 0.0 in the first bin
    assert expected_calibration_error(np.array([0.9, 0.0]), np.array([1, 0])) == pytest.approx(0.05)
    assert expected_calibration_error(np.array([0.91]), np.array([1]), bins=15) == pytest.approx(0.09)
    assert np.isnan(expected_calibration_error(np.zeros(0), np.zeros(0)))


def test_report_counts_the_confident_answers():
    conf = np.array([0.95, 0.9, 0.99, 0.5, 0.89999])
    right = np.array([1, 0, 1, 1, 1])
    r = calibration_report(conf, right)
    assert r["confident_count"] == 3 and r["confident_share"] == pytest.approx(0.6)
    assert r["confident_accuracy"] == pytest.approx(2 / 3)
    r = calibration_report(np.array([0.6]), np.array([1]))
    assert r["confident_count"] == 0 and np.isnan(r["confident_accuracy"])


# ----------------------------------------------------------------------------- ECE properties


@PROPS
@given(st.integers(0, 2**31 - 1), st.floats(0.5, 3.0))
def test_ece_of_a_calibrated_set_is_near_zero_and_of_an_overconfident_one_is_not(seed, shape):
    """Answers right with exactly the probability they report: ECE is sampling noise only
    (20k answers: well under 0.02). Report them 15 points more confident than they are (where
    there is room): the ECE sees it."""
    rng = np.random.default_rng(seed)
    conf = 0.5 + 0.5 * rng.beta(shape, 1.0, 20_000)
    right = rng.random(conf.size) < conf
    assert expected_calibration_error(conf, right) < 0.02
    liar = np.minimum(conf + 0.15, 1.0)
    assert expected_calibration_error(liar, right) > 0.08


@PROPS
@given(st.lists(st.tuples(st.floats(0.0, 1.0), st.booleans()), min_size=1, max_size=60), st.integers(0, 2**31 - 1))
def test_ece_is_a_share_and_ignores_order(pairs, seed):
    conf = np.array([p[0] for p in pairs])
    right = np.array([p[1] for p in pairs])
    e = expected_calibration_error(conf, right)
    assert 0.0 <= e <= 1.0
    perm = np.random.default_rng(seed).permutation(conf.size)
    assert expected_calibration_error(conf[perm], right[perm]) == pytest.approx(e)


# ----------------------------------------------------------------------------- tempering


@PROPS
@given(st.integers(0, 2**31 - 1), st.integers(2, 6), st.floats(0.25, 8.0), st.floats(0.25, 8.0))
def test_temper_keeps_the_order_and_is_monotone_in_t(seed, C, t1, t2):
    rng = np.random.default_rng(seed)
    post = rng.dirichlet(np.full(C, 0.5), 50)
    np.testing.assert_array_equal(temper(post, 1.0), post)
    lo, hi = sorted((t1, t2))
    a, b = temper(post, lo), temper(post, hi)
    np.testing.assert_allclose(a.sum(axis=1), 1.0, atol=1e-9)
    np.testing.assert_array_equal(a.argmax(axis=1), post.argmax(axis=1))
    # a higher temperature never raises the top class's probability
    assert np.all(b.max(axis=1) <= a.max(axis=1) + 1e-12)


def _held_out_set(rng, n, C, true_temperature):
    """Tasks with true posteriors ``p``; each held-out answer drawn from sum_k p_k conf[k];
    the model reports ``p`` sharpened or softened by ``true_temperature`` (1: honest)."""
    p = rng.dirichlet(np.full(C, 0.7), n)
    conf = np.full((C, C), 0.15 / (C - 1)) + np.eye(C) * (0.85 - 0.15 / (C - 1))
    truth = (rng.random(n)[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
    answer = (rng.random(n)[:, None] > np.cumsum(conf[truth], axis=1)).sum(axis=1)
    reported = temper(p, 1.0 / true_temperature)
    return reported, conf[:, answer].T


@PROPS
@given(st.integers(0, 2**31 - 1), st.integers(2, 4))
def test_temperature_is_one_on_honest_posteriors(seed, C):
    reported, rows = _held_out_set(np.random.default_rng(seed), 20_000, C, 1.0)
    assert fit_temperature(reported, rows) == pytest.approx(1.0, abs=0.2)


@PROPS
@given(st.integers(0, 2**31 - 1), st.sampled_from([0.5, 2.0]))
def test_temperature_undoes_known_over_and_under_confidence(seed, true_t):
    """Posteriors reported as p ** (1/T0): the fitted T is T0 (within sampling noise)."""
    reported, rows = _held_out_set(np.random.default_rng(seed), 20_000, 2, true_t)
    fitted = fit_temperature(reported, rows)
    assert fitted == pytest.approx(true_t, rel=0.3)


def test_temperature_without_answers_is_one():
    assert fit_temperature(np.zeros((0, 3)), np.zeros((0, 3))) == 1.0

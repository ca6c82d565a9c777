"""The per-task consensus used for adaptive overlap: hand-computed cases and properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assay.quality.online import consensus, smoothed_accuracy


def test_hand_computed_cases():
    a = smoothed_accuracy(0, 0)
    assert a == pytest.approx(0.8)  # Beta(4, 1) prior mean
    # two of two categories, two agreeing labelers: 0.8² / (0.8² + 0.2²)
    assert consensus(["x", "x"], [a, a], 2).confidence == pytest.approx(0.64 / 0.68)
    # split vote: 1/2, the answer given first wins the tie
    split = consensus(["y", "x"], [a, a], 2)
    assert split.confidence == pytest.approx(0.5) and split.winner == 0 and split.contributors == (0,)
    # three categories, one label: 0.8 vs 0.1 and 0.1 for the two others
    assert consensus(["x"], [a], 3).confidence == pytest.approx(0.8)
    # unknown answer space: the two answers given plus one "something else" (C = 3), so a
    # wrong answer has probability 0.2 / 2: t: 0.8·0.1, u: 0.1·0.8, other: 0.1·0.1
    assert consensus(["t", "u"], [a, a], None).posterior["t"] == pytest.approx(0.08 / 0.17)
    # a stronger labeler wins a 1:1 disagreement: 0.95·0.2 vs 0.8·0.05
    strong = consensus(["y", "x"], [0.8, 0.95], 2)
    assert strong.winner == 1 and strong.confidence == pytest.approx(0.19 / (0.19 + 0.04))


def test_smoothed_accuracy_is_clipped():
    assert smoothed_accuracy(1000, 1000) == 0.99
    assert smoothed_accuracy(0, 1000) == 0.05
    assert smoothed_accuracy(6, 6) == pytest.approx(10 / 11)


def test_bad_input():
    with pytest.raises(ValueError):
        consensus([], [], 2)
    with pytest.raises(ValueError):
        consensus(["x"], [0.8, 0.9], 2)


answers = st.lists(st.tuples(st.sampled_from("abc"), st.floats(0.3, 0.98)), min_size=1, max_size=8)


@settings(max_examples=200, deadline=None)
@given(answers, st.randoms(use_true_random=False))
def test_permuting_labelers_keeps_the_posterior(items, rng):
    keys, accs = [k for k, _ in items], [a for _, a in items]
    before = consensus(keys, accs, 3)
    shuffled = list(items)
    rng.shuffle(shuffled)
    after = consensus([k for k, _ in shuffled], [a for _, a in shuffled], 3)
    for key, p in before.posterior.items():
        assert after.posterior[key] == pytest.approx(p)
    assert math.isclose(before.confidence, after.confidence, rel_tol=1e-9)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 10), st.floats(0.55, 0.98), st.integers(2, 10))
def test_unanimity_grows_more_certain_with_each_label(n, acc, space):
    confidences = [consensus(["x"] * k, [acc] * k, space).confidence for k in range(1, n + 2)]
    # strictly more certain with each label until floating point reaches 1
    assert all(b > a or a > 1 - 1e-12 for a, b in zip(confidences, confidences[1:]))
    assert all(0 < c <= 1 for c in confidences)


@settings(max_examples=100, deadline=None)
@given(answers)
def test_posterior_is_a_distribution_within_the_answers_given(items):
    result = consensus([k for k, _ in items], [a for _, a in items], 3)
    assert 0 < sum(result.posterior.values()) <= 1 + 1e-9
    assert result.confidence == max(result.posterior.values())


# ----------------------------------------------------------------------------- fitted models

@pytest.mark.parametrize("method", ["dawid_skene", "one_coin_dawid_skene"])
def test_posterior_given_is_the_fitted_e_step(method):
    """Scoring a task's answers with the fitted parameters reproduces the fit's own posterior."""
    from assay.quality.aggregation import aggregate
    from assay.quality.online import fitted_parameters, posterior_given

    rng = np.random.default_rng(3)
    T, W, C = 60, 7, 3
    truth = rng.integers(0, C, T)
    t, w, lab = [], [], []
    for i in range(T):
        for worker in rng.choice(W, 3, replace=False):
            t.append(i)
            w.append(worker)
            lab.append(truth[i] if rng.random() < 0.5 + 0.06 * worker else rng.integers(0, C))
    t, w, lab = map(np.array, (t, w, lab))
    result = aggregate(method, t, w, lab, T, W, C)
    params = fitted_parameters(result, np.bincount(w, minlength=W))
    for i in range(T):
        sel = t == i
        np.testing.assert_allclose(posterior_given(params, w[sel], lab[sel]), result.posteriors[i], atol=1e-9)


def test_posterior_given_unseen_worker_uses_population_and_glad_is_symmetric():
    from assay.quality.aggregation import aggregate
    from assay.quality.online import FittedParameters, fitted_parameters, posterior_given

    params = FittedParameters(np.array([0.5, 0.5]), np.array([[[0.9, 0.1], [0.2, 0.8]]]), np.array([[0.6, 0.4], [0.4, 0.6]]))
    # known worker 0 says class 0: 0.5*0.9 / (0.5*0.9 + 0.5*0.2)
    np.testing.assert_allclose(posterior_given(params, [0], [0]), [0.45 / 0.55, 0.1 / 0.55])
    np.testing.assert_allclose(posterior_given(params, [-1], [1]), [0.4, 0.6])  # unseen: population
    np.testing.assert_allclose(posterior_given(params, [], []), [0.5, 0.5])
    with pytest.raises(ValueError, match="out of range"):
        posterior_given(params, [0], [2])
    t = np.repeat(np.arange(10), 3)
    w = np.tile(np.arange(3), 10)
    lab = np.where(w == 2, 1 - (t % 2), t % 2)
    glad = fitted_parameters(aggregate("glad", t, w, lab, 10, 3, 2))
    for m in glad.confusions:  # one accuracy per worker, the rest spread evenly
        assert m[0, 0] == pytest.approx(m[1, 1]) and m[0, 1] == pytest.approx(m[1, 0])
    assert glad.confusions[0, 0, 0] > glad.confusions[2, 0, 0]

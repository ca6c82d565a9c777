"""Acquisition for many classes (assay.learning.active): cold start by clustering, badge and
balanced_margin by hand and by property, and a known-answer run where uncertainty sampling
needs far fewer labels than random on a planted separable problem."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from assay.learning import softmax
from assay.learning.active import badge, balanced_margin, cold_start, queue_order, select_batch


def _blobs(n_per=30, k=6, d=8, seed=0, spread=0.05):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, d)) * 3
    x = np.concatenate([c + rng.normal(size=(n_per, d)) * spread for c in centres])
    return x, np.repeat(np.arange(k), n_per)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cold_start_takes_one_item_from_every_planted_cluster(seed):
    x, y = _blobs(seed=seed)
    picked = cold_start(x, 6, rng=np.random.default_rng(seed))
    assert len(set(picked.tolist())) == 6
    assert sorted(y[picked].tolist()) == list(range(6))  # random picks would miss a cluster most of the time
    on_sparse = cold_start(sparse.csr_matrix(np.abs(x)), 4, rng=np.random.default_rng(seed))
    assert len(set(on_sparse.tolist())) == 4


def test_cold_start_bad_k():
    x, _ = _blobs()
    for k in (-1, 1000, 2.5, True):
        with pytest.raises(ValueError, match="k must"):
            cold_start(x, k)
    assert cold_start(x, 0).shape == (0,)


def test_balanced_margin_serves_the_least_labeled_class_first():
    proba = np.array([[0.52, 0.48, 0.0], [0.51, 0.49, 0.0], [0.5, 0.0, 0.5], [0.0, 0.55, 0.45], [0.9, 0.1, 0.0]])
    # margins: 0.96, 0.98, 1.0, 0.9, 0.2 -> by uncertainty rows 2, 1, 0, 3, 4; predicted classes 0, 0, 0, 1, 0
    assert select_batch("margin", proba, 2).tolist() == [2, 1]
    assert balanced_margin(proba, 2, np.array([5.0, 1.0, 0.0])).tolist() == [3, 2]  # class 1 (fewer labels) first
    assert balanced_margin(proba, 2, np.array([0.0, 5.0, 0.0])).tolist() == [2, 3]
    with pytest.raises(ValueError, match="class_counts"):
        select_batch("balanced_margin", proba, 2, class_counts=[1, 2])
    with pytest.raises(ValueError, match="class_counts"):
        select_batch("balanced_margin", proba, 2, class_counts=[1, -2, 0])


def test_badge_starts_with_the_longest_gradient_embedding_and_spreads():
    x, y = _blobs(n_per=20, k=4, d=5, seed=3)
    proba = np.full((len(x), 4), 0.25)
    proba[:, 0] = 0.25 + 1e-6  # equally uncertain everywhere ...
    proba /= proba.sum(axis=1, keepdims=True)
    lengths = np.linalg.norm(x, axis=1)
    picked = badge(proba, x, 4, np.random.default_rng(0))
    assert picked[0] == np.argmax(lengths)  # ... so the first is the longest feature vector
    assert len(set(y[picked].tolist())) == 4  # and the rest spread over the blobs
    with pytest.raises(ValueError, match="features"):
        select_batch("badge", proba, 2)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 30), st.integers(2, 7))
def test_new_strategies_pick_distinct_rows(seed, k, c):
    rng = np.random.default_rng(seed)
    n = 30
    proba = rng.dirichlet(np.ones(c), size=n)
    features = sparse.random(n, 12, density=0.4, random_state=seed, format="csr")
    for strategy in ("badge", "balanced_margin"):
        picked = select_batch(strategy, proba, k, features=features, rng=rng, class_counts=rng.integers(0, 5, size=c))
        assert len(set(picked.tolist())) == k and picked.min() >= 0 and picked.max() < n
        order = queue_order(strategy, proba, features=features, batch_size=3, rng=rng)
        assert sorted(order.tolist()) == list(range(n))


def _labels_to_reach(strategy, x, y, x_test, y_test, target, seed):
    """Labels a simulated run needs before test accuracy reaches ``target`` (batches of 5)."""
    rng = np.random.default_rng(seed)
    labeled = np.zeros(len(x), dtype=bool)
    labeled[rng.choice(np.flatnonzero(y == 0), 2, replace=False)] = True
    labeled[rng.choice(np.flatnonzero(y == 1), 2, replace=False)] = True
    fit = None
    while labeled.sum() < len(x):
        idx = np.flatnonzero(labeled)
        fit = softmax.fit(x[idx], y[idx], 2, C=100.0, coef0=None if fit is None else fit.coef,
                          intercept0=None if fit is None else fit.intercept)
        if np.mean(softmax.predict_proba(x_test, fit.coef, fit.intercept).argmax(1) == y_test) >= target:
            return int(labeled.sum())
        left = np.flatnonzero(~labeled)
        proba = softmax.predict_proba(x[left], fit.coef, fit.intercept)
        labeled[left[select_batch(strategy, proba, min(5, len(left)), rng=rng)]] = True
    return int(labeled.sum())


def test_uncertainty_sampling_needs_far_fewer_labels_than_random_on_a_planted_separable_problem():
    rng = np.random.default_rng(7)
    w = rng.normal(size=6)
    x = rng.uniform(-1, 1, size=(3000, 6))
    keep = np.abs(x @ w) > 0.05  # a margin: the problem is separable
    x, y = x[keep], (x[keep] @ w > 0).astype(int)
    x_train, y_train, x_test, y_test = x[:2000], y[:2000], x[2000:], y[2000:]
    needed = {s: [_labels_to_reach(s, x_train, y_train, x_test, y_test, 0.97, seed) for seed in range(3)] for s in ("random", "margin")}
    assert np.mean(needed["margin"]) * 2 <= np.mean(needed["random"]), needed

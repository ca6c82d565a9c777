"""The many-class softmax solver (assay.learning.softmax): its gradient against finite
differences, its optimum against scikit-learn's multinomial logistic regression, the column
budgets, and warm starts carried over by name."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from assay.learning import softmax


def _planted(n=300, d=40, k=5, seed=0, density=0.3):
    rng = np.random.default_rng(seed)
    x = sparse.random(n, d, density=density, random_state=seed, format="csr", dtype=np.float64)
    w = rng.normal(size=(d, k)) * 3
    y = np.argmax(x @ w + rng.gumbel(size=(n, k)), axis=1)
    return x, y


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 6), st.floats(0.1, 10))
def test_gradient_matches_finite_differences(seed, k, c):
    rng = np.random.default_rng(seed)
    x = sparse.random(12, 7, density=0.5, random_state=seed, format="csr")
    y = rng.integers(0, k, size=12)
    coef, intercept = rng.normal(size=(7, k)).astype(np.float32).astype(np.float64), rng.normal(size=k)
    _, g_coef, g_intercept = softmax.objective(x, y, coef, intercept, c)
    eps = 1e-3
    for i, j in [(0, 0), (3, k - 1), (6, 1)]:
        up, down = coef.copy(), coef.copy()
        up[i, j] += eps
        down[i, j] -= eps
        numeric = (softmax.objective(x, y, up, intercept, c)[0] - softmax.objective(x, y, down, intercept, c)[0]) / (2 * eps)
        assert g_coef[i, j] == pytest.approx(numeric, rel=2e-2, abs=2e-3)
    up = intercept.copy()
    up[0] += eps
    down = intercept.copy()
    down[0] -= eps
    numeric = (softmax.objective(x, y, coef, up, c)[0] - softmax.objective(x, y, coef, down, c)[0]) / (2 * eps)
    assert g_intercept[0] == pytest.approx(numeric, rel=2e-2, abs=2e-3)


def test_optimum_matches_scikit_learn_multinomial():
    from sklearn.linear_model import LogisticRegression

    x, y = _planted()
    ours = softmax.fit(x, y, 5, C=2.0, ftol=1e-12, max_iter=2000)
    theirs = LogisticRegression(C=2.0, tol=1e-10, max_iter=5000).fit(x, y)
    np.testing.assert_allclose(softmax.predict_proba(x, ours.coef, ours.intercept), theirs.predict_proba(x), atol=2e-3)
    assert np.mean(softmax.predict_proba(x, ours.coef, ours.intercept).argmax(1) == y) > 0.7  # it learned the planted rule


def test_warm_start_from_the_optimum_stops_at_once_and_from_elsewhere_agrees():
    x, y = _planted(seed=1)
    cold = softmax.fit(x, y, 5, ftol=1e-10, max_iter=2000)
    again = softmax.fit(x, y, 5, coef0=cold.coef, intercept0=cold.intercept, ftol=1e-6)
    assert again.n_iter <= 3
    assert again.loss == pytest.approx(cold.loss, rel=1e-5)
    x2, y2 = sparse.vstack([x, x[:30]]).tocsr(), np.concatenate([y, y[:30]])  # 10 % more labels
    from_scratch = softmax.fit(x2, y2, 5)
    from_before = softmax.fit(x2, y2, 5, coef0=cold.coef, intercept0=cold.intercept)
    assert from_before.n_iter < from_scratch.n_iter
    assert from_before.loss == pytest.approx(from_scratch.loss, rel=1e-3)
    rng = np.random.default_rng(0)
    elsewhere = softmax.fit(x, y, 5, coef0=rng.normal(size=cold.coef.shape), ftol=1e-10, max_iter=2000)
    np.testing.assert_allclose(softmax.predict_proba(x, elsewhere.coef, elsewhere.intercept),
                               softmax.predict_proba(x, cold.coef, cold.intercept), atol=5e-3)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 40), st.integers(1, 200), st.integers(1, 4000))
def test_select_columns_keeps_used_columns_within_budgets(seed, k, weight_budget, budget):
    x = sparse.random(30, 60, density=0.15, random_state=seed, format="csr")
    always = np.zeros(60, dtype=bool)
    always[:10] = True
    cols = softmax.select_columns(x, k, budget=budget, weight_budget=weight_budget, always=always)
    df = np.diff(sparse.csc_matrix(x).indptr)
    assert np.all(np.diff(cols) > 0) and np.all(df[cols] > 0)  # sorted, distinct, used
    assert len(cols) <= weight_budget // k
    forced = cols[always[cols]]
    if df[cols[~always[cols]]].sum() > 0:  # any unflagged column kept means the work budget allowed it
        assert df[cols].sum() * k <= budget or len(forced) == 0 or df[forced].sum() * k > budget
    roomy = softmax.select_columns(x, k, budget=10**9, weight_budget=10**9, always=always)
    np.testing.assert_array_equal(roomy, np.flatnonzero(df))


def test_select_columns_drops_the_commonest_unflagged_columns_for_work():
    x = sparse.csr_matrix(np.array([[1, 1, 1, 0], [1, 1, 0, 0], [1, 0, 0, 1], [1, 0, 0, 0]], dtype=float))
    always = np.array([False, False, False, True])
    # df = 4, 2, 1, 1; all used = 8 non-zeros; with 2 classes the work is 16
    assert softmax.select_columns(x, 2, budget=16, always=always).tolist() == [0, 1, 2, 3]
    assert softmax.select_columns(x, 2, budget=15, always=always).tolist() == [1, 2, 3]  # column 0 is in every row
    assert softmax.select_columns(x, 2, budget=15, weight_budget=4, always=always).tolist() == [0, 3]
    with pytest.raises(ValueError, match="budgets"):
        softmax.select_columns(x, 2, budget=0)
    with pytest.raises(ValueError, match="always"):
        softmax.select_columns(x, 2, always=np.ones(3, dtype=bool))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.permutations(list("abcdef")), st.permutations(["x", "y", "z"]))
def test_carry_over_keeps_each_shared_weight_by_name(seed, names, classes):
    rng = np.random.default_rng(seed)
    old_names, old_classes = list("abcde"), ["x", "y"]
    old_coef, old_intercept = rng.normal(size=(5, 2)).astype(np.float32), rng.normal(size=2)
    coef, intercept = softmax.carry_over(old_names, old_classes, old_coef, old_intercept, names, classes)
    assert coef.shape == (6, 3)
    for i, name in enumerate(names):
        for j, cls in enumerate(classes):
            expected = old_coef[old_names.index(name), old_classes.index(cls)] if name in old_names and cls in old_classes else 0.0
            assert coef[i, j] == expected
    z = classes.index("z")
    assert intercept[z] == pytest.approx(old_intercept.mean())  # a new class starts at the old classes' mean
    assert intercept[classes.index("x")] == old_intercept[0]


def test_bad_arguments_raise():
    x, y = _planted(n=20)
    with pytest.raises(ValueError, match="one label per"):
        softmax.fit(x, y[:5], 5)
    with pytest.raises(ValueError, match="class indices"):
        softmax.fit(x, y + 10, 5)
    with pytest.raises(ValueError, match="n_classes"):
        softmax.fit(x, np.zeros(20, dtype=int), 1)
    with pytest.raises(ValueError, match="C must"):
        softmax.fit(x, y, 5, C=0)

"""Agreement statistics (assay.quality.agreement): textbook examples, the `krippendorff`
package as a reference, and bootstrap intervals."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from assay.quality.agreement import (
    cohen_kappa,
    fleiss_kappa,
    fleiss_kappa_from_labels,
    krippendorff_alpha,
    krippendorff_alpha_from_labels,
    pairwise_cohen_kappa,
)

nan = np.nan
# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers,
# 12 units, missing values; published alpha: nominal .743, ordinal .815, interval .849, ratio .797
KRIPP_2011 = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
        [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
    ]
)
# Fleiss (1971) as worked on Wikipedia: 10 subjects, 14 raters, 5 categories -> kappa 0.210
FLEISS = np.array(
    [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
)


@pytest.mark.parametrize(
    "level,expected", [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)]
)
def test_krippendorff_textbook_example(level, expected):
    assert krippendorff_alpha(KRIPP_2011, level).value == pytest.approx(expected, abs=5e-4)


def test_krippendorff_sparse_form_matches_matrix():
    coders, units = np.nonzero(~np.isnan(KRIPP_2011))
    values = KRIPP_2011[coders, units]
    for level in ("nominal", "ordinal", "interval"):
        a = krippendorff_alpha_from_labels(units, values, level).value
        assert a == pytest.approx(krippendorff_alpha(KRIPP_2011, level).value, abs=1e-12)


def test_krippendorff_string_values_and_undefined_cases():
    data = np.array([["a", "b", None, "a"], ["a", "b", "b", "b"]], dtype=object)
    # units 0,1 agree, unit 3 disagrees, unit 2 has one value (not pairable)
    # coincidences: a-a 2, b-b 2, a-b 1, b-a 1; n_a = 3, n_b = 3, n = 6
    # alpha = 1 - (n-1) * D_o / D_e = 1 - 5 * 2 / (3*3 + 3*3) = 1 - 10/18
    assert krippendorff_alpha(data, "nominal").value == pytest.approx(1 - 10 / 18)
    with pytest.raises(ValueError):
        krippendorff_alpha(data, "interval")
    # a single value everywhere: expected disagreement 0 -> undefined
    assert np.isnan(krippendorff_alpha(np.ones((3, 5)), "nominal").value)
    with pytest.raises(ValueError):
        krippendorff_alpha(KRIPP_2011, "cardinal")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(2, 5),
    st.integers(2, 25),
    st.integers(2, 6),
    st.floats(0.0, 0.5),
    st.integers(0, 2**31 - 1),
    st.sampled_from(["nominal", "ordinal", "interval", "ratio"]),
)
def test_krippendorff_matches_reference_package(coders, units, n_values, missing, seed, level):
    krippendorff = pytest.importorskip("krippendorff", reason="the krippendorff package is in the test extra")
    rng = np.random.default_rng(seed)
    data = rng.integers(1, n_values + 1, size=(coders, units)).astype(float)
    data[rng.random(data.shape) < missing] = nan
    ours = krippendorff_alpha(data, level).value
    try:
        ref = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
    except ValueError:  # the reference refuses data with a single value in its domain
        assume(False)
    if not np.isfinite(ref):
        assert np.isnan(ours)
        return
    assert ours == pytest.approx(ref, abs=1e-9)


def test_fleiss_textbook_example():
    r = fleiss_kappa(FLEISS)
    assert r.value == pytest.approx(0.20993, abs=5e-5)
    # P-bar = 0.378, P-e = 0.213 (Wikipedia's worked numbers)
    assert r.n_units == 10


def test_fleiss_from_labels_matches_counts_and_allows_varying_raters():
    units, cats = np.nonzero(FLEISS)
    reps = FLEISS[units, cats]
    t = np.repeat(units, reps)
    lab = np.repeat(cats, reps)
    assert fleiss_kappa_from_labels(t, lab).value == pytest.approx(fleiss_kappa(FLEISS).value)
    # varying raters: unit 0 has 2 answers (agree), unit 1 has 3 (2 vs 1), unit 2 one answer (ignored)
    counts = np.array([[2, 0], [1, 2], [0, 1]])
    p_i = np.array([1.0, (0 + 2) / 6])
    p = np.array([3, 2]) / 5
    p_e = (p**2).sum()
    assert fleiss_kappa(counts).value == pytest.approx((p_i.mean() - p_e) / (1 - p_e))


def test_cohen_textbook_example():
    # 50 items: yes/yes 20, yes/no 5, no/yes 10, no/no 15 -> p_o .7, p_e .5, kappa .4
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(a, b).value == pytest.approx(0.4)
    assert cohen_kappa([0, 0, 1, 1], [0, 1, 0, 1]).value == pytest.approx(0.0)
    assert cohen_kappa([2, 1, 0], [2, 1, 0]).value == pytest.approx(1.0)
    # missing entries are dropped pairwise
    assert cohen_kappa([0, 1, None, 1], [0, 1, 1, nan]).value == pytest.approx(1.0)
    assert np.isnan(cohen_kappa([1, 1, 1], [1, 1, 1]).value)


def test_pairwise_cohen_matches_per_pair_kappa():
    rng = np.random.default_rng(2)
    n_tasks, n_workers = 40, 4
    rows = [(t, w, int(rng.integers(0, 3))) for t in range(n_tasks) for w in range(n_workers) if rng.random() < 0.7]
    t, w, lab = map(np.array, zip(*rows))
    res = pairwise_cohen_kappa(t, w, lab, min_overlap=5)
    assert len(res.kappa) == 6
    for a, b, k, n in zip(res.worker_a, res.worker_b, res.kappa, res.n_common):
        ta = dict(zip(t[w == a], lab[w == a]))
        tb = dict(zip(t[w == b], lab[w == b]))
        common = sorted(set(ta) & set(tb))
        assert n == len(common)
        assert k == pytest.approx(cohen_kappa([ta[x] for x in common], [tb[x] for x in common]).value)
    assert res.mean.value == pytest.approx(np.nanmean(res.kappa))
    m = res.matrix()
    assert m.shape == (4, 4) and m[res.worker_a[0], res.worker_b[0]] == m[res.worker_b[0], res.worker_a[0]]
    # the pair threshold removes pairs with too little overlap
    assert len(pairwise_cohen_kappa(t, w, lab, min_overlap=1000).kappa) == 0


def test_bootstrap_intervals():
    r = fleiss_kappa(FLEISS, n_bootstrap=500, seed=1)
    assert r.ci_low < r.value < r.ci_high
    assert r == fleiss_kappa(FLEISS, n_bootstrap=500, seed=1)  # deterministic for a seed
    a = krippendorff_alpha(KRIPP_2011, "interval", n_bootstrap=500)
    assert a.ci_low <= a.value <= a.ci_high <= 1.0
    o = krippendorff_alpha(KRIPP_2011, "ordinal", n_bootstrap=200)
    assert o.ci_low <= o.value <= o.ci_high
    # more units -> narrower interval
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 3, 2000)
    noisy = np.where(rng.random((3, 2000)) < 0.8, truth, rng.integers(0, 3, (3, 2000))).astype(float)
    small = krippendorff_alpha(noisy[:, :100], n_bootstrap=300)
    big = krippendorff_alpha(noisy, n_bootstrap=300)
    assert (big.ci_high - big.ci_low) < (small.ci_high - small.ci_low) / 2
    assert big.ci_low < big.value < big.ci_high
    c = cohen_kappa(noisy[0], noisy[1], n_bootstrap=300)
    assert c.ci_low < c.value < c.ci_high
    t = np.repeat(np.arange(300), 3)
    w = np.tile(np.arange(3), 300)
    p = pairwise_cohen_kappa(t, w, noisy[:, :300].T.ravel().astype(int), n_bootstrap=50)
    assert p.mean.ci_low < p.mean.value < p.mean.ci_high

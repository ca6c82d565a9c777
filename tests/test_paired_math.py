"""Paired comparison of two model versions (quality/paired.py): hand-computed sign tests,
a planted difference found, no planted difference found rarely (about alpha of the time)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest

from assay.quality.paired import mean_interval, paired_preference, paired_scores


def test_sign_test_by_hand():
    outcomes = [1.0] * 9 + [0.0] * 1 + [0.5] * 5
    out = paired_preference(outcomes, names=("v2", "v1"))
    assert out["wins"] == {"v2": 9, "v1": 1} and out["ties"] == 5
    assert out["p_value"] == pytest.approx(binomtest(9, 10, 0.5).pvalue) == pytest.approx(22 / 1024)
    assert out["significant"] and out["better"] == "v2" and out["verdict"].startswith("v2 is better")
    assert out["win_rate"] == pytest.approx((9 + 2.5) / 15, abs=1e-4) and out["low"] <= out["win_rate"] <= out["high"]
    even = paired_preference([1.0, 0.0] * 5)
    assert not even["significant"] and even["better"] is None and even["verdict"].startswith("no significant difference")
    assert paired_preference([])["verdict"] == "no items judged yet"
    with pytest.raises(ValueError):
        paired_preference([0.3])


def test_planted_differences_are_found_and_absent_ones_rarely():
    rng = np.random.default_rng(8)
    found = 0
    false_alarms = 0
    for _ in range(200):
        planted = rng.random(80)
        found += paired_preference(np.where(planted < 0.65, 1.0, np.where(planted < 0.8, 0.5, 0.0)))["significant"]
        null = rng.random(80)
        false_alarms += paired_preference(np.where(null < 0.4, 1.0, np.where(null < 0.6, 0.5, 0.0)))["significant"]
    assert found / 200 > 0.95  # 65 % against 20 % wins over 80 items
    assert false_alarms / 200 < 0.08  # alpha = 0.05 (the exact test is a little conservative)


def test_paired_scores_and_means():
    a = [5, 4, 5, 4, 5, 5, 4, 5, 4, 5, 5, 4]
    b = [3, 3, 4, 2, 3, 4, 3, 3, 2, 4, 3, 3]
    out = paired_scores(a, b, names=("new", "old"))
    assert out["mean_difference"] == pytest.approx(np.mean(np.subtract(a, b)), abs=1e-4) and out["significant"] and out["better"] == "new"
    assert out["low"] > 0
    same = paired_scores(a, a)
    assert same["p_value"] == 1.0 and not same["significant"]
    m = mean_interval([1, 2, 3, 4, 5])
    assert m["mean"] == 3.0 and m["low"] < 3.0 < m["high"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from([0.0, 0.5, 1.0]), min_size=1, max_size=60))
def test_swapping_the_models_mirrors_the_comparison(outcomes):
    ab = paired_preference(outcomes, names=("a", "b"), n_bootstrap=200)
    ba = paired_preference([1.0 - o for o in outcomes], names=("b", "a"), n_bootstrap=200)
    assert ab["wins"] == ba["wins"] and ab["ties"] == ba["ties"]
    assert ab["p_value"] == pytest.approx(ba["p_value"]) and ab["significant"] == ba["significant"] and ab["better"] == ba["better"]
    assert ab["win_rate"] == pytest.approx(1.0 - ba["win_rate"], abs=1e-4)

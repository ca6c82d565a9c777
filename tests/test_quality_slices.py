"""Slice statistics (quality/slices.py): known answers for the Wilson interval and Holm's
correction, properties over random counts, and a planted bias flagged where a fair
dataset of the same size is not."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from assay.quality.slices import compare_rates, holm, independence_p, label_distribution, one_vs_rest_p, wilson


def test_wilson_known_answers():
    low, high = wilson(8, 10)
    assert round(low, 4) == 0.4902 and round(high, 4) == 0.9433  # the textbook 8/10 interval
    assert wilson(0, 0) == (0.0, 1.0)
    low, high = wilson(0, 20)
    assert low == 0.0 and round(high, 4) == 0.1611


def test_holm_known_answers():
    # p = (0.01, 0.04, 0.03, 0.005) → sorted 0.005×4, 0.01×3, 0.03×2, 0.04×1, made monotone
    assert [round(p, 6) for p in holm([0.01, 0.04, 0.03, 0.005])] == [0.03, 0.06, 0.06, 0.02]
    assert holm([]) == []
    assert holm([0.9, 0.8]) == [1.0, 1.0]


def test_one_vs_rest_uses_fisher_for_small_counts():
    # 2×2 [[3, 0], [0, 3]]: Fisher's two-sided p = 0.1
    assert round(one_vs_rest_p(3, 3, 0, 3), 4) == 0.1
    assert one_vs_rest_p(0, 0, 5, 10) == 1.0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=1, allow_nan=False), min_size=1, max_size=12))
def test_holm_is_bounded_and_never_below_raw(ps):
    adjusted = holm(ps)
    assert all(p <= q <= 1.0 for p, q in zip(ps, adjusted, strict=True))
    ranked = sorted(range(len(ps)), key=lambda i: ps[i])
    assert all(adjusted[a] <= adjusted[b] for a, b in zip(ranked, ranked[1:], strict=False))


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from("abcdef"), st.tuples(st.integers(0, 60), st.integers(0, 60)).map(lambda t: (min(t), max(t))),
                       min_size=1, max_size=6))
def test_rates_stay_within_their_intervals(counts):
    for row in compare_rates(counts):
        assert 0 <= row.low <= row.high <= 1
        if row.n:
            assert row.low - 1e-9 <= row.rate <= row.high + 1e-9
        assert 0 <= row.p_value <= 1 and 0 <= row.p_adjusted <= 1


def _dataset(seed: int, bias: float) -> dict[str, dict[str, int]]:
    """Three sources labelled 'toxic' 20 % of the time; with bias, 'forum' at 20 % + bias."""
    rng = random.Random(seed)
    table = {}
    for source in ("news", "forum", "blog"):
        share = 0.2 + (bias if source == "forum" else 0.0)
        toxic = sum(rng.random() < share for _ in range(400))
        table[source] = {"toxic": toxic, "fine": 400 - toxic}
    return table


def test_a_planted_bias_is_flagged_and_a_fair_dataset_is_not():
    biased = label_distribution(_dataset(1, 0.15))
    assert {r.slice for r in biased["toxic"] if r.flagged} == {"forum"}
    assert independence_p(_dataset(1, 0.15)) < 1e-4
    fair_flags = sum(r.flagged for seed in range(20) for rows in label_distribution(_dataset(100 + seed, 0.0)).values() for r in rows)
    assert fair_flags <= 1  # family-wise error 5 % per table: over 20 fair tables, at most a stray one


def test_agreement_rates_flag_the_slice_that_differs():
    rows = {r.slice: r for r in compare_rates({"en": (270, 300), "de": (268, 300), "fr": (180, 300)})}
    assert rows["fr"].flagged and not rows["en"].flagged and not rows["de"].flagged

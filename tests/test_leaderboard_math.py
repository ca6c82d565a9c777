"""Leaderboard statistics (quality/leaderboard.py, quality/style_control.py): hand-computed
cases, a planted ordering of 12 models recovered from simulated judgements with ties, and
style control removing a planted length bias."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import kendalltau

from assay.quality.leaderboard import fit_leaderboard, judgement_arrays, win_rates
from assay.quality.style_control import fit_style_controlled, style_covariates, text_style

TINY = 1e-9  # a prior this small leaves the maximum-likelihood answer


def simulate(rng, theta, n, nu=0.4, covariates=None, beta=0.0):
    """Judgements of random distinct pairs under Davidson's model (optionally with a style
    effect beta * z on the a-vs-b log-odds)."""
    m = len(theta)
    a = rng.integers(0, m, n)
    b = (a + rng.integers(1, m, n)) % m
    u = np.zeros(n) if covariates is None else beta * covariates
    pa, pb = np.exp(theta[a] + u / 2), np.exp(theta[b] - u / 2)
    pt = nu * np.sqrt(pa * pb)
    s = pa + pb + pt
    draw = rng.random(n)
    return a, b, np.where(draw < pa / s, 1.0, np.where(draw < (pa + pb) / s, 0.0, 0.5))


def test_two_models_with_ties_match_the_closed_form():
    # Two models, Davidson: the model is saturated, so P(a) = 6/10, P(b) = 2/10, P(tie) = 2/10:
    # theta_a - theta_b = ln(6/2), nu = 2 / sqrt(6 * 2).
    a, b, out = judgement_arrays([(0, 1, 1.0)] * 6 + [(1, 0, 1.0)] * 2 + [(0, 1, 0.5)] * 2)
    res = fit_leaderboard(2, a, b, out, n_bootstrap=0, prior=TINY)
    assert res.scores[0] - res.scores[1] == pytest.approx(math.log(3), abs=1e-6)
    assert res.scores[0] == pytest.approx(math.log(3) / 2, abs=1e-6)
    assert res.tie_strength == pytest.approx(2 / math.sqrt(12), abs=1e-6)
    assert list(res.rank) == [1, 2]
    # the fitted expectation (ties as half) equals the observed share
    assert res.expected[0, 1] == pytest.approx((6 + 1) / 10, abs=1e-6)


def test_plain_bradley_terry_counts_ties_as_halves():
    a, b, out = judgement_arrays([(0, 1, 1.0)] * 3 + [(0, 1, 0.0)] + [(0, 1, 0.5)] * 2)
    res = fit_leaderboard(2, a, b, out, n_bootstrap=0, prior=TINY, ties=False)
    assert res.scores[0] - res.scores[1] == pytest.approx(math.log(4 / 2), abs=1e-6)  # 4 wins against 2
    assert res.tie_strength == 0.0


def test_win_rate_matrix_by_hand():
    a, b, out = judgement_arrays([(0, 1, 1.0), (1, 0, 1.0), (0, 2, 0.5), (2, 0, 0.0), (1, 2, 1.0)])
    games, wins, ties = win_rates(3, a, b, out)
    assert games.tolist() == [[0, 2, 2], [2, 0, 1], [2, 1, 0]]
    assert wins.tolist() == [[0, 1, 1.5], [1, 0, 1], [0.5, 0, 0]]
    assert ties.tolist() == [[0, 0, 1], [0, 0, 0], [1, 0, 0]]


def test_a_balanced_cycle_ranks_everyone_equal():
    a, b, out = judgement_arrays([(0, 1, 1.0), (1, 2, 1.0), (2, 0, 1.0)] * 5)
    res = fit_leaderboard(3, a, b, out, n_bootstrap=50)
    assert np.allclose(res.scores, 0, atol=1e-8)
    assert list(res.rank_ub) == [1, 1, 1]


def test_bad_judgements_are_refused():
    with pytest.raises(ValueError, match="itself"):
        fit_leaderboard(2, [0], [0], [1.0])
    with pytest.raises(ValueError, match="in \\[0, 2\\)"):
        fit_leaderboard(2, [0], [2], [1.0])
    with pytest.raises(ValueError, match="outcomes"):
        fit_leaderboard(2, [0], [1], [0.3])


def test_planted_ordering_of_twelve_models_is_recovered_with_honest_intervals():
    rng = np.random.default_rng(2026)
    theta = np.linspace(-1.5, 1.5, 12)
    theta -= theta.mean()
    taus, covered = [], []
    for replication in range(60):
        a, b, out = simulate(rng, theta, 3000)
        res = fit_leaderboard(12, a, b, out, n_bootstrap=100, seed=replication)
        taus.append(kendalltau(res.scores, theta).statistic)
        covered.append((res.ci_low <= theta) & (theta <= res.ci_high))
    assert min(taus) >= 0.9, f"Kendall tau per replication: {sorted(taus)[:5]}"
    coverage = float(np.mean(covered))
    assert coverage >= 0.93, f"95 % intervals covered the true score in {coverage:.3f} of (model, replication) cases"
    assert 0.3 < res.tie_strength < 0.5  # nu = 0.4 planted
    assert res.rank[-1] == 1 and res.rank[0] == 12 and res.rank_low[-1] == 1


def test_cluster_bootstrap_keeps_a_rankings_judgements_together():
    rng = np.random.default_rng(5)
    theta = np.array([1.0, 0.0, -1.0])
    # each "ranking task" contributes all three of its pairwise comparisons (dependent)
    tasks = [list(np.argsort(-(theta + rng.gumbel(size=3)))) for _ in range(200)]
    rows = [(r[i], r[j], 1.0, t) for t, r in enumerate(tasks) for i in range(3) for j in range(i + 1, 3)]
    a, b, out, cluster = (np.array(c) for c in zip(*rows))
    by_task = fit_leaderboard(3, a, b, out, clusters=cluster, n_bootstrap=200, seed=1)
    assert list(by_task.rank) == [1, 2, 3]
    assert np.all(by_task.ci_high > by_task.ci_low)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(1, 3), st.sampled_from([0.0, 0.5, 1.0])), min_size=1, max_size=40),
       st.permutations(range(4)))
def test_scores_do_not_depend_on_names_or_sides(raw, perm):
    a = np.array([x for x, _, _ in raw])
    b = (a + np.array([d for _, d, _ in raw])) % 4
    out = np.array([o for _, _, o in raw])
    base = fit_leaderboard(4, a, b, out, n_bootstrap=0)
    perm = np.array(perm)
    renamed = fit_leaderboard(4, perm[a], perm[b], out, n_bootstrap=0)
    assert np.allclose(renamed.scores[perm], base.scores, atol=1e-7)
    swapped = fit_leaderboard(4, b, a, 1.0 - out, n_bootstrap=0)
    assert np.allclose(swapped.scores, base.scores, atol=1e-7)


def test_text_style_and_covariates():
    text = "# Title\n\nSome **bold** words.\n\n- one\n- two\n1. three\n"
    assert text_style(text) == (11, 1, 3, 1)  # words split on white space
    z = style_covariates(np.array([[30, 0], [10, 2]]), np.array([[10, 0], [10, 0]]))
    assert z.tolist() == [[0.5, 0.0], [0.0, 1.0]]


def test_style_control_without_style_differences_is_the_plain_fit():
    rng = np.random.default_rng(7)
    theta = np.array([0.8, 0.2, -0.3, -0.7])
    a, b, out = simulate(rng, theta, 2000)
    plain = fit_leaderboard(4, a, b, out, n_bootstrap=0)
    styled = fit_style_controlled(4, a, b, out, np.zeros((len(a), 2)))
    assert np.allclose(styled.scores, plain.scores, atol=1e-6)
    assert styled.tie_strength == pytest.approx(plain.tie_strength, rel=1e-5)
    assert np.allclose(styled.coefficients, 0)


def test_style_control_removes_a_planted_length_bias():
    rng = np.random.default_rng(12)
    theta = np.linspace(-1, 1, 8)
    theta -= theta.mean()
    lengths = np.full(8, 200.0)
    lengths[0] = 800.0  # the weakest model writes four times as much
    n = 16000
    a = rng.integers(0, 8, n)
    b = (a + rng.integers(1, 8, n)) % 8
    la, lb = rng.lognormal(np.log(lengths[a]), 0.3), rng.lognormal(np.log(lengths[b]), 0.3)
    z = style_covariates(la[:, None], lb[:, None])
    out = simulate_with(rng, theta, a, b, z[:, 0], beta=1.5)
    plain = fit_leaderboard(8, a, b, out, n_bootstrap=0)
    styled = fit_style_controlled(8, a, b, out, z, n_bootstrap=10, seed=3)
    assert plain.scores[0] - theta[0] > 0.5  # verbosity bought the weakest model a lot
    assert abs(styled.scores[0] - theta[0]) < max(0.15, 3 * styled.se[0])
    assert kendalltau(styled.scores, theta).statistic == pytest.approx(1.0)
    assert abs(styled.coefficients[0] - 1.5) < 3 * styled.coefficient_se[0]
    assert styled.ci_low[0] <= theta[0] <= styled.ci_high[0]


def simulate_with(rng, theta, a, b, z, beta):
    u = beta * z
    pa, pb = np.exp(theta[a] + u / 2), np.exp(theta[b] - u / 2)
    pt = 0.3 * np.sqrt(pa * pb)
    s = pa + pb + pt
    draw = rng.random(len(a))
    return np.where(draw < pa / s, 1.0, np.where(draw < (pa + pb) / s, 0.0, 0.5))

"""Adaptive overlap replayed (assay.quality.adaptive): the stop rule's pieces by hand,
hypothesis properties of the replay, and the real crowdsourced sets."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import beta as beta_dist

from assay.quality.adaptive import StopRule, credible_accuracy, one_coin_rows, replay_adaptive, replay_fixed, sequential_posteriors
from assay.quality.evaluate import load_dataset, replay
from assay.quality.online import smoothed_accuracy
from tests.quality_support import simulate

DATASETS = Path(os.environ.get("ASSAY_DATASETS") or Path(__file__).resolve().parents[2] / "shared" / "datasets")
PROPS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def label_sets(draw):
    """Small random label sets: tasks with 1-7 answers from distinct workers, 2-4 classes."""
    n_classes = draw(st.integers(2, 4))
    n_workers = draw(st.integers(2, 9))
    n_tasks = draw(st.integers(3, 25))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    t, w, lab = [], [], []
    for task in range(n_tasks):
        k = int(rng.integers(1, min(7, n_workers) + 1))
        for worker in rng.choice(n_workers, k, replace=False):
            t.append(task), w.append(int(worker)), lab.append(int(rng.integers(0, n_classes)))
    order = rng.permutation(len(t))
    return np.array(t)[order], np.array(w)[order], np.array(lab)[order], n_classes


# ----------------------------------------------------------------------------- pieces, by hand


def test_credible_accuracy_known_answers():
    # no record: the 5 % quantile of Beta(4, 1), whose CDF is x**4
    assert credible_accuracy(0, 0, 0.05) == pytest.approx(0.05 ** 0.25)
    assert credible_accuracy(0, 0, 0.5) == pytest.approx(0.5 ** 0.25)
    # 9 agreed of 10: Beta(13, 2)
    assert credible_accuracy(9, 10, 0.05) == pytest.approx(beta_dist.ppf(0.05, 13, 2))
    # the same 90 % agreement over 10x the answers is known better: a higher bound
    assert credible_accuracy(900, 1000, 0.05) > credible_accuracy(90, 100, 0.05) > credible_accuracy(9, 10, 0.05)
    np.testing.assert_allclose(credible_accuracy([0, 9], [0, 10], 0.05), [0.05 ** 0.25, beta_dist.ppf(0.05, 13, 2)])
    with pytest.raises(ValueError):
        credible_accuracy(5, 3, 0.05)


@PROPS
@given(st.integers(0, 400), st.integers(0, 400), st.sampled_from([0.01, 0.05, 0.1, 0.25]))
def test_credible_accuracy_is_below_the_mean_and_monotone(agreed, wrong, q):
    answered = agreed + wrong
    low = credible_accuracy(agreed, answered, q)
    mean = (agreed + 4.0) / (answered + 5.0)
    assert 0.0 < low < mean
    if mean <= 0.99:  # smoothed_accuracy clips at 0.99
        assert low < smoothed_accuracy(agreed, answered)
    assert credible_accuracy(agreed + 1, answered + 1, q) > low  # one more agreement: higher
    assert credible_accuracy(agreed, answered + 1, q) < low  # one more disagreement: lower
    assert credible_accuracy(agreed, answered, min(0.5, 2 * q)) > low  # a looser bound is higher


def test_one_coin_rows_hand_computed():
    rows = one_coin_rows(np.array([0.9, 0.6]), np.array([0, 2]), 3)
    np.testing.assert_allclose(np.exp(rows), [[0.9, 0.05, 0.05], [0.2, 0.2, 0.6]])
    # two agreeing answers at 0.9 (binary, flat prior): 0.81 / (0.81 + 0.01)
    post, _ = sequential_posteriors(np.array([0, 0]), one_coin_rows(np.array([0.9, 0.9]), np.array([1, 1]), 2), np.log([0.5, 0.5]))
    assert post[1, 1] == pytest.approx(0.81 / 0.82)


def test_stop_rule_validates():
    for bad in ({"target": 0.0}, {"target": 1.5}, {"max_labels": 0}, {"min_labels": 0}, {"credible": 0.0}, {"credible": 0.7},
                {"accuracy_cap": 1.0}, {"accuracy_cap": 0.3}):
        with pytest.raises(ValueError):
            StopRule(**bad)
    t, w, lab = np.array([0, 0, 1]), np.array([0, 1, 0]), np.array([0, 0, 1])
    with pytest.raises(ValueError):
        replay_adaptive(t, w, lab, folds=1)
    with pytest.raises(ValueError):
        replay_adaptive(t, w, lab, rule=StopRule(), target=0.9)


# ----------------------------------------------------------------------------- the replay


def test_replay_fixed_uses_the_first_k_answers():
    # task 0 answers in arrival order: 1, 1, 0, 0, 0 -> first 3 say 1; all 5 say 0
    t = np.array([0, 1, 0, 0, 1, 0, 0])
    w = np.array([0, 0, 1, 2, 1, 3, 4])
    lab = np.array([1, 0, 1, 0, 0, 0, 0])
    r = replay_fixed(t, w, lab, k=3)
    assert r.tasks.tolist() == [0, 1]
    assert r.predictions.tolist() == [1, 0]
    assert r.labels_used.tolist() == [3, 2]
    assert replay_fixed(t, w, lab, k=5).predictions.tolist() == [0, 0]


def test_curtailed_majority_by_hand():
    # never sure (target 1): a task stops once its majority of 3 is decided
    t = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
    w = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2])
    lab = np.array([1, 1, 0, 0, 1, 1, 0, 0, 1])
    r = replay_adaptive(t, w, lab, target=1.0, margin=None, max_labels=3, route=False, folds=3)
    assert r.labels_used.tolist() == [2, 3, 2]
    assert r.predictions.tolist() == [1, 1, 0]
    assert r.consumed.tolist() == [True, True, False, True, True, True, True, True, False]


@PROPS
@given(label_sets(), st.integers(1, 6))
def test_never_sure_is_exactly_fixed_majority_vote_with_fewer_labels(sets, k):
    """Stopping only when more answers cannot change the majority gives fixed-K's answers."""
    t, w, lab, C = sets
    fixed = replay_fixed(t, w, lab, n_classes=C, k=k)
    cur = replay_adaptive(t, w, lab, n_classes=C, target=1.0, margin=None, max_labels=k, route=False, folds=2)
    np.testing.assert_array_equal(cur.tasks, fixed.tasks)
    np.testing.assert_array_equal(cur.predictions, fixed.predictions)
    assert np.all(cur.labels_used <= fixed.labels_used)


@PROPS
@given(label_sets(), st.integers(1, 6), st.sampled_from([0.6, 0.9, 0.97]), st.booleans())
def test_replay_bounds_and_answer_is_the_vote_of_what_it_used(sets, k, target, route):
    t, w, lab, C = sets
    r = replay_adaptive(t, w, lab, n_classes=C, target=target, max_labels=k, route=route, folds=3)
    per_task = np.bincount(t)
    assert np.all((r.labels_used >= 1) & (r.labels_used <= np.minimum(k, per_task[r.tasks])))
    assert r.consumed.sum() == r.total_labels
    np.testing.assert_array_equal(np.bincount(t[r.consumed], minlength=len(per_task))[r.tasks], r.labels_used)
    # the answer is the majority of the answers it used (ties to the class more frequent overall, as majority_vote)
    score = np.bincount(lab, minlength=C) * (C + 1) + (C - np.arange(C))
    for task, pred in zip(r.tasks, r.predictions):
        votes = np.bincount(lab[r.consumed & (t == task)], minlength=C)
        best = np.flatnonzero(votes == votes.max())
        assert pred == best[np.argmax(score[best])]
    first_k = replay_adaptive(t, w, lab, n_classes=C, target=target, max_labels=k, route=route, route_within_first_k=True, folds=3)
    arrival = np.empty(len(t), dtype=np.int64)
    for task in np.unique(t):
        idx = np.flatnonzero(t == task)
        arrival[idx] = np.arange(idx.size)
    assert np.all(arrival[first_k.consumed] < k)  # only the baseline's own answers
    if not route:  # arrival order: a task uses a prefix of its answers
        for task in r.tasks:
            used = r.consumed[t == task]
            assert not np.any(used[1:] & ~used[:-1])


@PROPS
@given(label_sets(), st.sampled_from([0.6, 0.8, 0.9, 0.97]), st.booleans())
def test_a_higher_target_never_uses_fewer_labels(sets, target, route):
    t, w, lab, C = sets
    low = replay_adaptive(t, w, lab, n_classes=C, target=target, route=route, folds=2)
    high = replay_adaptive(t, w, lab, n_classes=C, target=min(1.0, target + 0.05), route=route, folds=2)
    assert np.all(high.labels_used >= low.labels_used)


def test_replay_saves_on_a_mixed_crowd_and_routes_to_the_good_workers():
    rng = np.random.default_rng(8)
    t, w, lab, truth = simulate(rng, n_tasks=400, accs=(0.95, 0.9, 0.9, 0.65, 0.6, 0.6, 0.55), n_classes=2)
    fixed = replay_fixed(t, w, lab, k=5)
    routed = replay_adaptive(t, w, lab, folds=4)
    arrival = replay_adaptive(t, w, lab, folds=4, route=False)
    for r in (routed, arrival):
        assert r.total_labels < 0.7 * fixed.total_labels
        assert r.accuracy(truth) >= fixed.accuracy(truth) - 0.01
    assert routed.total_labels < arrival.total_labels
    # routing asks the three good workers almost exclusively
    assert np.isin(w[routed.consumed], [0, 1, 2]).mean() > 0.9
    assert np.isin(w[arrival.consumed], [0, 1, 2]).mean() < 0.6


@pytest.mark.parametrize("route", [True, False])
def test_replay_never_peeks(route):
    """Rewrite the answers fold-0 tasks did not use: fold 0's model is trained on the other
    folds only and its routing and stops saw only what it used, so its results must not move."""
    rng = np.random.default_rng(11)
    t, w, lab, _ = simulate(rng, n_tasks=300, accs=(0.95, 0.9, 0.75, 0.6, 0.6, 0.55), n_classes=2)
    res = replay_adaptive(t, w, lab, folds=4, route=route)
    fold = dict(zip(res.tasks, res.fold))
    in_fold0 = np.array([fold[x] == 0 for x in t])
    unused = in_fold0 & ~res.consumed
    assert unused.sum() > 100
    res2 = replay_adaptive(t, w, np.where(unused, 1 - lab, lab), folds=4, route=route)
    np.testing.assert_array_equal(res2.fold, res.fold)
    in0 = res.fold == 0
    for field in ("predictions", "labels_used", "confidence"):
        np.testing.assert_array_equal(getattr(res2, field)[in0], getattr(res, field)[in0])
    np.testing.assert_array_equal(res2.consumed[in_fold0], res.consumed[in_fold0])
    # ...while the same rewrite does move other folds (their models trained on those answers)
    assert not np.allclose(res2.confidence[~in0], res.confidence[~in0])


# ----------------------------------------------------------------------------- real data

@pytest.mark.skipif(not (DATASETS / "rte" / "labels.csv").is_file(), reason=f"{DATASETS} not present (shared datasets)")
@pytest.mark.parametrize("name", ["rte", "temp", "sentiment_polarity_amt"])
def test_replay_on_real_sets_saves_40_percent_without_losing_accuracy(name):
    rep = replay(load_dataset(DATASETS / name))
    assert rep["saved"] >= 0.40
    assert rep["adaptive"]["accuracy"] >= rep["fixed"]["accuracy"]

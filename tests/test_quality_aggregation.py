"""Truth-inference algorithms (assay.quality.votes, .dawid_skene, .glad) (adaptive replay: test_quality_adaptive.py):
hand-computed cases, hypothesis properties, and one real crowdsourced dataset."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assay.quality.aggregation import METHODS, aggregate
from assay.quality.dawid_skene import dawid_skene, one_coin_dawid_skene, update_posteriors
from assay.quality.glad import glad
from assay.quality.label_data import LabelData
from assay.quality.votes import majority_vote, weighted_majority_vote
from tests.quality_support import label_sets, simulate

DATASETS = Path(os.environ.get("ASSAY_DATASETS") or Path(__file__).resolve().parents[2] / "shared" / "datasets")
PROPS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def arrays(rows):
    t, w, lab = zip(*rows)
    return np.array(t), np.array(w), np.array(lab)


# ----------------------------------------------------------------------------- majority vote


def test_majority_vote_hand_computed():
    # task 0: 0,0,1   task 1: 2,2,2   task 2: 1,0 (tie)   task 3: no answers
    t, w, lab = arrays([(0, 0, 0), (0, 1, 0), (0, 2, 1), (1, 0, 2), (1, 1, 2), (1, 2, 2), (2, 0, 1), (2, 1, 0)])
    r = majority_vote(t, w, lab, n_tasks=4, n_classes=3)
    # smoothed shares (votes + 0.5) / (n + 1.5)
    np.testing.assert_allclose(r.posteriors[0], [2.5 / 4.5, 1.5 / 4.5, 0.5 / 4.5])
    np.testing.assert_allclose(r.posteriors[1], [0.5 / 4.5, 0.5 / 4.5, 3.5 / 4.5])
    np.testing.assert_allclose(r.posteriors[3], [1 / 3] * 3)
    # overall frequencies: class 0: 3, class 1: 2, class 2: 3 -> ties go to 0 (frequent, lower index)
    assert r.labels.tolist() == [0, 2, 0, 0]
    assert r.confidence[0] == pytest.approx(2.5 / 4.5)
    assert r.confidence[2] == pytest.approx(1.5 / 3.5)
    # worker skill = (agreements with the vote + 1) / (answers + 2)
    # w0: t0 ok, t1 ok, t2 (said 1, vote 0) no -> 3/5 ; w2: t0 no, t1 ok -> 2/4
    np.testing.assert_allclose(r.worker_skill, [3 / 5, 4 / 5, 2 / 4])


def test_majority_vote_tie_prefers_more_frequent_class():
    # class 1 is given more often overall, so a 1-1 tie between 0 and 1 goes to 1
    t, w, lab = arrays([(0, 0, 0), (0, 1, 1), (1, 0, 1), (1, 1, 1)])
    assert majority_vote(t, w, lab).labels[0] == 1


def test_weighted_majority_vote_hand_computed():
    # tasks 0-5: workers A(0), B(1), E(4) give the label t % 2; C(2), D(3) give the opposite.
    rows = []
    for task in range(6):
        rows += [(task, 0, task % 2), (task, 1, task % 2), (task, 4, task % 2)]
        rows += [(task, 2, 1 - task % 2), (task, 3, 1 - task % 2)]
    rows += [(6, 0, 0), (6, 2, 1), (6, 3, 1)]  # task 6: A says 0, C and D say 1 -> plain MV says 1
    t, w, lab = arrays(rows)
    assert majority_vote(t, w, lab).labels[6] == 1
    r = weighted_majority_vote(t, w, lab)
    # iteration 1 weights from MV: A 6/7 agree -> 7/9, C and D 1/7 -> 2/9: 7/9 > 4/9, so task 6 flips to 0;
    # iteration 2: A 7/7 -> 8/9, B and E 6/6 -> 7/8, C and D 0/7 -> 1/9; labels unchanged -> converged
    assert r.labels[6] == 0
    assert r.converged
    np.testing.assert_allclose(r.worker_skill, [8 / 9, 7 / 8, 1 / 9, 1 / 9, 7 / 8])
    mean_w = float(r.worker_skill[w].mean())
    wv = np.array([8 / 9, 2 / 9]) + 0.5 * mean_w
    np.testing.assert_allclose(r.posteriors[6], wv / wv.sum())


# ----------------------------------------------------------------------------- Dawid-Skene


TINY = arrays([(0, 0, 0), (0, 1, 0), (1, 0, 1), (1, 1, 0)])  # task 0: both say 0; task 1: split


def test_dawid_skene_one_iteration_hand_computed():
    t, w, lab = TINY
    r = dawid_skene(t, w, lab, max_iter=1, prior_strength=2.0)
    # MV start: task 0 -> [1, 0], task 1 -> [.5, .5]
    # expected counts: w0 row0 [1, .5] row1 [0, .5]; w1 row0 [1.5, 0] row1 [.5, 0]
    # population = pooled + 1 = [[3.5, 1.5], [1.5, 1.5]] normalised = [[.7, .3], [.5, .5]]
    # confusion = (counts + 2 * population) / row sums
    c0 = np.array([[2.4 / 3.5, 1.1 / 3.5], [1.0 / 2.5, 1.5 / 2.5]])
    c1 = np.array([[2.9 / 3.5, 0.6 / 3.5], [1.5 / 2.5, 1.0 / 2.5]])
    np.testing.assert_allclose(r.confusion[0], c0)
    np.testing.assert_allclose(r.confusion[1], c1)
    prior = np.array([2.5, 1.5]) / 4  # (posterior sums [1.5, .5] + 1) / (2 + 2)
    np.testing.assert_allclose(r.class_prior, prior)
    np.testing.assert_allclose(r.population_confusion, [[0.7, 0.3], [0.5, 0.5]])
    p0 = prior * c0[:, 0] * c1[:, 0]
    p1 = prior * c0[:, 1] * c1[:, 0]
    np.testing.assert_allclose(r.posteriors[0], p0 / p0.sum())
    np.testing.assert_allclose(r.posteriors[1], p1 / p1.sum())
    assert r.labels.tolist() == [0, int(np.argmax(p1))]
    # skill = sum_k prior_k * confusion[w, k, k]
    np.testing.assert_allclose(r.worker_skill, [prior @ np.diag(c0), prior @ np.diag(c1)])


def test_one_coin_one_iteration_hand_computed():
    t, w, lab = TINY
    r = one_coin_dawid_skene(t, w, lab, max_iter=1, prior_strength=2.0)
    # expected correct: each worker 1 + .5 = 1.5 of 2; pooled (3 + 1) / (4 + 2) = 2/3
    acc = (1.5 + 2 * (2 / 3)) / (2 + 2)
    np.testing.assert_allclose(r.worker_skill, [acc, acc])
    np.testing.assert_allclose(r.confusion[0], [[acc, 1 - acc], [1 - acc, acc]])
    np.testing.assert_allclose(r.posteriors[0], np.array([acc**2, (1 - acc) ** 2]) / (acc**2 + (1 - acc) ** 2))
    np.testing.assert_allclose(r.posteriors[1], [0.5, 0.5])
    assert r.labels[1] == 0  # tie -> class 0 (3 of the 4 answers)


def test_glad_e_step_hand_computed():
    t, w, lab = TINY
    # no M-step updates: ability 1, easiness e, uniform prior -> P(correct) = sigmoid(e)
    r = glad(t, w, lab, max_iter=1, newton_steps=0)
    s = 1 / (1 + math.exp(-math.e))
    np.testing.assert_allclose(r.posteriors[0], np.array([s * s, (1 - s) ** 2]) / (s * s + (1 - s) ** 2))
    np.testing.assert_allclose(r.posteriors[1], [0.5, 0.5])
    np.testing.assert_allclose(r.extra["ability"], [1.0, 1.0])


def test_dawid_skene_recovers_confusion_and_beats_vote():
    rng = np.random.default_rng(3)
    t, w, lab, truth = simulate(rng, n_tasks=2000, accs=(0.95, 0.65, 0.55, 0.6, 0.6))
    r = dawid_skene(t, w, lab)
    assert r.converged
    mv = majority_vote(t, w, lab)
    assert np.mean(r.labels == truth) > np.mean(mv.labels == truth) + 0.03
    diag = np.array([np.diag(r.confusion[k]).mean() for k in range(5)])
    np.testing.assert_allclose(diag, [0.95, 0.65, 0.55, 0.6, 0.6], atol=0.04)
    assert np.argmax(r.worker_skill) == 0


def test_glad_and_one_coin_find_the_adversary():
    rng = np.random.default_rng(4)
    t, w, lab, truth = simulate(rng, n_tasks=400, accs=(0.85, 0.8, 0.8, 0.05), n_classes=2)
    g = glad(t, w, lab)
    assert g.extra["ability"][3] < 0 < g.extra["ability"][:3].min()
    assert np.mean(g.labels == truth) > 0.9
    oc = one_coin_dawid_skene(t, w, lab)
    assert oc.worker_skill[3] < 0.2
    assert np.mean(oc.labels == truth) > 0.9


def test_glad_is_stable_with_extreme_inputs():
    # 50 unanimous answers per task: sigmoid(a*b) saturates; nothing may become nan or inf
    t = np.repeat(np.arange(20), 50)
    w = np.tile(np.arange(50), 20)
    lab = t % 2
    r = glad(t, w, lab, max_iter=50)
    assert np.all(np.isfinite(r.posteriors)) and np.all(np.isfinite(r.extra["ability"]))
    assert r.labels.tolist() == (np.arange(20) % 2).tolist()


def test_input_validation():
    with pytest.raises(ValueError, match="differ in length"):
        majority_vote([0, 1], [0], [0, 1])
    with pytest.raises(ValueError, match="negative"):
        dawid_skene([0, -1], [0, 0], [0, 1])
    with pytest.raises(ValueError, match="n_classes=2"):
        dawid_skene([0, 1], [0, 0], [0, 2], n_classes=2)
    with pytest.raises(ValueError, match="unknown method"):
        aggregate("nope", [0], [0], [0])


def test_empty_and_single_class_inputs():
    for name, fn in METHODS.items():
        r = fn(np.zeros(0, int), np.zeros(0, int), np.zeros(0, int), 3, 2, 2)
        assert r.posteriors.shape == (3, 2), name
        np.testing.assert_allclose(r.posteriors.sum(axis=1), 1.0)
        one = fn([0, 0, 1], [0, 1, 0], [0, 0, 0])
        assert one.labels.tolist() == [0, 0] and np.allclose(one.confidence, 1.0), name


# ----------------------------------------------------------------------------- incremental


def test_update_posteriors_equals_e_step_over_all_answers():
    rng = np.random.default_rng(5)
    t, w, lab, _ = simulate(rng, n_tasks=200, accs=(0.9, 0.7, 0.6), n_classes=3, per_task=150)
    fit = dawid_skene(t, w, lab, n_tasks=203, n_workers=3)
    # new answers: old tasks 0 and 7 (one twice), a brand-new worker 3, a new task 205
    nt = np.array([0, 7, 7, 201, 205])
    nw = np.array([1, 2, 3, 0, 3])
    nl = np.array([2, 1, 0, 1, 2])
    up, affected = update_posteriors(fit, nt, nw, nl)
    assert affected.tolist() == [0, 7, 201, 205]
    assert up.n_tasks == 206
    all_t, all_w, all_l = np.r_[t, nt], np.r_[w, nw], np.r_[lab, nl]
    for task in affected:
        logp = np.log(fit.class_prior).copy()
        for ww, ll in zip(all_w[all_t == task], all_l[all_t == task]):
            conf = fit.confusion[ww] if ww < 3 else fit.population_confusion
            logp += np.log(conf[:, ll])
        p = np.exp(logp - logp.max())
        np.testing.assert_allclose(up.posteriors[task], p / p.sum(), rtol=1e-10)
        assert up.labels[task] == np.argmax(p)
        assert up.n_labels[task] == np.sum(all_t == task)
    untouched = np.setdiff1d(np.arange(203), affected)
    np.testing.assert_array_equal(up.posteriors[untouched], fit.posteriors[untouched])
    np.testing.assert_allclose(up.posteriors[203:205], np.repeat(fit.class_prior[None], 2, axis=0))
    # the input fit is unchanged
    assert fit.n_tasks == 203 and fit.n_labels[0] == np.sum(t == 0)
    with pytest.raises(ValueError, match="confusion"):
        update_posteriors(majority_vote(t, w, lab), nt, nw, nl)


def test_update_posteriors_without_new_answers_keeps_fit():
    rng = np.random.default_rng(6)
    t, w, lab, _ = simulate(rng, n_tasks=50)
    fit = dawid_skene(t, w, lab)
    up, affected = update_posteriors(fit, [], [], [])
    assert affected.size == 0
    np.testing.assert_array_equal(up.posteriors, fit.posteriors)
    # the stored log-joint reproduces the fitted posteriors exactly
    lj = fit.log_joint - fit.log_joint.max(axis=1, keepdims=True)
    np.testing.assert_allclose(np.exp(lj) / np.exp(lj).sum(axis=1, keepdims=True), fit.posteriors, rtol=1e-12)


# ----------------------------------------------------------------------------- properties


@PROPS
@given(label_sets(), st.randoms(use_true_random=False))
def test_permuting_workers_tasks_and_answer_order_changes_nothing(ls, rnd):
    t, w, lab, T, W, C = ls
    task_perm = np.array(rnd.sample(range(T), T))
    worker_perm = np.array(rnd.sample(range(W), W))
    order = np.array(rnd.sample(range(len(t)), len(t)))
    t2, w2, l2 = task_perm[t][order], worker_perm[w][order], lab[order]
    for name, fn in METHODS.items():
        if name == "auto":  # its cross-validation folds are a seeded draw over the answers as given
            continue
        a = fn(t, w, lab, T, W, C)
        b = fn(t2, w2, l2, T, W, C)
        # EM stops once the log-likelihood moves less than 1e-6 per answer: the same sums in
        # another order may stop one step apart (community DS differed by 9e-6 on one example)
        np.testing.assert_allclose(b.posteriors[task_perm], a.posteriors, atol=1e-4, err_msg=name)
        np.testing.assert_allclose(b.worker_skill[worker_perm], a.worker_skill, atol=1e-4, err_msg=name)
        top2 = np.sort(a.posteriors, axis=1)[:, -2:]
        clear = top2[:, 1] - top2[:, 0] > 1e-6  # near-exact ties may be broken by rounding
        np.testing.assert_array_equal(b.labels[task_perm][clear], a.labels[clear], err_msg=name)


@PROPS
@given(label_sets())
def test_posteriors_are_distributions_and_confidence_in_unit_interval(ls):
    t, w, lab, T, W, C = ls
    for name, fn in METHODS.items():
        r = fn(t, w, lab, T, W, C)
        assert r.posteriors.shape == (T, C)
        assert np.all(np.isfinite(r.posteriors)), name
        assert np.all(r.posteriors >= 0), name
        np.testing.assert_allclose(r.posteriors.sum(axis=1), 1.0, atol=1e-9, err_msg=name)
        assert np.all((r.confidence >= 0) & (r.confidence <= 1)), name
        assert np.all((r.worker_skill >= 0) & (r.worker_skill <= 1)), name
        np.testing.assert_allclose(r.confidence, r.posteriors[np.arange(T), r.labels], err_msg=name)
        assert np.all(r.confidence >= r.posteriors.max(axis=1) - 1e-12), name


@PROPS
@given(st.integers(0, 2**32 - 1), st.sampled_from([2, 3, 4]))
def test_dawid_skene_recovers_a_perfect_annotator(seed, n_classes):
    """One always-right annotator among 3-4 noisy ones (65-85 % right, errors uniform), 300-600
    tasks each answered by everyone: DS must rank the perfect annotator first, believe it is
    at least 90 % right, agree with it on at least 95 % of the tasks and make no more errors
    than majority vote. (It need not agree on 100 %: when every noisy annotator contradicts
    it, a finite-sample DS may side with them — true of maximum likelihood too. Weaker noisy
    annotators or fewer tasks make the perfect one statistically unidentifiable.)"""
    rng = np.random.default_rng(seed)
    lo = 0.7 if n_classes == 2 else 0.6
    noisy = rng.uniform(lo, 0.85, int(rng.integers(3, 5)))
    t, w, lab, truth = simulate(rng, n_tasks=int(rng.integers(300, 601)), accs=[1.0, *noisy], n_classes=n_classes)
    r = dawid_skene(t, w, lab)
    mv = majority_vote(t, w, lab)
    assert np.argmax(r.worker_skill) == 0
    assert r.worker_skill[0] >= 0.9
    assert np.mean(r.labels == truth) >= 0.95
    assert np.sum(r.labels != truth) <= np.sum(mv.labels != truth)


# ----------------------------------------------------------------------------- real data


@pytest.mark.skipif(not (DATASETS / "rte" / "labels.csv").is_file(), reason=f"{DATASETS}/rte not present (shared datasets)")
def test_dawid_skene_beats_majority_vote_on_rte():
    from assay.quality.evaluate import accuracy, load_dataset

    ds = load_dataset(DATASETS / "rte")
    data = ds.label_data()
    ds_acc = accuracy(dawid_skene(data).labels, ds)
    mv_acc = accuracy(majority_vote(data).labels, ds)
    assert ds_acc >= mv_acc
    assert ds_acc > 0.9  # published DS accuracy on RTE is ~0.93


def test_labeldata_caches_structures():
    d = LabelData.build([0, 1, 1], [0, 0, 1], [1, 0, 1])
    assert d.onehot is d.onehot
    assert d.onehot.shape == (2, 4)
    assert d.votes.tolist() == [[0, 1], [1, 1]]

"""The sparse-worker truth models (Bayesian DS, community DS, MACE) and `auto`: loop-by-loop
reference implementations of one iteration, hypothesis properties, simulated crowds with a
known answer, and the real label sets."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.special import digamma

from assay.quality.auto import CANDIDATES, auto, identifiable, score_candidates, temper
from assay.quality.bayesian_ds import bayesian_dawid_skene
from assay.quality.community_ds import community_dawid_skene
from assay.quality.dawid_skene import dawid_skene
from assay.quality.label_data import LabelData
from assay.quality.mace import mace
from assay.quality.online import fitted_parameters, posterior_given
from assay.quality.votes import majority_vote
from tests.quality_support import label_sets

DATASETS = Path(os.environ.get("ASSAY_DATASETS") or Path(__file__).resolve().parents[2] / "shared" / "datasets")
PROPS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def simulate(rng, n_tasks, accs, n_classes=2, per_task=None):
    """Each task answered by ``per_task`` random workers (all if None) with one-coin accuracies."""
    truth = rng.integers(0, n_classes, n_tasks)
    t, w, lab = [], [], []
    for task in range(n_tasks):
        workers = range(len(accs)) if per_task is None else rng.choice(len(accs), per_task, replace=False)
        for worker in workers:
            right = rng.random() < accs[worker]
            t.append(task)
            w.append(worker)
            lab.append(truth[task] if right else (truth[task] + rng.integers(1, n_classes)) % n_classes)
    return np.array(t), np.array(w), np.array(lab), truth


def mv_start(t, lab, T, C):
    votes = np.zeros((T, C))
    for task, label in zip(t, lab):
        votes[task, label] += 1
    return votes / votes.sum(axis=1, keepdims=True)


# ----------------------------------------------------------------------------- one iteration by hand


def test_bayesian_ds_one_iteration_matches_a_loop_reference():
    t = np.array([0, 0, 0, 1, 1, 2, 2, 2, 3])
    w = np.array([0, 1, 2, 0, 2, 1, 2, 0, 1])
    lab = np.array([0, 0, 1, 1, 1, 2, 2, 0, 2])
    T, W, C, s, d = 4, 3, 3, 2.0, 1.0
    post = mv_start(t, lab, T, C)
    counts = np.zeros((W, C, C))
    for task, worker, label in zip(t, w, lab):
        counts[worker, :, label] += post[task]
    pooled = counts.sum(axis=0) + 1.0
    population = pooled / pooled.sum(axis=1, keepdims=True)
    alpha = counts + s * population + d * np.eye(C)
    beta = post.sum(axis=0) + 1.0
    logj = np.tile(digamma(beta) - digamma(beta.sum()), (T, 1))
    for task, worker, label in zip(t, w, lab):
        for k in range(C):
            logj[task, k] += digamma(alpha[worker, k, label]) - digamma(alpha[worker, k].sum())
    expected = np.exp(logj - logj.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    r = bayesian_dawid_skene(t, w, lab, T, W, C, max_iter=1, prior_strength=s, prior_diagonal=d)
    np.testing.assert_allclose(r.posteriors, expected, rtol=1e-10)
    np.testing.assert_allclose(r.confusion, alpha / alpha.sum(axis=2, keepdims=True), rtol=1e-10)


def test_mace_one_iteration_matches_a_loop_reference():
    t = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    w = np.array([0, 1, 2, 0, 1, 2, 0, 2])
    lab = np.array([1, 1, 0, 0, 0, 0, 1, 0])
    T, W, C = 3, 3, 2
    post = mv_start(t, lab, T, C)
    theta0, xi0 = 0.5, 1.0 / C
    honest = np.zeros(W)
    spam = np.ones((W, C))  # add-one smoothing
    n_w = np.bincount(w, minlength=W)
    for task, worker, label in zip(t, w, lab):
        h = post[task, label] * theta0 / (theta0 + (1 - theta0) * xi0)
        honest[worker] += h
        spam[worker, label] += 1 - h
    theta = (honest + 1.0) / (n_w + 2.0)  # Beta(2, 2) MAP
    xi = spam / spam.sum(axis=1, keepdims=True)
    prior = (post.sum(axis=0) + 1.0) / (T + C)
    logj = np.tile(np.log(prior), (T, 1))
    for task, worker, label in zip(t, w, lab):
        for k in range(C):
            logj[task, k] += np.log(theta[worker] * (k == label) + (1 - theta[worker]) * xi[worker, label])
    expected = np.exp(logj - logj.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    r = mace(t, w, lab, T, W, C, max_iter=1)
    np.testing.assert_allclose(r.posteriors, expected, rtol=1e-10)
    np.testing.assert_allclose(r.extra["competence"], theta, rtol=1e-10)


# ----------------------------------------------------------------------------- properties


@PROPS
@given(label_sets())
def test_worker_models_are_distributions(ls):
    t, w, lab, T, W, C = ls
    for fit in (bayesian_dawid_skene, community_dawid_skene, mace):
        r = fit(t, w, lab, T, W, C)
        assert r.confusion.shape == (W, C, C) and np.all(r.confusion >= 0)
        np.testing.assert_allclose(r.confusion.sum(axis=2), 1.0, atol=1e-9)
        np.testing.assert_allclose(r.population_confusion.sum(axis=1), 1.0, atol=1e-9)
        np.testing.assert_allclose(r.class_prior.sum(), 1.0, atol=1e-9)
        # scoring a task's own answers with the fitted parameters gives a distribution too
        params = fitted_parameters(r)
        p = posterior_given(params, list(w[t == t[0]]), list(lab[t == t[0]]), temperature=1.7)
        assert np.all(p >= 0) and p.sum() == pytest.approx(1.0)
    members = community_dawid_skene(t, w, lab, T, W, C).extra["community"]
    np.testing.assert_allclose(members.sum(axis=1), 1.0, atol=1e-9)
    theta = mace(t, w, lab, T, W, C).extra["competence"]
    assert np.all((theta > 0) & (theta < 1))


@PROPS
@given(label_sets(), st.floats(0.25, 8.0))
def test_tempering_keeps_labels_and_order(ls, temperature):
    t, w, lab, T, W, C = ls
    data = LabelData.build(t, w, lab, T, W, C)
    r = bayesian_dawid_skene(data)
    tempered = temper(r, data, temperature)
    np.testing.assert_array_equal(tempered.labels, r.labels)
    np.testing.assert_allclose(tempered.posteriors.sum(axis=1), 1.0, atol=1e-9)
    # the order of the classes within a task is kept; T > 1 moves the top class towards uniform
    rows, a, b = np.nonzero(r.posteriors[:, :, None] > r.posteriors[:, None, :] + 1e-9)
    assert np.all(tempered.posteriors[rows, a] >= tempered.posteriors[rows, b])
    if temperature > 1:
        assert np.all(tempered.confidence <= r.confidence + 1e-12)


# ----------------------------------------------------------------------------- known answers


def test_sparse_workers_bayesian_ds_and_auto_hold_up():
    """300 tasks x 3 answers from 150 workers with 6 answers each, all 70 % right: too
    little per worker for a full confusion matrix. Bayesian DS must be at least as accurate
    as majority vote, and so must auto's choice."""
    rng = np.random.default_rng(3)
    t, w, lab, truth = simulate(rng, 300, [0.7] * 150, n_classes=3, per_task=3)
    mv = np.mean(majority_vote(t, w, lab).labels == truth)
    assert np.mean(bayesian_dawid_skene(t, w, lab).labels == truth) >= mv - 0.01
    assert np.mean(auto(t, w, lab).labels == truth) >= mv - 0.01
    scores = score_candidates(LabelData.build(t, w, lab))
    assert all(np.isfinite(c.score) for c in scores.values())


def test_mace_and_communities_find_the_spammers():
    """3 good workers and 3 who always answer class 0: MACE gives the spammers low competence
    and a spam distribution on class 0; community DS puts them in a community of their own."""
    rng = np.random.default_rng(4)
    t, w, lab, truth = simulate(rng, 200, [0.9, 0.85, 0.85, 0.5, 0.5, 0.5], n_classes=3)
    lab = np.where(w >= 3, 0, lab)
    mv = np.mean(majority_vote(t, w, lab).labels == truth)
    r = mace(t, w, lab)
    theta = r.extra["competence"]
    assert theta[:3].min() > 0.7 and theta[3:].max() < 0.5
    assert np.all(r.extra["spam_distribution"][3:, 0] > 0.9)
    assert np.mean(r.labels == truth) > mv + 0.1
    members = community_dawid_skene(t, w, lab).extra["community"].argmax(axis=1)
    assert len(set(members[3:])) == 1 and members[3] not in set(members[:3])


def test_auto_keeps_majority_vote_on_pure_noise():
    """Answers that carry no signal: no richer model predicts held-out labels better than
    noise allows, so auto stays with majority vote."""
    rng = np.random.default_rng(5)
    t = np.repeat(np.arange(300), 5)
    w = rng.integers(0, 30, t.size)
    lab = rng.integers(0, 3, t.size)
    r = auto(t, w, lab)
    assert r.method == "auto" and r.extra["chosen"] == "majority_vote" and r.extra["weights"] == {"majority_vote": 1.0}
    np.testing.assert_array_equal(r.labels, majority_vote(t, w, lab).labels)
    assert set(r.extra["scores"]) == set(CANDIDATES)
    # a project scores new tasks with it: the same symmetric matrix for every worker
    params = fitted_parameters(r, np.bincount(w))
    np.testing.assert_allclose(params.confusions, np.broadcast_to(params.confusions[0], params.confusions.shape))


def test_auto_picks_a_worker_model_when_workers_differ():
    rng = np.random.default_rng(6)
    t, w, lab, truth = simulate(rng, 400, [0.95, 0.9, 0.6, 0.55, 0.55], n_classes=2)
    r = auto(t, w, lab)
    assert r.extra["chosen"] != "majority_vote"
    assert np.mean(r.labels == truth) >= np.mean(majority_vote(t, w, lab).labels == truth) + 0.03
    assert 0.25 <= r.extra["temperature"] <= 8.0


def test_auto_on_empty_and_one_class_input():
    r = auto(np.zeros(0, dtype=int), np.zeros(0, dtype=int), np.zeros(0, dtype=int), 2, 1, 2)
    assert r.extra["chosen"] == "majority_vote" and r.posteriors.shape == (2, 2)
    r = auto([0, 1], [0, 0], [0, 0], n_classes=1)
    assert r.labels.tolist() == [0, 0]


# ----------------------------------------------------------------------------- real data


def _load(name):
    from assay.quality.evaluate import load_dataset  # noqa: PLC0415 - only the real-data tests read the folders

    folder = DATASETS / name
    if not (folder / "labels.csv").is_file():
        pytest.skip(f"{folder} not present (shared datasets)")
    return load_dataset(folder)


@pytest.mark.parametrize("name", ["rte", "temp", "sentiment_polarity_amt", "music_genre"])
def test_auto_never_loses_to_majority_vote_on_real_sets(name):
    from assay.quality.evaluate import accuracy  # noqa: PLC0415 - as _load

    ds = _load(name)
    data = ds.label_data()
    r = auto(data)
    assert accuracy(r.labels, ds) >= accuracy(majority_vote(data).labels, ds) - 0.005
    assert r.extra["chosen"] in CANDIDATES


def test_identifiability_guard_on_fact_eval():
    """Dawid-Skene turns the rare 'skip' class into a cluster of ambiguous tasks on fact_eval;
    the guard sees it, and auto never chooses it there."""
    ds = _load("fact_eval")
    data = ds.label_data()
    assert not identifiable(dawid_skene(data), data)
    r = auto(data)
    assert r.extra["chosen"] != "dawid_skene" and r.extra["scores"]["dawid_skene"] is None

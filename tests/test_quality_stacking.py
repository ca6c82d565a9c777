"""`auto`'s stack (quality/auto.py): the stacking weights' known answers and properties,
and the mix `auto` returns."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assay.quality.auto import CANDIDATES, Candidate, auto, stack_weights
from assay.quality.calibration import temper
from assay.quality.label_data import LabelData
from tests.quality_support import label_sets

PROPS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _crowd(rng, n_tasks, accs, C=2):
    """Every worker answers every task, right with their accuracy."""
    truth = rng.integers(0, C, n_tasks)
    t = np.repeat(np.arange(n_tasks), len(accs))
    w = np.tile(np.arange(len(accs)), n_tasks)
    right = rng.random(t.size) < np.asarray(accs)[w]
    lab = np.where(right, truth[t], (truth[t] + rng.integers(1, C, t.size)) % C)
    return t, w, lab, truth


# ----------------------------------------------------------------------------- stacking


def _member(name, p):
    logp = np.log(np.asarray(p, dtype=float))
    return Candidate(name, float(logp.mean()), True, logp, np.zeros((logp.size, 2)), np.zeros((logp.size, 2)))


def test_stack_weights_known_answers():
    # each model predicts half of the answers well: the best mixture is half and half
    a = _member("a", [0.9] * 50 + [0.1] * 50)
    b = _member("b", [0.1] * 50 + [0.9] * 50)
    weights = stack_weights([a, b])
    assert weights["a"] == pytest.approx(0.5, abs=1e-3) and weights["b"] == pytest.approx(0.5, abs=1e-3)
    # 80 and 20 answers: d/dpi [0.8 log(0.1 + 0.8 pi) + 0.2 log(0.9 - 0.8 pi)] = 0 at pi = 0.875
    a = _member("a", [0.9] * 80 + [0.1] * 20)
    b = _member("b", [0.1] * 80 + [0.9] * 20)
    assert stack_weights([a, b])["a"] == pytest.approx(0.875, abs=1e-3)
    # a model better on every answer takes everything; the other falls under 1 % and is dropped
    assert stack_weights([_member("a", [0.8] * 40), _member("b", [0.4] * 40)]) == {"a": 1.0}


@PROPS
@given(st.integers(0, 2**31 - 1), st.integers(2, 5))
def test_the_mixture_predicts_at_least_as_well_as_its_best_member(seed, m):
    rng = np.random.default_rng(seed)
    members = [_member(f"m{i}", rng.uniform(0.05, 1.0, 200)) for i in range(m)]
    weights = stack_weights(members)
    assert sum(weights.values()) == pytest.approx(1.0) and min(weights.values()) >= 0.01
    mix = sum(w * np.exp(next(c for c in members if c.name == n).log_predictive) for n, w in weights.items())
    assert np.log(mix).mean() >= max(c.score for c in members) - 1e-3


def test_auto_returns_the_tempered_mix_of_its_members():
    rng = np.random.default_rng(6)
    t, w, lab, truth = _crowd(rng, 300, [0.95, 0.9, 0.6, 0.55, 0.55])
    data = LabelData.build(t, w, lab)
    r = auto(data)
    weights = r.extra["weights"]
    assert set(weights) <= set(CANDIDATES) and sum(weights.values()) == pytest.approx(1.0, abs=1e-5)
    mix = sum(wt * CANDIDATES[name](data).posteriors for name, wt in weights.items())
    np.testing.assert_allclose(r.posteriors, temper(mix, r.extra["temperature"]), atol=1e-5)
    assert np.all(r.confidence == r.posteriors[np.arange(r.n_tasks), r.labels])
    assert r.extra["chosen"] == max(weights, key=weights.get)
    assert len(weights) > 1  # the worker models explain these answers about equally: a real mix


@PROPS
@given(label_sets())
def test_auto_on_any_small_input_returns_a_valid_mix(ls):
    t, w, lab, T, W, C = ls
    r = auto(t, w, lab, T, W, C)
    np.testing.assert_allclose(r.posteriors.sum(axis=1), 1.0, atol=1e-9)
    assert np.all(r.posteriors[np.arange(T), r.labels] >= r.posteriors.max(axis=1) - 1e-12)
    np.testing.assert_allclose(r.confidence, r.posteriors[np.arange(T), r.labels])
    weights = r.extra["weights"]
    assert sum(weights.values()) == pytest.approx(1.0, abs=1e-5) and min(weights.values()) >= 0.01
    assert all(r.extra["scores"][name] is not None for name in weights)  # only eligible models are mixed
    assert 0.25 <= r.extra["temperature"] <= 8.0 and 0.25 <= r.extra["chosen_temperature"] <= 8.0

"""Judge-quality math (quality/judges.py): hand-computed position bias, Wilson intervals,
kappa against people, and the replay of adaptive overlap with a judge as one more labeler
on simulated data where the judge is good."""

from __future__ import annotations

import numpy as np
import pytest

from assay.quality.judges import accuracy, agreement, position_bias, replay_with_judge, wilson_interval


def test_position_bias_by_hand():
    first = ["first", "first", "second", "tie", "first"]
    swapped = ["second", "first", "first", "tie", "first"]
    bias = position_bias(first, swapped)
    # consistent: (first, second), (second, first), (tie, tie); inconsistent: two (first, first)
    assert bias["consistent"] == 3 and bias["inconsistent"] == 2 and bias["consistency"] == pytest.approx(0.6)
    # decisive verdicts: 8, naming the first position: 6
    assert bias["decisive_verdicts"] == 8 and bias["first_position_share"] == pytest.approx(0.75)
    assert bias["inconsistent_toward_first"] == 2 and bias["inconsistent_toward_second"] == 0
    assert 0 < bias["p_value"] < 1
    with pytest.raises(ValueError):
        position_bias(["first"], [])


def test_wilson_interval_and_accuracy():
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)  # the textbook values
    assert wilson_interval(0, 0) == (None, None)
    acc = accuracy([0, 1, 1, 2], [0, 1, 0, 2])
    assert acc["correct"] == 3 and acc["accuracy"] == 0.75 and acc["low"] < 0.75 < acc["high"]


def test_agreement_kappa_by_hand():
    # 2x2 table: agree on 0 twice, on 1 twice, one disagreement -> p_o = 0.8
    judge, people = [0, 0, 1, 1, 1], [0, 0, 1, 1, 0]
    out = agreement(judge, people, n_bootstrap=200)
    p_o, p_e = 0.8, (2 / 5) * (3 / 5) + (3 / 5) * (2 / 5)
    assert out["kappa"] == pytest.approx((p_o - p_e) / (1 - p_e), abs=1e-4)
    assert out["raw_agreement"] == 0.8 and out["kappa_low"] <= out["kappa"] <= out["kappa_high"]


def test_a_good_judge_saves_human_labels_without_losing_accuracy():
    rng = np.random.default_rng(3)
    n_tasks, n_workers = 400, 8
    truth = rng.integers(0, 2, n_tasks)
    task, worker, label = [], [], []
    for t in range(n_tasks):
        for w in rng.choice(n_workers, 3, replace=False):
            task.append(t)
            worker.append(w)
            label.append(truth[t] if rng.random() < 0.8 else 1 - truth[t])
    judge = np.where(rng.random(n_tasks) < 0.92, truth, 1 - truth)
    out = replay_with_judge(task, worker, label, np.arange(n_tasks), judge, n_tasks, n_workers, 3, target=0.95, fixed_overlap=3, max_human=3,
                           truth=truth)
    assert out["tasks"] == n_tasks and out["human_labels_fixed"] == 3 * n_tasks
    assert out["human_labels_saved"] > 0.1 * out["human_labels_fixed"]
    assert out["accuracy_adaptive"] >= out["accuracy_fixed"] - 0.02
    confusion = np.array(out["judge_confusion"])
    assert confusion[0, 0] > 0.85 and confusion[1, 1] > 0.85  # the judge's estimated confusion matrix finds it good

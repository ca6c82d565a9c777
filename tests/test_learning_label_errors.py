"""Label-error detection (assay.learning.label_errors): out-of-fold probabilities never come from a
model that saw the item, deliberately flipped labels in a small text set rank first, and the
ranking/flags on hand-made probabilities."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest

from assay.learning.label_errors import LabelIssues, out_of_fold_probabilities, rank_label_issues

TOPICS = {
    "sport": "goal match team striker keeper league referee penalty season coach stadium score".split(),
    "food": "recipe oven garlic butter simmer flour bake sauce onion pepper dough roast".split(),
    "tech": "laptop software chip server browser update battery network code cloud screen app".split(),
}
FILLER = "the a today really very new old this that with about".split()


def synthetic_texts(per_class: int, seed: int) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    texts, labels = [], []
    for label, words in TOPICS.items():
        for _ in range(per_class):
            sentence = rng.sample(words, 4) + rng.sample(FILLER, 3)
            rng.shuffle(sentence)
            texts.append(" ".join(sentence))
            labels.append(label)
    return texts, labels


def flip(labels: list[str], count: int, seed: int) -> tuple[list[str], list[int]]:
    rng = random.Random(seed)
    flipped = sorted(rng.sample(range(len(labels)), count))
    noisy = list(labels)
    for i in flipped:
        noisy[i] = rng.choice([c for c in TOPICS if c != labels[i]])
    return noisy, flipped


class ClassFrequencyModel:
    """A real (if weak) classifier: predicts the class shares of its training labels. It keeps
    the texts it was trained on so the test can check what each fold saw."""

    trained_on: list[set] = []

    def fit(self, texts, labels):
        ClassFrequencyModel.trained_on.append(set(texts))
        counts = Counter(labels)
        self.classes = sorted(counts, key=str)
        self.shares = np.array([counts[c] for c in self.classes], float) / len(labels)
        return self

    def predict_proba(self, texts):
        return np.tile(self.shares, (len(texts), 1))


def test_out_of_fold_probabilities_come_from_models_that_did_not_see_the_item():
    texts = [f"item {i}" for i in range(40)]
    labels = ["a"] * 25 + ["b"] * 10 + ["c"] * 5
    ClassFrequencyModel.trained_on = []
    probs, classes = out_of_fold_probabilities(texts, labels, folds=5, seed=3, make_model=ClassFrequencyModel)
    assert classes == ["a", "b", "c"]
    assert probs.shape == (40, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    folds = ClassFrequencyModel.trained_on
    assert len(folds) == 5
    for i, text in enumerate(texts):
        seen_by = [f for f in folds if text in f]
        assert len(seen_by) == 4  # trained on by every fold but its own
    # stratified: every training part holds 20/4/4 of the 25/10/5 → shares 20/32, 8/32, 4/32
    np.testing.assert_allclose(probs, np.tile([20 / 32, 8 / 32, 4 / 32], (40, 1)))
    # the same seed gives the same folds; another seed shuffles differently
    ClassFrequencyModel.trained_on = []
    out_of_fold_probabilities(texts, labels, folds=5, seed=3, make_model=ClassFrequencyModel)
    assert ClassFrequencyModel.trained_on == folds
    ClassFrequencyModel.trained_on = []
    out_of_fold_probabilities(texts, labels, folds=5, seed=4, make_model=ClassFrequencyModel)
    assert ClassFrequencyModel.trained_on != folds


def test_flipped_labels_rank_first_with_the_text_classifier():
    texts, truth = synthetic_texts(per_class=40, seed=1)
    noisy, flipped = flip(truth, 6, seed=2)
    probs, classes = out_of_fold_probabilities(texts, noisy, folds=5, seed=0)
    assert classes == ["food", "sport", "tech"]
    issues = rank_label_issues(noisy, probs, classes=classes)
    assert sorted(issues.top(6).tolist()) == flipped
    # Confident learning flags by per-class thresholds, stricter than "the 6 lowest": here it
    # flags only flips, and nearly all of them.
    assert set(issues.issues.tolist()) <= set(flipped)
    assert len(issues.issues) >= 5
    # the suggested correction is the original label
    assert [classes[issues.predicted[i]] for i in flipped] == [truth[i] for i in flipped]
    # quality is the out-of-fold probability of the given label: low for every flip
    assert issues.quality[flipped].max() < issues.quality[np.setdiff1d(np.arange(len(texts)), flipped)].min()


@pytest.mark.filterwarnings("ignore:May not flag all label issues")  # cleanlab, on 3-4 items per class
def test_ranking_and_flags_on_hand_made_probabilities():
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.95, 0.05], [0.1, 0.9], [0.6, 0.4], [0.05, 0.95], [0.3, 0.7], [0.99, 0.01]])
    labels = ["neg", "pos", "pos", "neg", "neg", "pos", "pos", "neg"]
    issues = rank_label_issues(labels, probs, classes=["neg", "pos"])
    # self-confidence = probability of the given label
    np.testing.assert_allclose(issues.quality, [0.9, 0.8, 0.05, 0.1, 0.6, 0.95, 0.7, 0.99])
    assert issues.ranking.tolist() == [2, 3, 4, 6, 1, 0, 5, 7]
    assert issues.flagged.tolist() == [False, False, True, True, False, False, False, False]
    assert issues.issues.tolist() == [2, 3]
    assert issues.predicted.tolist() == [0, 1, 0, 1, 0, 1, 1, 0]
    # the same with labels given as column indices
    as_indices = rank_label_issues([0, 1, 1, 0, 0, 1, 1, 0], probs)
    assert as_indices.ranking.tolist() == issues.ranking.tolist()
    # ties are broken by index; another quality score changes the order of the middle
    tied = rank_label_issues([0, 0, 0], np.array([[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]]))
    assert tied.ranking.tolist() == [0, 1, 2]
    margin = rank_label_issues(labels, probs, classes=["neg", "pos"], method="normalized_margin")
    assert margin.ranking[:2].tolist() == [2, 3]


def test_empty_input_gives_empty_issues():
    issues = rank_label_issues([], np.zeros((0, 2)))
    assert isinstance(issues, LabelIssues) and len(issues.ranking) == 0 and len(issues.top(5)) == 0


def test_bad_input_is_rejected():
    probs = np.array([[0.9, 0.1], [0.2, 0.8]])
    with pytest.raises(ValueError, match="labels has 3 entries but pred_probs has 2 rows"):
        rank_label_issues([0, 1, 1], probs)
    with pytest.raises(ValueError, match="sum to 1"):
        rank_label_issues([0, 1], np.array([[0.9, 0.3], [0.2, 0.8]]))
    with pytest.raises(ValueError, match="two-dimensional"):
        rank_label_issues([0, 1], np.array([0.9, 0.1]))
    with pytest.raises(ValueError, match="finite"):
        rank_label_issues([0, 1], np.array([[np.nan, 0.1], [0.2, 0.8]]))
    with pytest.raises(ValueError, match="column indices"):
        rank_label_issues([0, 2], probs)
    with pytest.raises(ValueError, match="column indices"):
        rank_label_issues(["a", "b"], probs)
    with pytest.raises(ValueError, match="not in classes"):
        rank_label_issues(["a", "c"], probs, classes=["a", "b"])
    with pytest.raises(ValueError, match="classes has 3 entries"):
        rank_label_issues(["a", "b"], probs, classes=["a", "b", "c"])
    with pytest.raises(ValueError, match="at least two class columns"):
        rank_label_issues([0, 0], np.ones((2, 1)))
    with pytest.raises(ValueError, match="method"):
        rank_label_issues([0, 1], probs, method="entropy-ish")
    texts = ["x", "y", "z", "w"]
    with pytest.raises(ValueError, match="labels has 3 entries but texts has 4"):
        out_of_fold_probabilities(texts, ["a", "b", "a"])
    with pytest.raises(ValueError, match="folds must be"):
        out_of_fold_probabilities(texts, ["a", "b", "a", "b"], folds=1)
    with pytest.raises(ValueError, match="cannot exceed the number of texts"):
        out_of_fold_probabilities(texts, ["a", "b", "a", "b"], folds=5)
    with pytest.raises(ValueError, match="at least two classes"):
        out_of_fold_probabilities(texts, ["a", "a", "a", "a"], folds=2)
    with pytest.raises(ValueError, match="exceeds the size of every class"):
        out_of_fold_probabilities(texts, ["a", "b", "a", "b"], folds=3)

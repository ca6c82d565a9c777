"""Find labels that are probably wrong (confident learning, via the ``cleanlab`` package).

A model that never saw an item's label predicts it from the other items (out-of-fold
probabilities, ``out_of_fold_probabilities``); items whose given label gets a low predicted
probability are the suspects (``rank_label_issues``). cleanlab's confident learning also
estimates how many labels of each class are wrong and flags that many: ``flagged``. The ranking
covers every item, so a reviewer can take as many suspects from the top as there is time for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from assay.learning.textmodel import TextClassifier

QUALITY_METHODS = ("self_confidence", "normalized_margin", "confidence_weighted_entropy")


def out_of_fold_probabilities(
    texts: Sequence[str],
    labels: Sequence,
    folds: int = 5,
    seed: int = 0,
    make_model: Callable[[], object] = TextClassifier,
) -> tuple[np.ndarray, list]:
    """Class probabilities for every item from a model trained on the other folds.

    Stratified K-fold (shuffled with ``seed``): each item is scored by a model (``make_model()``,
    anything with ``fit(texts, labels)``, ``predict_proba(texts)`` and ``classes``) that did not
    see it. Returns ``(probabilities, classes)``: an (n, C) array whose columns follow
    ``classes`` = the distinct labels sorted as text (TextClassifier's order). A class missing
    from a fold's training part gets probability 0 from that fold's model.
    """
    from sklearn.model_selection import StratifiedKFold  # noqa: PLC0415 - sklearn loads only when models train

    texts = list(texts)
    labels = list(labels)
    if len(texts) != len(labels):
        raise ValueError(f"labels has {len(labels)} entries but texts has {len(texts)}")
    if isinstance(folds, bool) or not isinstance(folds, (int, np.integer)) or folds < 2:
        raise ValueError(f"folds must be a whole number ≥ 2, got {folds!r}")
    if len(texts) < folds:
        raise ValueError(f"folds ({folds}) cannot exceed the number of texts ({len(texts)})")
    classes = sorted(set(labels), key=str)
    if len(classes) < 2:
        raise ValueError("labels must hold at least two classes")
    column = {c: i for i, c in enumerate(classes)}
    y = np.array([column[v] for v in labels])
    counts = np.bincount(y, minlength=len(classes))
    if counts.max() < folds:
        raise ValueError(f"folds ({folds}) exceeds the size of every class (largest: {counts.max()})")

    probabilities = np.zeros((len(texts), len(classes)))
    # StratifiedKFold warns when a class has fewer members than folds; those members then sit
    # in some folds only, which is still a valid out-of-fold split.
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, held_out in splitter.split(np.zeros(len(y)), y):
        model = make_model()
        model.fit([texts[i] for i in train], [labels[i] for i in train])
        fold_proba = np.asarray(model.predict_proba([texts[i] for i in held_out]), dtype=float)
        columns = [column[c] for c in model.classes]
        probabilities[np.ix_(held_out, columns)] = fold_proba
    return probabilities, classes


@dataclass(frozen=True)
class LabelIssues:
    """The suspects. ``ranking``: every item index, most suspect first (lowest quality; ties by
    index). ``quality``: per item, cleanlab's label-quality score in [0, 1] (lower = more
    suspect). ``flagged``: per item, whether confident learning calls the label an issue.
    ``issues``: the flagged indices in ranking order. ``predicted``: per item, the class index
    the probabilities favour (a suggested correction)."""

    ranking: np.ndarray
    quality: np.ndarray
    flagged: np.ndarray
    issues: np.ndarray
    predicted: np.ndarray

    def top(self, count: int) -> np.ndarray:
        """The ``count`` most suspect item indices."""
        return self.ranking[: max(int(count), 0)]


def rank_label_issues(labels, pred_probs, classes: Sequence | None = None, method: str = "self_confidence") -> LabelIssues:
    """Rank items by how likely their given label is wrong, from out-of-sample probabilities.

    ``pred_probs`` is (n, C), rows summing to 1, ideally from ``out_of_fold_probabilities`` (a
    model's probabilities on its own training items are overconfident and hide the errors).
    ``labels`` are column indices 0..C-1 when ``classes`` is None, otherwise values of
    ``classes`` (the column order, e.g. as returned by ``out_of_fold_probabilities``).
    ``method`` is cleanlab's label-quality score: ``self_confidence`` (the probability of the
    given label), ``normalized_margin`` or ``confidence_weighted_entropy``.
    """
    from cleanlab.filter import find_label_issues  # noqa: PLC0415 - cleanlab (with sklearn) loads only for a label-error check
    from cleanlab.rank import get_label_quality_scores  # noqa: PLC0415 - cleanlab (with sklearn) loads only for a label-error check

    if method not in QUALITY_METHODS:
        raise ValueError(f"method must be one of {', '.join(QUALITY_METHODS)}, got {method!r}")
    probs = np.asarray(pred_probs, dtype=float)
    if probs.ndim != 2:
        raise ValueError("pred_probs must be a two-dimensional (items × classes) array")
    n_items, n_classes = probs.shape
    if n_classes < 2:
        raise ValueError("pred_probs must have at least two class columns")
    if not np.all(np.isfinite(probs)) or (probs < 0).any():
        raise ValueError("pred_probs must hold finite, non-negative probabilities")
    if not np.allclose(probs.sum(axis=1), 1.0, atol=1e-4):
        raise ValueError("each row of pred_probs must sum to 1")
    labels = list(labels)
    if len(labels) != n_items:
        raise ValueError(f"labels has {len(labels)} entries but pred_probs has {n_items} rows")
    if classes is None:
        given = np.asarray(labels)
        if n_items and (not np.issubdtype(given.dtype, np.integer) or given.min() < 0 or given.max() >= n_classes):
            raise ValueError(f"labels must be column indices 0..{n_classes - 1} (or pass classes)")
        given = given.astype(int)
    else:
        classes = list(classes)
        if len(classes) != n_classes:
            raise ValueError(f"classes has {len(classes)} entries but pred_probs has {n_classes} columns")
        column = {c: i for i, c in enumerate(classes)}
        unknown = [v for v in labels if v not in column]
        if unknown:
            raise ValueError(f"labels has values not in classes, e.g. {unknown[0]!r}")
        given = np.array([column[v] for v in labels], dtype=int)
    if n_items == 0:
        empty = np.array([], dtype=int)
        return LabelIssues(empty, np.array([], dtype=float), np.array([], dtype=bool), empty, empty)

    quality = np.asarray(get_label_quality_scores(given, probs, method=method), dtype=float)
    # n_jobs=1: cleanlab would otherwise start a process pool per call, which costs more than it
    # saves at these sizes and nests badly inside callers' own pools.
    flagged = np.asarray(find_label_issues(given, probs, filter_by="prune_by_noise_rate", n_jobs=1), dtype=bool)
    ranking = np.lexsort((np.arange(n_items), quality))  # by quality, then index
    issues = ranking[flagged[ranking]]
    return LabelIssues(ranking=ranking, quality=quality, flagged=flagged, issues=issues, predicted=probs.argmax(axis=1))

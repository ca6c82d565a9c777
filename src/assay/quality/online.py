"""Consensus of one task's answers as they arrive, for adaptive overlap.

Each answer is reduced to a hashable key (same key = same answer). Under the one-coin
model a labeler with accuracy ``a`` gives the true answer with probability ``a`` and each
of the other ``C - 1`` possible answers with probability ``(1 - a) / (C - 1)``, so the
posterior of candidate answer ``k`` is proportional to

    prior_k * prod_w (a_w if answer_w == k else (1 - a_w) / (C - 1)).

Candidates are the distinct answers given; the remaining ``C - m`` possible answers share
one "something else" term, so a split vote between two free-text answers is not reported as
50/50 certainty. ``C`` is the size of the answer space when the task type knows it (e.g. the
number of categories), otherwise unknown (treated as large: ``m + 1`` answers, the floor).

Accuracies come from the caller (per-labeler estimates, e.g. agreement with consolidated
answers smoothed by a Beta prior; see :func:`smoothed_accuracy`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable, Sequence

import numpy as np

# Beta prior on a labeler's accuracy before we know them: mean 0.8 over 5 pseudo-answers.
PRIOR_CORRECT = 4.0
PRIOR_WRONG = 1.0
ACCURACY_FLOOR, ACCURACY_CEILING = 0.05, 0.99


@dataclass(frozen=True)
class Consensus:
    winner: int  # index into the answers of the first answer with the winning key
    confidence: float  # posterior probability of the winning key
    posterior: dict  # key -> posterior
    contributors: tuple[int, ...]  # indices of the answers that agree with the winner


def smoothed_accuracy(agreed: float, answered: float) -> float:
    """Posterior-mean accuracy under the Beta(PRIOR_CORRECT, PRIOR_WRONG) prior, clipped so
    one labeler can never make a task certain or impossible on their own."""
    acc = (agreed + PRIOR_CORRECT) / (answered + PRIOR_CORRECT + PRIOR_WRONG)
    return float(min(ACCURACY_CEILING, max(ACCURACY_FLOOR, acc)))


def consensus(keys: Sequence[Hashable], accuracies: Sequence[float], answer_space: int | None = None) -> Consensus:
    """Posterior over the distinct answers of one task. Ties go to the answer given first."""
    if not keys:
        raise ValueError("consensus needs at least one answer")
    if len(accuracies) != len(keys):
        raise ValueError("one accuracy per answer")
    distinct: list[Hashable] = []
    for key in keys:
        if key not in distinct:
            distinct.append(key)
    m = len(distinct)
    space = max(answer_space or 0, m + 1 if answer_space is None else m)
    acc = np.clip(np.asarray(accuracies, dtype=float), ACCURACY_FLOOR, ACCURACY_CEILING)
    wrong = np.log((1 - acc) / max(space - 1, 1))
    right = np.log(acc)
    given = np.array([distinct.index(k) for k in keys])
    # log-likelihood of each candidate: every labeler is right for their own key, wrong otherwise
    loglik = np.full(m, wrong.sum())
    np.add.at(loglik, given, right - wrong)
    others = space - m
    terms = loglik
    if others > 0:
        # an answer nobody gave: everybody was wrong; `others` such answers share the mass
        terms = np.append(loglik, wrong.sum() + np.log(others))
    top = terms.max()
    probs = np.exp(terms - top)
    probs /= probs.sum()
    best = int(np.argmax(probs[:m]))  # argmax takes the first on ties: the answer given first
    winner_key = distinct[best]
    return Consensus(
        winner=keys.index(winner_key),
        confidence=float(probs[best]),
        posterior={k: float(p) for k, p in zip(distinct, probs[:m])},
        contributors=tuple(i for i, k in enumerate(keys) if k == winner_key),
    )

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


# --------------------------------------------------------------------------- fitted models
# A project may name a truth-inference method (Dawid-Skene, one-coin DS, GLAD). Fitting it
# over all of a project's answers happens in the background every so many new labels; a
# task that gets its labels in between is scored with the fitted parameters (one E-step
# over its own answers), so a submission never refits the world.


@dataclass(frozen=True)
class FittedParameters:
    """What scoring a new task needs from a fit: the class prior, each worker's confusion
    matrix ``P(answer = l | truth = k)`` at ``[w, k, l]``, and the population matrix used
    for workers the fit has not seen."""

    class_prior: np.ndarray  # (C,)
    confusions: np.ndarray  # (W, C, C)
    population: np.ndarray  # (C, C)


def fitted_parameters(result, answers_per_worker: np.ndarray | None = None) -> FittedParameters:
    """From an :class:`assay.quality.posteriors.AggregationResult` of any method with worker
    confusion matrices (the Dawid-Skene family, MACE, ``auto``), of GLAD, or of majority
    vote. GLAD's per-task easiness is unknown for a new task: its workers are scored at the
    median fitted easiness (a symmetric confusion per worker). Majority vote (also when
    ``auto`` chose it) has no worker model: every worker gets the same symmetric matrix at
    the pooled accuracy, so the E-step ranks answers by their votes.
    ``answers_per_worker`` weights the population matrix when the method has none."""
    C = result.n_classes
    n_per_worker = np.ones(len(result.worker_skill)) if answers_per_worker is None else np.asarray(answers_per_worker, float)
    if result.method == "glad":
        easiness = float(np.median(result.extra["easiness"])) if len(result.extra["easiness"]) else 1.0
        acc = 1.0 / (1.0 + np.exp(-result.extra["ability"] * easiness))
        confusions = _symmetric(np.clip(acc, ACCURACY_FLOOR, ACCURACY_CEILING), C)
    elif result.confusion is not None:
        confusions = result.confusion
    elif result.method == "majority_vote" or result.extra.get("chosen") == "majority_vote":
        weights = n_per_worker if n_per_worker.sum() else np.ones(len(result.worker_skill))
        pooled = float(np.average(result.worker_skill, weights=weights)) if len(weights) else 0.8
        acc = np.full(len(result.worker_skill), min(ACCURACY_CEILING, max(1.0 / max(C, 1) + 1e-3, pooled)))
        confusions = _symmetric(acc, C)
    else:
        raise ValueError(f"{result.method} has no worker parameters to score new tasks with")
    if result.population_confusion is not None:
        population = result.population_confusion
    else:
        weights = n_per_worker if n_per_worker.sum() else np.ones(len(confusions))
        population = np.tensordot(weights / weights.sum(), confusions, axes=1) if len(confusions) else np.full((C, C), 1.0 / C)
    prior = result.class_prior if result.class_prior is not None and len(result.class_prior) == C else np.full(C, 1.0 / C)
    return FittedParameters(np.asarray(prior, float), np.asarray(confusions, float), np.asarray(population, float))


def _symmetric(acc: np.ndarray, C: int) -> np.ndarray:
    off = (1.0 - acc) / max(C - 1, 1)
    out = np.repeat(off[:, None, None], C, axis=1).repeat(C, axis=2)
    idx = np.arange(C)
    out[:, idx, idx] = acc[:, None]
    return out


def posterior_given(params: FittedParameters, workers: Sequence[int], labels: Sequence[int], temperature: float = 1.0) -> np.ndarray:
    """Posterior over the C classes of one task from its answers (class indices), each
    scored by its worker's fitted confusion matrix (worker index < 0 or beyond the fit:
    the population matrix). Exactly the E-step of the fitted model for this task, tempered
    (``post ∝ post ** (1 / temperature)``) when the fit came with a temperature (``auto``)."""
    if len(workers) != len(labels):
        raise ValueError("one worker per label")
    C = len(params.class_prior)
    logp = np.log(np.maximum(params.class_prior, 1e-300)).copy()
    for w, lab in zip(workers, labels):
        if not 0 <= lab < C:
            raise ValueError(f"label index {lab} out of range for {C} classes")
        matrix = params.confusions[w] if 0 <= w < len(params.confusions) else params.population
        logp += np.log(np.maximum(matrix[:, lab], 1e-300))
    logp /= temperature
    logp -= logp.max()
    post = np.exp(logp)
    return post / post.sum()

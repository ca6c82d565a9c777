"""``auto``: choose — or mix — truth models without gold, by how well each predicts held-out labels.

The answers are split at random into ``folds`` groups. For each group every candidate model
is fitted on the other answers, and each held-out answer ``(task, worker, label)`` is scored
by the model's predictive probability ``sum_k posterior(task, k) * confusion[worker, k,
label]`` — the task's posterior from its *other* answers, the worker's fitted confusion
matrix (the population matrix for a worker the fit has not seen). A model that
overfits sparse workers predicts their next answer badly, so this score catches it; one that
explains the crowd better predicts better. The score of a model is the mean log predictive
probability per answer (:class:`Candidate`).

Guards, then the mix:

* **Identifiability.** A latent-class model can use a class that the crowd almost never
  answers as a free cluster (fact_eval: Dawid-Skene puts 14 % of the tasks into "skip",
  a class given in 0.14 % of the answers, with workers who then answer "yes"/"no" for it).
  Such a model predicts labels well and names the truth wrongly. A candidate whose pooled
  confusion matrix is not diagonally dominant — some true class ``k`` whose most frequent
  answer is not ``k`` — is not eligible. It is judged on the fit on every answer (the fit
  that names the truth); the fold fits only score.
* **Noise.** Unless the best eligible candidate beats majority vote by more than
  ``noise_se`` standard errors of the paired per-answer difference, the answer is majority
  vote alone.
* **Stacking.** Otherwise the eligible candidates are mixed: weights ``pi`` maximise the
  held-out likelihood of the mixture ``sum_m pi_m p_m(answer)`` (EM over the held-out
  answers; no setting to choose), and the posteriors are ``sum_m pi_m posterior_m`` of the
  members refitted on all answers. A mixture is never worse on held-out answers than its
  best member, and where models disagree on a task the one that is confident and right on
  similar tasks carries it; members under 1 % weight are dropped.

The result has ``method`` ``"auto"``; ``extra["weights"]`` (member -> weight),
``extra["chosen"]`` (the member of largest weight: its worker parameters are what a project
scores a new task with), ``extra["scores"]`` (every candidate's score, None if not
eligible) and ``extra["temperature"]``: the mixed posteriors are tempered (``post ∝ post **
(1/T)``, :mod:`assay.quality.calibration`) with ``T`` fitted on the same held-out answers;
``extra["chosen_temperature"]`` is fitted likewise for the largest member alone (a project
scores a new task with that member's parameters and this temperature).

Large inputs: the cross-validation runs on at most ``cv_max_answers`` answers (whole tasks
drawn at random), so its cost is bounded; only the final fits see every answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from assay.quality import calibration
from assay.quality.bayesian_ds import bayesian_dawid_skene
from assay.quality.community_ds import community_dawid_skene
from assay.quality.dawid_skene import dawid_skene, expected_counts, one_coin_dawid_skene
from assay.quality.label_data import LabelData, as_label_data
from assay.quality.mace import mace
from assay.quality.posteriors import TINY, AggregationResult, choose_labels, normalise_rows
from assay.quality.votes import majority_vote

__all__ = ["CANDIDATES", "Candidate", "auto", "choose", "predictive_confusions", "score_candidates", "stack_weights"]

CANDIDATES: dict[str, Callable[..., AggregationResult]] = {
    "majority_vote": majority_vote,
    "one_coin_dawid_skene": one_coin_dawid_skene,
    "dawid_skene": dawid_skene,
    "bayesian_dawid_skene": bayesian_dawid_skene,
    "community_dawid_skene": community_dawid_skene,
    "mace": mace,
}
BASELINE = "majority_vote"
MIN_WEIGHT = 0.01


@dataclass
class Candidate:
    name: str
    score: float  # mean held-out log predictive probability per answer
    eligible: bool
    log_predictive: np.ndarray = field(repr=False)  # per held-out answer
    held_posteriors: np.ndarray = field(repr=False)  # (answers, C): task posterior without the answer's fold
    held_rows: np.ndarray = field(repr=False)  # (answers, C): P(answer label | truth k) for that worker
    fit: AggregationResult | None = field(default=None, repr=False)  # fitted on every answer


def predictive_confusions(result: AggregationResult, data: LabelData) -> tuple[np.ndarray, np.ndarray]:
    """(per-worker confusion (W, C, C), population (C, C)) to predict a worker's next answer
    with. Majority vote has no worker model: every worker gets the pooled confusion matrix
    of its answers against its vote shares (so its predictions use no per-worker fit)."""
    if result.confusion is not None:
        pop = result.population_confusion
        if pop is None:
            pop = normalise_rows(result.confusion.sum(axis=0) + 1e-12)
        return result.confusion, pop
    pooled = normalise_rows(expected_counts(data, result.posteriors).sum(axis=0) + 1.0)
    return np.broadcast_to(pooled, (data.n_workers,) + pooled.shape), pooled


def identifiable(result: AggregationResult, data: LabelData, tolerance: float = 0.01) -> bool:
    """True when the true classes whose most frequent answer (pooled over all workers) is
    not themselves hold at most ``tolerance`` of the tasks' posterior mass."""
    counts = expected_counts(data, result.posteriors).sum(axis=0)
    mass = counts.sum(axis=1)
    off = np.diagonal(counts) < counts.max(axis=1) * (1 - 1e-9)
    return bool(mass[off].sum() <= tolerance * max(mass.sum(), 1e-300))


def _cv_sample(data: LabelData, max_answers: int, rng: np.random.Generator) -> LabelData:
    if data.n <= max_answers:
        return data
    order = rng.permutation(data.n_tasks)
    cum = np.cumsum(data.n_per_task[order])
    keep_tasks = np.zeros(data.n_tasks, dtype=bool)
    keep_tasks[order[: int(np.searchsorted(cum, max_answers)) + 1]] = True
    sel = keep_tasks[data.task]
    return LabelData.build(data.task[sel], data.worker[sel], data.label[sel], data.n_tasks, data.n_workers, data.n_classes)


def _held_out(result: AggregationResult, sub: LabelData, t: np.ndarray, w: np.ndarray, lab: np.ndarray):
    """(predictive probability, task posterior, rows) of held-out answers under a fit on ``sub``."""
    seen = sub.n_per_worker[w] > 0
    conf, pop = predictive_confusions(result, sub)
    rows = np.where(seen[:, None], conf[w, :, lab], pop[:, lab].T)
    post = result.posteriors[t]
    return (post * rows).sum(axis=1), post, rows


def score_candidates(data: LabelData, candidates: dict[str, Callable[..., AggregationResult]] | None = None, *,
                     folds: int = 5, seed: int = 0, cv_max_answers: int = 300_000) -> dict[str, Candidate]:
    """Cross-validated held-out label log-likelihood of every candidate, and its fit on every
    answer, which decides whether it is eligible (identifiable; see module doc)."""
    candidates = candidates or CANDIDATES
    fits = {name: fit(data) for name, fit in candidates.items()}
    rng = np.random.default_rng(seed)
    cv = _cv_sample(data, cv_max_answers, rng)
    C, n = cv.n_classes, cv.n
    fold = rng.permutation(n) % folds
    prob = {name: np.zeros(n) for name in candidates}
    held_post = {name: np.zeros((n, C)) for name in candidates}
    held_rows = {name: np.zeros((n, C)) for name in candidates}
    for f in range(folds):
        test = fold == f
        train = ~test
        sub = LabelData.build(cv.task[train], cv.worker[train], cv.label[train], cv.n_tasks, cv.n_workers, C)
        for name, fit in candidates.items():
            result = fit(sub)
            prob[name][test], held_post[name][test], held_rows[name][test] = _held_out(
                result, sub, cv.task[test], cv.worker[test], cv.label[test])
    out = {}
    for name in candidates:
        logp = np.log(np.maximum(prob[name], TINY))
        eligible = name == BASELINE or identifiable(fits[name], data)
        out[name] = Candidate(name, float(logp.mean()) if n else 0.0, eligible, logp, held_post[name], held_rows[name],
                              fits[name])
    return out


def stack_weights(members: list[Candidate]) -> dict[str, float]:
    """Mixture weights maximising the held-out log-likelihood ``mean log sum_m pi_m p_m``
    (a concave problem; solved over softmax logits by L-BFGS); members under 1 % are
    dropped and the rest renormalised."""
    if len(members) == 1:
        return {members[0].name: 1.0}
    from scipy.optimize import minimize  # noqa: PLC0415 - scipy.optimize costs ~50 MB of server memory: loaded on first use

    logp = np.stack([c.log_predictive for c in members], axis=1)
    p = np.exp(logp - logp.max(axis=1, keepdims=True))  # a per-answer scale does not move the optimum

    def loss(z: np.ndarray) -> tuple[float, np.ndarray]:
        pi = np.exp(z - z.max())
        pi /= pi.sum()
        mix = np.maximum(p @ pi, TINY)
        share = (p / mix[:, None]).mean(axis=0)  # d mean log mix / d pi
        return -float(np.log(mix).mean()), -pi * (share - share @ pi)

    z = minimize(loss, np.zeros(len(members)), jac=True, method="L-BFGS-B", options={"gtol": 1e-7, "maxiter": 200}).x
    pi = np.exp(z - z.max())
    pi /= pi.sum()
    keep = pi >= MIN_WEIGHT
    pi = np.where(keep, pi, 0.0) / pi[keep].sum()
    return {c.name: float(w) for c, w in zip(members, pi) if w > 0}


def choose(scores: dict[str, Candidate], noise_se: float = 2.0) -> dict[str, float]:
    """Mixture weights (see module doc): majority vote alone when no eligible candidate beats
    it by more than ``noise_se`` standard errors of the paired difference, else the stack of
    the eligible candidates."""
    base = scores.get(BASELINE)
    eligible = [c for c in scores.values() if c.eligible]
    if not eligible:
        return {BASELINE: 1.0}
    best = max(eligible, key=lambda c: c.score)
    if base is not None and best.name != BASELINE:
        diff = best.log_predictive - base.log_predictive
        se = float(diff.std() / np.sqrt(max(diff.size, 1)))
        if not diff.mean() > noise_se * se:
            return {BASELINE: 1.0}
    elif base is not None:
        return {BASELINE: 1.0}
    return stack_weights(eligible)


def temper(result: AggregationResult, data: LabelData, temperature: float) -> AggregationResult:
    """The result with posteriors raised to 1/T and renormalised (labels unchanged)."""
    if temperature == 1.0:
        return result
    post = calibration.temper(result.posteriors, temperature)
    confidence = np.clip(post[np.arange(data.n_tasks), result.labels], 0.0, 1.0) if data.n_tasks else np.zeros(0)
    return replace(result, posteriors=post, confidence=confidence, extra=dict(result.extra))


def _mix(data: LabelData, weights: dict[str, float], scores: dict[str, Candidate], calibrate: bool):
    """The members fitted on all answers, their mixed posteriors, the mix's temperature and
    the temperature of the largest member alone (what a project scores new tasks with)."""
    fits = {name: scores[name].fit if name in scores else CANDIDATES[name](data) for name in weights}
    post = sum(w * fits[name].posteriors for name, w in weights.items())
    chosen = max(weights, key=weights.get)
    temperature = chosen_temperature = 1.0
    if calibrate and scores:
        held_post = sum(w * scores[name].held_posteriors for name, w in weights.items())
        held_rows = sum(w * scores[name].held_rows for name, w in weights.items())
        temperature = calibration.fit_temperature(held_post, held_rows)
        chosen_temperature = temperature if len(weights) == 1 else \
            calibration.fit_temperature(scores[chosen].held_posteriors, scores[chosen].held_rows)
    return fits, calibration.temper(post, temperature), temperature, chosen_temperature


def auto(
    task_idx,
    worker_idx=None,
    label_idx=None,
    n_tasks: int | None = None,
    n_workers: int | None = None,
    n_classes: int | None = None,
    *,
    folds: int = 5,
    seed: int = 0,
    noise_se: float = 2.0,
    cv_max_answers: int = 300_000,
    calibrate: bool = True,
) -> AggregationResult:
    """Choose or mix candidate models by cross-validated held-out label likelihood, fitted on
    every answer (see module doc)."""
    data = as_label_data(task_idx, worker_idx, label_idx, n_tasks, n_workers, n_classes)
    if data.n == 0 or data.n_classes < 2:
        result = majority_vote(data)
        result.extra.update(chosen=BASELINE, weights={BASELINE: 1.0}, scores={}, temperature=1.0, chosen_temperature=1.0)
        return replace(result, method="auto")
    scores = score_candidates(data, folds=folds, seed=seed, cv_max_answers=cv_max_answers)
    weights = choose(scores, noise_se)
    fits, post, temperature, chosen_temperature = _mix(data, weights, scores, calibrate)
    chosen = max(weights, key=weights.get)
    base = fits[chosen]
    labels = base.labels if len(weights) == 1 else choose_labels(post, data.class_score)
    confidence = np.clip(post[np.arange(data.n_tasks), labels], 0.0, 1.0)
    extra = dict(base.extra)
    extra.update(
        chosen=chosen,
        weights={name: round(w, 6) for name, w in weights.items()},
        scores={name: (round(c.score, 6) if c.eligible else None) for name, c in scores.items()},
        temperature=temperature,
        chosen_temperature=chosen_temperature,
    )
    return replace(base, method="auto", posteriors=post, labels=labels, confidence=confidence, extra=extra)

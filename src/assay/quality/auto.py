"""``auto``: choose the truth model without gold, by how well each predicts held-out labels.

The answers are split at random into ``folds`` groups. For each group every candidate model
is fitted on the other answers, and each held-out answer ``(task, worker, label)`` is scored
by the model's predictive probability ``sum_k posterior(task, k) * confusion[worker, k,
label]`` — the task's posterior from its *other* answers, the worker's fitted confusion
matrix (the population matrix for a worker the fit has not seen). A model that overfits
sparse workers predicts their next answer badly, so this score catches it; one that
explains the crowd better predicts better. The score of a model is the mean log predictive
probability per answer (:class:`Candidate`).

Two guards:

* **Identifiability.** A latent-class model can use a class that the crowd almost never
  answers as a free cluster (fact_eval: Dawid-Skene puts 14 % of the tasks into "skip",
  a class given in 0.14 % of the answers, with workers who then answer "yes"/"no" for it).
  Such a model predicts labels well and names the truth wrongly. A candidate whose pooled
  confusion matrix is not diagonally dominant — some true class ``k`` whose most frequent
  answer is not ``k`` — is not eligible.
* **Noise.** A richer model replaces majority vote only when its score is better by more
  than ``noise_se`` standard errors of the paired per-answer difference; otherwise the
  simpler model wins (ties go to majority vote).

The result is the chosen model refitted on all answers, with ``method`` ``"auto"`` and
``extra["chosen"]``, ``extra["scores"]`` (every candidate's score, None if not eligible)
and ``extra["temperature"]``: the posteriors are tempered, ``post ∝ post_model ** (1/T)``,
with ``T`` fitted on the same held-out predictions (the temperature under which the
held-out posteriors best predict the held-out answers) — calibration without gold.

Large inputs: the cross-validation runs on at most ``cv_max_answers`` answers (whole tasks
drawn at random), so its cost is bounded; only the final fit sees every answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from assay.quality.bayesian_ds import bayesian_dawid_skene
from assay.quality.community_ds import community_dawid_skene
from assay.quality.dawid_skene import dawid_skene, expected_counts, one_coin_dawid_skene
from assay.quality.label_data import LabelData, as_label_data
from assay.quality.mace import mace
from assay.quality.posteriors import AggregationResult, normalise_rows, softmax_rows
from assay.quality.votes import majority_vote

__all__ = ["CANDIDATES", "Candidate", "auto", "predictive_confusions", "score_candidates"]

CANDIDATES: dict[str, Callable[..., AggregationResult]] = {
    "majority_vote": majority_vote,
    "one_coin_dawid_skene": one_coin_dawid_skene,
    "dawid_skene": dawid_skene,
    "bayesian_dawid_skene": bayesian_dawid_skene,
    "community_dawid_skene": community_dawid_skene,
    "mace": mace,
}
BASELINE = "majority_vote"


@dataclass
class Candidate:
    name: str
    score: float  # mean held-out log predictive probability per answer
    eligible: bool
    log_predictive: np.ndarray = field(repr=False)  # per held-out answer
    held_posteriors: np.ndarray = field(repr=False)  # (answers, C): task posterior without the answer's fold
    held_rows: np.ndarray = field(repr=False)  # (answers, C): P(answer label | truth k) for that worker


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


def score_candidates(data: LabelData, candidates: dict[str, Callable[..., AggregationResult]] | None = None, *,
                     folds: int = 5, seed: int = 0, cv_max_answers: int = 300_000) -> dict[str, Candidate]:
    """Cross-validated held-out label log-likelihood of every candidate (see module doc)."""
    candidates = candidates or CANDIDATES
    rng = np.random.default_rng(seed)
    cv = _cv_sample(data, cv_max_answers, rng)
    C = cv.n_classes
    fold = rng.permutation(cv.n) % folds
    n = cv.n
    held_post = {name: np.zeros((n, C)) for name in candidates}
    held_rows = {name: np.zeros((n, C)) for name in candidates}
    ok = {name: True for name in candidates}
    for f in range(folds):
        test = fold == f
        train = ~test
        sub = LabelData.build(cv.task[train], cv.worker[train], cv.label[train], cv.n_tasks, cv.n_workers, C)
        t, w, lab = cv.task[test], cv.worker[test], cv.label[test]
        seen = sub.n_per_worker[w] > 0
        for name, fit in candidates.items():
            result = fit(sub)
            ok[name] = ok[name] and (name == BASELINE or identifiable(result, sub))
            conf, pop = predictive_confusions(result, sub)
            rows = np.where(seen[:, None], conf[w, :, lab], pop[:, lab].T)
            held_post[name][test] = result.posteriors[t]
            held_rows[name][test] = rows
    out = {}
    for name in candidates:
        logp = np.log(np.maximum((held_post[name] * held_rows[name]).sum(axis=1), 1e-300))
        out[name] = Candidate(name, float(logp.mean()) if n else 0.0, ok[name], logp, held_post[name], held_rows[name])
    return out


def choose(scores: dict[str, Candidate], noise_se: float = 2.0) -> str:
    """The eligible candidate with the best score, if it beats the baseline by more than
    ``noise_se`` standard errors of the paired difference; else the baseline."""
    base = scores.get(BASELINE)
    eligible = [c for c in scores.values() if c.eligible]
    if not eligible:
        return BASELINE
    best = max(eligible, key=lambda c: c.score)
    if base is None or best.name == BASELINE:
        return best.name
    diff = best.log_predictive - base.log_predictive
    se = float(diff.std() / np.sqrt(max(diff.size, 1)))
    return best.name if diff.mean() > noise_se * se else BASELINE


def fit_temperature(candidate: Candidate) -> float:
    """The temperature T in [0.25, 8] under which the tempered held-out posteriors best
    predict the held-out answers."""
    logpost = np.log(np.maximum(candidate.held_posteriors, 1e-300))
    rows = candidate.held_rows

    def loss(log_t: float) -> float:
        p, _ = softmax_rows(logpost / np.exp(log_t))
        return -float(np.log(np.maximum((p * rows).sum(axis=1), 1e-300)).mean())

    if rows.shape[0] == 0:
        return 1.0
    from scipy.optimize import minimize_scalar  # noqa: PLC0415 - scipy.optimize costs ~50 MB of server memory: loaded on first use

    opt = minimize_scalar(loss, bounds=(np.log(0.25), np.log(8.0)), method="bounded", options={"xatol": 1e-3})
    return float(np.exp(opt.x))


def temper(result: AggregationResult, data: LabelData, temperature: float) -> AggregationResult:
    """The result with posteriors raised to 1/T and renormalised (labels unchanged)."""
    if temperature == 1.0:
        return result
    post, _ = softmax_rows(np.log(np.maximum(result.posteriors, 1e-300)) / temperature)
    labels = result.labels
    if data.n_tasks:
        confidence = np.clip(post[np.arange(data.n_tasks), labels], 0.0, 1.0)
    else:
        confidence = np.zeros(0)
    return replace(result, posteriors=post, confidence=confidence, extra=dict(result.extra))


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
    """Choose a candidate model by cross-validated held-out label likelihood and fit it on
    every answer (see module doc)."""
    data = as_label_data(task_idx, worker_idx, label_idx, n_tasks, n_workers, n_classes)
    if data.n == 0 or data.n_classes < 2:
        result = majority_vote(data)
        result.extra.update(chosen=BASELINE, scores={}, temperature=1.0)
        return replace(result, method="auto")
    scores = score_candidates(data, folds=folds, seed=seed, cv_max_answers=cv_max_answers)
    chosen = choose(scores, noise_se)
    result = CANDIDATES[chosen](data)
    temperature = fit_temperature(scores[chosen]) if calibrate else 1.0
    result = temper(result, data, temperature)
    result.extra.update(
        chosen=chosen,
        scores={name: (round(c.score, 6) if c.eligible else None) for name, c in scores.items()},
        temperature=temperature,
    )
    return replace(result, method="auto")

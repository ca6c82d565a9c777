"""Adaptive overlap, replayed on a finished label set.

A live system asks for one more answer on a task only while the task's answer is not yet
certain enough. :func:`replay_adaptive` simulates that on recorded data: for each task it
consumes the recorded answers one at a time, recomputes the task's posterior after each,
and stops as soon as it is sure enough, the majority of ``max_labels`` answers is already
decided, or ``max_labels`` answers were used (or the task has no more).
:func:`replay_fixed` is the baseline: the majority vote of the first ``k`` answers.

The stop rule (one setting for every dataset, chosen on the shared sets; docs/quality.md):

- **Worker uncertainty.** Each worker's accuracy is their expected agreement with the
  fitted consensus on *other* tasks under a Beta(4, 1) prior (as
  :func:`assay.quality.online.smoothed_accuracy`), taken at its **lower credible bound**
  (``credible`` = 5 % quantile) and capped at ``accuracy_cap`` (0.9): a worker with 3
  answers counts for little, and even a worker with thousands never decides a task alone
  (agreement cannot see the errors the crowd makes together). The stop posterior is the
  one-coin posterior with those accuracies and the fitted class prior.
- **Sure enough.** The answer leading the votes reaches ``min(target, accuracy the model
  expects of fixed-K majority vote + margin)``: on easy data the target (0.97) decides; on
  hard data, where K votes are themselves often wrong, a task stops once its answer is
  already more likely right than the baseline's would be. The expected baseline accuracy is
  the fitted posterior of the first-K majority answer, averaged over the training tasks.
- **Decided.** The leader's lead over the runner-up exceeds the answers still allowed:
  more answers cannot change the majority.
- **The answer** is the majority vote of the answers consumed (ties as ``majority_vote``),
  the same rule as the baseline, so any difference in accuracy comes from *which* and *how
  many* answers were used.
- **Routing** (``route=True``): the next answer of a task comes from the most reliable (by
  the credible bound) worker among those who actually answered it in the data and have not
  been asked yet (``route_within_first_k``: only among the first ``max_labels`` to arrive,
  the baseline's own workers); ``route=False`` consumes answers in arrival order.

Where the worker models come from (no peeking): **cross-fitting.** The replayed tasks are
split at random into ``folds`` groups. For each group the Bayesian Dawid-Skene model
(:mod:`assay.quality.bayesian_ds`) is fitted on every answer *except* those of the group's
tasks — the tasks being replayed contribute none of their answers (neither the ones
consumed nor the "future" ones) and truth is never used — and the group's tasks are then
replayed with the workers' accuracies, class prior and expected baseline accuracy of that
fit. A worker who answered only tasks of the held-out group is unknown (the prior alone).
What it does still assume: the other tasks' answers are all available (as they are for a
backlog labelled earlier; in a live system they would themselves be partly adaptive).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import betaincinv

from assay.quality.bayesian_ds import bayesian_dawid_skene
from assay.quality.label_data import LabelData, as_label_data
from assay.quality.online import PRIOR_CORRECT, PRIOR_WRONG
from assay.quality.posteriors import AggregationResult, choose_labels

__all__ = ["ReplayResult", "StopRule", "credible_accuracy", "one_coin_rows", "replay_adaptive", "replay_fixed", "running_sums",
           "sequential_posteriors"]


@dataclass
class ReplayResult:
    tasks: np.ndarray  # task indices replayed
    predictions: np.ndarray  # chosen class per replayed task
    labels_used: np.ndarray  # answers consumed per replayed task
    confidence: np.ndarray  # posterior of the chosen class at the stop (vote share for fixed)
    fold: np.ndarray | None = None  # cross-fitting fold of each replayed task (adaptive only)
    consumed: np.ndarray | None = None  # (n answers,) bool: the input answers the replay used (adaptive only)

    @property
    def total_labels(self) -> int:
        return int(self.labels_used.sum())

    def accuracy(self, truth: np.ndarray) -> float:
        """Share of replayed tasks whose prediction equals ``truth[task]`` (full-length array)."""
        if len(self.tasks) == 0:
            return float("nan")
        return float(np.mean(self.predictions == np.asarray(truth)[self.tasks]))


def _replay_tasks(data: LabelData, tasks: Any) -> np.ndarray:
    if tasks is None:
        return np.flatnonzero(data.n_per_task > 0)
    tasks = np.asarray(tasks)
    if tasks.dtype == bool:
        if tasks.shape != (data.n_tasks,):
            raise ValueError("a boolean task mask must have n_tasks entries")
        return np.flatnonzero(tasks)
    tasks = np.unique(tasks.astype(np.int64))
    if tasks.size and (tasks[0] < 0 or tasks[-1] >= data.n_tasks):
        raise ValueError("task index out of range")
    return tasks


def _arrival_positions(task: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stable order of answers grouped by task, and each answer's 0-based position in its task."""
    order = np.argsort(task, kind="stable")
    st = task[order]
    start = np.r_[True, st[1:] != st[:-1]] if st.size else np.zeros(0, dtype=bool)
    first = np.flatnonzero(start)
    group = np.cumsum(start) - 1
    pos = np.arange(st.size) - first[group] if st.size else np.zeros(0, dtype=np.int64)
    return order, pos


def running_sums(task: np.ndarray, rows: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For answers grouped by task in arrival order: ``start + rows[first] + ... + rows[i]``
    over the answers of the same task up to i, and the group id of each row."""
    n = task.size
    if n == 0:
        return np.zeros((0, start.size)), np.zeros(0, dtype=np.int64)
    first = np.r_[True, task[1:] != task[:-1]]
    group = np.cumsum(first) - 1
    pos = np.arange(n) - np.flatnonzero(first)[group]
    # one pass per position (a handful), vectorised over tasks: exact running sums per task
    # (no global cumulative sum whose differences would lose precision on long inputs)
    acc = np.repeat(np.asarray(start, dtype=np.float64)[None, :], group[-1] + 1, axis=0)
    out = np.empty((n, start.size))
    by_pos = np.argsort(pos, kind="stable")
    bounds = np.searchsorted(pos[by_pos], np.arange(pos.max() + 2))
    for p in range(pos.max() + 1):
        idx = by_pos[bounds[p] : bounds[p + 1]]
        g = group[idx]
        acc[g] += rows[idx]
        out[idx] = acc[g]
    return out, group


def sequential_posteriors(
    task: np.ndarray, log_rows: np.ndarray, log_prior: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior after each answer, for answers already grouped by task in arrival order.

    ``log_rows[i]`` = log P(answer i | truth = k) for every k. Returns the (n, C) posterior
    after answers 0..i of the same task, and the group id of each row.
    """
    if task.size == 0:
        return np.zeros((0, log_prior.size)), np.zeros(0, dtype=np.int64)
    logj, group = running_sums(task, log_rows, np.asarray(log_prior, dtype=np.float64))
    logj -= logj.max(axis=1, keepdims=True)
    post = np.exp(logj)
    post /= post.sum(axis=1, keepdims=True)
    return post, group


@dataclass(frozen=True)
class StopRule:
    """When a task stops asking (module doc). The defaults are the one setting used on every dataset."""

    target: float = 0.97
    max_labels: int = 5
    min_labels: int = 1
    credible: float = 0.05  # quantile of a worker's accuracy posterior used for stopping
    accuracy_cap: float = 0.9  # no single worker is trusted beyond this
    margin: float | None = 0.05  # None: the target alone (no comparison with the baseline)
    route: bool = True
    route_within_first_k: bool = False  # route only among the first max_labels arrivals (the baseline's own workers)

    def __post_init__(self):
        if not 0.0 < self.target <= 1.0:
            raise ValueError("target must be in (0, 1]")
        if self.max_labels < 1 or self.min_labels < 1:
            raise ValueError("max_labels and min_labels must be at least 1")
        if not 0.0 < self.credible <= 0.5:
            raise ValueError("credible must be in (0, 0.5]")
        if not 0.5 <= self.accuracy_cap < 1.0:
            raise ValueError("accuracy_cap must be in [0.5, 1)")


def credible_accuracy(agreed, answered, quantile: float) -> np.ndarray:
    """Lower credible bound of a worker's accuracy: the ``quantile`` of the posterior
    Beta(PRIOR_CORRECT + agreed, PRIOR_WRONG + answered - agreed) (the prior of
    :func:`assay.quality.online.smoothed_accuracy`). Grows with the record: the same
    agreement rate over more answers gives a higher bound."""
    agreed, answered = np.asarray(agreed, dtype=np.float64), np.asarray(answered, dtype=np.float64)
    if np.any(agreed < 0) or np.any(agreed > answered + 1e-9):
        raise ValueError("need 0 <= agreed <= answered")
    return betaincinv(PRIOR_CORRECT + agreed, PRIOR_WRONG + np.maximum(answered - agreed, 0.0), quantile)


def one_coin_rows(accuracy: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """log P(answer | truth = k) under the one-coin model, one row per answer: the worker's
    accuracy on the given label, the rest spread evenly over the other classes."""
    acc = np.asarray(accuracy, dtype=np.float64)
    rows = np.repeat(np.log((1.0 - acc) / max(n_classes - 1, 1))[:, None], n_classes, axis=1)
    rows[np.arange(len(labels)), labels] = np.log(acc)
    return rows


def _worker_accuracy(data: LabelData, fitted: AggregationResult, train: np.ndarray, rule: StopRule) -> np.ndarray:
    """Each worker's stop-rule accuracy from their expected agreement with ``fitted`` on the training answers."""
    agreed = np.bincount(data.worker[train], weights=fitted.posteriors[data.task[train], data.label[train]], minlength=data.n_workers)
    answered = np.bincount(data.worker[train], minlength=data.n_workers)
    low = credible_accuracy(np.minimum(agreed, answered), answered, rule.credible)
    return np.clip(low, 1.0 / data.n_classes + 1e-6, rule.accuracy_cap)


def _effective_target(data: LabelData, fitted: AggregationResult, train: np.ndarray, rule: StopRule) -> float:
    """min(target, the accuracy ``fitted`` expects of fixed-K majority vote on the training tasks + margin)."""
    if rule.margin is None:
        return rule.target
    trained = np.flatnonzero(train)
    base = replay_fixed(data.task[trained], data.worker[trained], data.label[trained], data.n_tasks, data.n_workers, data.n_classes,
                        k=rule.max_labels, tasks=np.unique(data.task[trained]))
    if base.tasks.size == 0:
        return rule.target
    expected = float(fitted.posteriors[base.tasks, base.predictions].mean())
    return min(rule.target, expected + rule.margin)


def _stops(data: LabelData, prior: np.ndarray, accuracy: np.ndarray, answers: np.ndarray, target: float, rule: StopRule):
    """Replay the held-out ``answers`` (indices, any order): for each task where it stops,
    as ``(task, chosen class, answers used, stop confidence, consumed answer indices)``."""
    if rule.route_within_first_k:
        order, pos = _arrival_positions(data.task[answers])
        answers = answers[order][pos < rule.max_labels]
    if rule.route:  # most reliable first; stable, so equally reliable workers (all those at the cap) keep arrival order
        answers = answers[np.argsort(-accuracy[data.worker[answers]], kind="stable")]
    order, pos = _arrival_positions(data.task[answers])
    answers = answers[order]
    keep = pos < rule.max_labels
    answers, pos = answers[keep], pos[keep]
    t, lab, C = data.task[answers], data.label[answers], data.n_classes
    post, group = sequential_posteriors(t, one_coin_rows(accuracy[data.worker[answers]], lab, C), np.log(prior))
    votes, _ = running_sums(t, np.eye(C)[lab], np.zeros(C))
    rows = np.arange(t.size)
    leader = choose_labels(votes, data.class_score)
    lead = votes[rows, leader].copy()
    votes[rows, leader] = -1.0
    runner_up = np.maximum(votes.max(axis=1), 0.0)
    conf = post[rows, leader]
    sure = (conf >= target) & (lead > runner_up) & (pos + 1 >= rule.min_labels)
    decided = lead - runner_up > rule.max_labels - (pos + 1)
    last = np.r_[t[1:] != t[:-1], True]
    idx = np.flatnonzero(sure | decided | last)
    _, first_at = np.unique(group[idx], return_index=True)
    at = idx[first_at]
    consumed = answers[pos <= pos[at][group]]
    return t[at], leader[at], pos[at] + 1, conf[at], consumed


def replay_adaptive(
    task_idx,
    worker_idx=None,
    label_idx=None,
    n_tasks: int | None = None,
    n_workers: int | None = None,
    n_classes: int | None = None,
    *,
    rule: StopRule | None = None,
    tasks: Any = None,
    folds: int = 5,
    seed: int = 0,
    ds_kwargs: dict[str, Any] | None = None,
    **rule_fields: Any,
) -> ReplayResult:
    """Replay adaptive overlap with cross-fitted worker models (see module doc).

    ``rule``: the stop rule (default :class:`StopRule`); its fields may also be given as
    keywords (``target=0.9, route=False``). ``tasks``: the tasks to replay (indices or
    boolean mask; default every answered task) — e.g. only the tasks with known truth.
    Answers of the other tasks are always training data.
    """
    if rule is not None and rule_fields:
        raise ValueError("give the stop rule or its fields, not both")
    rule = StopRule(**rule_fields) if rule is None else rule
    if folds < 2:
        raise ValueError("folds must be at least 2 (a task's own answers never train its model)")
    data = as_label_data(task_idx, worker_idx, label_idx, n_tasks, n_workers, n_classes)
    replay = _replay_tasks(data, tasks)
    rng = np.random.default_rng(seed)
    fold_of_task = np.full(data.n_tasks, -1, dtype=np.int64)
    fold_of_task[replay] = rng.permutation(replay.size) % folds

    predictions = np.zeros(data.n_tasks, dtype=np.int64)
    used = np.zeros(data.n_tasks, dtype=np.int64)
    confidence = np.zeros(data.n_tasks)
    consumed = np.zeros(data.n, dtype=bool)
    answer_fold = fold_of_task[data.task]
    for f in range(min(folds, replay.size)):
        held = answer_fold == f
        train = ~held
        fitted = bayesian_dawid_skene(
            data.task[train], data.worker[train], data.label[train], data.n_tasks, data.n_workers, data.n_classes, **(ds_kwargs or {})
        )
        fold_tasks = replay[fold_of_task[replay] == f]
        # unanswered replay tasks: the prior
        predictions[fold_tasks] = int(np.argmax(fitted.class_prior))
        confidence[fold_tasks] = float(fitted.class_prior.max())
        held_answers = np.flatnonzero(held)
        if held_answers.size == 0:
            continue
        accuracy = _worker_accuracy(data, fitted, train, rule)
        target = _effective_target(data, fitted, train, rule)
        stopped, chosen, n_used, conf, taken = _stops(data, fitted.class_prior, accuracy, held_answers, target, rule)
        predictions[stopped], used[stopped], confidence[stopped] = chosen, n_used, conf
        consumed[taken] = True
    return ReplayResult(replay, predictions[replay], used[replay], confidence[replay], fold_of_task[replay], consumed)


def replay_fixed(
    task_idx,
    worker_idx=None,
    label_idx=None,
    n_tasks: int | None = None,
    n_workers: int | None = None,
    n_classes: int | None = None,
    *,
    k: int = 5,
    tasks: Any = None,
) -> ReplayResult:
    """Majority vote of the first ``k`` answers (arrival order) of each task; ties go to the
    class more frequent overall, then to the lower index (as in ``majority_vote``)."""
    if k < 1:
        raise ValueError("k must be at least 1")
    data = as_label_data(task_idx, worker_idx, label_idx, n_tasks, n_workers, n_classes)
    C = data.n_classes
    replay = _replay_tasks(data, tasks)
    order, pos = _arrival_positions(data.task)
    sel = order[pos < k]
    votes = np.bincount(data.task_label[sel], minlength=data.n_tasks * C).reshape(data.n_tasks, C)[replay]
    used = votes.sum(axis=1)
    chosen = choose_labels(votes.astype(np.float64), data.class_score)
    share = np.where(used > 0, votes[np.arange(len(replay)), chosen] / np.maximum(used, 1), 1.0 / C)
    return ReplayResult(replay, chosen, used.astype(np.int64), share)

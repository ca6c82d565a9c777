"""Adaptive overlap, replayed on a finished label set.

A live system asks for one more answer on a task only while the task's answer is not yet
certain enough. :func:`replay_adaptive` simulates that on recorded data: for each task it
consumes the recorded answers one at a time *in arrival order* (the order of the input
arrays), recomputes the task's posterior after each, and stops as soon as the chosen label's
posterior reaches ``target`` (after at least ``min_labels`` answers) or ``max_labels``
answers were used (or the task has no more). :func:`replay_fixed` is the baseline: the
majority vote of the first ``k`` answers of every task.

The stop rule uses the worker model *and its uncertainty*: by default the model is Bayesian
Dawid-Skene (:mod:`assay.quality.bayesian_ds`) and each answer is scored by ``E[log
confusion]`` under the worker's Dirichlet posterior, so a worker with 3 answers moves the
posterior far less than one whose record is long (``model="ds"``: the MAP Dawid-Skene point
estimates, as before). And the model's answer must also lead the votes so far
(``agree_with_votes``): a task where one trusted worker contradicts two others waits for
another answer instead of stopping on the model's word alone.

Where the worker models come from (no peeking): **cross-fitting.** The replayed tasks are
split at random into ``folds`` groups. For each group the worker model is fitted on every
answer *except* those of the group's tasks — the tasks being replayed contribute none of
their answers (neither the ones consumed nor the "future" ones) and truth is never used —
and the group's tasks are then replayed with those confusion matrices and class prior. A
worker who answered only tasks of the held-out group gets the fitted population confusion
matrix. This is the "Dawid-Skene on the full dataset with the task held out" option, with
whole groups held out to keep it to ``folds`` fits. What it does still assume: the other
tasks' answers are all available (as they are for a backlog labelled earlier; in a live
system they would themselves be partly adaptive).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from assay.quality.bayesian_ds import bayesian_dawid_skene, expected_log
from assay.quality.dawid_skene import dawid_skene
from assay.quality.label_data import LabelData, as_label_data
from assay.quality.posteriors import AggregationResult, choose_labels

__all__ = ["ReplayResult", "replay_adaptive", "replay_fixed", "running_sums", "sequential_posteriors"]


@dataclass
class ReplayResult:
    tasks: np.ndarray  # task indices replayed
    predictions: np.ndarray  # chosen class per replayed task
    labels_used: np.ndarray  # answers consumed per replayed task
    confidence: np.ndarray  # posterior of the chosen class at the stop (vote share for fixed)
    fold: np.ndarray | None = None  # cross-fitting fold of each replayed task (adaptive only)

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


def _stops(data: LabelData, model: AggregationResult, answers: np.ndarray, target: float, max_labels: int, min_labels: int,
           agree_with_votes: bool = True):
    """Replay the held-out ``answers`` (indices, any order) with ``model``'s confusion
    matrices: for each task the answer at which it stops (``target`` reached after at least
    ``min_labels``, or its last answer within ``max_labels``) as ``(task, chosen class,
    answers used, confidence)`` arrays."""
    order, pos = _arrival_positions(data.task[answers])
    answers = answers[order]
    keep = pos < max_labels
    answers, pos = answers[keep], pos[keep]
    t, w, lab = data.task[answers], data.worker[answers], data.label[answers]
    alpha = model.extra.get("confusion_alpha")
    if alpha is not None:  # Bayesian fit: E[log confusion] — a worker with few answers is not trusted yet
        log_rows = expected_log(alpha)[w, :, lab]
    else:
        log_rows = np.log(np.maximum(model.confusion[w, :, lab], 1e-300))
    post, group = sequential_posteriors(t, log_rows, np.log(model.class_prior))
    chosen = choose_labels(post, data.class_score)
    conf = post[np.arange(post.shape[0]), chosen]
    last = np.r_[t[1:] != t[:-1], True]
    sure = conf >= target
    if agree_with_votes:  # the model's answer must also lead the votes so far
        votes, _ = running_sums(t, np.eye(data.n_classes)[lab], np.zeros(data.n_classes))
        lead = votes[np.arange(votes.shape[0]), chosen]
        votes[np.arange(votes.shape[0]), chosen] = -1.0
        sure &= lead > votes.max(axis=1)
    stop = (sure & (pos + 1 >= min_labels)) | last
    idx = np.flatnonzero(stop)
    _, first_at = np.unique(group[idx], return_index=True)
    rows = idx[first_at]
    return t[rows], chosen[rows], pos[rows] + 1, conf[rows]


def replay_adaptive(
    task_idx,
    worker_idx=None,
    label_idx=None,
    n_tasks: int | None = None,
    n_workers: int | None = None,
    n_classes: int | None = None,
    *,
    target: float = 0.95,
    max_labels: int = 5,
    min_labels: int = 1,
    tasks: Any = None,
    folds: int = 5,
    seed: int = 0,
    ds_kwargs: dict[str, Any] | None = None,
    model: str = "bayesian",
    agree_with_votes: bool = True,
) -> ReplayResult:
    """Replay adaptive overlap with cross-fitted Dawid-Skene worker models (see module doc).

    ``tasks``: the tasks to replay (indices or boolean mask; default every answered task) —
    e.g. only the tasks with known truth. Answers of the other tasks are always training data.
    """
    if not 0.0 < target <= 1.0:
        raise ValueError("target must be in (0, 1]")
    if max_labels < 1 or min_labels < 1:
        raise ValueError("max_labels and min_labels must be at least 1")
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
    answer_fold = fold_of_task[data.task]
    for f in range(min(folds, replay.size)):
        held = answer_fold == f
        train = ~held
        fit = bayesian_dawid_skene if model == "bayesian" else dawid_skene
        fitted = fit(
            data.task[train], data.worker[train], data.label[train], data.n_tasks, data.n_workers, data.n_classes, **(ds_kwargs or {})
        )
        fold_tasks = replay[fold_of_task[replay] == f]
        # unanswered replay tasks: the prior
        predictions[fold_tasks] = int(np.argmax(fitted.class_prior))
        confidence[fold_tasks] = float(fitted.class_prior.max())
        held_answers = np.flatnonzero(held)
        if held_answers.size == 0:
            continue
        stopped_tasks, chosen, n_used, conf = _stops(data, fitted, held_answers, target, max_labels, min_labels, agree_with_votes)
        predictions[stopped_tasks] = chosen
        used[stopped_tasks] = n_used
        confidence[stopped_tasks] = conf
    return ReplayResult(replay, predictions[replay], used[replay], confidence[replay], fold_of_task[replay])


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

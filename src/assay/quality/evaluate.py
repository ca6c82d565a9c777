"""Offline evaluation of the aggregators on a folder of crowdsourced labels.

Folder format: ``labels.csv`` with columns ``worker,task,label`` (one row per answer, in
arrival order; extra columns are ignored) and ``truth.csv`` with ``task,label`` (gold for
some or all tasks). Tasks, workers and labels are arbitrary strings; if every label and
truth value is a number they are compared as numbers ("1" == "1.0") and ordered
numerically. Accuracy is computed on the gold tasks that have at least one answer; a gold
label that no worker ever gave counts as wrong for every method.
"""

from __future__ import annotations

import csv
import math
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assay.quality.adaptive import StopRule, replay_adaptive, replay_fixed
from assay.quality.aggregation import METHODS
from assay.quality.calibration import calibration_report
from assay.quality.label_data import LabelData
from assay.quality.posteriors import AggregationResult

__all__ = ["Dataset", "DatasetError", "evaluate", "load_dataset", "replay", "typical_labels_per_task"]

NO_TRUTH = -1  # task has no gold label
UNKNOWN_TRUTH = -2  # gold label that no worker gave (never matched)


class DatasetError(ValueError):
    """The folder or a file in it cannot be used; the message says why."""


@dataclass
class Dataset:
    path: Path
    task_names: list[str]
    worker_names: list[str]
    classes: list[str]
    task: np.ndarray
    worker: np.ndarray
    label: np.ndarray
    truth: np.ndarray  # (n_tasks,) class index, NO_TRUTH or UNKNOWN_TRUTH
    gold_without_answers: int = 0

    @property
    def n_tasks(self) -> int:
        return len(self.task_names)

    @property
    def n_workers(self) -> int:
        return len(self.worker_names)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def gold(self) -> np.ndarray:
        """Indices of tasks with a gold label."""
        return np.flatnonzero(self.truth != NO_TRUTH)

    def label_data(self) -> LabelData:
        return LabelData.build(self.task, self.worker, self.label, self.n_tasks, self.n_workers, self.n_classes)


def _read_csv(path: Path, columns: tuple[str, ...]) -> list[tuple[str, ...]]:
    if not path.is_file():
        raise DatasetError(f"{path}: file not found")
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                raise DatasetError(f"{path}: file is empty (expected a header row {','.join(columns)})")
            names = [h.strip().lower() for h in header]
            missing = [c for c in columns if c not in names]
            if missing:
                raise DatasetError(
                    f"{path}: missing column(s) {', '.join(missing)} (header is {','.join(header)!s}; "
                    f"expected {','.join(columns)})"
                )
            where = [names.index(c) for c in columns]
            width = max(where) + 1
            rows = []
            for line_no, row in enumerate(reader, start=2):
                if not row or all(not cell.strip() for cell in row):
                    continue
                if len(row) < width:
                    raise DatasetError(f"{path}, line {line_no}: expected {len(names)} fields, got {len(row)}")
                values = tuple(row[i].strip() for i in where)
                empty = [c for c, v in zip(columns, values) if v == ""]
                if empty:
                    raise DatasetError(f"{path}, line {line_no}: empty {', '.join(empty)}")
                rows.append(values)
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except csv.Error as exc:
        raise DatasetError(f"{path}: malformed CSV ({exc})") from None
    if not rows:
        raise DatasetError(f"{path}: no data rows")
    return rows


def _canonical_numbers(values: set[str]) -> dict[str, str] | None:
    """Map numeric strings to a canonical form, or None if any value is not a number."""
    out = {}
    for v in values:
        try:
            x = float(v)
        except ValueError:
            return None
        if not math.isfinite(x):
            return None
        out[v] = str(int(x)) if x.is_integer() else repr(x)
    return out


def load_dataset(folder: str | Path, *, require_truth: bool = True) -> Dataset:
    """Read ``labels.csv`` (+ ``truth.csv``) from ``folder``; raises :class:`DatasetError`."""
    folder = Path(folder)
    if not folder.exists():
        raise DatasetError(f"{folder}: no such directory")
    if not folder.is_dir():
        raise DatasetError(f"{folder}: not a directory")
    rows = _read_csv(folder / "labels.csv", ("worker", "task", "label"))
    truth_rows: list[tuple[str, ...]] = []
    if require_truth or (folder / "truth.csv").exists():
        truth_rows = _read_csv(folder / "truth.csv", ("task", "label"))

    raw_labels = {r[2] for r in rows}
    numeric = _canonical_numbers(raw_labels | {r[1] for r in truth_rows})
    canon = (lambda v: numeric[v]) if numeric is not None else (lambda v: v)
    label_keys = sorted({canon(v) for v in raw_labels}, key=(float if numeric is not None else str))
    class_of = {c: i for i, c in enumerate(label_keys)}

    task_of: dict[str, int] = {}
    worker_of: dict[str, int] = {}
    n = len(rows)
    t = np.empty(n, dtype=np.int64)
    w = np.empty(n, dtype=np.int64)
    lab = np.empty(n, dtype=np.int64)
    for i, (worker, task, label) in enumerate(rows):
        t[i] = task_of.setdefault(task, len(task_of))
        w[i] = worker_of.setdefault(worker, len(worker_of))
        lab[i] = class_of[canon(label)]

    truth = np.full(len(task_of), NO_TRUTH, dtype=np.int64)
    seen: dict[str, str] = {}
    orphan = 0
    for task, label in truth_rows:
        key = canon(label)
        if task in seen and seen[task] != key:
            raise DatasetError(f"{folder / 'truth.csv'}: task {task!r} has two different gold labels")
        seen[task] = key
        i = task_of.get(task)
        if i is None:
            orphan += 1
            continue
        truth[i] = class_of.get(key, UNKNOWN_TRUTH)
    if require_truth and not np.any(truth != NO_TRUTH):
        raise DatasetError(f"{folder}: no task in truth.csv has an answer in labels.csv")
    return Dataset(
        path=folder,
        task_names=list(task_of),
        worker_names=list(worker_of),
        classes=label_keys,
        task=t,
        worker=w,
        label=lab,
        truth=truth,
        gold_without_answers=orphan,
    )


def accuracy(result_labels: np.ndarray, ds: Dataset) -> float:
    gold = ds.gold
    return float(np.mean(result_labels[gold] == ds.truth[gold])) if gold.size else float("nan")


def fit(ds: Dataset, method: str, **kw: Any) -> tuple[AggregationResult, float]:
    """Fit one aggregator; returns the result and the wall time (index building included)."""
    start = time.perf_counter()
    result = METHODS[method](ds.label_data(), **kw)
    return result, time.perf_counter() - start


def evaluate(ds: Dataset, methods: list[str] | None = None, repeats: int = 1) -> dict[str, Any]:
    """Accuracy on the gold tasks, fit time (median of ``repeats``) and calibration
    (:func:`assay.quality.calibration.calibration_report` of the reported confidences on the
    gold tasks: ECE over 10 equal-width bins, the answers at >= 0.9) of each aggregator.

    Returns ``{"methods": {name: {"accuracy", "seconds", "ece", "confident_count",
    "confident_share", "confident_accuracy", "result"}}, ...}``; ``result`` is the
    :class:`AggregationResult` of the last run (for ``auto``, ``result.extra["weights"]``
    names the models it mixed and ``extra["chosen"]`` the one of largest weight)."""
    out: dict[str, Any] = {}
    gold = ds.gold
    for name in methods or list(METHODS):
        times = []
        result = None
        for _ in range(max(repeats, 1)):
            result, seconds = fit(ds, name)
            times.append(seconds)
        correct = result.labels[gold] == ds.truth[gold]
        out[name] = {"accuracy": accuracy(result.labels, ds), "seconds": statistics.median(times),
                     **calibration_report(result.confidence[gold], correct), "result": result}
    return {
        "methods": out,
        "n_tasks": ds.n_tasks,
        "n_workers": ds.n_workers,
        "n_labels": int(ds.task.size),
        "n_classes": ds.n_classes,
        "n_gold": int(ds.gold.size),
    }


def typical_labels_per_task(ds: Dataset) -> int:
    """Median number of answers per task (rounded down, at least 1)."""
    counts = np.bincount(ds.task, minlength=ds.n_tasks)
    return max(1, int(np.median(counts)))


def replay(ds: Dataset, rule: StopRule | None = None, *, folds: int = 5, seed: int = 0) -> dict[str, Any]:
    """Adaptive overlap under ``rule`` (default :class:`StopRule`) vs fixed-``rule.max_labels``
    majority vote, replayed on the gold tasks.

    ``labels`` counts the answers consumed on the gold tasks (the tasks that are scored);
    ``saved_counted`` is the saving counted honestly: 0 where adaptive's accuracy is below fixed's."""
    rule = rule or StopRule()
    data = ds.label_data()
    gold = ds.gold
    adaptive = replay_adaptive(data, rule=rule, tasks=gold, folds=folds, seed=seed)
    fixed = replay_fixed(data, k=rule.max_labels, tasks=gold)
    acc_a, acc_f = adaptive.accuracy(ds.truth), fixed.accuracy(ds.truth)
    saved = 1.0 - adaptive.total_labels / fixed.total_labels if fixed.total_labels else float("nan")
    return {
        "adaptive": {"accuracy": acc_a, "labels": adaptive.total_labels, "result": adaptive},
        "fixed": {"accuracy": acc_f, "labels": fixed.total_labels, "result": fixed},
        "saved": saved,
        "accuracy_change": acc_a - acc_f,
        "saved_counted": saved if acc_a >= acc_f else 0.0,
    }

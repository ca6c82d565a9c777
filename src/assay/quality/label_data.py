"""Categorical answers in the sparse form every truth-inference method takes.

``task_idx``, ``worker_idx``, ``label_idx`` — equally long integer arrays, one entry per
answer (a worker may answer a task more than once; every answer counts) — and the sizes
``n_tasks``, ``n_workers``, ``n_classes`` (default: largest index + 1). :class:`LabelData`
validates them once and builds the index structures the methods share (vote counts, answers
per task and worker, the sparse one-hot matrix) lazily.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["LabelData", "as_label_data"]


@dataclass
class LabelData:
    """Validated answers plus lazily built index structures (shared between methods)."""

    task: np.ndarray
    worker: np.ndarray
    label: np.ndarray
    n_tasks: int
    n_workers: int
    n_classes: int
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def build(
        cls,
        task_idx: Any,
        worker_idx: Any,
        label_idx: Any,
        n_tasks: int | None = None,
        n_workers: int | None = None,
        n_classes: int | None = None,
    ) -> "LabelData":
        arrays = []
        for name, values in (("task_idx", task_idx), ("worker_idx", worker_idx), ("label_idx", label_idx)):
            arr = np.asarray(values)
            if arr.ndim != 1:
                raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
            if arr.size and not np.issubdtype(arr.dtype, np.integer):
                if np.issubdtype(arr.dtype, np.floating) and np.all(np.mod(arr, 1) == 0):
                    arr = arr.astype(np.int64)
                else:
                    raise ValueError(f"{name} must hold integer indices, got dtype {arr.dtype}")
            arr = arr.astype(np.int64, copy=False)
            if arr.size and arr.min() < 0:
                raise ValueError(f"{name} holds a negative index")
            arrays.append(arr)
        t, w, lab = arrays
        if not (len(t) == len(w) == len(lab)):
            raise ValueError(f"task_idx, worker_idx and label_idx differ in length: {len(t)}, {len(w)}, {len(lab)}")
        sizes = []
        for name, arr, given in (("n_tasks", t, n_tasks), ("n_workers", w, n_workers), ("n_classes", lab, n_classes)):
            need = int(arr.max()) + 1 if arr.size else 0
            size = need if given is None else int(given)
            if size < need:
                raise ValueError(f"{name}={size} but an index {need - 1} occurs")
            sizes.append(size)
        if sizes[2] < 1:
            raise ValueError("n_classes must be at least 1")
        return cls(t, w, lab, sizes[0], sizes[1], sizes[2])

    @property
    def n(self) -> int:
        return len(self.task)

    def cached(self, key: str, make):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    @property
    def task_label(self) -> np.ndarray:
        """task * C + label (flat index into a tasks x classes matrix)."""
        return self.cached("tl", lambda: self.task * self.n_classes + self.label)

    @property
    def votes(self) -> np.ndarray:
        """(n_tasks, C) answer counts."""
        return self.cached(
            "votes",
            lambda: np.bincount(self.task_label, minlength=self.n_tasks * self.n_classes)
            .reshape(self.n_tasks, self.n_classes)
            .astype(np.float64),
        )

    @property
    def n_per_task(self) -> np.ndarray:
        return self.cached("npt", lambda: np.bincount(self.task, minlength=self.n_tasks))

    @property
    def n_per_worker(self) -> np.ndarray:
        return self.cached("npw", lambda: np.bincount(self.worker, minlength=self.n_workers))

    @property
    def class_score(self) -> np.ndarray:
        """Tie-break score per class: more frequent overall first, then lower index."""

        def make():
            freq = np.bincount(self.label, minlength=self.n_classes)
            order = np.lexsort((np.arange(self.n_classes), -freq))  # most frequent, then lowest index
            score = np.empty(self.n_classes)
            score[order] = -np.arange(self.n_classes, dtype=np.float64)
            return score

        return self.cached("class_score", make)

    @property
    def onehot(self) -> sp.csr_matrix:
        """A[task, worker * C + label] = number of such answers (CSR)."""

        def make():
            cols = self.worker * self.n_classes + self.label
            idx_dtype = np.int32 if max(self.n_tasks, self.n_workers * self.n_classes, self.n) < 2**31 - 1 else np.int64
            return sp.csr_matrix(
                (np.ones(self.n), (self.task.astype(idx_dtype), cols.astype(idx_dtype))),
                shape=(self.n_tasks, self.n_workers * self.n_classes),
            )

        return self.cached("onehot", make)


def as_label_data(task_idx, worker_idx, label_idx, n_tasks, n_workers, n_classes) -> LabelData:
    """``task_idx`` itself when it is already a :class:`LabelData`, else the arrays built into one."""
    if isinstance(task_idx, LabelData):
        return task_idx
    return LabelData.build(task_idx, worker_idx, label_idx, n_tasks, n_workers, n_classes)

"""Shared pieces of the truth-model tests: simulated crowds with known accuracies and
hypothesis strategies for small label sets."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st


def simulate(rng, n_tasks=300, accs=(0.9, 0.7, 0.6, 0.8), n_classes=3, per_task=None):
    """Workers answer with accuracy acc, errors uniform (every task, or `per_task` random
    ones each); answers shuffled (arrival order). Returns t, w, lab, truth."""
    truth = rng.integers(0, n_classes, n_tasks)
    rows = []
    for wk, acc in enumerate(accs):
        tasks = np.arange(n_tasks) if per_task is None else rng.choice(n_tasks, per_task, replace=False)
        ok = rng.random(tasks.size) < acc
        wrong = (truth[tasks] + rng.integers(1, n_classes, tasks.size)) % n_classes
        rows.append(np.stack([tasks, np.full(tasks.size, wk), np.where(ok, truth[tasks], wrong)], axis=1))
    a = np.concatenate(rows)
    a = a[rng.permutation(len(a))]
    return a[:, 0], a[:, 1], a[:, 2], truth


@st.composite
def label_sets(draw, max_tasks=12, max_workers=6, max_classes=4):
    """Any small label set (workers may answer a task twice or never): t, w, lab, T, W, C."""
    n_tasks = draw(st.integers(1, max_tasks))
    n_workers = draw(st.integers(1, max_workers))
    n_classes = draw(st.integers(2, max_classes))
    n = draw(st.integers(1, 40))
    t = draw(st.lists(st.integers(0, n_tasks - 1), min_size=n, max_size=n))
    w = draw(st.lists(st.integers(0, n_workers - 1), min_size=n, max_size=n))
    lab = draw(st.lists(st.integers(0, n_classes - 1), min_size=n, max_size=n))
    return np.array(t), np.array(w), np.array(lab), n_tasks, n_workers, n_classes

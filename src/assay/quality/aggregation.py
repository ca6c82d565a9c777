"""Categorical truth inference: the registry of methods and the ``aggregate(method, ...)``
dispatcher. Each model family lives in its own module; a new method is added to
:data:`METHODS`.

Input everywhere: ``task_idx``, ``worker_idx``, ``label_idx`` — equally long integer arrays,
one entry per answer (a worker may answer a task more than once; every answer counts) — and
the sizes ``n_tasks``, ``n_workers``, ``n_classes`` (default: largest index + 1), or one
prebuilt :class:`assay.quality.label_data.LabelData`. Tasks without any answer get the
class prior (uniform for the vote-based methods).

Every method returns an :class:`assay.quality.posteriors.AggregationResult`: the per-task
posterior matrix (``n_tasks x n_classes``, rows sum to 1), the chosen label (argmax; ties go
to the class that is more frequent overall, then to the lower index — deterministic and
independent of the order of tasks and workers), its confidence (the posterior of the chosen
label) and a per-worker accuracy estimate (``worker_skill``); Dawid-Skene and one-coin
Dawid-Skene also return per-worker confusion matrices (``confusion[w, true, given]``) and the
class prior, which :func:`assay.quality.dawid_skene.update_posteriors` uses to re-score a few
tasks when new answers arrive without refitting.

Methods:

* ``majority_vote``, ``weighted_majority_vote`` — :mod:`assay.quality.votes`.
* ``dawid_skene``, ``one_coin_dawid_skene`` — :mod:`assay.quality.dawid_skene`.
* ``glad`` — :mod:`assay.quality.glad`.
* ``bayesian_dawid_skene`` — :mod:`assay.quality.bayesian_ds` (Dirichlet priors, variational
  Bayes: holds up on sparse workers).
* ``community_dawid_skene`` — :mod:`assay.quality.community_ds` (workers pooled into
  communities, after CBCC).
* ``mace`` — :mod:`assay.quality.mace` (competence plus a per-worker spam distribution).
* ``auto`` — :mod:`assay.quality.auto`: chooses among the models above by cross-validated
  held-out label likelihood, without gold, and mixes them (stacking); ``extra["weights"]``
  names the mix, ``extra["chosen"]`` its largest member.

Each of these returns per-worker confusion matrices, a class prior and a population matrix,
so a project can score new tasks with any of them (:mod:`assay.quality.online`).
"""

from __future__ import annotations

from typing import Callable

from assay.quality.auto import auto
from assay.quality.bayesian_ds import bayesian_dawid_skene
from assay.quality.community_ds import community_dawid_skene
from assay.quality.dawid_skene import dawid_skene, one_coin_dawid_skene
from assay.quality.glad import glad
from assay.quality.mace import mace
from assay.quality.posteriors import AggregationResult
from assay.quality.votes import majority_vote, weighted_majority_vote

__all__ = ["METHODS", "aggregate"]

METHODS: dict[str, Callable[..., AggregationResult]] = {
    "majority_vote": majority_vote,
    "weighted_majority_vote": weighted_majority_vote,
    "dawid_skene": dawid_skene,
    "one_coin_dawid_skene": one_coin_dawid_skene,
    "glad": glad,
    "bayesian_dawid_skene": bayesian_dawid_skene,
    "community_dawid_skene": community_dawid_skene,
    "mace": mace,
    "auto": auto,
}


def aggregate(method: str, task_idx, worker_idx=None, label_idx=None, n_tasks=None, n_workers=None, n_classes=None, **kw):
    """Run the aggregator called ``method`` (a key of :data:`METHODS`)."""
    try:
        fn = METHODS[method]
    except KeyError:
        raise ValueError(f"unknown method {method!r}; choose from {', '.join(METHODS)}") from None
    return fn(task_idx, worker_idx, label_idx, n_tasks, n_workers, n_classes, **kw)

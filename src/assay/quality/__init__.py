"""The quality engine's pure algorithms: truth inference, agreement, adaptive overlap.

Everything here is plain functions over numpy arrays (no database, no web code), so it can
run inside the server, in a worker, or offline on a CSV export (``assay quality eval``).

Labels are given as a sparse list of answers: three equally long integer arrays
``task_idx``, ``worker_idx``, ``label_idx`` (one entry per answer) plus the sizes
``n_tasks``, ``n_workers``, ``n_classes``. See :mod:`assay.quality.aggregation`.
"""

import importlib

# The truth-inference names this package exposes, and the module that defines each.
_MODULES = {
    "METHODS": "assay.quality.aggregation",
    "aggregate": "assay.quality.aggregation",
    "AggregationResult": "assay.quality.posteriors",
    "dawid_skene": "assay.quality.dawid_skene",
    "one_coin_dawid_skene": "assay.quality.dawid_skene",
    "update_posteriors": "assay.quality.dawid_skene",
    "glad": "assay.quality.glad",
    "auto": "assay.quality.auto",
    "bayesian_dawid_skene": "assay.quality.bayesian_ds",
    "community_dawid_skene": "assay.quality.community_ds",
    "mace": "assay.quality.mace",
    "majority_vote": "assay.quality.votes",
    "weighted_majority_vote": "assay.quality.votes",
}

__all__ = sorted(_MODULES)


def __getattr__(name: str):
    # Lazy: `assay serve` imports the CLI, which registers `assay quality`; numpy/scipy
    # are loaded only when the quality code is used, keeping the idle server small.
    if name in _MODULES:
        return getattr(importlib.import_module(_MODULES[name]), name)
    raise AttributeError(name)

"""The quality engine's pure algorithms: truth inference, agreement, adaptive overlap.

Everything here is plain functions over numpy arrays (no database, no web code), so it can
run inside the server, in a worker, or offline on a CSV export (``assay quality eval``).

Labels are given as a sparse list of answers: three equally long integer arrays
``task_idx``, ``worker_idx``, ``label_idx`` (one entry per answer) plus the sizes
``n_tasks``, ``n_workers``, ``n_classes``. See :mod:`assay.quality.aggregation`.
"""

__all__ = [
    "METHODS",
    "AggregationResult",
    "aggregate",
    "dawid_skene",
    "glad",
    "majority_vote",
    "one_coin_dawid_skene",
    "update_posteriors",
    "weighted_majority_vote",
]


def __getattr__(name: str):
    # Lazy: `assay serve` imports the CLI, which registers `assay quality`; numpy/scipy
    # are loaded only when the quality code is used, keeping the idle server small.
    if name in __all__:
        from assay.quality import aggregation

        return getattr(aggregation, name)
    raise AttributeError(name)

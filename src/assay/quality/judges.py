"""How good an LLM judge is, measured against people on the same tasks, and what it saves
when it counts as one more labeler.

Verdicts are categorical labels (for a pairwise task: 0 = the first response wins, 1 = the
second, 2 = a tie). :func:`position_bias` reads the verdicts of pairs judged in both
orders; :func:`agreement` gives Cohen's kappa with a bootstrap interval and the accuracy
against the consolidated human answer with a Wilson interval; :func:`replay_with_judge`
replays adaptive overlap with the judge's answer first on each task and Dawid-Skene
confusion matrices for everyone (the judge included, cross-fitted as in
:mod:`assay.quality.adaptive`), and counts the human labels it needs against a fixed
overlap."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.special import ndtri

from assay.quality.adaptive import replay_adaptive, replay_fixed
from assay.quality.agreement import cohen_kappa
from assay.quality.dawid_skene import dawid_skene

__all__ = ["accuracy", "agreement", "position_bias", "replay_with_judge", "wilson_interval"]

FIRST, SECOND, TIE = "first", "second", "tie"


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float | None, float | None]:
    """Wilson score interval of a proportion (None, None without trials)."""
    if n == 0:
        return None, None
    z = float(ndtri(0.5 + confidence / 2))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def position_bias(shown_first: list[str], shown_swapped: list[str]) -> dict[str, Any]:
    """Pairs judged in both orders: each verdict names a position (``first``, ``second``
    or ``tie``) in its own order. A pair is consistent when the same response wins both
    times (first then second, second then first) or both are ties. ``first_position_share``:
    of all decisive verdicts, the share naming the first position (0.5 without bias), with
    a two-sided binomial test; ``inconsistent_toward_first``: inconsistent pairs whose two
    verdicts both named the first position."""
    from scipy.stats import binomtest  # noqa: PLC0415 - scipy.stats costs ~70 MB of server memory and 0.5 s of start-up: loaded on first use

    if len(shown_first) != len(shown_swapped):
        raise ValueError("both orders need one verdict per pair")
    flipped = {FIRST: SECOND, SECOND: FIRST, TIE: TIE}
    consistent = sum(flipped.get(a) == b for a, b in zip(shown_first, shown_swapped))
    every = list(shown_first) + list(shown_swapped)
    decisive = [v for v in every if v in (FIRST, SECOND)]
    firsts = sum(v == FIRST for v in decisive)
    n = len(shown_first)
    return {"pairs": n, "consistent": consistent, "inconsistent": n - consistent, "consistency": consistent / n if n else None,
            "decisive_verdicts": len(decisive), "first_position_share": firsts / len(decisive) if decisive else None,
            "p_value": float(binomtest(firsts, len(decisive), 0.5).pvalue) if decisive else None,
            "inconsistent_toward_first": sum(a == FIRST and b == FIRST for a, b in zip(shown_first, shown_swapped)),
            "inconsistent_toward_second": sum(a == SECOND and b == SECOND for a, b in zip(shown_first, shown_swapped))}


def agreement(judge: list[Any], people: list[Any], n_bootstrap: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Judge against people: one entry per human answer in ``people`` and the judge's
    verdict on the same task in ``judge``. Cohen's kappa with a percentile-bootstrap 95 %
    interval, and the raw agreement."""
    kappa = cohen_kappa(judge, people, n_bootstrap=n_bootstrap, seed=seed)
    same = sum(a == b for a, b in zip(judge, people))
    return {"pairs": len(people), "kappa": None if math.isnan(kappa.value) else round(float(kappa.value), 4),
           "kappa_low": None if kappa.ci_low is None else round(float(kappa.ci_low), 4),
           "kappa_high": None if kappa.ci_high is None else round(float(kappa.ci_high), 4),
           "raw_agreement": round(same / len(people), 4) if people else None}


def accuracy(judge: list[Any], reference: list[Any]) -> dict[str, Any]:
    """Share of tasks where the judge's verdict equals the consolidated human answer, with
    a 95 % Wilson interval."""
    correct = sum(a == b for a, b in zip(judge, reference))
    low, high = wilson_interval(correct, len(reference))
    return {"tasks": len(reference), "correct": correct, "accuracy": round(correct / len(reference), 4) if reference else None,
            "low": None if low is None else round(low, 4), "high": None if high is None else round(high, 4)}


def replay_with_judge(task, worker, label, judge_task, judge_label, n_tasks: int, n_workers: int, n_classes: int, *,
                      target: float = 0.95, fixed_overlap: int = 3, max_human: int = 5, min_human: int = 1,
                      truth=None, seed: int = 0) -> dict[str, Any]:
    """Replay adaptive overlap with the judge as labeler ``n_workers`` answering first on
    every task it judged (only those are replayed): people are asked one at a time until
    the chosen answer's posterior reaches ``target`` (after at least ``min_human`` people)
    or ``max_human`` people answered. Baseline: the majority vote of the first
    ``fixed_overlap`` people. Both are scored against the Dawid-Skene answer of all the
    people's labels (the judge never votes in the reference), and against ``truth`` when
    it is known (simulations)."""
    task, worker, label = (np.asarray(x, dtype=np.int64) for x in (task, worker, label))
    jt, jl = np.asarray(judge_task, dtype=np.int64), np.asarray(judge_label, dtype=np.int64)
    judged = np.zeros(n_tasks, dtype=bool)
    judged[jt] = True
    # arrival order: the judge's verdict first, then the people in the order they answered
    all_task = np.concatenate([jt, task])
    all_worker = np.concatenate([np.full(len(jt), n_workers), worker])
    all_label = np.concatenate([jl, label])
    order = np.argsort(all_task, kind="stable")
    adaptive = replay_adaptive(all_task[order], all_worker[order], all_label[order], n_tasks, n_workers + 1, n_classes, target=target,
                               max_labels=max_human + 1, min_labels=min_human + 1, tasks=judged & np.isin(np.arange(n_tasks), task),
                               seed=seed, route=False, margin=None)  # the judge answers first; people in arrival order
    fixed = replay_fixed(task, worker, label, n_tasks, n_workers, n_classes, k=fixed_overlap, tasks=adaptive.tasks)
    reference = dawid_skene(task, worker, label, n_tasks, n_workers, n_classes).labels if truth is None else np.asarray(truth)
    with_judge = dawid_skene(all_task, all_worker, all_label, n_tasks, n_workers + 1, n_classes)
    human_adaptive = int(adaptive.labels_used.sum() - len(adaptive.tasks))
    return {"reference": "people (Dawid-Skene)" if truth is None else "truth","tasks": int(len(adaptive.tasks)), "target": target, "fixed_overlap": fixed_overlap, "max_human": max_human,
            "human_labels_fixed": int(fixed.total_labels), "human_labels_adaptive": human_adaptive,
            "human_labels_saved": int(fixed.total_labels) - human_adaptive,
            "accuracy_fixed": round(fixed.accuracy(reference), 4) if len(fixed.tasks) else None,
            "accuracy_adaptive": round(adaptive.accuracy(reference), 4) if len(adaptive.tasks) else None,
            "judge_confusion": np.round(with_judge.confusion[n_workers], 4).tolist()}

"""Consolidation: several labelers' answers to one task become one answer with a
confidence, and each labeler's record learns whether they agreed.

The type's own aggregator decides when it has one (spans, boxes, free text; segmentation
masks by a per-pixel vote, media/consensus.py); otherwise the
project's method over whole answers: `majority_vote` / `weighted_majority_vote` — vote
shares; a named truth model (`dawid_skene`, `mace`, …) — the project's fitted model
(truth/fitted.py); `auto` — the model `quality.auto` chose for the project once it has
been fitted (quality["model"] names it), before that the one-coin posterior with each
labeler weighted by their accuracy estimate (assay.quality.online)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from assay.backends.prelabels import judge_vote
from assay.db import upsert, written_at_commit
from assay.projects.models import Project
from assay.tasks.models import LabelerStats, Task, TaskKind
from assay.tasktypes import get_plugin
from assay.truth.fitted import NAMED_METHODS, fitted_posterior

LS = LabelerStats.__table__
PT = Project.__table__
_AGGREGATION = select(PT.c.aggregation).where(PT.c.id == bindparam("p"))
_STATS = select(LS.c.user_id, LS.c.answered, LS.c.agreed, LS.c.gold_answered, LS.c.gold_correct).where(
    LS.c.project_id == bindparam("p"), LS.c.user_id.in_(bindparam("users", expanding=True)))


def consensus_of(session: Session, task: Task, answers: list[tuple[int | None, dict[str, Any]]], aggregation: str | None = None,
                 accuracies: list[float] | None = None):
    """Consolidate (labeler, response) pairs. Returns (response, quality, agreed) where
    agreed[i] says whether answer i agrees; quality["contributors"] lists the agreeing
    labelers (native API only). `accuracies`: the labelers' estimates when the caller
    has read them already (an import with answers reads them once for all its tasks)."""
    plugin = get_plugin(task.type)
    users = [u for u, _ in answers]
    if accuracies is None:
        accuracies = accuracies_of(session, task.project_id, users)
    if aggregation is None:
        aggregation = session.connection().execute(_AGGREGATION, {"p": task.project_id}).scalar()
    if aggregation == "majority_vote":
        accuracies = [labeler_accuracy(None)] * len(answers)  # everyone counts the same
    responses = [r for _, r in answers]
    # a project's LLM judge may vote too, weighted by its accuracy (never counted as a label)
    vote = judge_vote(session.connection(), task.id, task.project_id) if plugin.judge_can_vote(task.params) else None
    voters, weights = (responses + [vote[0]], accuracies + [vote[1]]) if vote else (responses, accuracies)
    if len(voters) < 2:
        aggregate = None
    elif plugin.consolidates_masks:
        from assay.media.consensus import consolidate_masks  # noqa: PLC0415 - numpy and Pillow load at the first mask vote, not at start-up

        aggregate = consolidate_masks(session, task.org_id, task.params, voters, weights)
    else:
        aggregate = plugin.aggregate(voters, weights, task.params)
    if aggregate is not None:
        agreed = [i in set(aggregate.contributors) for i in range(len(answers))]
        quality = {"confidence": round(float(aggregate.confidence), 4), "labels": len(answers), "agreeing": sum(agreed),
                   "method": aggregate.method}
        if aggregate.details:
            quality.update(aggregate.details)
        if vote:
            quality["judge"] = {"weight": round(vote[1], 4), "agreed": len(answers) in set(aggregate.contributors)}
        return aggregate.response, _with_contributors(quality, users, agreed), agreed
    keys = [plugin.consensus_key(response, task.params) for response in responses]
    posterior, method, model = _posterior(session, task, aggregation, users, keys, accuracies)
    # ties go to the answer given first
    winner_key = max(posterior, key=lambda k: (posterior[k], -keys.index(k)))
    agreed = [k == winner_key for k in keys]
    quality = {"confidence": round(posterior[winner_key], 4), "labels": len(answers), "agreeing": sum(agreed), "method": method}
    if model is not None:
        quality["model"] = model
    return responses[keys.index(winner_key)], _with_contributors(quality, users, agreed), agreed


def _posterior(session: Session, task: Task, aggregation: str, users: list, keys: list,
               accuracies: list[float]) -> tuple[dict, str, str | None]:
    """(posterior over the distinct answers, method, the model `auto` chose or None) of
    whole-answer consolidation."""
    from assay.quality.online import consensus  # noqa: PLC0415 - numpy loads on the first consolidation, not at start-up

    plugin = get_plugin(task.type)
    if aggregation in ("majority_vote", "weighted_majority_vote"):
        return vote_shares(keys, None if aggregation == "majority_vote" else accuracies), aggregation, None
    if aggregation in NAMED_METHODS and plugin.is_categorical(task.params):
        fitted = fitted_posterior(session, task.project_id, aggregation, users, keys)
        if fitted is not None:
            posterior, model = fitted
            return posterior, aggregation, (model if aggregation == "auto" else None)
    return consensus(keys, accuracies, plugin.answer_space(task.params)).posterior, "one_coin", None


def accuracies_of(session: Session, project_id: int, users: list[int | None]) -> list[float]:
    known = [u for u in users if u is not None]
    stats = {}
    if known:
        stats = {row.user_id: row for row in session.connection().execute(_STATS, {"p": project_id, "users": known})}
    return [labeler_accuracy(stats.get(u)) for u in users]


def vote_shares(keys: list, weights: list[float] | None) -> dict:
    shares: dict = {}
    for i, key in enumerate(keys):
        shares[key] = shares.get(key, 0.0) + (1.0 if weights is None else weights[i])
    total = sum(shares.values()) or 1.0
    return {k: v / total for k, v in shares.items()}


def _with_contributors(quality: dict[str, Any], users: list[int | None], agreed: list[bool]) -> dict[str, Any]:
    quality["contributors"] = [u for u, ok in zip(users, agreed) if ok and u is not None]
    return quality


def labeler_accuracy(stats) -> float:
    """A labeler's accuracy estimate: from gold answers when they have any, else from
    agreement with consolidated answers (both smoothed by the same Beta prior)."""
    from assay.quality.online import smoothed_accuracy  # noqa: PLC0415 - as consensus: numpy on first use

    if stats is None:
        return smoothed_accuracy(0, 0)
    if stats.gold_answered:
        return smoothed_accuracy(stats.gold_correct, stats.gold_answered)
    return smoothed_accuracy(stats.agreed, stats.answered)


# ----------------------------------------------------------------------------- labelers' records

def record_agreement(session: Session, task: Task, users: list[int | None], agreed: list[bool]) -> None:
    """Each labeler's answer joins their record: agreed when it matches the final answer.
    Collected here and written just before the commit, in user order: completions by the
    same people on different tasks touch the same rows, so on PostgreSQL the row locks are
    held only at the very end and always taken in the same order (no deadlock)."""
    deltas = session.info.setdefault(_STATS_DELTAS, {})
    for user_id, ok in zip(users, agreed):
        if user_id is not None:
            key = (task.project_id, user_id, task.org_id)
            answered, agreed_n = deltas.get(key, (0, 0))
            deltas[key] = (answered + 1, agreed_n + int(ok))


_STATS_DELTAS = "labeler_stats_deltas"


@written_at_commit(_STATS_DELTAS)
def _write_stats(session, deltas) -> None:
    conn = session.connection()
    stmt = upsert(conn, "labeler_stats", LS, [LS.c.project_id, LS.c.user_id],
                  {"project_id": bindparam("p"), "user_id": bindparam("u"), "org_id": bindparam("o"), "answered": bindparam("n"),
                   "agreed": bindparam("agreed")},
                  lambda excluded: {"answered": LS.c.answered + excluded.answered, "agreed": LS.c.agreed + excluded.agreed})
    for (project_id, user_id, org_id), (answered, agreed) in sorted(deltas.items()):
        conn.execute(stmt, {"p": project_id, "u": user_id, "o": org_id, "n": answered, "agreed": agreed})


def record_gold_result(session: Session, task: Task, user_id: int, correct: bool) -> None:
    """An evaluation item answered: it counts in the labeler's gold record (practice
    items do not)."""
    if task.kind != TaskKind.EVALUATION:
        return
    conn = session.connection()
    stmt = upsert(conn, "labeler_gold", LS, [LS.c.project_id, LS.c.user_id],
                  {"project_id": bindparam("p"), "user_id": bindparam("u"), "org_id": bindparam("o"), "answered": 0, "agreed": 0,
                   "gold_answered": 1, "gold_correct": bindparam("correct")},
                  lambda excluded: {"gold_answered": LS.c.gold_answered + 1, "gold_correct": LS.c.gold_correct + excluded.gold_correct})
    conn.execute(stmt, {"p": task.project_id, "u": user_id, "o": task.org_id, "correct": int(correct)})

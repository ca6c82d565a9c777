"""Tasks imported together with their labelers' answers (`POST /api/tasks/bulk` with
`answers`): each new task's state decided from its answers before it is stored, as if
they had been labeled here — the project's consolidation, adaptive overlap, review share
and thresholds — then the answers, counters, activity rollups, labelers' records and
callbacks written set-based. A companion of `lifecycle` (the writer of task state) for
rows that do not exist yet: no per-task UPDATE, the rows are inserted in their final state.

The labelers' accuracy estimates are read once per request (not updated between its tasks
as a stream of single answers would), so weighted methods see the records as they were
when the import began."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.batches.completion import after_task_transition
from assay.callbacks.outbox import enqueue_task_callback
from assay.db import fast_insert, new_public_id
from assay.queue.models import Assignment, AssignmentKind, AssignmentStatus
from assay.tasks import counts, queries, rollups
from assay.tasks.answers import hypothesis_status
from assay.tasks.consolidation import accuracies_of, consensus_of, record_agreement
from assay.tasks.lifecycle import POLICY, next_step
from assay.tasks.models import AnswerSource, ReviewState, TaskAnswer, TaskStatus
from assay.tasks.serialize import task_json
from assay.truth.fitted import NAMED_METHODS


@dataclass
class GivenAnswer:
    """One labeler's answer to an imported task, checked: a person of the organization, a
    response the task type accepts, when it was given and how long it took."""

    user_id: int
    response: dict[str, Any]
    answered_at: datetime
    active_seconds: float | None


def settle(session: Session, project_id: int, rows: list[dict[str, Any]], answers: list[list[GivenAnswer]], shapes: list[bytes]) -> list[tuple]:
    """Decide each new task row's state from its answers (rows are changed in place;
    `shapes`: each row's params without the type's varying ones, as JSON). Returns the
    completed ones as (row index, agreed flags) for `after_insert`."""
    policy = session.connection().execute(POLICY, {"p": project_id}).first()
    users = sorted({a.user_id for given in answers for a in given})
    accuracy = dict(zip(users, accuracies_of(session, project_id, users)))
    consensus = _Consensus(session, policy.aggregation)
    completed = []
    for i, (row, given, shape) in enumerate(zip(rows, answers, shapes)):
        if not given:
            continue
        row["open_slots"] = max(row["required_labels"] - len(given), 0)
        if len(given) < row["required_labels"]:
            continue
        # not stored yet: no id (no judge verdict can exist), but what consolidation reads
        task = SimpleNamespace(id=None, org_id=row["org_id"], type=row["type"], project_id=project_id, params=row["params"],
                               public_id=row["public_id"])
        response, quality, agreed = consensus.of(task, given, [accuracy[a.user_id] for a in given], shape)
        row["quality"] = quality
        row["confidence"] = quality["confidence"]  # the column the task browser filters on (the ORM sets it from quality)
        task.required_labels = row["required_labels"]
        step = next_step(policy, task, len(given), quality["confidence"])
        if step == "more":
            row["required_labels"], row["open_slots"] = len(given) + 1, 1
        elif step == "review":
            row["review_state"] = ReviewState.WAITING
        else:
            row.update(status=TaskStatus.COMPLETED, response=response, completed_at=max(a.answered_at for a in given))
            completed.append((i, agreed))
    return completed


class _Consensus:
    """`consensus_of` for many tasks, computed once per distinct input: the task's params
    (the type's varying ones aside), the answers, the labelers' accuracies (and, for a
    fitted truth model, who they are). Consolidation is a pure function of these within
    one request, so the cached result is the same; only the contributors are per task."""

    def __init__(self, session: Session, aggregation: str | None):
        self.session, self.aggregation, self.cache = session, aggregation, {}
        self.by_user = aggregation in NAMED_METHODS

    def of(self, task, given: list[GivenAnswer], accuracies: list[float], shape: bytes):
        users = [a.user_id for a in given]
        try:
            key = (shape, tuple(orjson.dumps(a.response, option=orjson.OPT_SORT_KEYS) for a in given), tuple(accuracies),
                   tuple(users) if self.by_user else None)
        except TypeError:
            key = None
        hit = self.cache.get(key) if key is not None else None
        if hit is None:
            hit = consensus_of(self.session, task, [(u, a.response) for u, a in zip(users, given)], self.aggregation, accuracies=accuracies)
            if key is not None and len(self.cache) < 10_000:
                self.cache[key] = hit
        response, quality, agreed = hit
        quality = {**quality, "contributors": [u for u, ok in zip(users, agreed) if ok]}
        return response, quality, list(agreed)


def _label_assignments(session: Session, org_id: int, project_id: int, task_ids: list[int]) -> None:
    """Each imported answer's submitted label assignment, as `answer_directly` writes one:
    the claim and the review claim skip a person who has one, so nobody is served a task
    they answered, or asked to review it."""
    TA = TaskAnswer.__table__
    answered = session.connection().execute(
        select(TA.c.id, TA.c.task_id, TA.c.user_id, TA.c.created_at).where(TA.c.task_id.in_(task_ids))).all()
    fast_insert(session, Assignment.__table__, [
        {"public_id": new_public_id(), "org_id": org_id, "project_id": project_id, "task_id": task_id, "user_id": user_id,
         "kind": AssignmentKind.LABEL, "status": AssignmentStatus.SUBMITTED, "expires_at": at, "answer_id": answer_id,
         "created_at": at, "updated_at": at}
        for answer_id, task_id, user_id, at in answered])


def after_insert(session: Session, rows: list[dict[str, Any]], ids: list[int], answers: list[list[GivenAnswer]],
                 completed: list[tuple]) -> None:
    """The settled rows are stored (`ids` in their order): store the answers and add what
    labeling them here would have added — counters, rollups, records, callbacks, the batch."""
    first = rows[0]
    org_id, project_id, batch_id = first["org_id"], first["project_id"], first["batch_id"]
    stored = []
    for row, task_id, given in zip(rows, ids, answers):
        task = SimpleNamespace(id=task_id, params=row["params"], type=row["type"], project_id=project_id)
        for a in given:
            status = hypothesis_status(session, task, a.response) if "hypothesis" in row["params"] else None
            stored.append({"org_id": org_id, "task_id": task_id, "user_id": a.user_id, "source": AnswerSource.HUMAN,
                           "response": a.response, "active_seconds": a.active_seconds, "hypothesis_status": status, "active": True,
                           "created_at": a.answered_at})
            rollups.add_to(session, org_id, project_id, a.user_id, at=a.answered_at, labels=1,
                           annotations=rollups.annotations_in(a.response), active_seconds=a.active_seconds,
                           held_seconds=a.active_seconds, flagged=1 if row.get("content_warning") else 0)
    fast_insert(session, TaskAnswer.__table__, stored)
    _label_assignments(session, org_id, project_id, ids)
    done = 0
    for i, agreed in completed:
        row, given = rows[i], answers[i]
        task = SimpleNamespace(id=ids[i], org_id=org_id, project_id=project_id, is_test=False)
        users = [a.user_id for a in given]
        record_agreement(session, task, users, agreed)
        for user_id, ok in zip(users, agreed):
            rollups.add_to(session, org_id, project_id, user_id, at=row["completed_at"], consolidated=1, agreed=int(ok))
        rollups.add_to(session, org_id, project_id, rollups.PROJECT, at=row["completed_at"], completed=1)
        if row.get("callback_url"):
            enqueue_task_callback(session, org_id, ids[i], row["callback_url"], task_json(queries.task_row(session, ids[i])))
        done += 1
    if done:
        counts.bump(session, org_id, False, project_id, batch_id, TaskStatus.PENDING, -done)
        counts.bump(session, org_id, False, project_id, batch_id, TaskStatus.COMPLETED, done)
        if batch_id is not None:
            after_task_transition(session, batch_id)

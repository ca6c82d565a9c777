"""Task state transitions and their side effects, in one place.

Every transition that a customer hears about writes its callback to the outbox in the
same transaction. Services call these; nothing else writes `Task.status`.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assay.batches.models import Batch
from assay.callbacks.service import enqueue_batch_callback, enqueue_task_callback
from assay.db import utcnow
from assay.errors import InvalidRequest
from assay.projects.models import Project
from assay.tasks import counts, queries
from assay.tasks.models import Task, TaskAnswer
from assay.tasks.serialize import task_json
from assay.tasktypes import get_plugin
from assay.timeutil import iso


def notify(session: Session, task: Task) -> None:
    """Queue the task callback (if the task has a callback URL)."""
    if not task.callback_url:
        return
    session.flush()
    enqueue_task_callback(session, task.org_id, task.id, task.callback_url, task_json(queries.task_row(session, task.id)))


def complete_task(session: Session, task: Task, response: dict[str, Any]) -> None:
    now = utcnow()
    counts.move(session, task, task.status, "completed")
    task.status = "completed"
    task.response = response
    task.completed_at = now
    task.updated_at = now
    session.flush()
    notify(session, task)
    _after_terminal(session, task)


def fail_task(session: Session, task: Task, message: str) -> None:
    """Attachment processing failed: status error, callback with the error."""
    if task.status != "pending":
        return
    counts.move(session, task, task.status, "error")
    task.status = "error"
    task.response = {"error": message}
    task.updated_at = utcnow()
    if task.clear_unique_id_on_error:
        task.unique_id = None
    session.flush()
    notify(session, task)
    _after_terminal(session, task)


def cancel_task(session: Session, task: Task, clear_unique_id: bool) -> None:
    if task.status != "pending":
        raise InvalidRequest(f"Task {task.public_id} cannot be canceled: its status is {task.status}; only pending tasks can be.")
    started = session.scalar(select(func.count()).select_from(TaskAnswer).where(TaskAnswer.task_id == task.id))
    if started:
        raise InvalidRequest(f"Task {task.public_id} cannot be canceled: work on it has started ({started} answer(s) recorded).")
    counts.move(session, task, task.status, "canceled")
    task.status = "canceled"
    task.updated_at = utcnow()
    if clear_unique_id:
        task.unique_id = None
    session.flush()
    _after_terminal(session, task)


def consolidate(answers: list[dict[str, Any]]) -> dict[str, Any]:
    """Until the quality engine chooses per type: the most frequent identical answer,
    earliest first on ties."""
    keys = [orjson.dumps(a, option=orjson.OPT_SORT_KEYS) for a in answers]
    best_key, _ = Counter(keys).most_common(1)[0]
    return answers[keys.index(best_key)]


def record_answer(
    session: Session,
    task: Task,
    response: Any,
    *,
    user_id: int | None,
    source: str = "human",
    active_seconds: float | None = None,
) -> TaskAnswer:
    """Store one labeler's answer; complete the task once it has the labels it needs."""
    if task.status != "pending":
        raise InvalidRequest(f"Task {task.public_id} is {task.status}; only pending tasks take answers.", field="task_id")
    if active_seconds is not None and (not isinstance(active_seconds, (int, float)) or isinstance(active_seconds, bool) or active_seconds < 0):
        raise InvalidRequest("active_seconds: must be a non-negative number", field="active_seconds")
    plugin = get_plugin(task.type)
    clean = plugin.validate_response(response, task.params)
    if user_id is not None:
        already = session.scalar(
            select(TaskAnswer.id).where(TaskAnswer.task_id == task.id, TaskAnswer.user_id == user_id, TaskAnswer.source == "human")
        )
        if already is not None:
            raise InvalidRequest(f"Task {task.public_id} already has an answer from this user.", field="task_id")
    answer = TaskAnswer(org_id=task.org_id, task_id=task.id, user_id=user_id, source=source, response=clean, active_seconds=active_seconds)
    session.add(answer)
    task.updated_at = utcnow()
    session.flush()
    answers = list(session.scalars(select(TaskAnswer.response).where(TaskAnswer.task_id == task.id).order_by(TaskAnswer.id)))
    if len(answers) >= task.required_labels:
        complete_task(session, task, consolidate(answers))
    return answer


def auto_complete_test_task(session: Session, task: Task) -> None:
    """Test-mode keys: a bot answers at once with a well-formed synthetic response."""
    plugin = get_plugin(task.type)
    rng = random.Random(task.public_id)
    response = plugin.validate_response(plugin.synthetic_response(task.params, rng), task.params)
    session.add(TaskAnswer(org_id=task.org_id, task_id=task.id, user_id=None, source="test_bot", response=response))
    complete_task(session, task, response)


def audit_task(session: Session, task: Task, auditor: str, accepted: Any, comments: Any) -> None:
    if not isinstance(accepted, bool):
        raise InvalidRequest("accepted: must be true or false", field="accepted")
    if comments is not None and not isinstance(comments, str):
        raise InvalidRequest("comments: must be a string", field="comments")
    if task.status != "completed":
        raise InvalidRequest(f"Task {task.public_id} is {task.status}; only completed tasks can be audited.")
    result = "accepted" if accepted else "rejected"
    audit = {"audited_by": auditor, "audited_at": iso(utcnow()), "audit_time_secs": 0, "audit_result": result, "audit_source": "customer"}
    if comments:
        audit["comments"] = comments
    task.audits = [*(task.audits or []), audit]
    task.customer_review_status = result
    task.updated_at = utcnow()
    session.flush()
    notify(session, task)


def _after_terminal(session: Session, task: Task) -> None:
    if task.batch_id is None:
        return
    # Lock the batch row so two transactions finishing its last two tasks cannot both
    # see the other's task as still pending.
    batch = session.get(Batch, task.batch_id, with_for_update=True)
    if batch is not None:
        check_batch_completion(session, batch)


def check_batch_completion(session: Session, batch: Batch) -> None:
    """A finalized batch completes when none of its tasks is pending."""
    if batch.finalized_at is None or batch.status == "completed":
        return
    counts = dict(session.execute(select(Task.status, func.count()).where(Task.batch_id == batch.id).group_by(Task.status)).all())
    if not counts or counts.get("pending"):
        return
    batch.status = "completed"
    batch.completed_at = utcnow()
    session.flush()
    if batch.callback:
        from assay.batches.service import batch_json

        project_name = session.scalar(select(Project.name).where(Project.id == batch.project_id))
        enqueue_batch_callback(session, batch.org_id, batch.id, batch.callback, batch_json(batch, project_name))

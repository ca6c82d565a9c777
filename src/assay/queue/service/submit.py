"""Submissions: an answer to a leased (or reworked, or still editable) assignment, an
answer to a gold item, skipping with a reason, going back to one's last submission, and
an answer sent without a lease (the native answers endpoint) under the same slot limit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from assay.auth.principals import Principal
from assay.config import get_settings
from assay.db import new_public_id, utcnow
from assay.errors import Conflict, InvalidRequest, NotFound
from assay.queue.models import Assignment, AssignmentKind, AssignmentStatus
from assay.queue.schemas import AnswerBody, FlagBody, SkipBody, SubmitBody
from assay.queue.service.leases import my_assignment
from assay.queue.service.membership import pause_if_below
from assay.queue.service.workbench import view
from assay.tasks import lifecycle
from assay.tasks.models import ReviewState, Task, TaskAnswer, TaskKind, TaskStatus
from assay.tasktypes import get_plugin

A = Assignment.__table__
_MY_ASSIGNMENT = select(A).where(A.c.public_id == bindparam("a"), A.c.org_id == bindparam("o"), A.c.user_id == bindparam("u"))
_MARK_SUBMITTED = update(A).where(A.c.id == bindparam("a")).values(status=AssignmentStatus.SUBMITTED, answer_id=bindparam("answer"),
                                                                  expires_at=bindparam("until"), updated_at=bindparam("now"))
_ANSWER = select(TaskAnswer.response, TaskAnswer.active).where(TaskAnswer.id == bindparam("id"))
_REWORK_LEFT = select(func.count()).select_from(A).where(A.c.task_id == bindparam("t"), A.c.kind == AssignmentKind.LABEL,
                                                         A.c.status == AssignmentStatus.REWORK)


def editable(task: Task) -> bool:
    # once a reviewer has it (or has judged it), the labeler's answer is frozen; gold
    # answers are scored once
    return (task.kind == TaskKind.TASK and task.status in (TaskStatus.PENDING, TaskStatus.COMPLETED)
            and task.review_state in (None, ReviewState.WAITING))


def submit(session: Session, principal: Principal, assignment_id: str, body: SubmitBody) -> dict[str, Any]:
    conn = session.connection()
    stmt = _MY_ASSIGNMENT.with_for_update() if conn.dialect.name == "postgresql" else _MY_ASSIGNMENT
    assignment = conn.execute(stmt, {"a": assignment_id, "o": principal.org_id, "u": principal.user_id}).mappings().first()
    if assignment is None:
        raise NotFound("Assignment not found: it is not yours, or its lease expired and the task went back to the queue.",
                       field="assignment_id")
    if assignment["kind"] != AssignmentKind.LABEL:
        raise InvalidRequest("This is a review assignment; send a review verdict instead.", field="assignment_id")
    task = session.get(Task, assignment["task_id"], with_for_update=True)
    now = utcnow()
    status = assignment["status"]
    if task.kind != TaskKind.TASK:
        return _submit_gold(session, principal, assignment, task, body, now)
    if status == AssignmentStatus.LEASED:
        answer_id = lifecycle.record_answer(session, task, body.response, user_id=principal.user_id,
                                            active_seconds=body.active_seconds, lease_held=True, held_seconds=_held(body))
    elif status in (AssignmentStatus.SUBMITTED, AssignmentStatus.REWORK):
        if status == AssignmentStatus.SUBMITTED and (assignment["expires_at"] <= now or not editable(task)):
            raise Conflict("This submission can no longer be edited.", field="assignment_id")
        if status == AssignmentStatus.SUBMITTED and _unchanged(session, task, assignment["answer_id"], body.response):
            # the same answer again (a request retried after its connection broke): not an edit,
            # so no new version, no second count of the time, no second callback
            return {"assignment_id": assignment_id, "task_id": task.public_id, "task_status": task.status, "answer_id": assignment["answer_id"]}
        answer_id = lifecycle.record_answer(session, task, body.response, user_id=principal.user_id,
                                            active_seconds=body.active_seconds, replaces=assignment["answer_id"], held_seconds=_held(body))
    else:
        raise Conflict(f"This assignment is {status}.", field="assignment_id")
    conn.execute(_MARK_SUBMITTED, {"a": assignment["id"], "answer": answer_id, "now": now,
                                   "until": now + timedelta(seconds=get_settings().lease_seconds)})
    if status == AssignmentStatus.REWORK and not conn.execute(_REWORK_LEFT, {"t": task.id}).scalar():
        lifecycle.answers_resubmitted(task)
    return {"assignment_id": assignment_id, "task_id": task.public_id, "task_status": task.status, "answer_id": answer_id}


def _unchanged(session: Session, task: Task, answer_id: int | None, response: Any) -> bool:
    """Whether `response` is what the labeler's active answer already says."""
    row = session.connection().execute(_ANSWER, {"id": answer_id}).first() if answer_id is not None else None
    if row is None or not row.active:
        return False
    try:
        return get_plugin(task.type).validate_response(response, task.params) == row.response
    except InvalidRequest:
        return False  # record_answer names the field


def _held(body: SubmitBody) -> float | None:
    """Time on screen, never less than the active time (a page that sends none: active only)."""
    if body.shown_seconds is None:
        return body.active_seconds
    return max(body.shown_seconds, body.active_seconds or 0.0)


def _submit_gold(session: Session, principal: Principal, assignment, task: Task, body: SubmitBody, now) -> dict[str, Any]:
    if assignment["status"] != AssignmentStatus.LEASED:
        raise Conflict(f"This assignment is {assignment['status']}.", field="assignment_id")
    answer_id, correct = lifecycle.record_gold_answer(session, task, body.response, user_id=principal.user_id,
                                                      active_seconds=body.active_seconds)
    session.connection().execute(_MARK_SUBMITTED, {"a": assignment["id"], "answer": answer_id, "now": now, "until": now})
    out = {"assignment_id": assignment["public_id"], "task_id": task.public_id, "task_status": task.status, "answer_id": answer_id}
    if task.kind == TaskKind.TRAINING:
        # practice items give feedback; evaluation items stay hidden among real work
        out["practice"] = {"correct": correct, "expected_response": task.expected_response}
    else:
        pause_if_below(session, task.project_id, principal.user_id)
    return out


def skip(session: Session, principal: Principal, assignment_id: str, body: SkipBody) -> dict[str, Any]:
    assignment = my_assignment(session, principal, assignment_id)
    if assignment.kind != AssignmentKind.LABEL or assignment.status != AssignmentStatus.LEASED:
        raise Conflict(f"Only a leased labeling task can be skipped; this one is {assignment.status}.", field="assignment_id")
    assignment.status = AssignmentStatus.SKIPPED
    assignment.skip_reason = body.reason
    assignment.updated_at = utcnow()
    lifecycle.release(session, assignment.task_id, AssignmentKind.LABEL)
    return {"assignment_id": assignment.public_id, "status": "skipped"}


def previous(session: Session, principal: Principal, project) -> dict[str, Any]:
    """The caller's latest submission in the project, while it is still theirs to edit."""
    assignment = session.connection().execute(
        select(A).where(A.c.user_id == principal.user_id, A.c.project_id == project.id, A.c.kind == AssignmentKind.LABEL,
                        A.c.status == AssignmentStatus.SUBMITTED, A.c.expires_at > utcnow())
        .order_by(A.c.updated_at.desc(), A.c.id.desc()).limit(1)
    ).mappings().first()
    if assignment is None or not editable(session.get(Task, assignment["task_id"])):
        raise NotFound("Nothing to go back to: your last submission here is no longer editable.", field="project_id")
    return view(session, assignment)


def answer_directly(session: Session, principal: Principal, task: Task, body: AnswerBody) -> int:
    """The native answers endpoint (no page; the caller was authorized with
    QueuePolicy.answer): the caller's lease on the task if they hold one, otherwise an open
    slot, so it obeys the same slot limit."""
    held = session.scalar(select(Assignment).where(Assignment.task_id == task.id, Assignment.user_id == principal.user_id,
                                                   Assignment.kind == AssignmentKind.LABEL).with_for_update())
    if held is not None and held.status != AssignmentStatus.LEASED:
        raise InvalidRequest(f"Task {task.public_id} already has an answer from this user.", field="task_id")
    if held is None and task.status == TaskStatus.PENDING and not lifecycle.take_slot(session, task):
        raise Conflict(f"Task {task.public_id}: all {task.required_labels} label slots are taken or answered.", field="task_id")
    answer_id = lifecycle.record_answer(session, task, body.response, user_id=principal.user_id, active_seconds=body.active_seconds,
                                        lease_held=held is not None)
    now = utcnow()
    if held is not None:
        held.status, held.answer_id, held.updated_at = AssignmentStatus.SUBMITTED, answer_id, now
    else:
        session.connection().execute(insert(A).values(
            public_id=new_public_id(), org_id=task.org_id, project_id=task.project_id, task_id=task.id, user_id=principal.user_id,
            kind=AssignmentKind.LABEL, status=AssignmentStatus.SUBMITTED, expires_at=now, answer_id=answer_id, created_at=now, updated_at=now))
    return answer_id


def flag(session: Session, principal: Principal, assignment_id: str, body: FlagBody) -> dict[str, Any]:
    """A labeler or reviewer flags the content of the task they hold: it carries a content
    warning from now on (blurred, budgeted, never served to people who opted out)."""
    assignment = session.connection().execute(_MY_ASSIGNMENT, {"a": assignment_id, "o": principal.org_id, "u": principal.user_id}).mappings().first()
    if assignment is None:
        raise NotFound("Assignment not found.", field="assignment_id")
    task = session.get(Task, assignment["task_id"], with_for_update=True)
    if task.content_warning is None:
        task.content_warning = body.warning
    return {"task_id": task.public_id, "content_warning": task.content_warning}

"""Review verdicts: a reviewer accepts, fixes or rejects the task they hold; a rejection
sends it back to its labelers as rework (first in their queue)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from assay.audit.log import record
from assay.auth.principals import Principal
from assay.db import utcnow
from assay.errors import Conflict, field_error
from assay.queue.models import Assignment, AssignmentKind, AssignmentStatus
from assay.queue.schemas import ReviewBody
from assay.queue.service.leases import my_assignment
from assay.tasks import lifecycle
from assay.tasks.models import Task


def review(session: Session, principal: Principal, assignment_id: str, body: ReviewBody) -> dict[str, Any]:
    assignment = my_assignment(session, principal, assignment_id)
    if assignment.kind != AssignmentKind.REVIEW or assignment.status != AssignmentStatus.LEASED:
        raise Conflict("This is not a review you hold.", field="assignment_id")
    if body.action == "fix" and "response" not in body.model_fields_set:
        raise field_error("response", "required when fixing: the corrected answer")
    task = session.scalar(select(Task).where(Task.id == assignment.task_id).with_for_update())
    rejected = lifecycle.review_task(session, task, principal.user_id, principal.email, body.action, response=body.response,
                                     comment=body.comment, active_seconds=body.active_seconds)
    now = utcnow()
    if rejected:
        labelers = [a.user_id for a in rejected]
        session.execute(update(Assignment).where(Assignment.task_id == task.id, Assignment.kind == AssignmentKind.LABEL,
                                                 Assignment.user_id.in_(labelers))
                        .values(status=AssignmentStatus.REWORK, review_comment=body.comment, updated_at=now))
    record(session, principal, "review.verdict", "task", task.public_id, {"action": body.action, **({"comment": body.comment} if body.comment else {})})
    assignment.status = AssignmentStatus.REVIEWED
    assignment.updated_at = now
    return {"assignment_id": assignment.public_id, "task_id": task.public_id, "task_status": task.status, "review_state": task.review_state}

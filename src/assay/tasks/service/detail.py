"""One task with everything people did on it (per-annotator answers, reviews, leases):
the native task view behind GET /api/tasks/{id} and the /tasks/{id} page."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.auth.principals import Principal
from assay.backends.models import Prediction
from assay.errors import NotFound
from assay.orgs.models import Role, User
from assay.queue.models import Assignment, ProjectMember
from assay.tasks import queries
from assay.tasks.models import Task, TaskAnswer
from assay.tasks.serialize import task_json
from assay.timeutil import iso


def access_facts(session: Session, principal: Principal, task: Task) -> tuple[bool, bool]:
    """(member of the task's project, was assigned the task) for TaskPolicy.read_detail."""
    member = session.scalar(select(ProjectMember.user_id).where(ProjectMember.project_id == task.project_id,
                                                                ProjectMember.user_id == principal.user_id)) is not None
    assigned = session.scalar(select(Assignment.id).where(Assignment.task_id == task.id, Assignment.user_id == principal.user_id)) is not None
    return member, assigned


def load_task(session: Session, principal: Principal, public_id: str) -> Task:
    task = session.scalar(select(Task).where(Task.public_id == public_id, Task.org_id == principal.org_id, Task.is_test == principal.is_test))
    if task is None:
        raise NotFound("Task with that ID not found.", field="task_id")
    return task


def task_detail(session: Session, principal: Principal, task: Task) -> dict[str, Any]:
    """The task with every labeler's answer (an annotator sees only their own), reviews,
    the model's prediction and the leases, for a caller authorized to see it."""
    out = task_json(queries.task_row(session, task.id))
    users = dict(session.execute(select(User.id, User.email).where(User.org_id == principal.org_id)).all())
    answers = session.scalars(select(TaskAnswer).where(TaskAnswer.task_id == task.id).order_by(TaskAnswer.id)).all()
    if principal.role == Role.ANNOTATOR:
        answers = [a for a in answers if a.user_id == principal.user_id]
    out["answers"] = [
        {
            "id": a.id, "labeler": users.get(a.user_id), "source": a.source, "active": a.active, "response": a.response,
            "active_seconds": a.active_seconds, "hypothesis_status": a.hypothesis_status, "review_status": a.review_status,
            "reviewed_by": users.get(a.reviewed_by), "review_comment": a.review_comment, "corrects": users.get(a.corrects_user_id),
            "created_at": iso(a.created_at),
        }
        for a in answers
    ]
    if task.quality and "contributors" in task.quality and principal.role != Role.ANNOTATOR:
        out["quality"] = {**out.get("quality", {}), "contributors": [users.get(u) for u in task.quality["contributors"]]}
    if principal.role != Role.ANNOTATOR:
        p = session.get(Prediction, task.id)
        out["prediction"] = None if p is None else {"response": p.response, "score": p.score, "probabilities": p.probabilities,
                                                    "model_version": p.model_version, "auto_accepted": p.auto_accepted,
                                                    "created_at": iso(p.created_at)}
    out["required_labels"] = task.required_labels
    out["open_slots"] = task.open_slots
    out["review_state"] = task.review_state
    if principal.role != Role.ANNOTATOR:
        rows = session.scalars(select(Assignment).where(Assignment.task_id == task.id).order_by(Assignment.id)).all()
        out["assignments"] = [
            {"id": a.public_id, "user": users.get(a.user_id), "kind": a.kind, "status": a.status, "expires_at": iso(a.expires_at),
             "skip_reason": a.skip_reason, "review_comment": a.review_comment}
            for a in rows
        ]
    return out

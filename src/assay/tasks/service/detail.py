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
from assay.tasks.consolidation import consensus_of
from assay.tasks.models import AnswerSource, Task, TaskAnswer, TaskStatus
from assay.tasks.serialize import task_json
from assay.tasktypes import get_plugin
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
    if principal.role != Role.ANNOTATOR:
        out["consolidated"] = _consolidated(session, task, answers)
    out["history"] = _history(task, answers, users)
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


def _consolidated(session: Session, task: Task, answers: list[TaskAnswer]) -> dict[str, Any] | None:
    """The consolidated answer with its quality: the task's final response once it has one,
    else what the current labels would consolidate to (a proposal); None without labels."""
    if task.response is not None and task.status == TaskStatus.COMPLETED:
        quality = {k: v for k, v in (task.quality or {}).items() if k != "contributors"}
        return {"response": task.response, "quality": quality, "final": True}
    counted = [a for a in answers if a.active and a.source == AnswerSource.HUMAN]
    if not counted or (len(counted) > 1 and get_plugin(task.type).consolidates_masks):
        return None  # a mask vote writes files: a page view never makes one
    proposal, quality, _ = consensus_of(session, task, [(a.user_id, a.response) for a in counted])
    return {"response": proposal, "quality": {k: v for k, v in quality.items() if k != "contributors"}, "final": False}


def _history(task: Task, answers: list[TaskAnswer], users: dict) -> list[dict[str, Any]]:
    """What happened to the task, oldest first: created, each answer, each review verdict,
    completed (reviews, flags and send-backs come from the audit log, added by the page's flow)."""
    events = [{"at": iso(task.created_at), "what": "created", "who": None, "detail": None}]
    for a in answers:
        events.append({"at": iso(a.created_at), "what": f"answer ({a.source})" if a.active else f"answer ({a.source}, replaced)",
                       "who": users.get(a.user_id), "detail": f"{a.active_seconds:.1f} s active" if a.active_seconds is not None else None})
    if task.completed_at is not None:
        events.append({"at": iso(task.completed_at), "what": f"{task.status}", "who": None, "detail": None})
    return sorted(events, key=lambda e: e["at"] or "")

"""A project as the queue's policy sees it for one caller: the project row plus the facts
the decision needs (member?, paused?, still qualifying?). Loading never decides; the
views pass these rows to `queue.policies.QueuePolicy`."""

from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session

from assay.auth.principals import Principal
from assay.errors import NotFound
from assay.projects.models import Project
from assay.queue.models import ProjectMember
from assay.tasks.models import LabelerStats, Task, TaskKind

P = Project.__table__
M = ProjectMember.__table__
_COLUMNS = (
    P.c.id, P.c.public_id, P.c.name, P.c.type, P.c.param_history, P.c.review_fraction, P.c.gold_rate, P.c.qualification_size,
    P.c.pause_below, P.c.route_by_accuracy,
    select(M.c.user_id).where(M.c.project_id == P.c.id, M.c.user_id == bindparam("u")).exists().label("is_member"),
    select(M.c.paused_reason).where(M.c.project_id == P.c.id, M.c.user_id == bindparam("u"), M.c.paused_at.is_not(None))
    .scalar_subquery().label("paused_reason"),
)
_BY_PUBLIC_ID = select(*_COLUMNS).where(P.c.public_id == bindparam("pid"), P.c.org_id == bindparam("o"))
_BY_ID = select(*_COLUMNS).where(P.c.id == bindparam("id"), P.c.org_id == bindparam("o"))

GOLD_CANDIDATE = """
SELECT t.id FROM tasks t
WHERE t.project_id = :project_id AND t.kind <> 'task' AND t.kind = :kind AND t.is_test = :is_test
  AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.task_id = t.id AND a.user_id = :user_id AND a.kind = 'label')
ORDER BY t.id LIMIT 1
"""
GOLD_ANSWERED = select(LabelerStats.gold_answered).where(LabelerStats.project_id == bindparam("p"), LabelerStats.user_id == bindparam("u"))


def project_access(session: Session, principal: Principal, project_public_id: str):
    """The project (id, public_id, name, type, param_history, review_fraction, gold
    settings) with the caller's `is_member` and `paused_reason`; 404 outside the caller's
    organization."""
    project = session.connection().execute(_BY_PUBLIC_ID, {"pid": project_public_id, "o": principal.org_id, "u": principal.user_id}).first()
    if project is None:
        raise NotFound("Project not found.", field="project_id")
    return project


def task_project_access(session: Session, principal: Principal, task: Task) -> SimpleNamespace:
    """The task's project as `project_access` gives it, plus `qualifying`: whether the
    caller still owes the project qualification answers (an answer outside the queue must
    wait for them)."""
    row = session.connection().execute(_BY_ID, {"id": task.project_id, "o": principal.org_id, "u": principal.user_id}).mappings().first()
    if row is None:
        raise NotFound("Task with that ID not found.", task_id=task.public_id)
    return SimpleNamespace(**row, qualifying=still_qualifying(session, principal, row["id"], row["qualification_size"]))


def still_qualifying(session: Session, principal: Principal, project_id: int, qualification_size: int) -> bool:
    if not qualification_size:
        return False
    conn = session.connection()
    answered = conn.execute(GOLD_ANSWERED, {"p": project_id, "u": principal.user_id}).scalar() or 0
    if answered >= qualification_size:
        return False
    # a qualification is as long as the gold set: with no item left, real work starts
    params = {"project_id": project_id, "user_id": principal.user_id, "kind": TaskKind.EVALUATION, "is_test": False}
    return conn.execute(text(GOLD_CANDIDATE), params).scalar() is not None

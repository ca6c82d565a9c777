"""The assignment engine: who gets which task next, leases, submissions, skips, going
back, review and rework.

Invariants (tests/test_queue_concurrency.py hammers them on both databases):
* a task's label slots = `required_labels`; `open_slots` counts those nobody holds or
  has answered; a claim takes one (`open_slots - 1` guarded by `open_slots > 0`) in the
  same transaction that inserts the assignment, so no slot is held twice;
* one assignment per (task, user, kind), by a unique constraint: nobody labels a task
  twice;
* on PostgreSQL the candidate row is locked with FOR UPDATE SKIP LOCKED, so concurrent
  claimers take different tasks instead of queueing on one row; on SQLite writers are
  serialised anyway (db.Database.write).
An expired lease is deleted and gives its slot back (`sweep_expired`).
"""

from __future__ import annotations

import random
import threading
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from assay import markdown
from assay.config import get_settings
from assay.db import new_public_id, utcnow
from assay.errors import Conflict, Forbidden, InvalidRequest, NotFound, field_error
from assay.files.service import signed_path_for_scaledata, signed_url_for_scaledata
from assay.orgs.models import Organization, User
from assay.projects.models import Project
from assay.queue.models import Assignment, ProjectMember
from assay.queue.policies import REVIEW_ROLES, require_queue_access
from assay.security import Principal
from assay.tasks import lifecycle
from assay.tasks.models import LabelerStats, Task, TaskAnswer
from assay.timeutil import iso

A = Assignment.__table__
T = Task.__table__
ORG = Organization.__table__
# Leases one person may hold at once in a project: the task on screen and the prefetched next one.
MAX_HELD = 2
# Gold answers a labeler gives before a low score can pause them.
MIN_GOLD_FOR_PAUSE = 3

_last_sweep = 0.0
_sweep_lock = threading.Lock()


# ----------------------------------------------------------------------------- access

P = Project.__table__
M = ProjectMember.__table__
_PROJECT_COLUMNS = (
    P.c.id, P.c.public_id, P.c.name, P.c.type, P.c.param_history, P.c.review_fraction, P.c.gold_rate, P.c.qualification_size,
    P.c.pause_below,
    select(M.c.user_id).where(M.c.project_id == P.c.id, M.c.user_id == bindparam("u")).exists().label("is_member"),
    select(M.c.paused_reason).where(M.c.project_id == P.c.id, M.c.user_id == bindparam("u"), M.c.paused_at.is_not(None))
    .scalar_subquery().label("paused_reason"),
)
_PROJECT = select(*_PROJECT_COLUMNS).where(P.c.public_id == bindparam("pid"), P.c.org_id == bindparam("o"))
_PROJECT_BY_ID = select(*_PROJECT_COLUMNS).where(P.c.id == bindparam("id"), P.c.org_id == bindparam("o"))


def load_project(session: Session, principal: Principal, project_public_id: str, *, review: bool = False):
    """The project row (id, public_id, name, type, param_history, review_fraction), if
    the caller may label (or review) it: 404 outside the caller's organization, 403 for
    a project they are not a member of."""
    project = session.connection().execute(_PROJECT, {"pid": project_public_id, "o": principal.org_id, "u": principal.user_id}).first()
    if project is None:
        raise NotFound("Project not found.", field="project_id")
    require_queue_access(principal, project.name, project.is_member, review=review)
    return project


def require_may_answer(session: Session, principal: Principal, task: Task) -> None:
    """Answering a task outside the page's queue (the native answers endpoint) obeys the
    queue's rules: a labeler role, membership of the task's project, not paused there,
    and the qualification done (qualification items are served by `next`)."""
    project = session.connection().execute(_PROJECT_BY_ID, {"id": task.project_id, "o": principal.org_id, "u": principal.user_id}).first()
    if project is None:
        raise NotFound("Task with that ID not found.", task_id=task.public_id)
    require_queue_access(principal, project.name, project.is_member, review=False)
    if project.paused_reason is not None:
        raise Forbidden(f"You are paused in project {project.name!r}: {project.paused_reason}. A project lead can reinstate you.")
    if principal.role != "admin" and _still_qualifying(session, principal, project):
        raise Forbidden(f"Project {project.name!r} asks for {project.qualification_size} qualification answers first; "
                        "take them from the labeling queue (next)")


def _still_qualifying(session: Session, principal: Principal, project) -> bool:
    if not project.qualification_size:
        return False
    conn = session.connection()
    answered = conn.execute(_GOLD_ANSWERED, {"p": project.id, "u": principal.user_id}).scalar() or 0
    if answered >= project.qualification_size:
        return False
    # a qualification is as long as the gold set: with no item left, real work starts
    return conn.execute(text(_GOLD_CANDIDATE), {"project_id": project.id, "user_id": principal.user_id, "kind": "evaluation",
                                                "is_test": False}).scalar() is not None


def _my_assignment(session: Session, principal: Principal, assignment_id: str) -> Assignment:
    assignment = session.scalar(
        select(Assignment).where(Assignment.public_id == assignment_id, Assignment.org_id == principal.org_id,
                                 Assignment.user_id == principal.user_id).with_for_update()
    )
    if assignment is None:
        raise NotFound("Assignment not found: it is not yours, or its lease expired and the task went back to the queue.",
                       field="assignment_id")
    return assignment


# ----------------------------------------------------------------------------- leases

def _lease_until():
    return utcnow() + timedelta(seconds=get_settings().lease_seconds)


def sweep_expired(session: Session, *, force: bool = False) -> int:
    """Delete expired leases and give their slots back. Runs at most once a second per
    process (the DELETE is an index range scan, but not free)."""
    global _last_sweep
    now_mono = time.monotonic()
    with _sweep_lock:
        if not force and now_mono - _last_sweep < 1.0:
            return 0
        _last_sweep = now_mono
    conn = session.connection()
    expired = conn.execute(
        delete(A).where(A.c.status == "leased", A.c.expires_at < utcnow()).returning(A.c.task_id, A.c.kind)
    ).all()
    for task_id, kind in expired:
        if kind == "label":
            conn.execute(update(T).where(T.c.id == task_id, T.c.status == "pending", T.c.kind == "task").values(open_slots=T.c.open_slots + 1))
        else:
            conn.execute(update(T).where(T.c.id == task_id, T.c.review_state == "leased").values(review_state="waiting"))
    return len(expired)


def heartbeat(session: Session, principal: Principal, assignment_id: str) -> dict[str, Any]:
    assignment = _my_assignment(session, principal, assignment_id)
    if assignment.status not in ("leased", "rework"):
        raise Conflict(f"This assignment is {assignment.status}; there is no lease to extend.", field="assignment_id")
    assignment.expires_at = _lease_until()
    assignment.updated_at = utcnow()
    return {"assignment_id": assignment.public_id, "expires_at": iso(assignment.expires_at)}


# ----------------------------------------------------------------------------- claiming

# Claim = pick the first candidate and take its slot in one statement (one round trip).
# On PostgreSQL the candidate row is locked with SKIP LOCKED, so concurrent claimers take
# different tasks instead of queueing on one row.
_LABEL_CLAIM = """
UPDATE tasks SET open_slots = open_slots - 1 WHERE id = (
  SELECT t.id FROM tasks t
  WHERE t.project_id = :project_id AND t.status = 'pending' AND t.open_slots > 0 AND t.is_test = {false}
    AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.task_id = t.id AND a.user_id = :user_id AND a.kind = 'label')
  ORDER BY t.queue_rank, t.id LIMIT 1 {lock}
) AND open_slots > 0 RETURNING id
"""
_REVIEW_CLAIM = """
UPDATE tasks SET review_state = 'leased' WHERE id = (
  SELECT t.id FROM tasks t
  WHERE t.project_id = :project_id AND t.status = 'pending' AND t.review_state = 'waiting'
    AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.task_id = t.id AND a.user_id = :user_id AND a.kind = 'label')
  ORDER BY t.queue_rank, t.id LIMIT 1 {lock}
) AND review_state = 'waiting' RETURNING id
"""


_CANDIDATES: dict[tuple[str, bool], Any] = {}


def _candidate_sql(template: str, session: Session) -> Any:
    pg = session.get_bind().dialect.name == "postgresql"
    stmt = _CANDIDATES.get((template, pg))
    if stmt is None:
        # literals, not parameters, so SQLite matches the partial queue index
        stmt = _CANDIDATES[(template, pg)] = text(template.format(false="false" if pg else "0", lock="FOR UPDATE OF t SKIP LOCKED" if pg else ""))
    return stmt


_HELD = select(A).where(A.c.user_id == bindparam("u"), A.c.project_id == bindparam("p"), A.c.kind == bindparam("k"),
                        A.c.status.in_(bindparam("statuses", expanding=True))).order_by((A.c.status == "rework").desc(), A.c.id)
_EXTEND = update(A).where(A.c.id == bindparam("a"), A.c.status == "leased").values(expires_at=bindparam("until"))
_INSERT_ASSIGNMENT = insert(A).returning(A.c.id)
_ASSIGNMENT_BY_ID = select(A).where(A.c.id == bindparam("a"))


def claim(session: Session, principal: Principal, project, kind: str, holding: list[str]) -> dict[str, Any]:
    """The next thing for this person to work on in this project, leased to them.

    Leases they already hold and are not showing (`holding`: assignment ids on their
    screen) come first — rework sent back by a reviewer before anything — so a reload
    resumes where they were. Otherwise a new slot is claimed, up to MAX_HELD at once
    (the page prefetches one task ahead)."""
    sweep_expired(session)
    conn = session.connection()
    statuses = ["leased", "rework"] if kind == "label" else ["leased"]
    held = conn.execute(_HELD, {"u": principal.user_id, "p": project.id, "k": kind, "statuses": statuses}).mappings().all()
    live = []
    for assignment in held:
        if assignment["status"] == "leased" and assignment["public_id"] not in holding:
            until = _lease_until()
            # 0 rows: another request's sweep deleted this expired lease since we read it
            # (on PostgreSQL the UPDATE waits for that DELETE); the slot is gone, skip it
            if not conn.execute(_EXTEND, {"a": assignment["id"], "until": until}).rowcount:
                continue
            assignment = {**assignment, "expires_at": until}
        live.append(assignment)
    for assignment in live:
        if assignment["public_id"] not in holding:
            return view(session, assignment)
    if kind == "label" and project.paused_reason is not None:
        return {"assignment": None, "task": None, "paused": True,
                "reason": f"You are paused in this project: {project.paused_reason}. A project lead can reinstate you."}
    if sum(1 for a in live if a["status"] == "leased") >= MAX_HELD:
        return {"assignment": None, "task": None, "reason": f"you already hold {MAX_HELD} tasks of this project"}
    task_id, qualifying = _pick_gold(session, principal, project) if kind == "label" and principal.role != "admin" else (None, False)
    if task_id is None and qualifying:
        return {"assignment": None, "task": None, "reason": "waiting for more qualification items"}
    if task_id is None:
        template = _LABEL_CLAIM if kind == "label" else _REVIEW_CLAIM
        task_id = conn.execute(_candidate_sql(template, session), {"project_id": project.id, "user_id": principal.user_id}).scalar()
    if task_id is None:
        return {"assignment": None, "task": None, "reason": "nothing left to label" if kind == "label" else "nothing waiting for review"}
    now = utcnow()
    if kind == "review":
        # a reviewer may see a task again after its rework: reuse their row
        conn.execute(delete(A).where(A.c.task_id == task_id, A.c.user_id == principal.user_id, A.c.kind == "review"))
    values = {"public_id": new_public_id(), "org_id": principal.org_id, "project_id": project.id, "task_id": task_id,
              "user_id": principal.user_id, "kind": kind, "status": "leased", "expires_at": _lease_until(), "created_at": now,
              "updated_at": now, "answer_id": None, "skip_reason": None, "review_comment": None}
    values["id"] = conn.execute(_INSERT_ASSIGNMENT, values).scalar_one()
    return view(session, values)


_GOLD_CANDIDATE = """
SELECT t.id FROM tasks t
WHERE t.project_id = :project_id AND t.kind <> 'task' AND t.kind = :kind AND t.is_test = :is_test
  AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.task_id = t.id AND a.user_id = :user_id AND a.kind = 'label')
ORDER BY t.id LIMIT 1
"""
_GOLD_ANSWERED = select(LabelerStats.gold_answered).where(LabelerStats.project_id == bindparam("p"), LabelerStats.user_id == bindparam("u"))


def _pick_gold(session: Session, principal: Principal, project) -> tuple[int | None, bool]:
    """A gold item to serve instead of real work, if one is due: practice (training)
    items first, each once; then evaluation items until the labeler has answered
    `qualification_size` of them; then an evaluation item with probability `gold_rate`.
    Returns (task id or None, still qualifying). The gold index keeps this cheap."""
    conn = session.connection()
    params = {"project_id": project.id, "user_id": principal.user_id, "is_test": False}
    training = conn.execute(text(_GOLD_CANDIDATE), {**params, "kind": "training"}).scalar()
    if training is not None:
        return training, False
    if not project.qualification_size and not project.gold_rate:
        return None, False
    answered = conn.execute(_GOLD_ANSWERED, {"p": project.id, "u": principal.user_id}).scalar() or 0
    qualifying = answered < project.qualification_size
    if qualifying or random.random() < project.gold_rate:
        gold = conn.execute(text(_GOLD_CANDIDATE), {**params, "kind": "evaluation"}).scalar()
        if gold is not None:
            return gold, qualifying
    # a qualification is as long as the gold set: with no item left, real work starts
    return None, False


def release_leases(session: Session, project_id: int, user_id: int) -> int:
    """Give back every slot and review the person holds in the project (removal, pause)."""
    leases = session.execute(
        delete(Assignment).where(Assignment.project_id == project_id, Assignment.user_id == user_id, Assignment.status == "leased")
        .returning(Assignment.task_id, Assignment.kind)
    ).all()
    for task_id, kind in leases:
        if kind == "label":
            session.execute(update(Task).where(Task.id == task_id, Task.status == "pending", Task.kind == "task")
                            .values(open_slots=Task.open_slots + 1))
        else:
            session.execute(update(Task).where(Task.id == task_id, Task.review_state == "leased").values(review_state="waiting"))
    return len(leases)


def _check_pause(session: Session, task: Task, user_id: int) -> None:
    """After a gold answer: pause the labeler in the project when their smoothed gold
    accuracy is below the project's threshold (once they answered enough gold)."""
    project = session.get(Project, task.project_id)
    if not project.pause_below:
        return
    stats = session.execute(select(LabelerStats).where(LabelerStats.project_id == project.id, LabelerStats.user_id == user_id)).scalar()
    if stats is None or stats.gold_answered < max(project.qualification_size, MIN_GOLD_FOR_PAUSE):
        return
    accuracy = lifecycle.labeler_accuracy(stats)
    if accuracy < project.pause_below:
        reason = (f"gold accuracy {accuracy:.0%} (smoothed; {stats.gold_correct} of {stats.gold_answered} correct) "
                  f"is below the project's {project.pause_below:.0%}")
        session.execute(update(ProjectMember).where(ProjectMember.project_id == project.id, ProjectMember.user_id == user_id,
                                                    ProjectMember.paused_at.is_(None)).values(paused_at=utcnow(), paused_reason=reason))
        release_leases(session, project.id, user_id)


def reinstate(session: Session, principal: Principal, project, user_id: int) -> None:
    """A lead lifts a pause; the labeler's gold record in the project starts afresh."""
    done = session.execute(update(ProjectMember).where(ProjectMember.project_id == project.id, ProjectMember.user_id == user_id,
                                                       ProjectMember.org_id == principal.org_id)
                           .values(paused_at=None, paused_reason=None)).rowcount
    if not done:
        raise NotFound("That user is not a member of this project.", field="user_id")
    session.execute(update(LabelerStats).where(LabelerStats.project_id == project.id, LabelerStats.user_id == user_id)
                    .values(gold_answered=0, gold_correct=0))


def previous(session: Session, principal: Principal, project: Project) -> dict[str, Any]:
    """The caller's latest submission in the project, while it is still theirs to edit."""
    assignment = session.connection().execute(
        select(A).where(A.c.user_id == principal.user_id, A.c.project_id == project.id, A.c.kind == "label", A.c.status == "submitted",
                        A.c.expires_at > utcnow()).order_by(A.c.updated_at.desc(), A.c.id.desc()).limit(1)
    ).mappings().first()
    if assignment is None or not _editable(session.get(Task, assignment["task_id"])):
        raise NotFound("Nothing to go back to: your last submission here is no longer editable.", field="project_id")
    return view(session, assignment)


def _editable(task: Task) -> bool:
    # once a reviewer has it (or has judged it), the labeler's answer is frozen; gold
    # answers are scored once
    return task.kind == "task" and task.status in ("pending", "completed") and task.review_state in (None, "waiting")


# ----------------------------------------------------------------------------- submitting

_MY_ASSIGNMENT = select(A).where(A.c.public_id == bindparam("a"), A.c.org_id == bindparam("o"), A.c.user_id == bindparam("u"))
_MARK_SUBMITTED = update(A).where(A.c.id == bindparam("a")).values(status="submitted", answer_id=bindparam("answer"),
                                                                  expires_at=bindparam("until"), updated_at=bindparam("now"))
_REWORK_LEFT = select(func.count()).select_from(A).where(A.c.task_id == bindparam("t"), A.c.kind == "label", A.c.status == "rework")


def submit(session: Session, principal: Principal, assignment_id: str, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise field_error("body", 'must be a JSON object {"response": {...}, "active_seconds": n}')
    if "response" not in body:
        raise field_error("response", "required")
    conn = session.connection()
    stmt = _MY_ASSIGNMENT.with_for_update() if conn.dialect.name == "postgresql" else _MY_ASSIGNMENT
    assignment = conn.execute(stmt, {"a": assignment_id, "o": principal.org_id, "u": principal.user_id}).mappings().first()
    if assignment is None:
        raise NotFound("Assignment not found: it is not yours, or its lease expired and the task went back to the queue.",
                       field="assignment_id")
    if assignment["kind"] != "label":
        raise InvalidRequest("This is a review assignment; send a review verdict instead.", field="assignment_id")
    task = session.get(Task, assignment["task_id"], with_for_update=True)
    now = utcnow()
    status = assignment["status"]
    if task.kind != "task":
        return _submit_gold(session, principal, assignment, task, body, now)
    if status == "leased":
        answer_id = lifecycle.record_answer(session, task, body["response"], user_id=principal.user_id,
                                            active_seconds=body.get("active_seconds"), lease_held=True)
    elif status in ("submitted", "rework"):
        if status == "submitted" and (assignment["expires_at"] <= now or not _editable(task)):
            raise Conflict("This submission can no longer be edited.", field="assignment_id")
        answer_id = lifecycle.record_answer(session, task, body["response"], user_id=principal.user_id,
                                            active_seconds=body.get("active_seconds"), replaces=assignment["answer_id"])
    else:
        raise Conflict(f"This assignment is {status}.", field="assignment_id")
    conn.execute(_MARK_SUBMITTED, {"a": assignment["id"], "answer": answer_id, "now": now,
                                   "until": now + timedelta(seconds=get_settings().lease_seconds)})
    if status == "rework" and not conn.execute(_REWORK_LEFT, {"t": task.id}).scalar():
        task.review_state = "waiting"
    return {"assignment_id": assignment_id, "task_id": task.public_id, "task_status": task.status, "answer_id": answer_id}


def _submit_gold(session: Session, principal: Principal, assignment, task: Task, body: dict, now) -> dict[str, Any]:
    if assignment["status"] != "leased":
        raise Conflict(f"This assignment is {assignment['status']}.", field="assignment_id")
    answer_id, correct = lifecycle.record_gold_answer(session, task, body["response"], user_id=principal.user_id,
                                                      active_seconds=body.get("active_seconds"))
    session.connection().execute(_MARK_SUBMITTED, {"a": assignment["id"], "answer": answer_id, "now": now, "until": now})
    out = {"assignment_id": assignment["public_id"], "task_id": task.public_id, "task_status": task.status, "answer_id": answer_id}
    if task.kind == "training":
        # practice items give feedback; evaluation items stay hidden among real work
        out["practice"] = {"correct": correct, "expected_response": task.expected_response}
    else:
        _check_pause(session, task, principal.user_id)
    return out


def skip(session: Session, principal: Principal, assignment_id: str, body: Any) -> dict[str, Any]:
    reason = body.get("reason") if isinstance(body, dict) else None
    if not isinstance(reason, str) or not reason.strip():
        raise field_error("reason", "required: say why you skip (e.g. 'unreadable', 'not in the guidelines')")
    if len(reason) > 1000:
        raise field_error("reason", "at most 1000 characters")
    assignment = _my_assignment(session, principal, assignment_id)
    if assignment.kind != "label" or assignment.status != "leased":
        raise Conflict(f"Only a leased labeling task can be skipped; this one is {assignment.status}.", field="assignment_id")
    assignment.status = "skipped"
    assignment.skip_reason = reason.strip()
    assignment.updated_at = utcnow()
    session.connection().execute(update(T).where(T.c.id == assignment.task_id, T.c.status == "pending", T.c.kind == "task")
                                 .values(open_slots=T.c.open_slots + 1))
    return {"assignment_id": assignment.public_id, "status": "skipped"}


def answer_directly(session: Session, principal: Principal, task: Task, body: dict) -> int:
    """The native answers endpoint (no page): the queue's access rules, then the caller's
    lease on the task if they hold one, otherwise an open slot, so it obeys the same slot
    limit."""
    require_may_answer(session, principal, task)
    conn = session.connection()
    held = session.scalar(select(Assignment).where(Assignment.task_id == task.id, Assignment.user_id == principal.user_id,
                                                   Assignment.kind == "label").with_for_update())
    if held is not None and held.status != "leased":
        raise InvalidRequest(f"Task {task.public_id} already has an answer from this user.", field="task_id")
    if held is None and task.status == "pending":
        taken = conn.execute(update(T).where(T.c.id == task.id, T.c.open_slots > 0).values(open_slots=T.c.open_slots - 1)).rowcount
        if not taken:
            raise Conflict(f"Task {task.public_id}: all {task.required_labels} label slots are taken or answered.", field="task_id")
    answer_id = lifecycle.record_answer(session, task, body["response"], user_id=principal.user_id, active_seconds=body.get("active_seconds"),
                                        lease_held=held is not None)
    now = utcnow()
    if held is not None:
        held.status, held.answer_id, held.updated_at = "submitted", answer_id, now
    else:
        conn.execute(insert(A).values(public_id=new_public_id(), org_id=task.org_id, project_id=task.project_id, task_id=task.id,
                                      user_id=principal.user_id, kind="label", status="submitted", expires_at=now, answer_id=answer_id,
                                      created_at=now, updated_at=now))
    return answer_id


# ----------------------------------------------------------------------------- review

def review(session: Session, principal: Principal, assignment_id: str, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise field_error("body", 'must be a JSON object {"action": "accept"|"fix"|"reject", ...}')
    assignment = _my_assignment(session, principal, assignment_id)
    if assignment.kind != "review" or assignment.status != "leased":
        raise Conflict("This is not a review you hold.", field="assignment_id")
    action = body.get("action")
    if action == "fix" and "response" not in body:
        raise field_error("response", "required when fixing: the corrected answer")
    comment = body.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise field_error("comment", "must be a string")
    task = session.scalar(select(Task).where(Task.id == assignment.task_id).with_for_update())
    rejected = lifecycle.review_task(session, task, principal.user_id, principal.email, action, response=body.get("response"),
                                     comment=comment, active_seconds=body.get("active_seconds"))
    now = utcnow()
    if rejected:
        labelers = [a.user_id for a in rejected]
        session.execute(update(Assignment).where(Assignment.task_id == task.id, Assignment.kind == "label", Assignment.user_id.in_(labelers))
                        .values(status="rework", review_comment=comment, updated_at=now))
    assignment.status = "reviewed"
    assignment.updated_at = now
    return {"assignment_id": assignment.public_id, "task_id": task.public_id, "task_status": task.status, "review_state": task.review_state}


# ----------------------------------------------------------------------------- views

_VIEW = select(
    T.c.public_id, T.c.type, T.c.status, T.c.kind, T.c.params, T.c.instruction, T.c.metadata, T.c.project_id,
    P.c.public_id.label("project_public_id"),
    P.c.name.label("project_name"), P.c.param_history, ORG.c.public_id.label("org_public_id"),
).join(P, P.c.id == T.c.project_id).join(ORG, ORG.c.id == T.c.org_id).where(T.c.id == bindparam("t"))
_ANSWER_RESPONSE = select(TaskAnswer.__table__.c.response).where(TaskAnswer.__table__.c.id == bindparam("a"))


def view(session: Session, assignment) -> dict[str, Any]:
    """What the labeling page needs for one assignment (a mapping of its row): the task
    as the tool sees it, the instructions as safe HTML, and for rework/going back/review
    the answers so far. One joined Core read."""
    from assay.tasktypes import get_plugin

    conn = session.connection()
    row = conn.execute(_VIEW, {"t": assignment["task_id"]}).mappings().one()
    params = row["params"] or {}
    history = row["param_history"] or []
    hypothesis = params.get("hypothesis")
    if hypothesis is None and row["kind"] == "task":
        from assay.backends.service import prelabel

        hypothesis = prelabel(conn, assignment["task_id"], row["project_id"])
    out: dict[str, Any] = {
        "assignment": {
            "id": assignment["public_id"], "kind": assignment["kind"], "status": assignment["status"],
            "expires_at": iso(assignment["expires_at"]), "review_comment": assignment["review_comment"],
        },
        "task": {
            "task_id": row["public_id"], "type": row["type"], "status": row["status"], "practice": row["kind"] == "training",
            "params": _signed_files(get_plugin(row["type"]).workbench_params(params), row["org_public_id"]), "hypothesis": hypothesis,
            "instruction_html": markdown.render(_own_instruction(row["instruction"], history)), "metadata": row["metadata"] or {},
        },
        "project": {"id": row["project_public_id"], "name": row["project_name"], "guidelines_html": markdown.render(_guidelines(history))},
        "previous_response": None,
    }
    if assignment["answer_id"]:
        out["previous_response"] = conn.execute(_ANSWER_RESPONSE, {"a": assignment["answer_id"]}).scalar()
    if assignment["kind"] == "review":
        task = session.get(Task, assignment["task_id"])
        answers = lifecycle.active_answers(session, task)
        emails = dict(session.execute(select(User.id, User.email).where(User.id.in_([a.user_id for a in answers if a.user_id]))).all())
        out["answers"] = [
            {"labeler": emails.get(a.user_id), "response": a.response, "active_seconds": a.active_seconds,
             "hypothesis_status": a.hypothesis_status, "submitted_at": iso(a.created_at)}
            for a in answers
        ]
        if answers:
            proposal, quality, _ = lifecycle.consensus_of(session, task, [(a.user_id, a.response) for a in answers])
            out["previous_response"], out["quality"] = proposal, quality
    return out


def _guidelines(param_history: list) -> str:
    """The project's current instructions (latest params version)."""
    instruction = param_history[-1].get("instruction") if param_history else None
    return instruction if isinstance(instruction, str) else ""


def _own_instruction(instruction: str | None, param_history: list) -> str:
    """The task's own instruction: what its creator sent, without the project
    instruction appended at creation (the page shows the project's current one)."""
    own = instruction or ""
    for version in reversed(param_history):
        appended = version.get("instruction")
        if isinstance(appended, str) and appended and own.endswith(appended):
            return own[: -len(appended)].rstrip()
    return own


def _signed_files(value: Any, org_public_id: str) -> Any:
    """scaledata:// attachments of the task's own organization become signed links the
    browser can load; a reference to any other organization's file is never signed."""
    if isinstance(value, str):
        if not value.startswith("scaledata://"):
            return value
        if get_settings().files_origin:
            return signed_url_for_scaledata(value, org_public_id) or value
        # same-origin path: the page may be served under another host name than public_url
        return signed_path_for_scaledata(value, org_public_id) or value
    if isinstance(value, list):
        return [_signed_files(v, org_public_id) for v in value]
    if isinstance(value, dict):
        return {k: _signed_files(v, org_public_id) for k, v in value.items()}
    return value


def project_summaries(session: Session, principal: Principal) -> list[dict[str, Any]]:
    """The projects on the caller's home page with their backlog: tasks the caller could
    label now, their own submissions, and (for reviewers) tasks waiting for review."""
    stmt = select(Project).where(Project.org_id == principal.org_id, Project.archived.is_(False))
    if principal.role != "admin":
        stmt = stmt.join(ProjectMember, ProjectMember.project_id == Project.id).where(ProjectMember.user_id == principal.user_id)
    projects = list(session.scalars(stmt.order_by(Project.name)))
    conn = session.connection()
    pg = session.get_bind().dialect.name == "postgresql"
    out = []
    for project in projects:
        available = conn.execute(text(
            "SELECT COUNT(*) FROM tasks t WHERE t.project_id = :p AND t.status = 'pending' AND t.open_slots > 0 AND t.is_test = "
            + ("false" if pg else "0")
            + " AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.task_id = t.id AND a.user_id = :u AND a.kind = 'label')"
        ), {"p": project.id, "u": principal.user_id}).scalar()
        mine = dict(conn.execute(select(A.c.status, func.count()).where(A.c.project_id == project.id, A.c.user_id == principal.user_id,
                                                                         A.c.kind == "label").group_by(A.c.status)).all())
        summary = {
            "id": project.public_id, "name": project.name, "type": project.type, "available": int(available),
            "rework": int(mine.get("rework", 0)), "submitted": int(mine.get("submitted", 0)), "skipped": int(mine.get("skipped", 0)),
            "review_waiting": None,
        }
        if principal.role in REVIEW_ROLES:
            summary["review_waiting"] = int(conn.execute(
                select(func.count()).select_from(T).where(T.c.project_id == project.id, T.c.status == "pending", T.c.review_state == "waiting")
            ).scalar())
        out.append(summary)
    return out

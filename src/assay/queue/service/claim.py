"""Claiming: the next thing for a person to work on in a project, leased to them — a
lease they already hold, a gold item when one is due, or a new slot in queue order."""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, text, update
from sqlalchemy.orm import Session

from assay.auth.principals import Principal
from assay.db import new_public_id, utcnow
from assay.orgs.models import Role
from assay.queue.models import Assignment, AssignmentKind, AssignmentStatus
from assay.queue.service.access import GOLD_ANSWERED, GOLD_CANDIDATE
from assay.queue.service.leases import MAX_HELD, lease_until, sweep_expired
from assay.queue.service.routing import prefer, routing
from assay.queue.service.workbench import view
from assay.tasks import lifecycle
from assay.tasks.models import TaskKind

A = Assignment.__table__
_HELD = select(A).where(A.c.user_id == bindparam("u"), A.c.project_id == bindparam("p"), A.c.kind == bindparam("k"),
                        A.c.status.in_(bindparam("statuses", expanding=True))).order_by((A.c.status == AssignmentStatus.REWORK).desc(), A.c.id)
_EXTEND = update(A).where(A.c.id == bindparam("a"), A.c.status == AssignmentStatus.LEASED).values(expires_at=bindparam("until"))
_INSERT_ASSIGNMENT = insert(A).returning(A.c.id)


def claim(session: Session, principal: Principal, project, kind: str, holding: list[str]) -> dict[str, Any]:
    """The next thing for this person to work on in this project, leased to them.

    Leases they already hold and are not showing (`holding`: assignment ids on their
    screen) come first — rework sent back by a reviewer before anything — so a reload
    resumes where they were. Otherwise a new slot is claimed, up to MAX_HELD at once
    (the page prefetches one task ahead)."""
    sweep_expired(session)
    live = _live_leases(session, principal, project, kind, holding)
    for assignment in live:
        if assignment["public_id"] not in holding:
            return view(session, assignment)
    if kind == AssignmentKind.LABEL and project.paused_reason is not None:
        return {"assignment": None, "task": None, "paused": True,
                "reason": f"You are paused in this project: {project.paused_reason}. A project lead can reinstate you."}
    if sum(1 for a in live if a["status"] == AssignmentStatus.LEASED) >= MAX_HELD:
        return {"assignment": None, "task": None, "reason": f"you already hold {MAX_HELD} tasks of this project"}
    task_id, qualifying = _pick_gold(session, principal, project) if kind == AssignmentKind.LABEL and principal.role != Role.ADMIN else (None, False)
    if task_id is None and qualifying:
        return {"assignment": None, "task": None, "reason": "waiting for more qualification items"}
    if task_id is None:
        route = routing(session, principal.user_id, project)
        if route.refused and kind == AssignmentKind.LABEL:
            return {"assignment": None, "task": None, "reason": route.refused}
        order = prefer(session, project.id, principal.user_id) if kind == AssignmentKind.LABEL and project.route_by_accuracy else None
        task_id = lifecycle.claim_slot(session, project.id, principal.user_id, kind, flagged=route.flagged_ok, prefer=order)
        if task_id is None:
            return {"assignment": None, "task": None, "reason": _nothing_left(kind, route)}
    return view(session, _lease(session, principal, project, task_id, kind))


def _nothing_left(kind: str, route) -> str:
    left = "nothing left to label" if kind == AssignmentKind.LABEL else "nothing waiting for review"
    if not route.flagged_ok and route.exposure >= route.budget:
        return f"{left} without a content warning: you reached today's budget of {route.budget} flagged tasks"
    return left


def _live_leases(session: Session, principal: Principal, project, kind: str, holding: list[str]) -> list[dict]:
    """The caller's leases (and rework) in the project; those not on screen are extended."""
    conn = session.connection()
    statuses = [AssignmentStatus.LEASED, AssignmentStatus.REWORK] if kind == AssignmentKind.LABEL else [AssignmentStatus.LEASED]
    held = conn.execute(_HELD, {"u": principal.user_id, "p": project.id, "k": kind, "statuses": statuses}).mappings().all()
    live = []
    for assignment in held:
        if assignment["status"] == AssignmentStatus.LEASED and assignment["public_id"] not in holding:
            until = lease_until()
            # 0 rows: another request's sweep deleted this expired lease since we read it
            # (on PostgreSQL the UPDATE waits for that DELETE); the slot is gone, skip it
            if not conn.execute(_EXTEND, {"a": assignment["id"], "until": until}).rowcount:
                continue
            assignment = {**assignment, "expires_at": until}
        live.append(assignment)
    return live


def _lease(session: Session, principal: Principal, project, task_id: int, kind: str) -> dict[str, Any]:
    conn = session.connection()
    now = utcnow()
    if kind == AssignmentKind.REVIEW:
        # a reviewer may see a task again after its rework: reuse their row
        conn.execute(delete(A).where(A.c.task_id == task_id, A.c.user_id == principal.user_id, A.c.kind == AssignmentKind.REVIEW))
    values = {"public_id": new_public_id(), "org_id": principal.org_id, "project_id": project.id, "task_id": task_id,
              "user_id": principal.user_id, "kind": kind, "status": AssignmentStatus.LEASED, "expires_at": lease_until(), "created_at": now,
              "updated_at": now, "answer_id": None, "skip_reason": None, "review_comment": None}
    values["id"] = conn.execute(_INSERT_ASSIGNMENT, values).scalar_one()
    return values


def _pick_gold(session: Session, principal: Principal, project) -> tuple[int | None, bool]:
    """A gold item to serve instead of real work, if one is due: practice (training)
    items first, each once; then evaluation items until the labeler has answered
    `qualification_size` of them; then an evaluation item with probability `gold_rate`.
    Returns (task id or None, still qualifying). The gold index keeps this cheap; test
    items (made with test keys) are never served."""
    conn = session.connection()
    params = {"project_id": project.id, "user_id": principal.user_id, "is_test": False}
    training = conn.execute(text(GOLD_CANDIDATE), {**params, "kind": TaskKind.TRAINING}).scalar()
    if training is not None:
        return training, False
    if not project.qualification_size and not project.gold_rate:
        return None, False
    answered = conn.execute(GOLD_ANSWERED, {"p": project.id, "u": principal.user_id}).scalar() or 0
    qualifying = answered < project.qualification_size
    if qualifying or random.random() < project.gold_rate:
        gold = conn.execute(text(GOLD_CANDIDATE), {**params, "kind": TaskKind.EVALUATION}).scalar()
        if gold is not None:
            return gold, qualifying
    # a qualification is as long as the gold set: with no item left, real work starts
    return None, False

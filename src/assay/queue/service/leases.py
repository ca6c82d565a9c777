"""Leases: how long a person holds a label slot or a review, heartbeats that extend it,
the sweep that ends expired ones, and giving back everything a person holds (removal,
pause). A lease that ends without an answer returns its slot through tasks.lifecycle."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from assay.auth.principals import Principal
from assay.config import get_settings
from assay.db import utcnow
from assay.errors import Conflict, NotFound
from assay.queue.models import Assignment, AssignmentStatus
from assay.tasks import lifecycle
from assay.timeutil import iso

A = Assignment.__table__
# Leases one person may hold at once in a project: the task on screen and the prefetched next one.
MAX_HELD = 2

_last_sweep = datetime.min
_sweep_lock = threading.Lock()


def lease_until() -> datetime:
    return utcnow() + timedelta(seconds=get_settings().lease_seconds)


def my_assignment(session: Session, principal: Principal, assignment_id: str) -> Assignment:
    """The caller's own assignment, locked; 404 for anyone else's (or an expired lease)."""
    assignment = session.scalar(
        select(Assignment).where(Assignment.public_id == assignment_id, Assignment.org_id == principal.org_id,
                                 Assignment.user_id == principal.user_id).with_for_update()
    )
    if assignment is None:
        raise NotFound("Assignment not found: it is not yours, or its lease expired and the task went back to the queue.",
                       field="assignment_id")
    return assignment


def own_assignment(session: Session, principal: Principal, assignment_id: str) -> Assignment:
    """The caller's own assignment, read without a lock (live chat reads it before calling
    a model); 404 for anyone else's."""
    assignment = session.scalar(select(Assignment).where(Assignment.public_id == assignment_id, Assignment.org_id == principal.org_id,
                                                         Assignment.user_id == principal.user_id))
    if assignment is None:
        raise NotFound("Assignment not found: it is not yours, or its lease expired and the task went back to the queue.",
                       field="assignment_id")
    return assignment


def sweep_expired(session: Session, *, force: bool = False) -> int:
    """Delete expired leases and give their slots back. Runs at most once a second per
    process (the DELETE is an index range scan, but not free)."""
    global _last_sweep
    now = utcnow()
    with _sweep_lock:
        if not force and timedelta(0) <= now - _last_sweep < timedelta(seconds=1):
            return 0
        _last_sweep = now
    conn = session.connection()
    due = select(A.c.id).where(A.c.status == AssignmentStatus.LEASED, A.c.expires_at < now)
    if conn.dialect.name == "postgresql":
        # two sweeps (processes, or one outliving its second) must not lock the same rows in
        # different orders: each takes the expired leases no other sweep holds, in id order
        due = due.order_by(A.c.id).with_for_update(skip_locked=True)
    expired = conn.execute(delete(A).where(A.c.id.in_(due.scalar_subquery())).returning(A.c.task_id, A.c.kind)).all()
    for task_id, kind in sorted(expired):  # task rows locked in one order too
        lifecycle.release(session, task_id, kind)
    return len(expired)


def heartbeat(session: Session, principal: Principal, assignment_id: str) -> dict[str, Any]:
    assignment = my_assignment(session, principal, assignment_id)
    if assignment.status not in (AssignmentStatus.LEASED, AssignmentStatus.REWORK):
        raise Conflict(f"This assignment is {assignment.status}; there is no lease to extend.", field="assignment_id")
    assignment.expires_at = lease_until()
    assignment.updated_at = utcnow()
    return {"assignment_id": assignment.public_id, "expires_at": iso(assignment.expires_at)}


def release_leases(session: Session, project_id: int, user_id: int) -> int:
    """Give back every slot and review the person holds in the project (removal, pause)."""
    leases = session.execute(
        delete(Assignment).where(Assignment.project_id == project_id, Assignment.user_id == user_id,
                                 Assignment.status == AssignmentStatus.LEASED)
        .returning(Assignment.task_id, Assignment.kind)
    ).all()
    for task_id, kind in leases:
        lifecycle.release(session, task_id, kind)
    return len(leases)

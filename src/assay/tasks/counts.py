"""Maintenance and use of the task_counts table (see models.TaskCount)."""

from __future__ import annotations

from sqlalchemy import bindparam, func, select

from assay.db import upsert, written_at_commit
from assay.tasks.models import TaskCount

C = TaskCount.__table__


def _upsert(conn):
    return upsert(conn, "task_counts", C, [C.c.org_id, C.c.is_test, C.c.project_id, C.c.batch_id, C.c.status],
                  {"org_id": bindparam("o"), "is_test": bindparam("t"), "project_id": bindparam("p"), "batch_id": bindparam("b"),
                   "status": bindparam("s"), "n": bindparam("d")},
                  lambda excluded: {"n": C.c.n + excluded.n})


def bump(session, org_id: int, is_test: bool, project_id: int, batch_id: int | None, status: str, delta: int) -> None:
    """Add delta to one counter in the caller's transaction. The deltas are collected and
    written just before the commit (`_write_deltas`): every completion in a project
    updates the same two rows, so on PostgreSQL their row locks are held only for the
    last statement of the transaction, not for all of it."""
    deltas = session.info.setdefault(_DELTAS, {})
    key = (org_id, bool(is_test), project_id, batch_id or 0, status)
    deltas[key] = deltas.get(key, 0) + delta


_DELTAS = "task_count_deltas"


@written_at_commit(_DELTAS)
def _write_deltas(session, deltas) -> None:
    conn = session.connection()
    stmt = _upsert(conn)
    # sorted: concurrent transactions lock the counter rows in the same order (no deadlock)
    for (org_id, is_test, project_id, batch_id, status), delta in sorted(deltas.items()):
        if delta:
            conn.execute(stmt, {"o": org_id, "t": is_test, "p": project_id, "b": batch_id, "s": status, "d": delta})


def move(session, task, old_status: str, new_status: str) -> None:
    bump(session, task.org_id, task.is_test, task.project_id, task.batch_id, old_status, -1)
    bump(session, task.org_id, task.is_test, task.project_id, task.batch_id, new_status, +1)


def total(conn, org_id: int, is_test: bool, project_id: int | None, batch_id: int | None, statuses: list[str] | None) -> int:
    stmt = select(func.coalesce(func.sum(C.c.n), 0)).where(C.c.org_id == org_id, C.c.is_test == is_test)
    if project_id is not None:
        stmt = stmt.where(C.c.project_id == project_id)
    if batch_id is not None:
        stmt = stmt.where(C.c.batch_id == batch_id)
    if statuses:
        stmt = stmt.where(C.c.status.in_(statuses))
    return int(conn.execute(stmt).scalar())

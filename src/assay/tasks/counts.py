"""Maintenance and use of the task_counts table (see models.TaskCount)."""

from __future__ import annotations

from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from assay.tasks.models import TaskCount

C = TaskCount.__table__


_UPSERTS: dict[str, object] = {}


def _upsert(dialect: str):
    """One prebuilt upsert per dialect: building the statement costs more CPU than running it."""
    stmt = _UPSERTS.get(dialect)
    if stmt is None:
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        stmt = insert(C).values(org_id=bindparam("o"), is_test=bindparam("t"), project_id=bindparam("p"), batch_id=bindparam("b"),
                                status=bindparam("s"), n=bindparam("d"))
        stmt = stmt.on_conflict_do_update(index_elements=[C.c.org_id, C.c.is_test, C.c.project_id, C.c.batch_id, C.c.status],
                                          set_={"n": C.c.n + stmt.excluded.n})
        _UPSERTS[dialect] = stmt
    return stmt


def bump(session, org_id: int, is_test: bool, project_id: int, batch_id: int | None, status: str, delta: int) -> None:
    """Add delta to one counter (upsert), in the caller's transaction."""
    conn = session.connection()
    conn.execute(_upsert(conn.dialect.name), {"o": org_id, "t": is_test, "p": project_id, "b": batch_id or 0, "s": status, "d": delta})


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

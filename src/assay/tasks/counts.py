"""Maintenance and use of the task_counts table (see models.TaskCount)."""

from __future__ import annotations

from sqlalchemy import bindparam, func, select, text

from assay.db import counter_shard, upsert, written_at_commit
from assay.tasks.models import TaskCount

C = TaskCount.__table__


def _upsert(conn):
    return upsert(conn, "task_counts", C, [C.c.org_id, C.c.is_test, C.c.project_id, C.c.batch_id, C.c.status, C.c.shard],
                  {"org_id": bindparam("o"), "is_test": bindparam("t"), "project_id": bindparam("p"), "batch_id": bindparam("b"),
                   "status": bindparam("s"), "shard": bindparam("h"), "n": bindparam("d")},
                  lambda excluded: {"n": C.c.n + excluded.n})


def bump(session, org_id: int, is_test: bool, project_id: int, batch_id: int | None, status: str, delta: int) -> None:
    """Add delta to one counter in the caller's transaction. The deltas are collected and
    written just before the commit (`_write_deltas`), into this transaction's shard of
    each key (`db.counter_shard`): on PostgreSQL concurrent completions in one project
    land on different rows instead of queueing on one row lock (a hot row), and the
    locks they take are held only for the last statements of the transaction."""
    deltas = session.info.setdefault(_DELTAS, {})
    key = (org_id, bool(is_test), project_id, batch_id or 0, status)
    deltas[key] = deltas.get(key, 0) + delta


_DELTAS = "task_count_deltas"


@written_at_commit(_DELTAS)
def _write_deltas(session, deltas) -> None:
    conn = session.connection()
    stmt = _upsert(conn)
    shard = counter_shard(session)
    # sorted: concurrent transactions lock the counter rows in the same order (no deadlock)
    for (org_id, is_test, project_id, batch_id, status), delta in sorted(deltas.items()):
        if delta:
            conn.execute(stmt, {"o": org_id, "t": is_test, "p": project_id, "b": batch_id, "s": status, "h": shard, "d": delta})


def move(session, task, old_status: str, new_status: str) -> None:
    bump(session, task.org_id, task.is_test, task.project_id, task.batch_id, old_status, -1)
    bump(session, task.org_id, task.is_test, task.project_id, task.batch_id, new_status, +1)


def batch_statuses(session, org_id: int, project_id: int, batch_id: int) -> dict[str, int]:
    """A batch's tasks by status (both modes), exact for this transaction: the committed
    counter rows plus the deltas it has collected but not written yet."""
    rows = session.execute(select(C.c.status, func.sum(C.c.n)).where(C.c.org_id == org_id, C.c.project_id == project_id,
                                                                      C.c.batch_id == batch_id).group_by(C.c.status))
    out = {status: int(n) for status, n in rows}
    for (o, _test, p, b, status), delta in session.info.get(_DELTAS, {}).items():
        if (o, p, b) == (org_id, project_id, batch_id):
            out[status] = out.get(status, 0) + delta
    return {status: n for status, n in out.items() if n}


def total(conn, org_id: int, is_test: bool, project_id: int | None, batch_id: int | None, statuses: list[str] | None) -> int:
    stmt = select(func.coalesce(func.sum(C.c.n), 0)).where(C.c.org_id == org_id, C.c.is_test == is_test)
    if project_id is not None:
        stmt = stmt.where(C.c.project_id == project_id)
    if batch_id is not None:
        stmt = stmt.where(C.c.batch_id == batch_id)
    if statuses:
        stmt = stmt.where(C.c.status.in_(statuses))
    return int(conn.execute(stmt).scalar())


# Fold every shard of a key into shard 0, in one statement (readers see the counts before
# or after it, never half). Shard rows are locked in key order first, like the writers
# take them; a writer of shard 0 never waits on a shard above 0, so no cycle can form.
_FOLD = text("""
WITH moved AS (
  DELETE FROM task_counts WHERE (org_id, is_test, project_id, batch_id, status, shard) IN (
    SELECT org_id, is_test, project_id, batch_id, status, shard FROM task_counts WHERE shard > 0
    ORDER BY org_id, is_test, project_id, batch_id, status, shard FOR UPDATE)
  RETURNING org_id, is_test, project_id, batch_id, status, n)
INSERT INTO task_counts (org_id, is_test, project_id, batch_id, status, shard, n)
SELECT org_id, is_test, project_id, batch_id, status, 0, SUM(n) FROM moved
GROUP BY org_id, is_test, project_id, batch_id, status
ORDER BY org_id, is_test, project_id, batch_id, status
ON CONFLICT (org_id, is_test, project_id, batch_id, status, shard) DO UPDATE SET n = task_counts.n + EXCLUDED.n
""")


def fold_shards(db) -> int:
    """The background roll-up: PostgreSQL's sharded counter rows folded into shard 0 (the
    counts read do not change). Returns how many keys were folded; SQLite has no shards."""
    if db.is_sqlite:
        return 0
    with db.write() as session:
        return session.connection().execute(_FOLD).rowcount

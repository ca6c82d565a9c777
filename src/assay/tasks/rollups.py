"""The activity rollups (models.ActivityRollup): what each answer, completion and verdict
adds to its (project, person, hour) row, collected in the transaction and written just
before its commit, like the task counters. Test-mode tasks add nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, text

from assay.db import counter_shard, upsert, utcnow, written_at_commit
from assay.tasks.models import ActivityRollup, Task

R = ActivityRollup.__table__
METRICS = ("created", "labels", "annotations", "active_seconds", "held_seconds", "completed", "reviewed", "rejected", "consolidated", "agreed",
           "gold_answered", "gold_correct", "flagged")
_DELTAS = "activity_rollup_deltas"
PROJECT = 0  # the user_id of a project's own row (completions)


def date_back(session, when) -> None:
    """Date what this transaction has added so far to the hour of `when` instead of now
    (the demo's simulated week of history; nothing else moves time)."""
    pending = session.info.get(_DELTAS) or {}
    moved: dict = {}
    for (org_id, project_id, user_id, _, _), row in pending.items():
        target = moved.setdefault((org_id, project_id, user_id, when.date(), when.hour), dict.fromkeys(METRICS, 0))
        for name, value in row.items():
            target[name] += value
    session.info[_DELTAS] = moved


def annotations_in(response: Any) -> int:
    """How many labels an answer holds: its shapes/spans/… when it lists them, else 1."""
    if isinstance(response, dict):
        listed = response.get("annotations")
        if isinstance(listed, list):
            return len(listed)
    return 1


def add(session, task: Task, user_id: int | None, **metrics: float) -> None:
    """Add to this hour's row of (task's project, user). Collected; written at commit."""
    if task.is_test or user_id is None:
        return
    add_to(session, task.org_id, task.project_id, user_id, **metrics)


def add_to(session, org_id: int, project_id: int, user_id: int, at=None, **metrics: float) -> None:
    """Add to the hour of `at` (now when not given: an import with answers gives theirs)."""
    now = at or utcnow()
    key = (org_id, project_id, user_id, now.date(), now.hour)
    row = session.info.setdefault(_DELTAS, {}).setdefault(key, dict.fromkeys(METRICS, 0))
    for name, value in metrics.items():
        row[name] += value or 0


def answered(session, task: Task, user_id: int | None, response: Any, active_seconds: float | None, held_seconds: float | None,
             edit: bool) -> None:
    """One human answer to a customer task (an edit adds its time, not another label)."""
    add(session, task, user_id, labels=0 if edit else 1, annotations=0 if edit else annotations_in(response), active_seconds=active_seconds,
        held_seconds=held_seconds, flagged=0 if edit or not task.content_warning else 1)


def agreement(session, task: Task, user_ids: list[int | None], agreed: list[bool]) -> None:
    for user_id, ok in zip(user_ids, agreed, strict=False):
        add(session, task, user_id, consolidated=1, agreed=1 if ok else 0)


def _upsert(conn):
    keys = {"org_id": bindparam("org_id"), "project_id": bindparam("project_id"), "user_id": bindparam("user_id"), "day": bindparam("day"),
            "hour": bindparam("hour")}
    return upsert(conn, "activity_rollups", R, [R.c.project_id, R.c.user_id, R.c.day, R.c.hour, R.c.shard],
                  {**keys, "shard": bindparam("shard"), **{m: bindparam(m) for m in METRICS}},
                  lambda excluded: {m: R.c[m] + excluded[m] for m in METRICS})


@written_at_commit(_DELTAS)
def _write(session, deltas: dict[tuple, dict[str, float]]) -> None:
    conn = session.connection()
    stmt = _upsert(conn)
    shard = counter_shard(session)
    # sorted: concurrent transactions lock the rows in the same order (no deadlock); only a
    # project's own row (user 0: every completion and creation in it) is a hot row, sharded
    for (org_id, project_id, user_id, day, hour), metrics in sorted(deltas.items()):
        conn.execute(stmt, {"org_id": org_id, "project_id": project_id, "user_id": user_id, "day": day, "hour": hour,
                            "shard": shard if user_id == PROJECT else 0, **metrics})


_FOLD_SQL = """
WITH moved AS (
  DELETE FROM activity_rollups WHERE (project_id, user_id, day, hour, shard) IN (
    SELECT project_id, user_id, day, hour, shard FROM activity_rollups WHERE shard > 0
    ORDER BY project_id, user_id, day, hour, shard FOR UPDATE)
  RETURNING project_id, user_id, day, hour, org_id, {metrics})
INSERT INTO activity_rollups (project_id, user_id, day, hour, shard, org_id, {metrics})
SELECT project_id, user_id, day, hour, 0, MIN(org_id), {sums} FROM moved
GROUP BY project_id, user_id, day, hour ORDER BY project_id, user_id, day, hour
ON CONFLICT (project_id, user_id, day, hour, shard) DO UPDATE SET {adds}
"""
_FOLD = text(_FOLD_SQL.format(metrics=", ".join(METRICS), sums=", ".join(f"SUM({m})" for m in METRICS),
                              adds=", ".join(f"{m} = activity_rollups.{m} + EXCLUDED.{m}" for m in METRICS)))


def fold_shards(db) -> int:
    """The background roll-up of the projects' sharded rows into shard 0 on PostgreSQL
    (one statement; the sums read do not change), as `tasks.counts.fold_shards`."""
    if db.is_sqlite:
        return 0
    with db.write() as session:
        return session.connection().execute(_FOLD).rowcount

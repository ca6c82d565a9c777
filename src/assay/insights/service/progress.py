"""Progress per project for the projects list: tasks by state (from the task counters),
labels per day and an ETA (from the activity rollups)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.engine import Connection

from assay.db import utcnow
from assay.queue.models import Assignment
from assay.tasks.models import ActivityRollup, Task, TaskCount

R = ActivityRollup.__table__
C = TaskCount.__table__
T = Task.__table__
A = Assignment.__table__
WINDOW_DAYS = 7


def days_back(n: int, today: date | None = None) -> list[date]:
    today = today or utcnow().date()
    return [today - timedelta(days=n - 1 - i) for i in range(n)]


# literals, so SQLite uses the partial review-queue index; leased reviews are few and
# found through the assignments' status index
_WAITING = text("SELECT COUNT(*) FROM tasks WHERE project_id = :p AND status = 'pending' AND review_state = 'waiting'")
_LEASED = select(func.count()).where(A.c.status == "leased", A.c.kind == "review", A.c.project_id == bindparam("p"))


def in_review(conn: Connection, project_id: int) -> int:
    return int(conn.execute(_WAITING, {"p": project_id}).scalar() or 0) + int(conn.execute(_LEASED, {"p": project_id}).scalar() or 0)


def progress(conn: Connection, org_id: int, project_ids: list[int]) -> dict[int, dict[str, Any]]:
    """{project id: {completed, in_review, pending, error, canceled, total, labels_per_day
    [7 days], completed_per_day, eta_days}}; a pending task waiting for or under review
    counts as in review, not pending."""
    if not project_ids:
        return {}
    out = {pid: {"completed": 0, "in_review": 0, "pending": 0, "error": 0, "canceled": 0} for pid in project_ids}
    for pid, status, n in conn.execute(select(C.c.project_id, C.c.status, func.sum(C.c.n)).where(
            C.c.org_id == org_id, C.c.is_test.is_(False), C.c.project_id.in_(project_ids)).group_by(C.c.project_id, C.c.status)):
        out[pid][status] = int(n or 0)
    for pid in project_ids:
        n = in_review(conn, pid)
        out[pid]["in_review"] = n
        out[pid]["pending"] -= n
    days = days_back(WINDOW_DAYS)
    per_day = {(pid, d): [0, 0] for pid in project_ids for d in days}
    for pid, day, labels, completed in conn.execute(select(R.c.project_id, R.c.day, func.sum(R.c.labels), func.sum(R.c.completed)).where(
            R.c.org_id == org_id, R.c.day >= days[0], R.c.project_id.in_(project_ids)).group_by(R.c.project_id, R.c.day)):
        per_day[(pid, day)] = [int(labels or 0), int(completed or 0)]
    for pid, row in out.items():
        row["total"] = sum(row[k] for k in ("completed", "in_review", "pending", "error", "canceled"))
        row["labels_per_day"] = [per_day[(pid, d)][0] for d in days]
        row["completed_per_day"] = [per_day[(pid, d)][1] for d in days]
        rate = sum(row["completed_per_day"]) / WINDOW_DAYS
        left = row["pending"] + row["in_review"]
        row["eta_days"] = round(left / rate, 1) if rate > 0 and left else (0.0 if not left else None)
        row["done_share"] = round(row["completed"] / row["total"], 4) if row["total"] else 0.0
    return out

"""Series over time for the charts page, read from the activity rollups (a few rows per
project, person and hour), never from the answers: throughput per day and hour, backlog,
agreement and gold accuracy per week, review rejections, active time per task, cost."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from assay.db import utcnow
from assay.insights.service.progress import days_back
from assay.orgs.models import User
from assay.people.models import PayRate, charge, rate_for
from assay.tasks.models import ActivityRollup, TaskCount

R = ActivityRollup.__table__
C = TaskCount.__table__
# seconds of active time per task: the buckets of the distribution
TIME_BUCKETS = (0, 5, 10, 20, 30, 60, 120, 300)
TOP_PEOPLE = 6


def _scope(stmt, org_id: int, project_id: int | None, since: date):
    stmt = stmt.where(R.c.org_id == org_id, R.c.day >= since)
    return stmt.where(R.c.project_id == project_id) if project_id is not None else stmt


def trends(conn: Connection, org_id: int, project_id: int | None, days: int = 14) -> dict[str, Any]:
    """Everything the charts page draws, as plain lists (the JSON twin returns it as is)."""
    span = days_back(days)
    daily = _daily(conn, org_id, project_id, span)
    return {
        "days": [d.isoformat() for d in span],
        "daily": daily,
        "backlog": _backlog(conn, org_id, project_id, daily),
        "hourly": _hourly(conn, org_id, project_id),
        "people": _people(conn, org_id, project_id, span),
        "weekly": _weekly(daily),
        "active_time": _active_time(conn, org_id, project_id, span[0]),
        "cost": _cost(conn, org_id, project_id, span),
    }


def _daily(conn: Connection, org_id: int, project_id: int | None, span: list[date]) -> list[dict[str, Any]]:
    cols = ("created", "labels", "completed", "reviewed", "rejected", "consolidated", "agreed", "gold_answered", "gold_correct", "active_seconds")
    stmt = _scope(select(R.c.day, *(func.sum(R.c[c]) for c in cols)).group_by(R.c.day), org_id, project_id, span[0])
    got = {row[0]: row[1:] for row in conn.execute(stmt)}
    out = []
    for day in span:
        values = dict(zip(cols, (v or 0 for v in got.get(day, (0,) * len(cols))), strict=True))
        values["rejection_rate"] = round(values["rejected"] / values["reviewed"], 4) if values["reviewed"] else None
        out.append({"day": day.isoformat(), **{k: (round(v, 1) if k == "active_seconds" else int(v)) for k, v in values.items()
                                               if k != "rejection_rate"}, "rejection_rate": values["rejection_rate"]})
    return out


def _backlog(conn: Connection, org_id: int, project_id: int | None, daily: list[dict]) -> list[dict[str, Any]]:
    """Tasks left (pending, in review) at the end of each day: today's from the counters,
    earlier days by walking back through created and completed. Canceled and errored
    tasks are not walked back (they are rare and leave the backlog too)."""
    stmt = select(func.coalesce(func.sum(C.c.n), 0)).where(C.c.org_id == org_id, C.c.is_test.is_(False), C.c.status == "pending")
    if project_id is not None:
        stmt = stmt.where(C.c.project_id == project_id)
    left = int(conn.execute(stmt).scalar())
    out = []
    for row in reversed(daily):
        out.append({"day": row["day"], "left": max(0, left)})
        left += row["completed"] - row["created"]
    return list(reversed(out))


def _hourly(conn: Connection, org_id: int, project_id: int | None, hours: int = 48) -> list[dict[str, Any]]:
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    start = now - timedelta(hours=hours - 1)
    stmt = _scope(select(R.c.day, R.c.hour, func.sum(R.c.labels)).group_by(R.c.day, R.c.hour), org_id, project_id, start.date())
    got = {(d, h): int(n or 0) for d, h, n in conn.execute(stmt)}
    slots = [start + timedelta(hours=i) for i in range(hours)]
    return [{"hour": s.strftime("%Y-%m-%dT%H:00"), "labels": got.get((s.date(), s.hour), 0)} for s in slots]


def _people(conn: Connection, org_id: int, project_id: int | None, span: list[date]) -> list[dict[str, Any]]:
    """Labels per day of the most productive people in the span."""
    stmt = _scope(select(R.c.user_id, R.c.day, func.sum(R.c.labels)).where(R.c.user_id != 0).group_by(R.c.user_id, R.c.day),
                  org_id, project_id, span[0])
    per = defaultdict(dict)
    for user_id, day, n in conn.execute(stmt):
        per[user_id][day] = int(n or 0)
    top = sorted(per, key=lambda u: -sum(per[u].values()))[:TOP_PEOPLE]
    emails = dict(conn.execute(select(User.id, User.email).where(User.id.in_(top))).all()) if top else {}
    return [{"user_id": u, "email": emails.get(u, f"user {u}"), "labels": [per[u].get(d, 0) for d in span]} for u in top]


def _weekly(daily: list[dict]) -> list[dict[str, Any]]:
    """Agreement with the consolidated answer and gold accuracy per ISO week."""
    weeks: dict[str, list[int]] = {}
    for row in daily:
        year, week, _ = date.fromisoformat(row["day"]).isocalendar()
        acc = weeks.setdefault(f"{year}-W{week:02d}", [0, 0, 0, 0])
        acc[0] += row["agreed"]
        acc[1] += row["consolidated"]
        acc[2] += row["gold_correct"]
        acc[3] += row["gold_answered"]
    return [{"week": w, "agreement": round(a / n, 4) if n else None, "answers": n, "gold_accuracy": round(c / g, 4) if g else None,
             "gold_answers": g} for w, (a, n, c, g) in weeks.items()]


def _active_time(conn: Connection, org_id: int, project_id: int | None, since: date) -> list[dict[str, Any]]:
    """Active seconds per task: each person-hour's mean, weighted by its labels, in buckets."""
    stmt = _scope(select(R.c.labels, R.c.active_seconds).where(R.c.user_id != 0, R.c.labels > 0), org_id, project_id, since)
    counts = [0] * len(TIME_BUCKETS)
    for labels, seconds in conn.execute(stmt):
        mean = (seconds or 0) / labels
        index = max(i for i, lo in enumerate(TIME_BUCKETS) if mean >= lo)
        counts[index] += labels
    names = [f"{lo}–{hi} s" for lo, hi in zip(TIME_BUCKETS, TIME_BUCKETS[1:], strict=False)] + [f"≥ {TIME_BUCKETS[-1]} s"]
    return [{"bucket": name, "labels": n} for name, n in zip(names, counts, strict=True)]


def _cost(conn: Connection, org_id: int, project_id: int | None, span: list[date]) -> dict[str, Any]:
    """Cost per day and per label at today's rates (per person and project)."""
    rates = list_rates(conn, org_id)
    stmt = _scope(select(R.c.day, R.c.user_id, R.c.project_id, func.sum(R.c.labels), func.sum(R.c.annotations), func.sum(R.c.active_seconds))
                  .where(R.c.user_id != 0).group_by(R.c.day, R.c.user_id, R.c.project_id), org_id, project_id, span[0])
    per_day: dict[date, list[float]] = defaultdict(lambda: [0.0, 0])
    currencies = set()
    for day, user_id, pid, labels, inside, seconds in conn.execute(stmt):
        rate = rate_for(rates, user_id, pid)
        if rate is not None:
            currencies.add(rate.currency)
        per_day[day][0] += charge(rate, labels or 0, inside or 0, seconds or 0)
        per_day[day][1] += labels or 0
    rows = [{"day": d.isoformat(), "cost": round(per_day[d][0], 2), "labels": int(per_day[d][1]),
             "per_label": round(per_day[d][0] / per_day[d][1], 4) if per_day[d][1] else None} for d in span]
    return {"currency": ", ".join(sorted(currencies)) or None, "daily": rows}


def list_rates(conn: Connection, org_id: int) -> list[PayRate]:
    P = PayRate.__table__
    return [PayRate(**row) for row in conn.execute(select(P).where(P.c.org_id == org_id)).mappings()]

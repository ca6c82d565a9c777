"""People as a lead manages them: skills (granted by hand or earned from a gold record),
pay rates, timesheets and payouts from the activity rollups, and exposure to flagged
content with each person's opt-out and budget."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from assay.config import get_settings
from assay.db import upsert, utcnow
from assay.errors import NotFound, field_error
from assay.orgs.models import User
from assay.people.models import PayRate, SkillSource, UserSkill, charge, rate_for
from assay.projects.models import Project
from assay.tasks.models import ActivityRollup, LabelerStats

R = ActivityRollup.__table__
S = UserSkill.__table__
MAX_PERIOD_DAYS = 366


def person(session: Session, org_id: int, user_id: int) -> User:
    user = session.scalar(select(User).where(User.id == user_id, User.org_id == org_id))
    if user is None:
        raise NotFound("No such person in this organization.", field="user_id")
    return user


def project_id_of(session: Session, org_id: int, public_id: str | None) -> int | None:
    if public_id is None:
        return None
    pid = session.scalar(select(Project.id).where(Project.org_id == org_id, Project.public_id == public_id))
    if pid is None:
        raise NotFound("Project not found.", field="project_id")
    return pid


# ----------------------------------------------------------------------------- skills

def skills_of(conn: Connection, org_id: int) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in conn.execute(select(S).where(S.c.org_id == org_id).order_by(S.c.user_id, S.c.name)).mappings():
        out[row["user_id"]].append({"name": row["name"], "level": row["level"], "source": row["source"]})
    return dict(out)


def grant_skill(session: Session, user: User, name: str, level: int, source: str = SkillSource.MANUAL) -> None:
    conn = session.connection()
    stmt = upsert(conn, "user_skills", S, [S.c.user_id, S.c.name],
                  {"user_id": user.id, "name": name, "org_id": user.org_id, "level": level, "source": source, "granted_at": utcnow()},
                  lambda excluded: {"level": excluded.level, "source": excluded.source, "granted_at": excluded.granted_at})
    conn.execute(stmt, {"user_id": user.id, "name": name, "org_id": user.org_id, "level": level, "source": source, "granted_at": utcnow()})


def revoke_skill(session: Session, user: User, name: str) -> bool:
    return bool(session.execute(delete(UserSkill).where(UserSkill.user_id == user.id, UserSkill.name == name)).rowcount)


def grant_from_gold(session: Session, org_id: int, project_id: int, name: str, level: int, min_accuracy: float,
                    min_answers: int) -> list[int]:
    """Grant the skill to everyone whose gold record in the project has at least
    `min_answers` evaluation answers with at least `min_accuracy` correct; their ids."""
    rows = session.execute(select(LabelerStats.user_id, LabelerStats.gold_answered, LabelerStats.gold_correct).where(
        LabelerStats.project_id == project_id, LabelerStats.org_id == org_id, LabelerStats.gold_answered >= min_answers)).all()
    earned = [r.user_id for r in rows if r.gold_answered and r.gold_correct / r.gold_answered >= min_accuracy]
    for user_id in earned:
        grant_skill(session, person(session, org_id, user_id), name, level, SkillSource.QUALIFICATION)
    return earned


# ----------------------------------------------------------------------------- rates

def rates_json(session: Session, org_id: int) -> list[dict[str, Any]]:
    users = dict(session.execute(select(User.id, User.email).where(User.org_id == org_id)).all())
    projects = dict(session.execute(select(Project.id, Project.name).where(Project.org_id == org_id)).all())
    return [{"id": r.id, "user_id": r.user_id, "email": users.get(r.user_id), "project": projects.get(r.project_id), "unit": r.unit,
             "amount": r.amount, "currency": r.currency} for r in session.scalars(select(PayRate).where(PayRate.org_id == org_id).order_by(PayRate.id))]


def set_rate(session: Session, org_id: int, user_id: int | None, project_id: int | None, unit: str, amount: float, currency: str) -> PayRate:
    """One rate per (person, project) pair: setting it again replaces it."""
    session.execute(delete(PayRate).where(PayRate.org_id == org_id, PayRate.user_id.is_(None) if user_id is None else PayRate.user_id == user_id,
                                          PayRate.project_id.is_(None) if project_id is None else PayRate.project_id == project_id))
    rate = PayRate(org_id=org_id, user_id=user_id, project_id=project_id, unit=unit, amount=amount, currency=currency)
    session.add(rate)
    session.flush()
    return rate


def delete_rate(session: Session, org_id: int, rate_id: int) -> None:
    if not session.execute(delete(PayRate).where(PayRate.id == rate_id, PayRate.org_id == org_id)).rowcount:
        raise NotFound("No such rate.", field="rate_id")


# ----------------------------------------------------------------------------- time and pay

def period(query, default_days: int = 7) -> tuple[date, date]:
    """`since` / `until` (inclusive, YYYY-MM-DD, UTC days); the last week by default."""
    def day(name: str, fallback: date) -> date:
        raw = query.get(name)
        if not raw:
            return fallback
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise field_error(name, "must be a date, YYYY-MM-DD") from None
    until = day("until", utcnow().date())
    since = day("since", until - timedelta(days=default_days - 1))
    if since > until:
        raise field_error("since", "must not be after until")
    if (until - since).days >= MAX_PERIOD_DAYS:
        raise field_error("since", f"the period may span at most {MAX_PERIOD_DAYS} days")
    return since, until


def timesheet(conn: Connection, org_id: int, since: date, until: date) -> list[dict[str, Any]]:
    """Per person and day: labels, active hours, idle hours (on screen without activity)."""
    stmt = (select(R.c.user_id, R.c.day, func.sum(R.c.labels), func.sum(R.c.reviewed), func.sum(R.c.active_seconds), func.sum(R.c.held_seconds))
            .where(R.c.org_id == org_id, R.c.user_id != 0, R.c.day >= since, R.c.day <= until).group_by(R.c.user_id, R.c.day)
            .order_by(R.c.user_id, R.c.day))
    emails = dict(conn.execute(select(User.id, User.email).where(User.org_id == org_id)).all())
    out = []
    for user_id, day, labels, reviewed, active, held in conn.execute(stmt):
        active, held = float(active or 0), float(held or 0)
        out.append({"user_id": user_id, "email": emails.get(user_id, f"user {user_id}"), "day": day.isoformat(), "labels": int(labels or 0),
                    "reviews": int(reviewed or 0), "active_hours": round(active / 3600, 4), "idle_hours": round(max(0.0, held - active) / 3600, 4)})
    return out


def payout(conn: Connection, org_id: int, since: date, until: date) -> list[dict[str, Any]]:
    """Per person and project in the period: answers, labels inside them, active hours, the
    rate that applies and the amount owed."""
    stmt = (select(R.c.user_id, R.c.project_id, func.sum(R.c.labels), func.sum(R.c.annotations), func.sum(R.c.active_seconds))
            .where(R.c.org_id == org_id, R.c.user_id != 0, R.c.day >= since, R.c.day <= until).group_by(R.c.user_id, R.c.project_id))
    P = PayRate.__table__
    rates = [PayRate(**row) for row in conn.execute(select(P).where(P.c.org_id == org_id)).mappings()]
    emails = dict(conn.execute(select(User.id, User.email).where(User.org_id == org_id)).all())
    names = dict(conn.execute(select(Project.id, Project.name).where(Project.org_id == org_id)).all())
    out = []
    for user_id, project_id, answers, labels, seconds in conn.execute(stmt):
        rate = rate_for(rates, user_id, project_id)
        answers, labels, seconds = int(answers or 0), int(labels or 0), float(seconds or 0)
        out.append({"user_id": user_id, "email": emails.get(user_id, f"user {user_id}"), "project": names.get(project_id), "answers": answers,
                    "labels": labels, "active_hours": round(seconds / 3600, 4), "unit": rate.unit if rate else None,
                    "rate": rate.amount if rate else None, "currency": rate.currency if rate else None,
                    "amount": round(charge(rate, answers, labels, seconds), 2)})
    return sorted(out, key=lambda r: (r["email"], r["project"] or ""))


def to_csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


# ----------------------------------------------------------------------------- well-being

def exposure(conn: Connection, org_id: int, days: int = 7) -> dict[str, Any]:
    """Per person: flagged tasks answered today and per day over the last week, their
    budget and opt-out."""
    today = utcnow().date()
    span = [today - timedelta(days=days - 1 - i) for i in range(days)]
    per = defaultdict(dict)
    for user_id, day, n in conn.execute(select(R.c.user_id, R.c.day, func.sum(R.c.flagged)).where(
            R.c.org_id == org_id, R.c.user_id != 0, R.c.day >= span[0]).group_by(R.c.user_id, R.c.day)):
        per[user_id][day] = int(n or 0)
    default = get_settings().exposure_budget
    people = conn.execute(select(User.id, User.email, User.role, User.avoid_flagged, User.exposure_budget).where(
        User.org_id == org_id, User.active.is_(True), User.role != "customer").order_by(User.email)).all()
    rows = [{"user_id": u.id, "email": u.email, "role": u.role, "avoid_flagged": u.avoid_flagged,
             "budget": u.exposure_budget if u.exposure_budget is not None else default, "own_budget": u.exposure_budget is not None,
             "today": per[u.id].get(today, 0), "per_day": [per[u.id].get(d, 0) for d in span]} for u in people]
    return {"days": [d.isoformat() for d in span], "default_budget": default, "people": rows}

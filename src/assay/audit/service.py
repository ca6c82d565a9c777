"""Reading the audit log: one organization's events, newest first, filtered by action,
actor, target and time, in pages (the page, its JSON twin and `assay audit`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.audit.log import ACTIONS
from assay.audit.models import AuditEvent
from assay.errors import field_error
from assay.timeutil import iso, parse_filter_time

PAGE = 100


@dataclass
class AuditFilter:
    action: str | None = None
    actor: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def check(self) -> "AuditFilter":
        if self.action and self.action not in ACTIONS and not any(a.startswith(self.action + ".") for a in ACTIONS):
            raise field_error("action", f"{self.action!r} is not an audit action (or a prefix of one such as 'member')")
        return self


def audit_filter(query) -> AuditFilter:
    """The filters of the query string (action, actor, target_id, since, until)."""
    return AuditFilter(
        action=query.get("action") or None, actor=query.get("actor") or None, target_id=query.get("target_id") or None,
        since=parse_filter_time(query["since"], "since") if query.get("since") else None,
        until=parse_filter_time(query["until"], "until") if query.get("until") else None,
    ).check()


def event_json(event: AuditEvent) -> dict[str, Any]:
    return {"id": event.id, "at": iso(event.at), "actor": event.actor, "via": event.via, "address": event.address,
            "action": event.action, "target_type": event.target_type, "target_id": event.target_id, "details": event.details or {}}


def _query(org_id: int, where: AuditFilter):
    stmt = select(AuditEvent).where(AuditEvent.org_id == org_id)
    if where.action:
        stmt = stmt.where(AuditEvent.action == where.action) if where.action in ACTIONS else stmt.where(
            AuditEvent.action.like(where.action + ".%"))
    if where.actor:
        stmt = stmt.where(AuditEvent.actor == where.actor.strip().lower())
    if where.target_id:
        stmt = stmt.where(AuditEvent.target_id == where.target_id)
    if where.since:
        stmt = stmt.where(AuditEvent.at >= where.since)
    if where.until:
        stmt = stmt.where(AuditEvent.at < where.until)
    return stmt


def page_of_events(session: Session, org_id: int, where: AuditFilter, before: int | None = None, limit: int = PAGE) -> tuple[list[dict], int | None]:
    """(events newest first, the id to pass as `before` for the next page or None)."""
    stmt = _query(org_id, where)
    if before is not None:
        stmt = stmt.where(AuditEvent.id < before)
    rows = list(session.scalars(stmt.order_by(AuditEvent.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return [event_json(r) for r in rows], (rows[-1].id if more else None)


def all_events(session: Session, org_id: int, where: AuditFilter) -> Iterator[dict]:
    """Every matching event, oldest first (exports), read in pages."""
    after = 0
    while True:
        rows = list(session.scalars(_query(org_id, where).where(AuditEvent.id > after).order_by(AuditEvent.id).limit(1000)))
        if not rows:
            return
        yield from (event_json(r) for r in rows)
        after = rows[-1].id

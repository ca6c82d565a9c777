"""The task browser: a lead's filtered, sorted page of tasks (project, batch, status,
labeler, confidence range, review state, tags, a metadata key/value, text search), and
bulk actions over the tasks they picked (send back, cancel, priority, reserve for a
person, add tags), each task through `tasks.lifecycle` where its state changes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, and_, cast, exists, func, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from assay.auth.principals import Principal
from assay.batches.models import Batch
from assay.errors import InvalidRequest, NotFound, field_error
from assay.orgs.models import User
from assay.projects.models import Project
from assay.tasks import counts, lifecycle
from assay.tasks.models import PRIORITY_LIMIT, TASK_STATUSES, ReviewState, Task, TaskAnswer, TaskKind
from assay.tasks.service.fields import check_tags
from assay.tasks.service.listing import _tags_match_any
from assay.timeutil import iso
from assay.web import parse_int

T = Task.__table__
REVIEW_FILTERS = ("none", *tuple(ReviewState))
SORTS = {"newest": (T.c.id.desc(),), "oldest": (T.c.id.asc(),), "priority": (T.c.queue_rank.asc(), T.c.id.asc()),
         "confidence": (T.c.confidence.asc(), T.c.id.asc()), "updated": (T.c.updated_at.desc(), T.c.id.desc())}
PAGE = 50
COUNT_CAP = 10_000  # past this the browser says "more than 10,000" instead of counting


def _float(query, name: str) -> float | None:
    raw = query.get(name)
    if raw in (None, ""):
        return None
    try:
        value = float(raw)
    except ValueError:
        raise field_error(name, "must be a number from 0 to 1") from None
    if not 0 <= value <= 1:
        raise field_error(name, "must be a number from 0 to 1")
    return value


def _project(conn: Connection, org_id: int, public_id: str) -> int:
    pid = conn.scalar(select(Project.id).where(Project.org_id == org_id, Project.public_id == public_id))
    if pid is None:
        raise NotFound("Project not found.", field="project")
    return pid


def conditions(conn: Connection, principal: Principal, query) -> tuple[list, dict[str, Any]]:
    """The WHERE terms of a browser query, and what the task counters can answer (None when
    only project / batch / status filter it)."""
    conds = [T.c.org_id == principal.org_id, T.c.is_test == principal.is_test, T.c.kind == TaskKind.TASK]
    countable: dict[str, Any] | None = {"project_id": None, "batch_id": None, "statuses": None}
    if query.get("project"):
        countable["project_id"] = _project(conn, principal.org_id, query["project"])
        conds.append(T.c.project_id == countable["project_id"])
    if query.get("batch"):
        bid = conn.scalar(select(Batch.id).where(Batch.org_id == principal.org_id, Batch.name == query["batch"]))
        if bid is None:
            raise NotFound(f"Batch with name {query['batch']!r} not found.", field="batch")
        countable["batch_id"] = bid
        conds.append(T.c.batch_id == bid)
    statuses = [s for raw in query.getlist("status") for s in raw.split(",") if s]
    if statuses:
        bad = [s for s in statuses if s not in TASK_STATUSES]
        if bad:
            raise field_error("status", f"{bad[0]!r} is not one of {', '.join(TASK_STATUSES)}")
        countable["statuses"] = statuses
        conds.append(T.c.status.in_(statuses))
    extra = _extra_conditions(conn, principal, query)
    if extra:
        countable = None
    return conds + extra, countable


def _extra_conditions(conn: Connection, principal: Principal, query) -> list:
    conds = []
    review = query.get("review_state")
    if review:
        if review not in REVIEW_FILTERS:
            raise field_error("review_state", f"must be one of {', '.join(REVIEW_FILTERS)}")
        conds.append(T.c.review_state.is_(None) if review == "none" else T.c.review_state == review)
    if query.get("labeler"):
        uid = parse_int(query["labeler"], "labeler", default=0, lo=1, hi=2**62)
        if conn.scalar(select(User.id).where(User.id == uid, User.org_id == principal.org_id)) is None:
            raise NotFound("No such person in this organization.", field="labeler")
        A = TaskAnswer.__table__
        conds.append(exists().where(A.c.task_id == T.c.id, A.c.user_id == uid))
    lo, hi = _float(query, "confidence_min"), _float(query, "confidence_max")
    confidence = T.c.confidence  # quality["confidence"], indexed with the project
    if lo is not None:
        conds.append(confidence >= lo)
    if hi is not None:
        conds.append(confidence <= hi)
    tags = [t for raw in query.getlist("tag") for t in raw.split(",") if t]
    if tags:
        conds.append(_tags_match_any(conn, tags))
    if query.get("meta_key"):
        value = T.c.metadata[query["meta_key"]].as_string()
        conds.append(value == query["meta_value"] if query.get("meta_value") else value.is_not(None))
    if query.get("q"):
        needle = f"%{query['q'][:200].replace('%', '').replace('_', '')}%"
        conds.append(or_(T.c.public_id == query["q"], cast(T.c.params, String).ilike(needle), cast(T.c.metadata, String).ilike(needle)))
    if query.get("flagged") == "true":
        conds.append(T.c.content_warning.is_not(None))
    return conds


def browse(conn: Connection, principal: Principal, query) -> dict[str, Any]:
    """One page of the browser: rows, a total (exact, or capped at COUNT_CAP), the next page."""
    conds, countable = conditions(conn, principal, query)
    sort = query.get("sort") or "newest"
    if sort not in SORTS:
        raise field_error("sort", f"must be one of {', '.join(SORTS)}")
    page = parse_int(query.get("page"), "page", default=1, lo=1, hi=10_000)
    limit = parse_int(query.get("limit"), "limit", default=PAGE, lo=1, hi=200)
    if countable is not None:
        total, capped = counts.total(conn, principal.org_id, principal.is_test, countable["project_id"], countable["batch_id"],
                                     countable["statuses"]), False
    else:
        total = conn.scalar(select(func.count()).select_from(select(T.c.id).where(and_(*conds)).limit(COUNT_CAP + 1).subquery()))
        capped = total > COUNT_CAP
        total = min(total, COUNT_CAP)
    P, B = Project.__table__, Batch.__table__
    stmt = (select(T.c.id, T.c.public_id, T.c.status, T.c.review_state, T.c.quality, T.c.tags, T.c.priority, T.c.created_at, T.c.updated_at,
                   T.c.content_warning, T.c.required_skill, T.c.required_level, T.c.reserved_for, T.c.metadata, T.c.required_labels,
                   P.c.name.label("project"), P.c.public_id.label("project_id"), B.c.name.label("batch"))
            .select_from(T.join(P, P.c.id == T.c.project_id).outerjoin(B, B.c.id == T.c.batch_id))
            .where(and_(*conds)).order_by(*SORTS[sort]).offset((page - 1) * limit).limit(limit + 1))
    rows = conn.execute(stmt).mappings().all()
    more = len(rows) > limit
    return {"tasks": [_row(r) for r in rows[:limit]], "total": total, "total_capped": capped, "page": page, "limit": limit,
            "next_page": page + 1 if more else None, "sort": sort}


def _row(r) -> dict[str, Any]:
    quality = r["quality"] or {}
    return {"task_id": r["public_id"], "project": r["project"], "project_id": r["project_id"], "batch": r["batch"], "status": r["status"],
            "review_state": r["review_state"], "confidence": quality.get("confidence"), "labels": quality.get("labels"),
            "required_labels": r["required_labels"], "tags": r["tags"] or [], "priority": r["priority"], "metadata": r["metadata"] or {},
            "content_warning": r["content_warning"], "required_skill": r["required_skill"], "required_level": r["required_level"],
            "reserved_for": r["reserved_for"], "created_at": iso(r["created_at"]), "updated_at": iso(r["updated_at"])}


# ----------------------------------------------------------------------------- bulk actions

BULK_ACTIONS = ("send_back", "cancel", "priority", "assign", "tag")
BULK_LIMIT = 1000


def bulk_action(session: Session, principal: Principal, task_ids: list[str], action: str, value: Any, comment: str | None) -> dict[str, Any]:
    """Apply one action to each task; a task it does not apply to is listed with the reason
    (the others still change)."""
    if action == "assign" and value is not None:
        if session.scalar(select(User.id).where(User.id == value, User.org_id == principal.org_id, User.active.is_(True))) is None:
            raise field_error("value", "must be the id of an active person of this organization (or null to release)")
    if action == "tag":
        value = check_tags(value, "value")
    if action == "priority" and (not isinstance(value, int) or isinstance(value, bool) or not -PRIORITY_LIMIT <= value <= PRIORITY_LIMIT):
        raise field_error("value", f"must be an integer from {-PRIORITY_LIMIT} to {PRIORITY_LIMIT}")
    tasks = session.scalars(select(Task).where(Task.org_id == principal.org_id, Task.is_test == principal.is_test,
                                               Task.public_id.in_(task_ids)).with_for_update()).all()
    found = {t.public_id for t in tasks}
    skipped = [{"task_id": t, "reason": "not found"} for t in task_ids if t not in found]
    changed = []
    for task in sorted(tasks, key=lambda t: t.id):
        try:
            _apply(session, task, action, value, comment)
            changed.append(task.public_id)
        except InvalidRequest as exc:
            skipped.append({"task_id": task.public_id, "reason": exc.message})
    session.flush()
    return {"action": action, "changed": changed, "skipped": skipped}


def _apply(session: Session, task: Task, action: str, value: Any, comment: str | None) -> None:
    if action == "send_back":
        lifecycle.send_back(session, task, comment)
    elif action == "cancel":
        lifecycle.cancel_task(session, task, clear_unique_id=False)
    elif action == "priority":
        lifecycle.set_priority(session, task, value)
    elif action == "assign":
        if task.status != "pending":
            raise InvalidRequest(f"Task {task.public_id} is {task.status}; only pending tasks can be reserved for a person.")
        task.reserved_for = value
    elif action == "tag":
        task.tags = list(dict.fromkeys([*(task.tags or []), *value]))

"""Reading tasks: one by id (for an update, or as Scale JSON on a Core connection) and the
cursor-paged listing of GET /v1/tasks with its filters."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, select, text
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.orm import Session

from assay.auth.principals import Principal
from assay.batches.models import Batch
from assay.errors import NotFound, field_error
from assay.files.references import signed_url_for_scaledata
from assay.projects.models import Project
from assay.tasks import counts, queries
from assay.tasks.models import REVIEW_STATUSES, TASK_STATUSES, Task, TaskKind
from assay.tasks.serialize import limited_task_json, task_json
from assay.timeutil import parse_filter_time
from assay.web import decode_cursor, encode_cursor, parse_bool, parse_int


def get_task(session: Session, principal: Principal, public_id: str, *, for_update: bool = False) -> Task:
    stmt = select(Task).where(Task.public_id == public_id, Task.org_id == principal.org_id, Task.is_test == principal.is_test)
    if for_update:
        stmt = stmt.with_for_update()
    task = session.scalar(stmt)
    if task is None:
        raise NotFound("Task with that ID not found.", task_id=public_id)
    return task


def render(session: Session, task: Task) -> dict[str, Any]:
    """Scale JSON of a task just changed in this session (flushed), read back in one query."""
    known = getattr(task, "row", None)
    if known is not None:
        return task_json(known)
    session.flush()
    return task_json(queries.task_row(session, task.id))


def get_task_json(conn, principal: Principal, public_id: str) -> dict[str, Any]:
    """GET /v1/task/{id} on a Core connection."""
    row = conn.execute(queries.TASK_BY_PUBLIC_ID, {"public_id": public_id, "org_id": principal.org_id, "is_test": principal.is_test}).mappings().first()
    if row is None:
        raise NotFound("Task with that ID not found.", task_id=public_id)
    return task_json(row)


def attachment_url_for(params: dict, org_public_id: str) -> str | None:
    """The link `include_attachment_url` adds: a signed one for an uploaded file of the
    task's own organization, the URL itself for http(s)."""
    attachment = params.get("attachment")
    if not isinstance(attachment, str):
        return None
    if attachment.startswith("scaledata://"):
        return signed_url_for_scaledata(attachment, org_public_id)
    if attachment.startswith(("http://", "https://")):
        return attachment
    return None


def list_tasks(conn, principal: Principal, query) -> dict[str, Any]:
    """GET /v1/tasks on a Core connection. `query` is a Starlette QueryParams (repeated
    keys as lists)."""
    conds = [Task.org_id == principal.org_id, Task.is_test == principal.is_test, Task.kind == TaskKind.TASK]
    # `total` comes from task_counts when only project/batch/status filter the list
    project_id = batch_id = status = None
    countable = True
    if query.get("project"):
        project_id = conn.scalar(select(Project.id).where(Project.org_id == principal.org_id, Project.name == query["project"]))
        if project_id is None:
            raise NotFound(f"Project with name {query['project']!r} not found.", field="project")
        conds.append(Task.project_id == project_id)
    if query.get("batch"):
        batch_id = conn.scalar(select(Batch.id).where(Batch.org_id == principal.org_id, Batch.name == query["batch"]))
        if batch_id is None:
            raise NotFound(f"Batch with name {query['batch']!r} not found.", field="batch")
        conds.append(Task.batch_id == batch_id)
    if query.get("type"):
        countable = False
        conds.append(Task.type == query["type"])
    if query.get("status"):
        status = query["status"]
        if status not in TASK_STATUSES:
            raise field_error("status", f"must be one of {', '.join(TASK_STATUSES)}")
        conds.append(Task.status == status)
    review = [v for raw in query.getlist("customer_review_status") for v in raw.split(",") if v]
    if review:
        countable = False
        bad = [v for v in review if v not in REVIEW_STATUSES]
        if bad:
            raise field_error("customer_review_status", f"{bad[0]!r} is not one of {', '.join(REVIEW_STATUSES)}")
        conds.append(Task.customer_review_status.in_(review))
    unique_ids = query.getlist("unique_id")
    if unique_ids:
        countable = False
        conds.append(Task.unique_id.in_(unique_ids))
    tags = query.getlist("tags")
    if tags:
        countable = False
        conds.append(_tags_match_any(conn, tags))
    for param, column, op in (
        ("start_time", Task.created_at, "ge"), ("end_time", Task.created_at, "lt"),
        ("completed_after", Task.completed_at, "ge"), ("completed_before", Task.completed_at, "lt"),
        ("updated_after", Task.updated_at, "ge"), ("updated_before", Task.updated_at, "lt"),
    ):
        if query.get(param):
            countable = False
            moment = parse_filter_time(query[param], param)
            conds.append(column >= moment if op == "ge" else column < moment)
    limit = parse_int(query.get("limit"), "limit", default=100, lo=1, hi=100)
    include_url = parse_bool(query.get("include_attachment_url"), "include_attachment_url")
    limited = parse_bool(query.get("limited_response"), "limited_response")
    token = query.get("next_token")
    if token:
        after_id, offset, total = decode_cursor(token, 3)
        page_conds = [*conds, Task.id < after_id]
    else:
        offset = 0
        if countable:
            total = counts.total(conn, principal.org_id, principal.is_test, project_id, batch_id, [status] if status else None)
        else:
            total = conn.scalar(select(func.count()).select_from(Task).where(and_(*conds)))
        page_conds = conds
    rows = conn.execute(
        queries.task_select().where(and_(*page_conds)).order_by(queries.T.c.id.desc()).limit(limit + 1)
    ).mappings().all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    if limited:
        docs = [limited_task_json(r) for r in rows]
    else:
        docs = [task_json(r, attachment_url_for(r["params"], principal.org_public_id) if include_url else None) for r in rows]
    page: dict[str, Any] = {"docs": docs, "total": total, "limit": limit, "offset": offset, "has_more": has_more}
    if has_more:
        page["next_token"] = encode_cursor(rows[-1]["id"], offset + len(rows), total)
    else:
        page["next_token"] = None
    return page


def _tags_match_any(conn, tags: list[str]):
    if conn.dialect.name == "postgresql":
        return Task.tags.op("?|")(array(tags))
    placeholders = ", ".join(f":tag{i}" for i in range(len(tags)))
    # exists(text(...)) renders "EXISTS (SELECT SELECT 1 ...)": write the EXISTS in the text
    return text(f"EXISTS (SELECT 1 FROM json_each(tasks.tags) WHERE json_each.value IN ({placeholders}))").bindparams(
        **{f"tag{i}": t for i, t in enumerate(tags)}
    )

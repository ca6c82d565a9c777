"""Tasks: create (single and bulk), read, list with cursor pagination, and the small
mutations of Scale's v1 API. State transitions live in lifecycle.py."""

from __future__ import annotations

import base64
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

from sqlalchemy import and_, func, insert, select, text
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assay.batches.models import Batch
from assay.callbacks.service import enqueue_attachment_check
from assay.config import get_settings
from assay.db import new_public_id, utcnow
from assay.errors import Conflict, InvalidRequest, NotFound, field_error
from assay.files.service import check_scaledata_refs, scaledata_refs, signed_url_for_scaledata
from assay.projects.models import Project
from assay.projects.service import check_task_type
from assay.security import Principal
from assay.tasks import counts, lifecycle, queries
from assay.tasks.models import PRIORITY_LIMIT, REVIEW_STATUSES, TASK_STATUSES, Task, queue_rank
from assay.tasks.serialize import limited_task_json, task_json
from assay.tasktypes import get_plugin
from assay.timeutil import iso, parse_filter_time
from assay.urls import check_callback_url

# Request keys that are task settings; every other key is a type parameter.
TASK_SETTINGS = {
    "project", "batch", "instruction", "callback_url", "metadata", "unique_id",
    "clear_unique_id_on_error", "tags", "priority", "urgency",
}
# Project params that configure the project itself rather than its tasks' params.
PROJECT_ONLY_PARAMS = {"instruction", "labels_per_task", "max_labels", "target_confidence", "review_fraction", "review_below", "aggregation",
                       "gold_rate", "qualification_size", "pause_below", "pipeline", "consensus_attempts"}
MAX_TAGS = 5


# ----------------------------------------------------------------------------- parsing

def parse_bool(value: str | None, field: str, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    lowered = value.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise field_error(field, f"{value!r} is not a boolean (true/false)")


def parse_int(value: str | None, field: str, *, default: int, lo: int, hi: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise field_error(field, f"{value!r} is not an integer") from None
    if not lo <= number <= hi:
        raise field_error(field, f"must be between {lo} and {hi}")
    return number


def check_tags(value: Any, field: str = "tags") -> list[str]:
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise field_error(field, "must be a list of strings")
    tags: list[str] = []
    for tag in value:
        tag = tag.strip()
        if not tag:
            raise field_error(field, "tags must be non-empty strings")
        if len(tag) > 200:
            raise field_error(field, "a tag is at most 200 characters")
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise field_error(field, f"a task has at most {MAX_TAGS} tags ({len(tags)} given)")
    return tags


def check_unique_id(value: Any, field: str = "unique_id") -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise field_error(field, "must be a non-empty string")
    if len(value) > 500:
        raise field_error(field, "must be at most 500 characters")
    return value


# ----------------------------------------------------------------------------- create

class _Context:
    """Project/batch resolution shared by single and bulk creation."""

    def __init__(self, session: Session, principal: Principal, type_name: str, project_name: Any, batch_name: Any):
        self.plugin = get_plugin(check_task_type(type_name, "type"))
        self.type_name = type_name
        self.batch: Batch | None = None
        if batch_name not in (None, ""):
            if not isinstance(batch_name, str):
                raise field_error("batch", "must be a batch name")
            self.batch = _first(session, select(Batch.__table__).where(Batch.org_id == principal.org_id, Batch.name == batch_name))
            if self.batch is None:
                raise field_error("batch", f"no batch named {batch_name!r}")
            if self.batch.status == "completed":
                raise field_error("batch", f"batch {batch_name!r} is completed; create a new batch")
        if project_name in (None, ""):
            if self.batch is None:
                raise field_error("project", "required: the name of the project (or a batch) this task belongs to")
            self.project = _first(session, select(Project.__table__).where(Project.id == self.batch.project_id))
        else:
            if not isinstance(project_name, str):
                raise field_error("project", "must be a project name")
            self.project = _first(session, select(Project.__table__).where(Project.org_id == principal.org_id, Project.name == project_name))
            if self.project is None:
                raise field_error("project", f"no project named {project_name!r}")
            if self.batch is not None and self.batch.project_id != self.project.id:
                raise field_error("batch", f"batch {self.batch.name!r} belongs to another project")
        if self.project.type != type_name:
            raise field_error("project", f"project {self.project.name!r} has task type {self.project.type!r}, not {type_name!r}")
        defaults = Project.current_params.fget(self.project)
        self.project_instruction = defaults.get("instruction") if isinstance(defaults.get("instruction"), str) else ""
        self.default_params = {k: v for k, v in defaults.items() if k not in PROJECT_ONLY_PARAMS}
        self.principal = principal

    def build_row(self, body: Any, prefix: str = "") -> dict[str, Any]:
        """Validate one task request and return the column values (without ids)."""
        def fe(field: str, reason: str) -> InvalidRequest:
            return field_error(prefix + field, reason)

        if not isinstance(body, dict):
            raise field_error(prefix.rstrip(".") or "body", "must be a JSON object")
        instruction = body.get("instruction", "")
        if instruction is None:
            instruction = ""
        if not isinstance(instruction, str):
            raise fe("instruction", "must be a string")
        if self.project_instruction:
            instruction = f"{instruction}\n\n{self.project_instruction}" if instruction else self.project_instruction
        if self.plugin.requires_instruction and not instruction.strip():
            raise fe("instruction", "required for this task type")
        metadata = body.get("metadata")
        if metadata is None:
            metadata = {}
        if not isinstance(metadata, dict):
            raise fe("metadata", "must be a JSON object")
        callback_url = check_callback_url(body.get("callback_url"), prefix + "callback_url")
        unique_id = check_unique_id(body.get("unique_id"), prefix + "unique_id")
        tags = check_tags(body["tags"], prefix + "tags") if body.get("tags") is not None else None
        priority = body.get("priority")
        if priority is not None and (not isinstance(priority, int) or isinstance(priority, bool)):
            raise fe("priority", "must be an integer")
        if priority is not None and not -PRIORITY_LIMIT <= priority <= PRIORITY_LIMIT:
            raise fe("priority", f"must be between {-PRIORITY_LIMIT} and {PRIORITY_LIMIT}")
        clear_on_error = body.get("clear_unique_id_on_error", False)
        if not isinstance(clear_on_error, bool):
            raise fe("clear_unique_id_on_error", "must be true or false")
        raw_params = {**self.default_params, **{k: v for k, v in body.items() if k not in TASK_SETTINGS}}
        try:
            params = self.plugin.validate_params(raw_params)
        except InvalidRequest as exc:
            if prefix:
                raise InvalidRequest(prefix + exc.message, field=prefix + (exc.field or "")) from None
            raise
        return {
            "type": self.type_name,
            "instruction": instruction,
            "params": params,
            "callback_url": callback_url,
            "metadata_": metadata,
            "tags": tags,
            "unique_id": unique_id,
            "clear_unique_id_on_error": clear_on_error,
            "priority": priority,
        }


def _check_scaledata(session: Session, principal: Principal, row: dict[str, Any], prefix: str = "") -> None:
    """Every scaledata:// string anywhere in a task's params names a file of the caller's
    organization (the server signs links to them later; never to another's)."""
    check_scaledata_refs(session, principal, scaledata_refs(row["params"], prefix.rstrip(".")))


def _existing_unique(session: Session, principal: Principal, unique_ids: list[str]) -> dict[str, str]:
    if not unique_ids:
        return {}
    rows = session.execute(
        select(Task.unique_id, Task.public_id).where(
            Task.org_id == principal.org_id, Task.is_test == principal.is_test, Task.unique_id.in_(unique_ids)
        )
    ).all()
    return dict(rows)


@contextmanager
def _unique_ids_guard(session: Session, principal: Principal, unique_ids: list[str], prefix_of: dict[str, int] | None = None):
    """Writes that claim unique_ids checked just before. Two concurrent requests can both
    pass that check on PostgreSQL; the loser's INSERT then fails on the unique constraint.
    Inside a savepoint that failure is answered like the check's: 409 naming the task that
    won. (SQLite serialises writers, so the check alone is enough there.)"""
    if not unique_ids or session.get_bind().dialect.name != "postgresql":
        yield
        return
    try:
        with session.begin_nested():
            yield
    except IntegrityError as exc:
        if "uq_tasks_unique_id" not in str(exc.orig):
            raise
        taken: dict[str, str] = {}
        for chunk in _chunks(unique_ids, 500):
            taken.update(_existing_unique(session, principal, chunk))
        if not taken:
            raise
        uid, task_id = next(iter(taken.items()))
        if prefix_of:
            field = f"tasks[{prefix_of[uid]}].unique_id"
            raise Conflict(f"{field}: {uid!r} is already used by task_id {task_id}", field=field, task_id=task_id) from None
        raise Conflict(f"A task with unique_id {uid!r} already exists: task_id {task_id}.", field="unique_id", task_id=task_id) from None


def _first(session: Session, stmt) -> SimpleNamespace | None:
    """One row as an attribute namespace, through the session's connection (no ORM)."""
    row = session.connection().execute(stmt).mappings().first()
    return SimpleNamespace(**row) if row is not None else None


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _http_attachments(urls: list[str]) -> list[str]:
    return [u for u in urls if u.startswith(("http://", "https://"))]


def create_task(session: Session, principal: Principal, type_name: str, body: Any) -> Task:
    if not isinstance(body, dict):
        raise field_error("body", "must be a JSON object of task parameters")
    ctx = _Context(session, principal, type_name, body.get("project"), body.get("batch"))
    row = ctx.build_row(body)
    urls = ctx.plugin.attachment_urls(row["params"])
    _check_scaledata(session, principal, row)
    if row["unique_id"] is not None:
        existing = _existing_unique(session, principal, [row["unique_id"]])
        if existing:
            task_id = existing[row["unique_id"]]
            raise Conflict(
                f"A task with unique_id {row['unique_id']!r} already exists: task_id {task_id}.", field="unique_id", task_id=task_id
            )
    now = utcnow()
    values = dict(row)
    values["metadata"] = values.pop("metadata_")
    values.update(
        public_id=new_public_id(), org_id=principal.org_id, project_id=ctx.project.id, batch_id=ctx.batch.id if ctx.batch else None,
        is_test=principal.is_test, status="pending", required_labels=ctx.project.labels_per_task, created_at=now, updated_at=now, audits=[],
        open_slots=0 if principal.is_test else ctx.project.labels_per_task, queue_rank=queue_rank(row["priority"]),
    )
    # Core INSERT: the ORM unit of work costs several times more CPU for one row
    with _unique_ids_guard(session, principal, [row["unique_id"]] if row["unique_id"] is not None else []):
        task_id = session.connection().execute(insert(Task.__table__).values(**values).returning(Task.__table__.c.id)).scalar_one()
    counts.bump(session, principal.org_id, principal.is_test, ctx.project.id, values["batch_id"], "pending", 1)
    if principal.is_test:
        task = session.get(Task, task_id)
        lifecycle.auto_complete_test_task(session, task)
        return task
    if get_settings().check_attachments:
        for url in _http_attachments(urls):
            enqueue_attachment_check(session, principal.org_id, task_id, url)
    # everything the response needs is known: no read-back query
    row = {**values, "id": task_id, "project_name": ctx.project.name, "batch_name": ctx.batch.name if ctx.batch else None,
           "completed_at": None, "response": None, "callback_succeeded": None, "customer_review_status": None, "quality": None}
    return SimpleNamespace(id=task_id, public_id=values["public_id"], row=row)


GOLD_KINDS = {"evaluation_tasks": "evaluation", "training_tasks": "training"}


def create_gold_task(session: Session, principal: Principal, type_name: str, body: Any, kind: str) -> dict[str, Any]:
    """Scale's evaluation (hidden gold) and training (practice) tasks: the same params as a
    task plus `expected_response`, validated like an answer. They are served to labelers
    by the queue (queue/service.py), never complete, never call back, and are not listed
    or counted with the project's tasks."""
    if not isinstance(body, dict):
        raise field_error("body", "must be a JSON object of task parameters plus expected_response")
    if "expected_response" not in body:
        raise field_error("expected_response", "required: the correct answer, in the task type's response format")
    ctx = _Context(session, principal, type_name, body.get("project"), body.get("batch"))
    task_body = {k: v for k, v in body.items() if k not in ("expected_response", "initial_response")}
    row = ctx.build_row(task_body)
    expected = ctx.plugin.validate_response(body["expected_response"], row["params"], field="expected_response")
    _check_scaledata(session, principal, row)
    now = utcnow()
    values = dict(row)
    values["metadata"] = values.pop("metadata_")
    values.update(
        public_id=new_public_id(), org_id=principal.org_id, project_id=ctx.project.id, batch_id=ctx.batch.id if ctx.batch else None,
        is_test=principal.is_test, status="pending", required_labels=0, open_slots=0, queue_rank=queue_rank(row["priority"]),
        created_at=now, updated_at=now, audits=[], kind=kind, expected_response=expected,
    )
    session.connection().execute(insert(Task.__table__).values(**values))
    return {"id": values["public_id"], "task_id": values["public_id"], "type": type_name, "kind": kind, "project": ctx.project.name,
            "params": values["params"], "instruction": values["instruction"], "expected_response": expected,
            "metadata": values["metadata"], "created_at": iso(now)}


def create_tasks_bulk(session: Session, principal: Principal, body: Any) -> list[str]:
    """Validate every task first; store all or nothing. Core executemany for speed."""
    if not isinstance(body, dict):
        raise field_error("body", "must be a JSON object {type, project, batch?, tasks: [...]}")
    tasks = body.get("tasks")
    if not isinstance(tasks, list) or not tasks:
        raise field_error("tasks", "must be a non-empty list of task objects")
    if len(tasks) > 100_000:
        raise field_error("tasks", "at most 100000 tasks per request")
    ctx = _Context(session, principal, body.get("type"), body.get("project"), body.get("batch"))
    rows = [ctx.build_row(t, f"tasks[{i}].") for i, t in enumerate(tasks)]
    seen: dict[str, int] = {}
    all_urls: list[tuple[int, list[str]]] = []
    for i, row in enumerate(rows):
        uid = row["unique_id"]
        if uid is not None:
            if uid in seen:
                raise Conflict(f"tasks[{i}].unique_id: {uid!r} repeats tasks[{seen[uid]}].unique_id", field=f"tasks[{i}].unique_id")
            seen[uid] = i
        urls = ctx.plugin.attachment_urls(row["params"])
        if urls:
            all_urls.append((i, urls))
    check_scaledata_refs(session, principal, [ref for i, row in enumerate(rows) for ref in scaledata_refs(row["params"], f"tasks[{i}]")])
    taken: dict[str, str] = {}
    for chunk in _chunks(list(seen), 500):
        taken.update(_existing_unique(session, principal, chunk))
    if taken:
        uid, task_id = next(iter(taken.items()))
        i = seen[uid]
        raise Conflict(f"tasks[{i}].unique_id: {uid!r} is already used by task_id {task_id}", field=f"tasks[{i}].unique_id", task_id=task_id)
    now = utcnow()
    public_ids = [new_public_id() for _ in rows]
    common = {
        "org_id": principal.org_id, "project_id": ctx.project.id, "batch_id": ctx.batch.id if ctx.batch else None,
        "is_test": principal.is_test, "status": "pending", "required_labels": ctx.project.labels_per_task,
        "created_at": now, "updated_at": now, "audits": [], "open_slots": 0 if principal.is_test else ctx.project.labels_per_task,
    }
    values = []
    for pid, row in zip(public_ids, rows):
        row = dict(row)
        row["metadata"] = row.pop("metadata_")
        values.append({**common, **row, "public_id": pid, "queue_rank": queue_rank(row["priority"])})
    with _unique_ids_guard(session, principal, list(seen), prefix_of=seen):
        session.execute(insert(Task.__table__), values)
    counts.bump(session, principal.org_id, principal.is_test, ctx.project.id, common["batch_id"], "pending", len(values))
    if len(values) >= 5000 and session.get_bind().dialect.name == "postgresql":
        # fresh statistics, or the planner takes a 100k-row project for one row until
        # autovacuum gets to it, and chooses a sort over the (project, id) index
        session.execute(text("ANALYZE tasks"))
    if principal.is_test:
        for chunk in _chunks(public_ids, 1000):
            for task in session.scalars(select(Task).where(Task.org_id == principal.org_id, Task.public_id.in_(chunk))):
                lifecycle.auto_complete_test_task(session, task)
    elif all_urls and get_settings().check_attachments:
        by_public: dict[str, int] = {}
        for chunk in _chunks([public_ids[i] for i, _ in all_urls], 1000):
            by_public.update(session.execute(select(Task.public_id, Task.id).where(Task.public_id.in_(chunk))).all())
        for i, urls in all_urls:
            for url in _http_attachments(urls):
                enqueue_attachment_check(session, principal.org_id, by_public[public_ids[i]], url)
    return public_ids


# ----------------------------------------------------------------------------- read

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
    row = conn.execute(
        queries.task_select().where(
            queries.T.c.public_id == public_id, queries.T.c.org_id == principal.org_id, queries.T.c.is_test == principal.is_test
        )
    ).mappings().first()
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


def _encode_token(last_id: int, offset: int, total: int) -> str:
    return base64.urlsafe_b64encode(f"{last_id}:{offset}:{total}".encode()).decode().rstrip("=")


def _decode_token(token: str) -> tuple[int, int, int]:
    try:
        padded = token + "=" * (-len(token) % 4)
        last_id, offset, total = (int(x) for x in base64.urlsafe_b64decode(padded.encode()).decode().split(":"))
        return last_id, offset, total
    except (ValueError, UnicodeDecodeError):
        raise field_error("next_token", "is not a token returned by this server") from None


def list_tasks(conn, principal: Principal, query) -> dict[str, Any]:
    """GET /v1/tasks on a Core connection. `query` is a Starlette QueryParams (repeated
    keys as lists)."""
    conds = [Task.org_id == principal.org_id, Task.is_test == principal.is_test, Task.kind == "task"]
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
        after_id, offset, total = _decode_token(token)
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
        page["next_token"] = _encode_token(rows[-1]["id"], offset + len(rows), total)
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


# ----------------------------------------------------------------------------- mutations

def set_metadata(session: Session, principal: Principal, public_id: str, body: Any) -> Task:
    if body is None:
        # the official client sends no body for set_task_metadata(id, {}) (`body or None`)
        body = {}
    if not isinstance(body, dict):
        raise field_error("metadata", "must be a JSON object")
    task = get_task(session, principal, public_id, for_update=True)
    task.metadata_ = body
    task.updated_at = utcnow()
    return task


def set_unique_id(session: Session, principal: Principal, public_id: str, body: Any) -> Task:
    if not isinstance(body, dict):
        raise field_error("body", "must be a JSON object {\"unique_id\": ...}")
    uid = check_unique_id(body.get("unique_id"))
    if uid is None:
        raise field_error("unique_id", "required")
    task = get_task(session, principal, public_id, for_update=True)
    if task.unique_id == uid:
        return task
    existing = _existing_unique(session, principal, [uid])
    if existing:
        raise Conflict(f"unique_id {uid!r} is already used by task_id {existing[uid]}.", field="unique_id", task_id=existing[uid])
    with _unique_ids_guard(session, principal, [uid]):
        task.unique_id = uid
        session.flush()
    task.updated_at = utcnow()
    return task


def clear_unique_id(session: Session, principal: Principal, public_id: str) -> Task:
    task = get_task(session, principal, public_id, for_update=True)
    task.unique_id = None
    task.updated_at = utcnow()
    return task


def change_tags(session: Session, principal: Principal, public_id: str, body: Any, mode: str) -> Task:
    if body is None:
        body = []
    new = check_tags(body, "tags") if mode == "set" else _tag_list(body)
    task = get_task(session, principal, public_id, for_update=True)
    current = list(task.tags or [])
    if mode == "set":
        result = new
    elif mode == "add":
        result = current + [t for t in new if t not in current]
        check_tags(result, "tags")
    else:
        result = [t for t in current if t not in new]
    task.tags = result
    task.updated_at = utcnow()
    return task


def _tag_list(body: Any) -> list[str]:
    if not isinstance(body, list) or not all(isinstance(t, str) for t in body):
        raise field_error("tags", "must be a JSON array of strings")
    return [t.strip() for t in body if t.strip()]


def cancel(session: Session, principal: Principal, public_id: str, clear_uid: bool) -> Task:
    task = get_task(session, principal, public_id, for_update=True)
    lifecycle.cancel_task(session, task, clear_uid)
    return task


def audit(session: Session, principal: Principal, public_id: str, body: Any) -> Task:
    if not isinstance(body, dict):
        raise field_error("body", "must be a JSON object {\"accepted\": bool, \"comments\": str}")
    task = get_task(session, principal, public_id, for_update=True)
    lifecycle.audit_task(session, task, principal.email, body.get("accepted"), body.get("comments"))
    return task


def submit_answer(session: Session, principal: Principal, public_id: str, body: Any) -> Task:
    """Native completion path: one human answer for a task of the caller's org."""
    if not isinstance(body, dict):
        raise field_error("body", "must be a JSON object {\"response\": {...}}")
    if "response" not in body:
        raise field_error("response", "required")
    task = get_task(session, principal, public_id, for_update=True)
    from assay.queue.service import answer_directly

    answer_directly(session, principal, task, body)
    return task


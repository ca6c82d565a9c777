"""Creating tasks: one, in bulk (validated first, stored all or nothing), and Scale's
evaluation/training (gold) items. Params are validated by the task type's plug-in; the
project's default params fill what a request omits."""

from __future__ import annotations

import re
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any, Callable

import orjson
from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assay.auth.principals import Principal
from assay.batches.models import Batch, BatchStatus
from assay.callbacks.outbox import enqueue_attachment_check
from assay.config import get_settings
from assay.db import fast_insert, insert_unless_taken, new_public_id, utcnow
from assay.errors import Conflict, InvalidRequest, field_error
from assay.files.references import check_scaledata_refs, scaledata_refs
from assay.projects.models import PROJECT_ONLY_PARAMS, Project
from assay.tasks import counts, lifecycle, rollups
from assay.tasks.models import PRIORITY_LIMIT, Task, TaskStatus, queue_rank
from assay.tasks.service import answered
from assay.tasks.service.fields import check_tags, check_unique_id
from assay.tasktypes import check_task_type, get_plugin
from assay.tasktypes.base import ShapeValidator
from assay.timeutil import iso
from assay.urls import check_callback_url

RED_TEAM_WARNING = "Red-team task: provoking and reading harmful model output"
_SCALEDATA = re.compile(rb"scaledata://", re.IGNORECASE)
ROUTING_KEYS = ("content_warning", "required_skill", "required_skill_level")
# Request keys that are task settings; every other key is a type parameter.
TASK_SETTINGS = {
    "project", "batch", "instruction", "callback_url", "metadata", "unique_id",
    "clear_unique_id_on_error", "tags", "priority", "urgency", "content_warning", "required_skill", "required_skill_level",
}


# The statements of a single create, built once: building a SELECT or an INSERT's values clause
# costs more CPU than running it (SQLAlchemy coerces every column on each build).
_TASKS = Task.__table__
_BATCH_BY_NAME = select(Batch.__table__).where(Batch.org_id == bindparam("org_id"), Batch.name == bindparam("name"))
_PROJECT_BY_ID = select(Project.__table__).where(Project.id == bindparam("project_id"))
_PROJECT_BY_NAME = select(Project.__table__).where(Project.org_id == bindparam("org_id"), Project.name == bindparam("name"))
_UNIQUE_IDS = select(_TASKS.c.unique_id, _TASKS.c.public_id).where(
    _TASKS.c.org_id == bindparam("org_id"), _TASKS.c.is_test == bindparam("is_test"),
    _TASKS.c.unique_id.in_(bindparam("unique_ids", expanding=True)))
_INSERT_TASK = insert(_TASKS).returning(_TASKS.c.id)  # columns: the keys of the parameters given


class TaskContext:
    """Project/batch resolution shared by single and bulk creation."""

    def __init__(self, session: Session, principal: Principal, type_name: str, project_name: Any, batch_name: Any):
        self.plugin = get_plugin(check_task_type(type_name, "type"))
        self.type_name = type_name
        self.batch: Batch | None = None
        if batch_name not in (None, ""):
            if not isinstance(batch_name, str):
                raise field_error("batch", "must be a batch name")
            self.batch = _first(session, _BATCH_BY_NAME, org_id=principal.org_id, name=batch_name)
            if self.batch is None:
                raise field_error("batch", f"no batch named {batch_name!r}")
            if self.batch.status == BatchStatus.COMPLETED:
                raise field_error("batch", f"batch {batch_name!r} is completed; create a new batch")
        if project_name in (None, ""):
            if self.batch is None:
                raise field_error("project", "required: the name of the project (or a batch) this task belongs to")
            self.project = _first(session, _PROJECT_BY_ID, project_id=self.batch.project_id)
        else:
            if not isinstance(project_name, str):
                raise field_error("project", "must be a project name")
            self.project = _first(session, _PROJECT_BY_NAME, org_id=principal.org_id, name=project_name)
            if self.project is None:
                raise field_error("project", f"no project named {project_name!r}")
            if self.batch is not None and self.batch.project_id != self.project.id:
                raise field_error("batch", f"batch {self.batch.name!r} belongs to another project")
        if self.project.type != type_name:
            raise field_error("project", f"project {self.project.name!r} has task type {self.project.type!r}, not {type_name!r}")
        defaults = Project.current_params.fget(self.project)
        self.project_instruction = defaults.get("instruction") if isinstance(defaults.get("instruction"), str) else ""
        self.default_params = {k: v for k, v in defaults.items() if k not in PROJECT_ONLY_PARAMS}
        self.project_routing = {k: defaults[k] for k in ROUTING_KEYS if defaults.get(k) is not None}
        self.principal = principal

    def build_row(self, body: Any, prefix: str = "", validate: Callable[[dict], dict] | None = None) -> dict[str, Any]:
        """Validate one task request and return the column values (without ids); a bulk
        request passes its `tasktypes.ShapeValidator` as `validate`."""
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
            params = (validate or self.plugin.validate_params)(raw_params)
        except InvalidRequest as exc:
            if prefix:
                raise InvalidRequest(prefix + exc.message, field=prefix + (exc.field or "")) from None
            raise
        routing = self._routing(body, fe)
        if routing["content_warning"] is None and self.plugin.flags_content(params):
            # red-team tasks count against the exposure budget and open blurred like any flagged task
            routing["content_warning"] = RED_TEAM_WARNING
        return {
            **routing,
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

    def _routing(self, body: dict, fe) -> dict[str, Any]:
        """The task's routing columns: its own `content_warning` / `required_skill` (+ level)
        or the project's."""
        given = {**self.project_routing, **{k: body[k] for k in ROUTING_KEYS if body.get(k) is not None}}
        warning, skill, level = given.get("content_warning"), given.get("required_skill"), given.get("required_skill_level", 1)
        if warning is not None and (not isinstance(warning, str) or not 0 < len(warning) <= 200):
            raise fe("content_warning", "must be text of 1 to 200 characters (what the content shows)")
        if skill is not None and (not isinstance(skill, str) or not 0 < len(skill) <= 64):
            raise fe("required_skill", "must be a skill name of 1 to 64 characters")
        if not isinstance(level, int) or isinstance(level, bool) or not 1 <= level <= 10:
            raise fe("required_skill_level", "must be an integer from 1 to 10")
        return {"content_warning": warning, "required_skill": skill, "required_level": level}


def _check_scaledata(session: Session, principal: Principal, row: dict[str, Any], prefix: str = "") -> None:
    """Every scaledata:// string anywhere in a task's params names a file of the caller's
    organization (the server signs links to them later; never to another's)."""
    check_scaledata_refs(session, principal, scaledata_refs(row["params"], prefix.rstrip(".")))


def existing_unique_ids(session: Session, principal: Principal, unique_ids: list[str]) -> dict[str, str]:
    if not unique_ids:
        return {}
    rows = session.connection().execute(_UNIQUE_IDS, {"org_id": principal.org_id, "is_test": principal.is_test, "unique_ids": unique_ids})
    return dict(rows.all())


@contextmanager
def unique_ids_guard(session: Session, principal: Principal, unique_ids: list[str], prefix_of: dict[str, int] | None = None):
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
            taken.update(existing_unique_ids(session, principal, chunk))
        if not taken:
            raise
        uid, task_id = next(iter(taken.items()))
        if prefix_of:
            field = f"tasks[{prefix_of[uid]}].unique_id"
            raise Conflict(f"{field}: {uid!r} is already used by task_id {task_id}", field=field, task_id=task_id) from None
        raise unique_id_conflict(uid, task_id) from None


def _first(session: Session, stmt, **params) -> SimpleNamespace | None:
    """One row as an attribute namespace, through the session's connection (no ORM)."""
    row = session.connection().execute(stmt, params).mappings().first()
    return SimpleNamespace(**row) if row is not None else None


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def unique_id_conflict(unique_id: str, task_id: str | None) -> Conflict:
    """The 409 for a unique_id another task holds, naming that task when it is known."""
    return Conflict(f"A task with unique_id {unique_id!r} already exists" + (f": task_id {task_id}." if task_id else "."),
                    field="unique_id", **({"task_id": task_id} if task_id else {}))


def _http_attachments(urls: list[str]) -> list[str]:
    return [u for u in urls if u.startswith(("http://", "https://"))]


def create_task(session: Session, principal: Principal, type_name: str, body: Any) -> Task:
    if not isinstance(body, dict):
        raise field_error("body", "must be a JSON object of task parameters")
    ctx = TaskContext(session, principal, type_name, body.get("project"), body.get("batch"))
    row = ctx.build_row(body)
    urls = ctx.plugin.attachment_urls(row["params"])
    _check_scaledata(session, principal, row)
    now = utcnow()
    values = dict(row)
    values["metadata"] = values.pop("metadata_")
    values.update(
        public_id=new_public_id(), org_id=principal.org_id, project_id=ctx.project.id, batch_id=ctx.batch.id if ctx.batch else None,
        is_test=principal.is_test, status=TaskStatus.PENDING, required_labels=ctx.project.labels_per_task, created_at=now, updated_at=now, audits=[],
        open_slots=0 if principal.is_test else ctx.project.labels_per_task, queue_rank=queue_rank(row["priority"]),
    )
    # Core INSERT: the ORM unit of work costs several times more CPU for one row
    conn = session.connection()
    if row["unique_id"] is None:
        task_id = conn.execute(_INSERT_TASK, values).scalar_one()
    else:
        # The INSERT claims the unique_id itself (no row back: taken): one statement instead of a
        # SELECT before it, and on PostgreSQL a SAVEPOINT and RELEASE for the race it misses.
        task_id = conn.execute(insert_unless_taken(conn, _TASKS, ["org_id", "is_test", "unique_id"], _TASKS.c.id), values).scalar()
        if task_id is None:  # on PostgreSQL the INSERT waited for the holder's commit: its row is visible
            holder = existing_unique_ids(session, principal, [row["unique_id"]]).get(row["unique_id"])
            raise unique_id_conflict(row["unique_id"], holder)
    counts.bump(session, principal.org_id, principal.is_test, ctx.project.id, values["batch_id"], TaskStatus.PENDING, 1)
    if not principal.is_test:
        rollups.add_to(session, principal.org_id, ctx.project.id, rollups.PROJECT, created=1)
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


def create_gold_task(session: Session, principal: Principal, type_name: str, body: Any, kind: str) -> dict[str, Any]:
    """Scale's evaluation (hidden gold) and training (practice) tasks: the same params as a
    task plus `expected_response`, validated like an answer. They are served to labelers
    by the queue (queue/service.py), never complete, never call back, and are not listed
    or counted with the project's tasks."""
    if not isinstance(body, dict):
        raise field_error("body", "must be a JSON object of task parameters plus expected_response")
    if "expected_response" not in body:
        raise field_error("expected_response", "required: the correct answer, in the task type's response format")
    ctx = TaskContext(session, principal, type_name, body.get("project"), body.get("batch"))
    task_body = {k: v for k, v in body.items() if k not in ("expected_response", "initial_response")}
    row = ctx.build_row(task_body)
    expected = ctx.plugin.validate_response(body["expected_response"], row["params"], field="expected_response")
    _check_scaledata(session, principal, row)
    now = utcnow()
    values = dict(row)
    values["metadata"] = values.pop("metadata_")
    values.update(
        public_id=new_public_id(), org_id=principal.org_id, project_id=ctx.project.id, batch_id=ctx.batch.id if ctx.batch else None,
        is_test=principal.is_test, status=TaskStatus.PENDING, required_labels=0, open_slots=0, queue_rank=queue_rank(row["priority"]),
        created_at=now, updated_at=now, audits=[], kind=kind, expected_response=expected,
    )
    session.connection().execute(insert(Task.__table__).values(**values))
    return {"id": values["public_id"], "task_id": values["public_id"], "type": type_name, "kind": kind, "project": ctx.project.name,
            "params": values["params"], "instruction": values["instruction"], "expected_response": expected,
            "metadata": values["metadata"], "created_at": iso(now)}


def create_tasks_bulk(session: Session, principal: Principal, body: Any) -> list[str]:
    """Validate every task first; store all or nothing (COPY / one executemany). Tasks may
    carry their labelers' `answers` (tasks/service/answered.py): stored settled."""
    if not isinstance(body, dict):
        raise field_error("body", "must be a JSON object {type, project, batch?, tasks: [...]}")
    tasks = body.get("tasks")
    if not isinstance(tasks, list) or not tasks:
        raise field_error("tasks", "must be a non-empty list of task objects")
    if len(tasks) > 100_000:
        raise field_error("tasks", "at most 100000 tasks per request")
    ctx = TaskContext(session, principal, body.get("type"), body.get("project"), body.get("batch"))
    tasks, raw_answers = answered.split(principal, tasks)
    validate = ShapeValidator(ctx.plugin)
    rows = [ctx.build_row(t, f"tasks[{i}].", validate) for i, t in enumerate(tasks)]
    given, shapes = answered.check(session, principal, ctx.plugin, rows, raw_answers) if raw_answers else (None, None)
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
    # a walk of every task's params only where their JSON holds a scaledata:// string at all
    check_scaledata_refs(session, principal, [ref for i, row in enumerate(rows) if _SCALEDATA.search(orjson.dumps(row["params"]))
                                              for ref in scaledata_refs(row["params"], f"tasks[{i}]")])
    taken: dict[str, str] = {}
    for chunk in _chunks(list(seen), 500):
        taken.update(existing_unique_ids(session, principal, chunk))
    if taken:
        uid, task_id = next(iter(taken.items()))
        i = seen[uid]
        raise Conflict(f"tasks[{i}].unique_id: {uid!r} is already used by task_id {task_id}", field=f"tasks[{i}].unique_id", task_id=task_id)
    now = utcnow()
    public_ids = [new_public_id() for _ in rows]
    common = {
        "org_id": principal.org_id, "project_id": ctx.project.id, "batch_id": ctx.batch.id if ctx.batch else None,
        "is_test": principal.is_test, "status": TaskStatus.PENDING, "required_labels": ctx.project.labels_per_task,
        "created_at": now, "updated_at": now, "audits": [], "open_slots": 0 if principal.is_test else ctx.project.labels_per_task,
    }
    values = []
    for pid, row in zip(public_ids, rows):
        row = dict(row)
        row["metadata"] = row.pop("metadata_")
        values.append({**common, **row, "public_id": pid, "queue_rank": queue_rank(row["priority"])})
    completed = answered.prepare(session, ctx.project.id, values, given, shapes) if given else []
    with unique_ids_guard(session, principal, list(seen), prefix_of=seen):
        fast_insert(session, Task.__table__, values)
    counts.bump(session, principal.org_id, principal.is_test, ctx.project.id, common["batch_id"], TaskStatus.PENDING, len(values))
    if given:
        answered.finish(session, principal, values, given, completed)
    if not principal.is_test:
        rollups.add_to(session, principal.org_id, ctx.project.id, rollups.PROJECT, created=len(values))
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

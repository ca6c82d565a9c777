"""Imported rows checked against a project one by one (every error with its line, nothing
stored), then stored all or nothing: as tasks, as tasks whose existing annotation is the
pre-label (`hypothesis`), or as gold (evaluation items with the annotation as the
expected response). The rows come from assay.imports' parsers."""

from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.auth.principals import Principal
from assay.errors import ApiError, InvalidRequest
from assay.projects.models import Project
from assay.tasks.models import Task
from assay.tasks.service.create import TaskContext, create_gold_task, create_tasks_bulk, existing_unique_ids

MODES = ("tasks", "prelabels", "gold")
PREVIEW_ROWS = 20


def task_bodies(rows: Iterable[Any], mode: str, attachments: dict[str, str], drop_geometries: bool) -> list[dict[str, Any]]:
    """Each row's create body: its media's URL as the attachment, its annotation as the
    pre-label (mode prelabels) or the expected response (mode gold)."""
    out = []
    for row in rows:
        body = dict(row.body)
        if row.media is not None:
            body["attachment"] = attachments[row.media]
        if drop_geometries:
            body.pop("geometries", None)
        if row.label is not None and mode == "prelabels":
            body["hypothesis"] = row.label
        if mode == "gold":
            body["expected_response"] = row.label
        out.append(body)
    return out


def check(session: Session, principal: Principal, project: Project, rows: list[Any], mode: str, batch: str | None,
          progress=None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(errors, preview): every row validated as the task it would become; errors name the
    row's line and field. Media get placeholder URLs here (they are stored only on import)."""
    ctx = TaskContext(session, principal, project.type, project.name, batch)
    placeholders = {row.media: f"scaledata://{principal.org_public_id}/import{i}" for i, row in enumerate(rows) if row.media is not None}
    bodies = task_bodies(rows, mode, placeholders, "geometries" in ctx.default_params)
    errors: list[dict[str, Any]] = []
    preview: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for row, body in zip(rows, bodies):
        try:
            built = _check_one(ctx, body, mode)
        except ApiError as exc:
            field = exc.field or "row"
            errors.append({"line": row.line, "field": field, "error": exc.message.split(": ", 1)[-1] if exc.message.startswith(field) else exc.message})
            continue
        finally:
            if progress is not None:
                progress(1)
        uid = built["unique_id"]
        if uid is not None:
            if uid in seen:
                errors.append({"line": row.line, "field": "unique_id", "error": f"{uid!r} repeats line {seen[uid]}"})
            seen.setdefault(uid, row.line)
        if len(preview) < PREVIEW_ROWS:
            preview.append({"line": row.line, "params": built["params"], "metadata": built["metadata_"], "unique_id": uid, "label": row.label,
                            "media": row.media})
    taken: dict[str, str] = {}
    ids = list(seen)
    for start in range(0, len(ids), 500):
        taken.update(existing_unique_ids(session, principal, ids[start:start + 500]))
    errors += [{"line": seen[uid], "field": "unique_id", "error": f"{uid!r} is already used by task_id {task_id}"} for uid, task_id in taken.items()]
    return sorted(errors, key=lambda e: e["line"]), preview


def _check_one(ctx: TaskContext, body: dict[str, Any], mode: str) -> dict[str, Any]:
    task = {k: v for k, v in body.items() if k != "expected_response"}
    built = ctx.build_row(task)
    if mode == "gold":
        if body.get("expected_response") is None:
            raise InvalidRequest("label: a gold item needs the row's annotation (response, label or annotations)", field="label")
        ctx.plugin.validate_response(body["expected_response"], built["params"], field="label")
    return built


def store(session: Session, principal: Principal, project: Project, rows: list[Any], mode: str, batch: str | None,
          attachments: dict[str, str]) -> list[str]:
    """Create every row's task in this transaction (after `check` found no error)."""
    defaults = TaskContext(session, principal, project.type, project.name, batch).default_params
    bodies = task_bodies(rows, mode, attachments, "geometries" in defaults)
    if mode == "gold":
        return [create_gold_task(session, principal, project.type, {**body, "project": project.name, "batch": batch}, "evaluation")["task_id"]
                for body in bodies]
    return create_tasks_bulk(session, principal, {"type": project.type, "project": project.name, "batch": batch, "tasks": bodies})


def imported_sources(session: Session, principal: Principal, project: Project, sources: list[str]) -> set[str]:
    """The objects (`metadata.source_url`) that already have a task in the project: a
    bucket import made them, and importing the prefix again skips them."""
    source = Task.metadata_["source_url"].as_string()
    found: set[str] = set()
    for start in range(0, len(sources), 500):
        found.update(session.scalars(select(source).where(Task.org_id == principal.org_id, Task.project_id == project.id,
                                                          Task.is_test == principal.is_test, source.in_(sources[start:start + 500]))))
    return found

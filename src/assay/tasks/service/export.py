"""A project's tasks for training: `/v1` task JSON lines or a flat CSV, streamed in pages
(issue 13 grows the formats). A test key exports the tasks made with test keys; a live
key the live ones — never both."""

from __future__ import annotations

import csv
import io
from typing import Any, Iterator

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.projects.models import Project
from assay.tasks import queries
from assay.tasks.models import Task, TaskKind
from assay.tasks.serialize import task_json

T = Task.__table__
FORMATS = ("jsonl", "csv")
CSV_COLUMNS = ("task_id", "status", "completed_at", "response", "confidence", "labels", "method", "auto_accepted", "metadata", "unique_id")
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def export_rows(session: Session, project: Project, status: str | None, is_test: bool = False) -> Iterator[dict[str, Any]]:
    """Finished (or all) tasks of a project as `/v1` task JSON, oldest first, in pages."""
    last = 0
    while True:
        q = select(T.c.id).where(T.c.project_id == project.id, T.c.org_id == project.org_id, T.c.kind == TaskKind.TASK, T.c.is_test == is_test,
                                 T.c.id > last)
        if status:
            q = q.where(T.c.status == status)
        ids = session.scalars(q.order_by(T.c.id).limit(500)).all()
        if not ids:
            return
        for task_id in ids:
            yield task_json(queries.task_row(session, task_id))
        last = ids[-1]


def jsonl_chunks(tasks: Iterator[dict[str, Any]]) -> Iterator[bytes]:
    for task in tasks:
        yield orjson.dumps(task) + b"\n"


def csv_chunks(tasks: Iterator[dict[str, Any]]) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    for task in tasks:
        writer.writerow([csv_cell(v) for v in _csv_row(task)])
        if buf.tell() > 65536:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def _csv_row(task: dict[str, Any]) -> tuple:
    q = task.get("quality") or {}
    return (task["task_id"], task["status"], task.get("completed_at", ""),
            orjson.dumps(task.get("response")).decode() if task.get("response") is not None else "",
            q.get("confidence", ""), q.get("labels", ""), q.get("method", ""), "true" if q.get("auto_accepted") else "false",
            orjson.dumps(task.get("metadata") or {}).decode(), task.get("unique_id", ""))


def csv_cell(value: Any) -> Any:
    """CSV cells are data, never formulas: a text cell that a spreadsheet would evaluate
    gets a leading apostrophe (OWASP's advice for CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value

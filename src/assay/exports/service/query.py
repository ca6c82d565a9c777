"""The tasks an export writes, read set-based: one keyset-paged SELECT over the project's
tasks (with the batch name joined) and, when answers are asked for, one SELECT of the
answers of each page — never a query per task. Rows are `/v1` task JSON, plus `kind` and
`expected_response` for gold items and `answers` when asked."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterator

import orjson
from sqlalchemy import Text, and_, cast, false, func, or_, select, true
from sqlalchemy.engine import Connection

from assay.batches.models import Batch
from assay.db import Database
from assay.errors import field_error
from assay.exports.schemas import ExportRequest
from assay.orgs.models import User
from assay.projects.models import Project
from assay.tasks.models import AnswerSource, Task, TaskAnswer, TaskKind
from assay.timeutil import iso

T = Task.__table__
B = Batch.__table__
A = TaskAnswer.__table__
U = User.__table__
PAGE = 2000
EXPORT_CACHE_KB = 8192
JSON_COLUMNS = ("params", "metadata", "audits", "response", "tags", "expected_response")
TIME_COLUMNS = ("created_at", "updated_at", "completed_at")
# the columns an export reads (not the queue's bookkeeping), in _task's order
NAMES = ("id", "public_id", "created_at", "updated_at", "type", "status", "instruction", "params", "callback_url", "is_test", "metadata",
         "audits", "response", "callback_succeeded", "unique_id", "tags", "priority", "customer_review_status", "quality", "completed_at",
         "kind", "expected_response")
PG_ISO = 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'
RAW_POSITIONS = tuple(NAMES.index(name) for name in JSON_COLUMNS)
QUALITY = NAMES.index("quality")
PARSED_POSITIONS = (*RAW_POSITIONS, QUALITY)
ANSWER_SOURCES = (AnswerSource.HUMAN, AnswerSource.REVIEW_FIX, AnswerSource.TEST_BOT)


@contextmanager
def reading(db: Database) -> Iterator[Connection]:
    """A connection for one export. On SQLite its page cache is kept small while the
    export runs (a whole project passes through it once; the pool's 64 MB cache would
    otherwise fill and stay in the server's memory)."""
    with db.connect() as conn:
        if not db.is_sqlite:
            yield conn
            return
        before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
        conn.exec_driver_sql(f"PRAGMA cache_size=-{EXPORT_CACHE_KB}")
        try:
            yield conn
        finally:
            conn.rollback()
            conn.exec_driver_sql("PRAGMA shrink_memory")
            conn.exec_driver_sql(f"PRAGMA cache_size={int(before)}")


def _columns(sqlite: bool) -> list:
    """The JSON columns as their stored text (parsed with orjson here, or for a writer
    that only re-serializes them spliced into its output as orjson Fragments, never
    parsed) and the times as text (SQLite's stored text, ISO by slicing; PostgreSQL's
    to_char): SQLAlchemy's processing of them was most of an export's CPU."""
    out = []
    for name in NAMES:
        column = T.c[name]
        if name in JSON_COLUMNS or name == "quality":
            column = cast(column, Text).label(name)
        elif name in TIME_COLUMNS:
            column = cast(column, Text).label(name) if sqlite else func.to_char(column, PG_ISO).label(name)
        out.append(column)
    return [*out, B.c.name.label("batch_name")]


@dataclass(frozen=True)
class Scope:
    """Whose tasks, and which: the request's filters resolved against the database."""

    org_id: int
    project_id: int
    project_name: str
    modes: tuple[bool, ...]  # is_test values exported
    request: ExportRequest
    batch_id: int | None = None


def scope(conn: Connection, project: Project, is_test: bool, request: ExportRequest) -> Scope:
    batch_id = None
    if request.batch is not None:
        batch_id = conn.execute(select(B.c.id).where(B.c.org_id == project.org_id, B.c.project_id == project.id,
                                                     B.c.name == request.batch)).scalar()
        if batch_id is None:
            raise field_error("batch", f"no batch named {request.batch!r} in project {project.name!r}")
    modes = (True,) if is_test else ((False, True) if request.include_test else (False,))
    return Scope(project.org_id, project.id, project.name, modes, request, batch_id)


def _where(s: Scope) -> list:
    r = s.request
    clauses = [T.c.project_id == s.project_id, T.c.org_id == s.org_id]
    if len(s.modes) == 1:
        clauses.append(T.c.is_test == (true() if s.modes[0] else false()))
    if not r.include_gold:
        clauses.append(T.c.kind == TaskKind.TASK)
    if r.status != "all":
        # gold items never complete: asked for, they come with any status
        status = T.c.status == r.status
        clauses.append(or_(status, T.c.kind != TaskKind.TASK) if r.include_gold else status)
    if s.batch_id is not None:
        clauses.append(T.c.batch_id == s.batch_id)
    column = T.c.completed_at if r.date_field == "completed_at" else T.c.created_at
    if r.since is not None:
        clauses.append(column >= _naive(r.since))
    if r.until is not None:
        clauses.append(column < _naive(r.until))
    return clauses


def _naive(moment: datetime) -> datetime:
    """Stored times are naive UTC."""
    return moment if moment.tzinfo is None else moment.astimezone(timezone.utc).replace(tzinfo=None)


def count(conn: Connection, s: Scope) -> int:
    """How many tasks the SQL filters match (before confidence and auto-accept, which
    are read from each task's quality)."""
    return conn.execute(select(func.count()).select_from(T).where(and_(*_where(s)))).scalar_one()


def rows(conn: Connection, s: Scope, raw: bool = False) -> Iterator[list[dict[str, Any]]]:
    """Pages of export rows, oldest task first. `raw`: JSON values (but `quality`) as
    orjson Fragments, for a writer that only serializes them again."""
    last = 0
    sqlite = conn.dialect.name == "sqlite"
    base = (select(*_columns(sqlite)).select_from(T.outerjoin(B, B.c.id == T.c.batch_id)).where(*_where(s))
            .order_by(T.c.id).limit(PAGE))
    build = _raw_task if raw else _parsed_task
    when = _sqlite_iso if sqlite else _as_is
    while True:
        page = conn.execute(base.where(T.c.id > last)).all()
        if not page:
            return
        last = page[-1][0]
        out = [row for row in (build(r, s.project_name, when) for r in page) if _kept(row, s.request)]
        if s.request.answers and out:
            _add_answers(conn, out, page[0][0], last)
        yield out


def _kept(row: dict[str, Any], r: ExportRequest) -> bool:
    quality = row.get("quality") or {}
    if not r.include_auto_accepted and quality.get("auto_accepted"):
        return False
    if r.min_confidence is not None and row.get("kind", "task") == "task":
        confidence = quality.get("confidence")
        return confidence is not None and confidence >= r.min_confidence
    return True


def _sqlite_iso(text: str | None) -> str | None:
    """SQLite's stored time ('2026-01-01 12:00:00.123456') as Scale's ISO form."""
    return None if text is None else f"{text[:10]}T{text[11:23]}Z"


def _as_is(text: str | None) -> str | None:
    return text


def _fragment(text: str | None) -> orjson.Fragment | None:
    return None if text is None or text == "null" else orjson.Fragment(text)


def _raw_task(r: Any, project_name: str, when) -> dict[str, Any]:
    values = list(r)
    for i in RAW_POSITIONS:
        values[i] = _fragment(values[i])
    values[QUALITY] = _loads(values[QUALITY])
    return _task(values, project_name, when)


def _parsed_task(r: Any, project_name: str, when) -> dict[str, Any]:
    values = list(r)
    for i in PARSED_POSITIONS:
        values[i] = _loads(values[i])
    return _task(values, project_name, when)


def _loads(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


def _task(r: Any, project_name: str, iso) -> dict[str, Any]:
    """One row as `/v1` task JSON (tasks.serialize.task_json's shape, built straight from
    the tuple: this runs 100,000 times an export)."""
    (id_, public_id, created_at, updated_at, type_, status, instruction, params, callback_url, is_test, metadata, audits, response,
     callback_succeeded, unique_id, tags, priority, review_status, quality, completed_at, kind, expected, batch_name) = r
    out: dict[str, Any] = {
        "task_id": public_id, "created_at": iso(created_at), "updated_at": iso(updated_at), "type": type_, "status": status,
        "instruction": instruction, "params": params, "callback_url": callback_url or "", "is_test": is_test, "urgency": "standard",
        "metadata": metadata if metadata is not None else {}, "processed_attachments": [], "audits": audits if audits is not None else [],
        "project": project_name,
    }
    if batch_name is not None:
        out["batch"] = batch_name
    if completed_at is not None:
        out["completed_at"] = iso(completed_at)
    if response is not None:
        out["response"] = response
    if callback_succeeded is not None:
        out["callback_succeeded"] = callback_succeeded
    if unique_id is not None:
        out["unique_id"] = unique_id
    if tags is not None:
        out["tags"] = tags
    if priority is not None:
        out["priority"] = priority
    if review_status is not None:
        out["customer_review_status"] = review_status
    if quality is not None:
        out["quality"] = {k: v for k, v in quality.items() if k != "contributors"} if "contributors" in quality else quality
    if kind != TaskKind.TASK:
        out["kind"] = kind
        out["expected_response"] = expected
    return out


def _add_answers(conn: Connection, page: list[dict[str, Any]], first: int, last: int) -> None:
    """Every labeler's answer that counts (the latest of each; reviewers' fixes too) for
    the tasks of a page: one range SELECT over the answers' task index."""
    by_task: dict[str, list[dict[str, Any]]] = {row["task_id"]: [] for row in page}
    query = (select(T.c.public_id, U.c.email, A.c.source, A.c.response, A.c.active_seconds, A.c.review_status, A.c.hypothesis_status,
                    A.c.created_at)
             .select_from(A.join(T, T.c.id == A.c.task_id).outerjoin(U, U.c.id == A.c.user_id))
             .where(A.c.task_id >= first, A.c.task_id <= last, A.c.active == true(), A.c.source.in_(ANSWER_SOURCES))
             .order_by(A.c.task_id, A.c.id))
    for public_id, email, source, response, seconds, review, hypothesis, created_at in conn.execute(query):
        answers = by_task.get(public_id)
        if answers is not None:
            answers.append({"labeler": email, "source": source, "response": response, "active_seconds": seconds,
                            "review_status": review, "prelabel": hypothesis, "created_at": iso(created_at)})
    for row in page:
        row["answers"] = by_task[row["task_id"]]

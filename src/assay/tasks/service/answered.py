"""A bulk import whose tasks carry their labelers' answers (`answers` in a task of
`POST /api/tasks/bulk`): checked with the tasks (all or nothing), then settled and stored
set-based by `tasks.settle` in the import's transaction."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.auth.principals import Principal
from assay.db import SQL_NULL, utcnow
from assay.errors import field_error
from assay.orgs.models import User
from assay.tasks import settle
from assay.tasks.models import Task
from assay.tasks.settle import GivenAnswer
from assay.timeutil import parse_filter_time

MAX_ANSWERS = 100  # per task


def split(principal: Principal, tasks: list[Any]) -> tuple[list[Any], list[list[Any]] | None]:
    """The task bodies without their `answers`, and the answers given (None: no task has any)."""
    if not any(isinstance(t, dict) and "answers" in t for t in tasks):
        return tasks, None
    if principal.is_test:
        raise field_error("tasks", "answers cannot be imported with a test key: test-mode tasks are answered by the test bot")
    bodies, given = [], []
    for i, t in enumerate(tasks):
        if not isinstance(t, dict) or "answers" not in t:
            bodies.append(t)
            given.append([])
            continue
        answers = t["answers"]
        if not isinstance(answers, list) or len(answers) > MAX_ANSWERS:
            raise field_error(f"tasks[{i}].answers", f"must be a list of at most {MAX_ANSWERS} answers")
        bodies.append({k: v for k, v in t.items() if k != "answers"})
        given.append(answers)
    return bodies, given


def check(session: Session, principal: Principal, plugin, rows: list[dict[str, Any]], raw: list[list[Any]]) -> tuple[list, list[bytes]]:
    """Each answer: {labeler (an e-mail of the organization), response, answered_at?,
    active_seconds?}. One labeler answers a task once; responses are checked by the type
    against the task's params (once per distinct params shape and response). Returns the
    answers and each task's params shape (its params without the type's varying ones)."""
    emails = {a.get("labeler").strip().lower() for given in raw for a in given if isinstance(a, dict) and isinstance(a.get("labeler"), str)}
    users: dict[str, int] = {}
    known = sorted(emails)
    for start in range(0, len(known), 500):
        # e-mails are stored trimmed and in lower case (orgs.service.normalize_email): the
        # unique (org, email) index answers this; a deactivated person answers nothing
        users.update(session.execute(select(User.email, User.id).where(
            User.org_id == principal.org_id, User.email.in_(known[start:start + 500]), User.active.is_(True))).all())
    now = utcnow()
    cache: dict[tuple[bytes, bytes], dict[str, Any]] = {}
    varying = set(plugin.varying_fields)
    out, shapes = [], []
    for i, (row, given) in enumerate(zip(rows, raw)):
        shape = b"" if not given else orjson.dumps({k: v for k, v in row["params"].items() if k not in varying}, option=orjson.OPT_SORT_KEYS)
        seen: set[int] = set()
        checked = []
        for j, a in enumerate(given):
            field = f"tasks[{i}].answers[{j}]"
            if not isinstance(a, dict):
                raise field_error(field, "must be an object {labeler, response, answered_at?, active_seconds?}")
            unknown = set(a) - {"labeler", "response", "answered_at", "active_seconds"}
            if unknown:
                raise field_error(f"{field}.{sorted(unknown)[0]}", "unknown key")
            labeler = a.get("labeler")
            user_id = users.get(labeler.strip().lower()) if isinstance(labeler, str) else None
            if user_id is None:
                raise field_error(f"{field}.labeler", "must be the e-mail of an active person of this organization")
            if user_id in seen:
                raise field_error(f"{field}.labeler", "this person already answers this task")
            seen.add(user_id)
            checked.append(GivenAnswer(user_id, _response(plugin, row["params"], a.get("response"), shape, cache, f"{field}.response"),
                                       _answered_at(a.get("answered_at"), now, f"{field}.answered_at"),
                                       _seconds(a.get("active_seconds"), f"{field}.active_seconds")))
        out.append(checked)
        shapes.append(shape)
    return out, shapes


def _response(plugin, params: dict, response: Any, shape: bytes, cache: dict, field: str) -> dict[str, Any]:
    try:
        key = (shape, orjson.dumps(response, option=orjson.OPT_SORT_KEYS))
    except TypeError:
        key = None
    clean = cache.get(key) if key is not None else None
    if clean is None:
        clean = plugin.validate_response(response, params, field=field)
        if key is not None and len(cache) < 10_000:
            cache[key] = clean
    return clean


def _answered_at(value: Any, now, field: str):
    if value is None:
        return now
    if not isinstance(value, str):
        raise field_error(field, "must be an ISO-8601 time")
    at = parse_filter_time(value, field)
    if at > now:
        raise field_error(field, "must not be in the future")
    return at


def _seconds(value: Any, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 86_400:
        raise field_error(field, "must be a number of seconds from 0 to 86400")
    return float(value)


def prepare(session: Session, project_id: int, values: list[dict[str, Any]], given: list[list[GivenAnswer]], shapes: list[bytes]) -> list[tuple]:
    """Before the insert: every row gets the state columns, settled from its answers."""
    for row in values:
        row.update(response=SQL_NULL, quality=SQL_NULL, confidence=None, completed_at=None, review_state=None)
    return settle.settle(session, project_id, values, given, shapes)


def finish(session: Session, principal: Principal, values: list[dict[str, Any]], given: list[list[GivenAnswer]], completed: list[tuple]) -> None:
    """After the insert: the answers and what they add (see tasks.settle.after_insert)."""
    ids: dict[str, int] = {}
    wanted = [row["public_id"] for row, g in zip(values, given) if g]
    for start in range(0, len(wanted), 1000):
        ids.update(session.execute(select(Task.public_id, Task.id).where(
            Task.org_id == principal.org_id, Task.public_id.in_(wanted[start:start + 1000]))).all())
    rows = [(row, g) for row, g in zip(values, given) if g]
    index = {id(row): k for k, (row, _) in enumerate(rows)}
    kept = [(index[id(values[i])], agreed) for i, agreed in completed]
    settle.after_insert(session, [r for r, _ in rows], [ids[r["public_id"]] for r, _ in rows], [g for _, g in rows], kept)

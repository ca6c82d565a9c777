"""The small mutations of Scale's v1 API on one task: metadata, unique_id, tags, cancel,
and the customer's audit. Status changes go through tasks.lifecycle."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from assay.auth.principals import Principal
from assay.db import utcnow
from assay.errors import Conflict, field_error
from assay.tasks import lifecycle
from assay.tasks.models import Task
from assay.tasks.service.create import existing_unique_ids, unique_ids_guard
from assay.tasks.service.fields import check_tags, check_unique_id
from assay.tasks.service.listing import get_task


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
    existing = existing_unique_ids(session, principal, [uid])
    if existing:
        raise Conflict(f"unique_id {uid!r} is already used by task_id {existing[uid]}.", field="unique_id", task_id=existing[uid])
    with unique_ids_guard(session, principal, [uid]):
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

"""Batches: named groups of tasks in a project, with a completion callback."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assay.auth.principals import Principal
from assay.batches.completion import check_batch_completion, decide_completion
from assay.batches.models import BATCH_STATUSES, Batch, BatchStatus
from assay.db import new_public_id, utcnow
from assay.errors import Conflict, NotFound, field_error
from assay.names import check_name
from assay.projects.models import Project
from assay.tasks.models import Task
from assay.timeutil import parse_filter_time
from assay.urls import check_callback_url
from assay.web import parse_bool, parse_int


def get_batch(session: Session, principal: Principal, name: str, *, for_update: bool = False, lock: dict | None = None) -> Batch:
    """One batch of the caller's organization; `for_update` locks it FOR NO KEY UPDATE (does
    not wait for task transitions' KEY SHARE, see batches.completion), `lock` as given."""
    stmt = select(Batch).where(Batch.org_id == principal.org_id, Batch.name == name)
    if lock is not None or for_update:
        stmt = stmt.with_for_update(**(lock or {"key_share": True})).execution_options(populate_existing=True)
    batch = session.scalar(stmt)
    if batch is None:
        raise NotFound(f"Batch with name {name!r} not found.")
    return batch


def _project_named(session: Session, principal: Principal, name: str) -> Project:
    project = session.scalar(select(Project).where(Project.org_id == principal.org_id, Project.name == name))
    if project is None:
        raise NotFound(f"Project with name {name!r} not found.")
    return project


def create_batch(session: Session, principal: Principal, body: Any) -> Batch:
    if not isinstance(body, dict):
        raise field_error("body", "must be a JSON object")
    project_name = body.get("project")
    if not project_name:
        raise field_error("project", "required: the name of the project this batch belongs to")
    name = check_name(body.get("name"), "name")
    project = _project_named(session, principal, project_name)
    callback = check_callback_url(body.get("callback"), "callback")
    metadata = body.get("metadata")
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise field_error("metadata", "must be a JSON object")
    for flag in ("calibration_batch", "self_label_batch"):
        if body.get(flag) is not None and not isinstance(body.get(flag), bool):
            raise field_error(flag, "must be true or false")
    if session.scalar(select(Batch.id).where(Batch.org_id == principal.org_id, Batch.name == name)) is not None:
        raise Conflict(f"Batch with name {name!r} already exists.", field="name")
    batch = Batch(
        public_id=new_public_id(),
        org_id=principal.org_id,
        project_id=project.id,
        name=name,
        # Rapid projects stage batches until finalized; standard ones work at once.
        status=BatchStatus.STAGING if project.rapid else BatchStatus.IN_PROGRESS,
        callback=callback,
        calibration_batch=bool(body.get("calibration_batch")),
        self_label_batch=bool(body.get("self_label_batch")),
        metadata_=metadata,
    )
    session.add(batch)
    session.flush()
    return batch


def finalize_batch(session: Session, principal: Principal, name: str) -> Batch:
    batch = get_batch(session, principal, name)
    if batch.finalized_at is not None:
        # already finalized: decide completion like a task transition (no row lock)
        session.refresh(batch, with_for_update={"read": True, "key_share": True})
        decide_completion(session, batch)
        return batch
    # FOR UPDATE waits for the task transitions in flight (they hold KEY SHARE), so the
    # count below sees them; later transitions see the batch finalized
    batch = get_batch(session, principal, name, lock={})
    if batch.finalized_at is None:
        batch.finalized_at = utcnow()
    if batch.status == BatchStatus.STAGING:
        batch.status = BatchStatus.IN_PROGRESS
    check_batch_completion(session, batch)
    return batch


def set_batch_metadata(session: Session, principal: Principal, name: str, body: Any) -> Batch:
    if body is None:
        # the official client sends no body at all for set_batch_metadata(name, {})
        body = {}
    if not isinstance(body, dict):
        raise field_error("metadata", "must be a JSON object")
    batch = get_batch(session, principal, name, for_update=True)
    batch.metadata_ = body
    return batch


def batch_counts(session: Session, batch: Batch, is_test: bool | None = None) -> dict[str, int]:
    stmt = select(Task.status, func.count()).where(Task.batch_id == batch.id, Task.org_id == batch.org_id)
    if is_test is not None:
        stmt = stmt.where(Task.is_test == is_test)
    return {status: count for status, count in session.execute(stmt.group_by(Task.status))}


def list_batches(session: Session, principal: Principal, query) -> tuple[list[tuple[Batch, str]], int, int, int]:
    stmt = select(Batch, Project.name).join(Project, Project.id == Batch.project_id).where(Batch.org_id == principal.org_id)
    if query.get("project"):
        project = _project_named(session, principal, query["project"])
        stmt = stmt.where(Batch.project_id == project.id)
    if query.get("status"):
        status = query["status"]
        if status not in BATCH_STATUSES:
            raise field_error("status", f"must be one of {', '.join(BATCH_STATUSES)}")
        stmt = stmt.where(Batch.status == status)
    if query.get("start_time"):
        stmt = stmt.where(Batch.created_at >= parse_filter_time(query["start_time"], "start_time"))
    if query.get("end_time"):
        stmt = stmt.where(Batch.created_at < parse_filter_time(query["end_time"], "end_time"))
    if parse_bool(query.get("exclude_archived"), "exclude_archived"):
        stmt = stmt.where(Batch.archived.is_(False))
    limit = parse_int(query.get("limit"), "limit", default=100, lo=1, hi=100)
    offset = parse_int(query.get("offset"), "offset", default=0, lo=0, hi=10**9)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.execute(stmt.order_by(Batch.id.desc()).limit(limit).offset(offset)).all()
    return [(b, p) for b, p in rows], total, limit, offset

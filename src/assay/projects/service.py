"""Projects: a task type plus versioned default params (`param_history`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.db import new_public_id, utcnow
from assay.errors import ApiError, Conflict, NotFound, field_error
from assay.names import check_name
from assay.projects.models import Project
from assay.security import Principal
from assay.tasktypes import SCALE_TYPES_NOT_ENABLED, get_plugin
from assay.timeutil import iso

# Keys of a project's params that are task-level settings, not type params.
PROJECT_SETTINGS = ("instruction",)


def check_task_type(value: Any, field: str = "type") -> str:
    if not isinstance(value, str) or not value:
        raise field_error(field, "must be a task type name such as 'categorization'")
    if get_plugin(value) is None:
        if value in SCALE_TYPES_NOT_ENABLED:
            raise ApiError(f"{field}: task type {value!r} is not enabled on this server", field=field, status_code=402)
        raise field_error(field, f"unknown task type {value!r}")
    return value


def get_project(session: Session, principal: Principal, name: str) -> Project:
    project = session.scalar(select(Project).where(Project.org_id == principal.org_id, Project.name == name))
    if project is None:
        raise NotFound(f"Project with name {name!r} not found.")
    return project


def list_projects(session: Session, principal: Principal, archived: bool | None = None) -> list[Project]:
    stmt = select(Project).where(Project.org_id == principal.org_id)
    if archived is not None:
        stmt = stmt.where(Project.archived.is_(archived))
    return list(session.scalars(stmt.order_by(Project.id.desc())))


def create_project(session: Session, principal: Principal, body: dict[str, Any]) -> Project:
    if not isinstance(body, dict):
        raise field_error("body", "must be a JSON object")
    name = check_name(body.get("name"), "name")
    task_type = check_task_type(body.get("type"))
    params = body.get("params")
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise field_error("params", "must be a JSON object")
    for flag in ("rapid", "studio"):
        if body.get(flag) is not None and not isinstance(body.get(flag), bool):
            raise field_error(flag, "must be true or false")
    if session.scalar(select(Project.id).where(Project.org_id == principal.org_id, Project.name == name)) is not None:
        raise Conflict(f"Project with name {name!r} already exists.", field="name")
    labels = params.get("labels_per_task", 1)
    if not isinstance(labels, int) or isinstance(labels, bool) or not 1 <= labels <= 100:
        raise field_error("params.labels_per_task", "must be an integer from 1 to 100")
    project = Project(
        public_id=new_public_id(),
        org_id=principal.org_id,
        name=name,
        type=task_type,
        rapid=bool(body.get("rapid")),
        studio=bool(body.get("studio")),
        dataset_id=body.get("datasetId"),
        param_history=[{"version": 0, "created_at": iso(utcnow()), **params}],
        labels_per_task=labels,
    )
    session.add(project)
    session.flush()
    return project


def set_params(session: Session, principal: Principal, name: str, body: Any) -> Project:
    if body is None:
        body = {}  # the official client sends no body when update_project() gets no params
    if not isinstance(body, dict):
        raise field_error("body", "must be a JSON object of params")
    project = get_project(session, principal, name)
    body = dict(body)
    patch = body.pop("patch", False)
    if not isinstance(patch, bool):
        raise field_error("patch", "must be true or false")
    if "labels_per_task" in body:
        labels = body["labels_per_task"]
        if not isinstance(labels, int) or isinstance(labels, bool) or not 1 <= labels <= 100:
            raise field_error("labels_per_task", "must be an integer from 1 to 100")
        project.labels_per_task = labels
    base = project.current_params if patch else {}
    version = (project.param_history[-1]["version"] + 1) if project.param_history else 0
    entry = {"version": version, "created_at": iso(utcnow()), **base, **body}
    # reassign (not append) so the JSON column is marked changed
    project.param_history = [*project.param_history, entry]
    return project


def project_json(project: Project) -> dict[str, Any]:
    return {
        "id": project.public_id,
        "type": project.type,
        "name": project.name,
        "created_at": iso(project.created_at),
        "param_history": project.param_history,
        "rapid": project.rapid,
        "studio": project.studio,
        "archived": project.archived,
        "labels_per_task": project.labels_per_task,
    }

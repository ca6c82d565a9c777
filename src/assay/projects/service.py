"""Projects: a task type plus versioned default params (`param_history`), and the quality
policy and workbench settings a lead sets on them. Members are the queue's
(queue/service/membership.py); the quality report is projects/quality.py."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from assay.auth.principals import Principal
from assay.db import new_public_id, utcnow
from assay.errors import Conflict, NotFound, field_error
from assay.names import check_name
from assay.projects.models import Project
from assay.projects.schemas import NewProjectBody, ProjectSettingsBody, QualityPolicy
from assay.projects.templates import TEMPLATES
from assay.queue.models import ProjectMember
from assay.schemas import validate
from assay.tasks import lifecycle
from assay.tasks.models import AnswerSource, Task, TaskAnswer, TaskKind
from assay.tasktypes import check_task_type
from assay.timeutil import iso

POLICY_KEYS = tuple(QualityPolicy.model_fields)


def get_project(session: Session, principal: Principal, name: str) -> Project:
    project = session.scalar(select(Project).where(Project.org_id == principal.org_id, Project.name == name))
    if project is None:
        raise NotFound(f"Project with name {name!r} not found.")
    return project


def get_project_by_id(session: Session, principal: Principal, public_id: str) -> Project:
    project = session.scalar(select(Project).where(Project.public_id == public_id, Project.org_id == principal.org_id))
    if project is None:
        raise NotFound("Project not found.", field="project_id")
    return project


def list_projects(session: Session, principal: Principal, archived: bool | None = None) -> list[Project]:
    stmt = select(Project).where(Project.org_id == principal.org_id)
    if archived is not None:
        stmt = stmt.where(Project.archived.is_(archived))
    return list(session.scalars(stmt.order_by(Project.id.desc())))


def _policy_in_params(params: dict[str, Any], prefix: str) -> QualityPolicy:
    """The quality-policy keys of Scale-shaped project params, validated (400 naming
    `<prefix><key>`)."""
    policy = validate(QualityPolicy, {k: params[k] for k in POLICY_KEYS if k in params}, prefix.rstrip("."))
    _check_max_labels(policy.max_labels, policy.labels_per_task, prefix + "max_labels")
    return policy


def _check_max_labels(max_labels: int | None, labels_per_task: int, field: str) -> None:
    if max_labels is not None and max_labels < labels_per_task:
        raise field_error(field, f"must be an integer from labels_per_task ({labels_per_task}) to 100, or null")


def create_project(session: Session, principal: Principal, body: Any) -> Project:
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
    policy = _policy_in_params(params, "params.")
    project = Project(
        public_id=new_public_id(), org_id=principal.org_id, name=name, type=task_type, rapid=bool(body.get("rapid")),
        studio=bool(body.get("studio")), dataset_id=body.get("datasetId"),
        param_history=[{"version": 0, "created_at": iso(utcnow()), **params}], **policy.model_dump(),
    )
    session.add(project)
    session.flush()
    return project


def set_params(session: Session, principal: Principal, name: str, body: Any) -> Project:
    """Scale's setParams: a new params version (with `patch`, merged over the current one).
    The quality-policy keys among them change the project's policy too."""
    if body is None:
        body = {}  # the official client sends no body when update_project() gets no params
    if not isinstance(body, dict):
        raise field_error("body", "must be a JSON object of params")
    project = get_project(session, principal, name)
    body = dict(body)
    patch = body.pop("patch", False)
    if not isinstance(patch, bool):
        raise field_error("patch", "must be true or false")
    given = {k: body[k] for k in ("review_fraction", "labels_per_task", "target_confidence", "max_labels") if k in body}
    policy = validate(QualityPolicy, given)
    for key in given:
        setattr(project, key, getattr(policy, key))
    _check_max_labels(project.max_labels, project.labels_per_task, "max_labels")
    _new_params_version(project, body, patch)
    return project


def _new_params_version(project: Project, params: dict[str, Any], patch: bool) -> None:
    base = project.current_params if patch else {}
    version = (project.param_history[-1]["version"] + 1) if project.param_history else 0
    entry = {"version": version, "created_at": iso(utcnow()), **base, **params}
    # reassign (not append) so the JSON column is marked changed
    project.param_history = [*project.param_history, entry]


def update_settings(session: Session, principal: Principal, project: Project, body: ProjectSettingsBody) -> Project:
    """The native settings PATCH: the quality policy and the instructions. Only the keys
    given change; instructions, labels per task and max labels make a new params version
    (as setParams does)."""
    given = body.model_fields_set
    old_labels = project.labels_per_task
    for key in given & set(POLICY_KEYS):
        setattr(project, key, getattr(body, key))
    _check_max_labels(project.max_labels, project.labels_per_task, "max_labels")
    params = {k: getattr(body, k) for k in ("instruction", "labels_per_task", "max_labels") if k in given}
    if params:
        _new_params_version(project, params, patch=True)
    session.flush()
    if project.labels_per_task != old_labels:
        # pending tasks follow the new overlap (they would silently keep the old one)
        project.pending_relabelled = lifecycle.apply_labels_per_task(session, project.id, old_labels, project.labels_per_task)
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
        "max_labels": project.max_labels,
        "target_confidence": project.target_confidence,
        "gold_rate": project.gold_rate,
        "qualification_size": project.qualification_size,
        "pause_below": project.pause_below,
        "review_below": project.review_below,
        "aggregation": project.aggregation,
        "route_by_accuracy": project.route_by_accuracy,
    }


def settings_json(project: Project) -> dict[str, Any]:
    """The native settings view of a project (its members are added by the caller)."""
    instruction = project.current_params.get("instruction")
    return {**project_json(project), "instruction": instruction if isinstance(instruction, str) else "", "review_fraction": project.review_fraction}


def gold_items(session: Session, project: Project) -> list[dict[str, Any]]:
    """The project's evaluation and training items with how often they were answered right."""
    rows = session.execute(
        select(Task.public_id, Task.kind, Task.params, Task.expected_response, Task.created_at,
               func.count(TaskAnswer.id), func.coalesce(func.sum(case((TaskAnswer.correct.is_(True), 1), else_=0)), 0))
        .outerjoin(TaskAnswer, (TaskAnswer.task_id == Task.id) & (TaskAnswer.source == AnswerSource.GOLD))
        .where(Task.project_id == project.id, Task.kind != TaskKind.TASK, Task.is_test.is_(False)).group_by(Task.id).order_by(Task.id)
    ).all()
    return [{"task_id": r[0], "kind": r[1], "params": r[2], "expected_response": r[3], "created_at": iso(r[4]), "answered": r[5], "correct": r[6]}
            for r in rows]


def create_from_template(session: Session, principal: Principal, body: NewProjectBody) -> Project:
    """A project of a template's type with the params it builds from the labels given
    (duplicates refused), the instructions and the quality policy."""
    template = TEMPLATES.get(body.template)
    if template is None:
        raise field_error("template", f"must be one of {', '.join(TEMPLATES)}")
    labels = [label.strip() for label in (body.labels or list(template.labels)) if label.strip()]
    if not labels:
        raise field_error("labels", "give at least one label")
    repeated = next((label for i, label in enumerate(labels) if label in labels[:i]), None)
    if repeated is not None:
        raise field_error("labels", f"{repeated!r} is given twice")
    params = {**template.params(labels), "labels_per_task": body.labels_per_task, "review_fraction": body.review_fraction}
    if body.instruction.strip():
        params["instruction"] = body.instruction
    return create_project(session, principal, {"name": body.name, "type": template.type, "params": params})


def labelers(session: Session, project: Project) -> int:
    """How many people can label the project (members who are not paused)."""
    return session.scalar(select(func.count()).select_from(ProjectMember).where(ProjectMember.project_id == project.id,
                                                                                 ProjectMember.paused_at.is_(None))) or 0


NO_LABELERS = "nobody can label this project yet: an admin must add people to it (project page, Members)"


def staffing_json(session: Session, project: Project) -> dict[str, Any]:
    """`labelers`, and a `warning` when nobody can label the project."""
    count = labelers(session, project)
    return {"labelers": count, **({"warning": NO_LABELERS} if count == 0 else {})}

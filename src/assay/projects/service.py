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
        review_fraction=check_review_fraction(params.get("review_fraction", 0), "params.review_fraction"),
        target_confidence=check_target_confidence(params.get("target_confidence"), "params.target_confidence"),
        max_labels=check_max_labels(params.get("max_labels"), labels, "params.max_labels"),
        **check_gold_settings(params, None, "params."),
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
    if "review_fraction" in body:
        project.review_fraction = check_review_fraction(body["review_fraction"])
    if "labels_per_task" in body:
        labels = body["labels_per_task"]
        if not isinstance(labels, int) or isinstance(labels, bool) or not 1 <= labels <= 100:
            raise field_error("labels_per_task", "must be an integer from 1 to 100")
        project.labels_per_task = labels
    if "target_confidence" in body:
        project.target_confidence = check_target_confidence(body["target_confidence"])
    if "max_labels" in body:
        project.max_labels = check_max_labels(body["max_labels"], project.labels_per_task)
    if project.max_labels is not None and project.max_labels < project.labels_per_task:
        raise field_error("max_labels", f"must be at least labels_per_task ({project.labels_per_task})")
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
        "max_labels": project.max_labels,
        "target_confidence": project.target_confidence,
        "gold_rate": project.gold_rate,
        "qualification_size": project.qualification_size,
        "pause_below": project.pause_below,
        "review_below": project.review_below,
        "aggregation": project.aggregation,
    }


# ----------------------------------------------------------------------------- workbench settings (native API)

def get_project_by_id(session: Session, principal: Principal, public_id: str) -> Project:
    project = session.scalar(select(Project).where(Project.public_id == public_id, Project.org_id == principal.org_id))
    if project is None:
        raise NotFound("Project not found.", field="project_id")
    return project


def check_target_confidence(value: Any, field: str = "target_confidence") -> float | None:
    if value is None:
        return None
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.5 <= value < 1:
        raise field_error(field, "must be a number from 0.5 to below 1 (the consensus confidence at which a task completes), or null")
    return float(value)


def check_max_labels(value: Any, minimum: int, field: str = "max_labels") -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= 100:
        raise field_error(field, f"must be an integer from labels_per_task ({minimum}) to 100, or null")
    return value


def check_fraction(value: Any, field: str, what: str) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1:
        raise field_error(field, f"must be a number from 0 to 1 ({what})")
    return float(value)


AGGREGATIONS = ("auto", "majority_vote", "weighted_majority_vote", "dawid_skene", "one_coin_dawid_skene", "glad")


def check_gold_settings(body: dict, project: Project | None, prefix: str = "") -> dict[str, Any]:
    """gold_rate (0–1), qualification_size (0–100), pause_below (0.05–0.99 or null)."""
    out: dict[str, Any] = {}
    if "gold_rate" in body:
        out["gold_rate"] = check_fraction(body["gold_rate"], prefix + "gold_rate", "the share of a labeler's tasks that are gold items")
    if "qualification_size" in body:
        size = body["qualification_size"]
        if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= 100:
            raise field_error(prefix + "qualification_size", "must be an integer from 0 to 100 (gold items before real work)")
        out["qualification_size"] = size
    if "pause_below" in body:
        value = body["pause_below"]
        if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.05 <= value <= 0.99):
            raise field_error(prefix + "pause_below", "must be a number from 0.05 to 0.99 (gold accuracy below which a labeler is paused), or null")
        out["pause_below"] = float(value) if value is not None else None
    if "review_below" in body:
        value = body["review_below"]
        if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.5 <= value <= 1):
            raise field_error(prefix + "review_below", "must be a number from 0.5 to 1 (tasks whose consensus confidence is lower go to review), or null")
        out["review_below"] = float(value) if value is not None else None
    if "aggregation" in body:
        if body["aggregation"] not in AGGREGATIONS:
            raise field_error(prefix + "aggregation", f"must be one of {', '.join(AGGREGATIONS)}")
        out["aggregation"] = body["aggregation"]
    return out


def check_review_fraction(value: Any, field: str = "review_fraction") -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1:
        raise field_error(field, "must be a number from 0 to 1 (the share of tasks a reviewer checks)")
    return float(value)


def update_settings(session: Session, principal: Principal, project: Project, body: Any) -> Project:
    """Instructions (Markdown; a new params version, as setParams makes), review
    fraction and labels per task. Only the keys given change."""
    if not isinstance(body, dict):
        raise field_error("body", 'must be a JSON object with any of "instruction", "review_fraction", "labels_per_task"')
    unknown = sorted(set(body) - {"instruction", "review_fraction", "labels_per_task", "max_labels", "target_confidence", "gold_rate",
                                  "qualification_size", "pause_below", "review_below", "aggregation"})
    if unknown:
        raise field_error(unknown[0], "unknown setting")
    if "review_fraction" in body:
        project.review_fraction = check_review_fraction(body["review_fraction"])
    if "target_confidence" in body:
        project.target_confidence = check_target_confidence(body["target_confidence"])
    for key, value in check_gold_settings(body, project).items():
        setattr(project, key, value)
    if "instruction" in body:
        if not isinstance(body["instruction"], str):
            raise field_error("instruction", "must be a string (Markdown)")
        if len(body["instruction"]) > 100_000:
            raise field_error("instruction", "at most 100000 characters")
    params = {k: body[k] for k in ("instruction", "labels_per_task", "max_labels") if k in body}
    if params:
        set_params(session, principal, project.name, {**params, "patch": True})
    session.flush()
    return project


def settings_json(session: Session, project: Project) -> dict[str, Any]:
    from assay.orgs.models import User
    from assay.queue.models import ProjectMember
    from assay.tasks.models import LabelerStats

    members = session.execute(
        select(User.id, User.email, User.name, User.role, User.active, ProjectMember.paused_at, ProjectMember.paused_reason,
               LabelerStats.gold_answered, LabelerStats.gold_correct)
        .join(ProjectMember, ProjectMember.user_id == User.id)
        .outerjoin(LabelerStats, (LabelerStats.project_id == ProjectMember.project_id) & (LabelerStats.user_id == User.id))
        .where(ProjectMember.project_id == project.id).order_by(User.email)
    ).all()
    instruction = project.current_params.get("instruction")
    return {
        **project_json(project),
        "instruction": instruction if isinstance(instruction, str) else "",
        "review_fraction": project.review_fraction,
        "members": [{"id": m.id, "email": m.email, "name": m.name, "role": m.role, "active": m.active, "paused": m.paused_at is not None,
                     "paused_reason": m.paused_reason, "gold_answered": m.gold_answered or 0, "gold_correct": m.gold_correct or 0}
                    for m in members],
    }


def add_member(session: Session, principal: Principal, project: Project, body: Any) -> None:
    from assay.orgs.models import User
    from assay.queue.models import ProjectMember

    email = body.get("email") if isinstance(body, dict) else None
    if not isinstance(email, str) or not email.strip():
        raise field_error("email", "required: the e-mail of a user of this organization")
    user = session.scalar(select(User).where(User.org_id == principal.org_id, User.email == email.strip().lower()))
    if user is None:
        raise field_error("email", f"no user {email!r} in this organization")
    if user.role == "customer":
        raise field_error("email", f"{email!r} is a customer account; only annotators, reviewers and admins label")
    exists = session.scalar(select(ProjectMember.user_id).where(ProjectMember.project_id == project.id, ProjectMember.user_id == user.id))
    if exists is None:
        session.add(ProjectMember(project_id=project.id, user_id=user.id, org_id=principal.org_id))
        session.flush()


def remove_member(session: Session, principal: Principal, project: Project, user_id: int) -> None:
    """Removes the member; their unfinished leases go back to the queue at once."""
    from sqlalchemy import delete

    from assay.queue.models import ProjectMember
    from assay.queue.service import release_leases

    removed = session.execute(delete(ProjectMember).where(ProjectMember.project_id == project.id, ProjectMember.user_id == user_id,
                                                          ProjectMember.org_id == principal.org_id)).rowcount
    if not removed:
        raise NotFound("That user is not a member of this project.", field="user_id")
    release_leases(session, project.id, user_id)


def gold_items(session: Session, project: Project) -> list[dict[str, Any]]:
    """The project's evaluation and training items with how often they were answered right."""
    from sqlalchemy import case, func

    from assay.tasks.models import Task, TaskAnswer

    rows = session.execute(
        select(Task.public_id, Task.kind, Task.params, Task.expected_response, Task.created_at,
               func.count(TaskAnswer.id), func.coalesce(func.sum(case((TaskAnswer.correct.is_(True), 1), else_=0)), 0))
        .outerjoin(TaskAnswer, (TaskAnswer.task_id == Task.id) & (TaskAnswer.source == "gold"))
        .where(Task.project_id == project.id, Task.kind != "task", Task.is_test.is_(False)).group_by(Task.id).order_by(Task.id)
    ).all()
    return [{"task_id": r[0], "kind": r[1], "params": r[2], "expected_response": r[3], "created_at": iso(r[4]), "answered": r[5], "correct": r[6]}
            for r in rows]

"""Scale v1 project endpoints and the native project settings, members, gold items and
quality report. Handlers load, authorize with ProjectPolicy, call a service, return JSON."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Request

from assay import flows
from assay.audit.log import record
from assay.auth.dependencies import authenticate
from assay.auth.principals import Principal
from assay.authz import authorize
from assay.db import get_db
from assay.errors import field_error
from assay.markdown import render as markdown
from assay.projects import quality, service
from assay.projects.policies import ProjectPolicy
from assay.projects.schemas import GoldItemBody, MarkdownBody, MemberBody, NewProjectBody, ProjectSettingsBody
from assay.projects.templates import TEMPLATES
from assay.queue.service import membership
from assay.tasks.service.create import create_gold_task
from assay.truth.fitted import NAMED_METHODS
from assay.truth.service import fit_project, model_summary
from assay.web import JSON, JSONRoute, UserId, name_param, parse_bool

v1 = APIRouter(prefix="/v1", route_class=JSONRoute)
native = APIRouter(prefix="/api", route_class=JSONRoute)


# ----------------------------------------------------------------------------- Scale v1

@v1.post("/projects")
def create_project(body: Any = Body(None), principal: Principal = Depends(authenticate)):
    authorize(principal, ProjectPolicy.use_api)
    with get_db().write() as session:
        project = service.create_project(session, principal, body)
        record(session, principal, "project.create", "project", project.public_id, {"name": project.name, "type": project.type})
        return JSON(service.project_json(project))


@v1.get("/projects")
def list_projects(request: Request, principal: Principal = Depends(authenticate)):
    authorize(principal, ProjectPolicy.use_api)
    archived = request.query_params.get("archived")
    with get_db().read() as session:
        projects = service.list_projects(session, principal, parse_bool(archived, "archived") if archived else None)
        return JSON([service.project_json(p) for p in projects])


@v1.get("/projects/{name}")
def get_project(name: str, principal: Principal = Depends(authenticate)):
    authorize(principal, ProjectPolicy.use_api)
    with get_db().read() as session:
        project = service.get_project(session, principal, name_param(name))
        # beside Scale's fields: how many people can label it, and a warning when nobody can
        return JSON({**service.project_json(project), **service.staffing_json(session, project)})


@v1.post("/projects/{name}/setParams")
def set_params(name: str, body: Any = Body(None), principal: Principal = Depends(authenticate)):
    authorize(principal, ProjectPolicy.use_api)
    with get_db().write() as session:
        project = service.set_params(session, principal, name_param(name), body)
        record(session, principal, "project.params", "project", project.public_id, {"version": project.param_history[-1]["version"]})
        return JSON(service.project_json(project))


# ----------------------------------------------------------------------------- native settings

@native.get("/projects")
def project_settings_list(principal: Principal = Depends(authenticate)):
    """JSON twin of the projects page (admins): every project with its workbench settings."""
    authorize(principal, ProjectPolicy.manage)
    with get_db().read() as session:
        return JSON({"projects": [flows.project_settings(session, p) for p in service.list_projects(session, principal)]})


@native.get("/project-templates")
def project_templates(principal: Principal = Depends(authenticate)):
    """JSON twin of the new-project page: the templates (type, suggested labels, starting
    instructions, the params they build)."""
    authorize(principal, ProjectPolicy.manage)
    return JSON({"templates": [t.json() for t in TEMPLATES.values()]})


@native.post("/projects")
def create_project_from_template(body: NewProjectBody, principal: Principal = Depends(authenticate)):
    """A project from a template: `{name, template, labels?, instruction?, labels_per_task?, review_fraction?}`."""
    authorize(principal, ProjectPolicy.manage)
    with get_db().write() as session:
        project = service.create_from_template(session, principal, body)
        record(session, principal, "project.create", "project", project.public_id, {"name": project.name, "type": project.type,
                                                                                    "template": body.template})
        return JSON(flows.project_settings(session, project), status_code=201)


@native.post("/markdown")
def markdown_preview(body: MarkdownBody, principal: Principal = Depends(authenticate)):
    """Instructions as the workbench shows them: Markdown rendered with raw HTML disabled."""
    authorize(principal, ProjectPolicy.manage)
    return JSON({"html": markdown(body.text)})


@native.get("/projects/{project_id}")
def project_settings(project_id: str, principal: Principal = Depends(authenticate)):
    """JSON twin of the project settings page (admins)."""
    authorize(principal, ProjectPolicy.manage)
    with get_db().read() as session:
        return JSON(flows.project_settings(session, service.get_project_by_id(session, principal, project_id)))


@native.patch("/projects/{project_id}")
def update_project_settings(project_id: str, body: ProjectSettingsBody, principal: Principal = Depends(authenticate)):
    authorize(principal, ProjectPolicy.manage)
    with get_db().write() as session:
        project = service.update_settings(session, principal, service.get_project_by_id(session, principal, project_id), body)
        changes = {k: (f"{len(body.instruction)} characters" if k == "instruction" else getattr(body, k)) for k in sorted(body.model_fields_set)}
        relabelled = getattr(project, "pending_relabelled", None)
        if relabelled is not None:
            changes["pending_tasks_updated"] = relabelled
        record(session, principal, "project.settings", "project", project.public_id, changes)
        return JSON({**flows.project_settings(session, project), **({"pending_tasks_updated": relabelled} if relabelled is not None else {})})


@native.post("/projects/{project_id}/members")
def add_member(project_id: str, body: MemberBody, principal: Principal = Depends(authenticate)):
    authorize(principal, ProjectPolicy.manage)
    with get_db().write() as session:
        project = service.get_project_by_id(session, principal, project_id)
        membership.add_member(session, principal, project, body.email)
        record(session, principal, "member.add", "project", project.public_id, {"email": body.email.strip().lower()})
        return JSON(flows.project_settings(session, project))


@native.delete("/projects/{project_id}/members/{user_id}")
def remove_member(project_id: str, user_id: UserId, principal: Principal = Depends(authenticate)):
    authorize(principal, ProjectPolicy.manage)
    with get_db().write() as session:
        project = service.get_project_by_id(session, principal, project_id)
        membership.remove_member(session, principal, project, user_id)
        record(session, principal, "member.remove", "project", project.public_id, {"user_id": user_id})
        return JSON(flows.project_settings(session, project))


@native.post("/projects/{project_id}/members/{user_id}/reinstate")
def reinstate_member(project_id: str, user_id: UserId, principal: Principal = Depends(authenticate)):
    """Lift a pause (gold accuracy below the project's threshold); the gold record restarts."""
    authorize(principal, ProjectPolicy.manage)
    with get_db().write() as session:
        project = service.get_project_by_id(session, principal, project_id)
        membership.reinstate(session, principal, project, user_id)
        record(session, principal, "member.reinstate", "project", project.public_id, {"user_id": user_id})
        return JSON(flows.project_settings(session, project))


# ----------------------------------------------------------------------------- quality and gold

@native.get("/projects/{project_id}/quality")
def project_quality(project_id: str, principal: Principal = Depends(authenticate)):
    """JSON twin of the project quality page: throughput, each labeler's record and
    confusion matrix, inter-annotator agreement (admins, customers, reviewers in the project)."""
    with get_db().read() as session:
        project = service.get_project_by_id(session, principal, project_id)
        authorize(principal, ProjectPolicy.view_quality(membership.is_member(session, project, principal.user_id), project.name))
        return JSON(quality.quality_report(session, project))


@native.post("/projects/{project_id}/quality/refit")
def refit_truth_model(project_id: str, principal: Principal = Depends(authenticate)):
    """Fit the project's named truth-inference method, or let `auto` choose and fit one, now
    (the background jobs otherwise refit after ASSAY_TRUTH_REFIT_LABELS new labels, or a
    tenth more than the last fit had). 400 when the project's aggregation has no model
    (majority_vote, weighted_majority_vote). A fit under way in another process is waited for."""
    authorize(principal, ProjectPolicy.manage)
    with get_db().read() as session:
        project = service.get_project_by_id(session, principal, project_id)
    if project.aggregation not in NAMED_METHODS:
        raise field_error("aggregation", f"is {project.aggregation}; only {', '.join(NAMED_METHODS)} have a model to fit")
    fit_project(get_db(), project)
    with get_db().write() as session:
        record(session, principal, "truth.refit", "project", project.public_id, {"method": project.aggregation})
        return JSON({"truth_model": model_summary(session, project.id)})


@native.get("/projects/{project_id}/gold")
def gold_items(project_id: str, principal: Principal = Depends(authenticate)):
    """The project's evaluation (gold) and training items, with answer counts."""
    authorize(principal, ProjectPolicy.manage)
    with get_db().read() as session:
        project = service.get_project_by_id(session, principal, project_id)
        return JSON({"items": service.gold_items(session, project)})


@native.post("/projects/{project_id}/gold")
def add_gold_item(project_id: str, body: GoldItemBody, principal: Principal = Depends(authenticate)):
    """Native twin of /v1/evaluation_tasks: `{"kind": "evaluation"|"training", "expected_response": {...}, ...task params}`
    for this project's task type."""
    authorize(principal, ProjectPolicy.add_gold)
    with get_db().write() as session:
        project = service.get_project_by_id(session, principal, project_id)
        params = {k: v for k, v in body.model_dump().items() if k not in ("kind", "project")}
        item = create_gold_task(session, principal, project.type, {**params, "project": project.name}, body.kind)
        record(session, principal, "gold.create", "task", item["task_id"], {"kind": body.kind, "project": project.name})
        return JSON(item, status_code=201)

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Request

from assay.db import get_db
from assay.errors import field_error
from assay.policies import live_principal, require_admin
from assay.projects import service
from assay.security import Principal
from assay.tasks.service import parse_bool
from assay.tasks.views import task_api
from assay.web import JSON, JSONRoute, UserId, name_param

v1 = APIRouter(prefix="/v1", route_class=JSONRoute)
native = APIRouter(prefix="/api", route_class=JSONRoute)


@v1.post("/projects")
def create_project(body: Any = Body(None), principal: Principal = Depends(task_api)):
    with get_db().write() as session:
        return JSON(service.project_json(service.create_project(session, principal, body)))


@v1.get("/projects")
def list_projects(request: Request, principal: Principal = Depends(task_api)):
    archived = request.query_params.get("archived")
    with get_db().read() as session:
        projects = service.list_projects(session, principal, parse_bool(archived, "archived") if archived else None)
        return JSON([service.project_json(p) for p in projects])


@v1.get("/projects/{name}")
def get_project(name: str, principal: Principal = Depends(task_api)):
    with get_db().read() as session:
        return JSON(service.project_json(service.get_project(session, principal, name_param(name))))


@v1.post("/projects/{name}/setParams")
def set_params(name: str, body: Any = Body(None), principal: Principal = Depends(task_api)):
    with get_db().write() as session:
        return JSON(service.project_json(service.set_params(session, principal, name_param(name), body)))


@native.get("/projects")
def project_settings_list(principal: Principal = Depends(live_principal)):
    """JSON twin of the projects page (admins): every project with its workbench settings."""
    require_admin(principal)
    with get_db().read() as session:
        return JSON({"projects": [service.settings_json(session, p) for p in service.list_projects(session, principal)]})


@native.get("/projects/{project_id}")
def project_settings(project_id: str, principal: Principal = Depends(live_principal)):
    """JSON twin of the project settings page (admins)."""
    require_admin(principal)
    with get_db().read() as session:
        return JSON(service.settings_json(session, service.get_project_by_id(session, principal, project_id)))


@native.patch("/projects/{project_id}")
def update_project_settings(project_id: str, body: Any = Body(None), principal: Principal = Depends(live_principal)):
    require_admin(principal)
    with get_db().write() as session:
        project = service.update_settings(session, principal, service.get_project_by_id(session, principal, project_id), body)
        return JSON(service.settings_json(session, project))


@native.post("/projects/{project_id}/members")
def add_member(project_id: str, body: Any = Body(None), principal: Principal = Depends(live_principal)):
    require_admin(principal)
    with get_db().write() as session:
        project = service.get_project_by_id(session, principal, project_id)
        service.add_member(session, principal, project, body)
        return JSON(service.settings_json(session, project))


@native.delete("/projects/{project_id}/members/{user_id}")
def remove_member(project_id: str, user_id: UserId, principal: Principal = Depends(live_principal)):
    require_admin(principal)
    with get_db().write() as session:
        project = service.get_project_by_id(session, principal, project_id)
        service.remove_member(session, principal, project, user_id)
        return JSON(service.settings_json(session, project))


@native.get("/projects/{project_id}/quality")
def project_quality(project_id: str, principal: Principal = Depends(live_principal)):
    """JSON twin of the project quality page: throughput, each labeler's record and
    confusion matrix, inter-annotator agreement (admins, customers, reviewers in the project)."""
    from assay.projects.quality import quality_report

    with get_db().read() as session:
        return JSON(quality_report(session, principal, service.get_project_by_id(session, principal, project_id)))


@native.post("/projects/{project_id}/quality/refit")
def refit_truth_model(project_id: str, principal: Principal = Depends(live_principal)):
    """Fit the project's named truth-inference method now (the background jobs otherwise
    refit every ASSAY_TRUTH_REFIT_LABELS new labels). 400 when the project's aggregation
    has no model (auto, majority_vote, weighted_majority_vote)."""
    from assay.truth.service import NAMED_METHODS, fit_project, model_summary

    require_admin(principal)
    with get_db().write() as session:
        project = service.get_project_by_id(session, principal, project_id)
        if project.aggregation not in NAMED_METHODS:
            raise field_error("aggregation", f"is {project.aggregation}; only {', '.join(NAMED_METHODS)} have a model to fit")
        fit_project(session, project)
        return JSON({"truth_model": model_summary(session, project.id)})


@native.post("/projects/{project_id}/members/{user_id}/reinstate")
def reinstate_member(project_id: str, user_id: UserId, principal: Principal = Depends(live_principal)):
    """Lift a pause (gold accuracy below the project's threshold); the gold record restarts."""
    from assay.queue.service import reinstate

    require_admin(principal)
    with get_db().write() as session:
        project = service.get_project_by_id(session, principal, project_id)
        reinstate(session, principal, project, user_id)
        return JSON(service.settings_json(session, project))


@native.get("/projects/{project_id}/gold")
def gold_items(project_id: str, principal: Principal = Depends(live_principal)):
    """The project's evaluation (gold) and training items, with answer counts."""
    require_admin(principal)
    with get_db().read() as session:
        project = service.get_project_by_id(session, principal, project_id)
        return JSON({"items": service.gold_items(session, project)})


@native.post("/projects/{project_id}/gold")
def add_gold_item(project_id: str, body: Any = Body(None), principal: Principal = Depends(live_principal)):
    """Native twin of /v1/evaluation_tasks: `{"kind": "evaluation"|"training", "expected_response": {...}, ...task params}`
    for this project's task type."""
    from assay.policies import require_task_api
    from assay.tasks.service import create_gold_task

    require_task_api(principal)
    if not isinstance(body, dict):
        raise field_error("body", "must be a JSON object of task params plus expected_response")
    kind = body.get("kind", "evaluation")
    if kind not in ("evaluation", "training"):
        raise field_error("kind", "must be evaluation or training")
    with get_db().write() as session:
        project = service.get_project_by_id(session, principal, project_id)
        params = {k: v for k, v in body.items() if k not in ("kind", "project")}
        return JSON(create_gold_task(session, principal, project.type, {**params, "project": project.name}, kind), status_code=201)

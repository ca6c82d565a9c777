from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Request

from assay.db import get_db
from assay.projects import service
from assay.security import Principal
from assay.tasks.service import parse_bool
from assay.tasks.views import task_api
from assay.web import JSON, name_param

v1 = APIRouter(prefix="/v1")


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

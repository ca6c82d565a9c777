"""Native JSON API of the workbench: the pull queue, leases, submissions, review.
Pages call these with the session cookie (and CSRF header); scripts with an API key."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends

from assay.db import get_db
from assay.errors import field_error
from assay.policies import live_principal
from assay.queue import service
from assay.security import Principal
from assay.tasks.views import run_db
from assay.web import JSON, JSONRoute

native = APIRouter(prefix="/api", route_class=JSONRoute)


def _holding(body: Any) -> list[str]:
    if body is None:
        return []
    holding = body.get("holding", []) if isinstance(body, dict) else None
    if not isinstance(holding, list) or not all(isinstance(h, str) for h in holding):
        raise field_error("holding", "must be a list of assignment ids")
    return holding


def _in_project(fn, principal: Principal, project_id: str, review: bool, *args):
    with get_db().write() as session:
        project = service.load_project(session, principal, project_id, review=review)
        return fn(session, principal, project, *args)


def _on_assignment(fn, principal: Principal, assignment_id: str, *args):
    with get_db().write() as session:
        return fn(session, principal, assignment_id, *args)


@native.get("/workbench")
async def workbench_home(principal: Principal = Depends(live_principal)):
    """JSON twin of the home page: the caller's projects and their backlog."""
    def run():
        from assay.pages.views import tool_available

        with get_db().write() as session:
            projects = service.project_summaries(session, principal)
        for project in projects:
            project["workbench_tool"] = tool_available(project["type"])
        return {"user": {"email": principal.email, "role": principal.role}, "projects": projects}
    return JSON(await run_db(run))


@native.post("/projects/{project_id}/next")
async def next_task(project_id: str, body: Any = Body(None), principal: Principal = Depends(live_principal)):
    return JSON(await run_db(_in_project, service.claim, principal, project_id, False, "label", _holding(body)))


@native.post("/projects/{project_id}/review/next")
async def next_review(project_id: str, body: Any = Body(None), principal: Principal = Depends(live_principal)):
    return JSON(await run_db(_in_project, service.claim, principal, project_id, True, "review", _holding(body)))


@native.get("/projects/{project_id}/previous")
async def previous_submission(project_id: str, principal: Principal = Depends(live_principal)):
    return JSON(await run_db(_in_project, service.previous, principal, project_id, False))


@native.post("/assignments/{assignment_id}/heartbeat")
async def heartbeat(assignment_id: str, principal: Principal = Depends(live_principal)):
    return JSON(await run_db(_on_assignment, service.heartbeat, principal, assignment_id))


@native.post("/assignments/{assignment_id}/submit")
async def submit(assignment_id: str, body: Any = Body(None), principal: Principal = Depends(live_principal)):
    return JSON(await run_db(_on_assignment, service.submit, principal, assignment_id, body))


@native.post("/assignments/{assignment_id}/skip")
async def skip(assignment_id: str, body: Any = Body(None), principal: Principal = Depends(live_principal)):
    return JSON(await run_db(_on_assignment, service.skip, principal, assignment_id, body))


@native.post("/assignments/{assignment_id}/review")
async def review(assignment_id: str, body: Any = Body(None), principal: Principal = Depends(live_principal)):
    return JSON(await run_db(_on_assignment, service.review, principal, assignment_id, body))

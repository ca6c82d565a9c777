"""The overview's JSON: projects with progress, charts data, slices (bias checks)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from assay import flows
from assay.auth.dependencies import authenticate
from assay.auth.principals import Principal
from assay.authz import authorize
from assay.db import get_db
from assay.insights.policies import InsightsPolicy
from assay.projects.service import get_project_by_id
from assay.queue.service import membership
from assay.web import JSON, JSONRoute, parse_int

native = APIRouter(prefix="/api", route_class=JSONRoute)


@native.get("/insights/projects")
def overview(principal: Principal = Depends(authenticate)):
    authorize(principal, InsightsPolicy.overview)
    with get_db().read() as session:
        return JSON({"projects": flows.projects_with_progress(session, principal)})


def _project(session, principal: Principal, project_id: str | None):
    """The project a chart or slice view is about (None: the whole organization)."""
    if not project_id:
        authorize(principal, InsightsPolicy.overview)
        return None
    project = get_project_by_id(session, principal, project_id)
    authorize(principal, InsightsPolicy.view_project(membership.is_member(session, project, principal.user_id), project.name))
    return project


@native.get("/insights/charts")
def charts(request: Request, principal: Principal = Depends(authenticate)):
    days = parse_int(request.query_params.get("days"), "days", default=14, lo=2, hi=120)
    with get_db().read() as session:
        project = _project(session, principal, request.query_params.get("project_id"))  # authorize(...) inside
        return JSON(flows.chart_data(session, principal, project, days))


@native.get("/insights/slices")
def slice_report(request: Request, principal: Principal = Depends(authenticate)):
    with get_db().read() as session:
        project = get_project_by_id(session, principal, request.query_params.get("project_id") or "")
        authorize(principal, InsightsPolicy.view_project(membership.is_member(session, project, principal.user_id), project.name))
        return JSON(flows.slice_data(session, project, request.query_params))

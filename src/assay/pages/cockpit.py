"""The lead's cockpit pages: the task browser, charts, slices (bias), timesheet, payout,
skills and rates, exposure. Each page's data has a JSON twin (docs/pages.md); the charts
are the twin's numbers drawn as SVG on the server (pages/charts.py)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request

from assay import flows
from assay.auth.principals import Principal
from assay.authz import authorize
from assay.db import get_db
from assay.insights.policies import InsightsPolicy
from assay.orgs.models import Role
from assay.orgs.service import list_users
from assay.pages.charts import trend_charts
from assay.pages.render import guarded, render
from assay.people import service as people
from assay.people.policies import PeoplePolicy
from assay.projects.service import get_project_by_id, list_projects
from assay.queue.service import membership
from assay.tasks.models import TASK_STATUSES
from assay.tasks.policies import TaskPolicy
from assay.tasks.service import browse
from assay.web import parse_int

router = APIRouter(include_in_schema=False)


@router.get("/admin/tasks")
@guarded
def tasks_page(request: Request, principal: Principal):
    authorize(principal, TaskPolicy.browse)
    query = request.query_params
    with get_db().read() as session:
        result = browse.browse(session.connection(), principal, query)
        projects = list_projects(session, principal)
        people_list = [u for u in list_users(session, principal.org_id) if u.role != Role.CUSTOMER]
    keep = {k: v for k, v in query.items() if k != "page"}
    return render("admin_tasks.html", request, result=result, query=query, projects=projects, people=people_list, statuses=TASK_STATUSES,
                  review_states=browse.REVIEW_FILTERS, sorts=list(browse.SORTS), chosen_status=query.getlist("status"),
                  next_query=urlencode({**keep, "page": result["next_page"]}) if result["next_page"] else "",
                  prev_query=urlencode({**keep, "page": result["page"] - 1}) if result["page"] > 1 else "")


@router.get("/admin/charts")
@guarded
def charts_page(request: Request, principal: Principal):
    days = parse_int(request.query_params.get("days"), "days", default=14, lo=2, hi=120)
    project_id = request.query_params.get("project_id")
    with get_db().read() as session:
        project = None
        if project_id:
            project = get_project_by_id(session, principal, project_id)
            authorize(principal, InsightsPolicy.view_project(membership.is_member(session, project, principal.user_id), project.name))
        else:
            authorize(principal, InsightsPolicy.overview)
        data = flows.chart_data(session, principal, project, days)
        projects = list_projects(session, principal) if principal.role == Role.ADMIN else []
    return render("admin_charts.html", request, data=data, charts=trend_charts(data), projects=projects, days=days, project_id=project_id or "")


@router.get("/admin/slices")
@guarded
def slices_page(request: Request, principal: Principal):
    with get_db().read() as session:
        project = get_project_by_id(session, principal, request.query_params.get("project_id") or "")
        authorize(principal, InsightsPolicy.view_project(membership.is_member(session, project, principal.user_id), project.name))
        data = flows.slice_data(session, project, request.query_params)
    return render("admin_slices.html", request, data=data, key=request.query_params.get("key", ""),
                  labeler=request.query_params.get("labeler", ""))


@router.get("/admin/timesheet")
@guarded
def timesheet_page(request: Request, principal: Principal):
    authorize(principal, PeoplePolicy.manage)
    since, until = people.period(request.query_params)
    with get_db().connect() as conn:
        rows = people.timesheet(conn, principal.org_id, since, until)
    totals = {}
    for r in rows:
        t = totals.setdefault(r["email"], {"labels": 0, "active_hours": 0.0, "idle_hours": 0.0})
        for k in t:
            t[k] += r[k]
    return render("admin_timesheet.html", request, rows=rows, totals=totals, since=since, until=until,
                  csv_query=urlencode({"since": since, "until": until, "format": "csv"}))


@router.get("/admin/payout")
@guarded
def payout_page(request: Request, principal: Principal):
    authorize(principal, PeoplePolicy.manage)
    since, until = people.period(request.query_params)
    with get_db().read() as session:
        rows = people.payout(session.connection(), principal.org_id, since, until)
        rates = people.rates_json(session, principal.org_id)
        projects = list_projects(session, principal)
        people_list = [u for u in list_users(session, principal.org_id) if u.role != Role.CUSTOMER]
    totals: dict[str, float] = {}
    for r in rows:
        if r["currency"]:
            totals[r["currency"]] = round(totals.get(r["currency"], 0.0) + r["amount"], 2)
    return render("admin_payout.html", request, rows=rows, rates=rates, totals=totals, since=since, until=until, projects=projects,
                  people=people_list, csv_query=urlencode({"since": since, "until": until, "format": "csv"}))


@router.get("/admin/skills")
@guarded
def skills_page(request: Request, principal: Principal):
    authorize(principal, PeoplePolicy.manage)
    with get_db().read() as session:
        skills = people.skills_of(session.connection(), principal.org_id)
        people_list = [u for u in list_users(session, principal.org_id) if u.role != Role.CUSTOMER]
        projects = list_projects(session, principal)
    return render("admin_skills.html", request, skills=skills, people=people_list, projects=projects)


@router.get("/admin/wellbeing")
@guarded
def wellbeing_page(request: Request, principal: Principal):
    authorize(principal, PeoplePolicy.manage)
    with get_db().connect() as conn:
        data = people.exposure(conn, principal.org_id)
    return render("admin_wellbeing.html", request, data=data)

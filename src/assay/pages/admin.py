"""The admin pages: people, projects, one project's settings and model, and the project
quality page. Each page's data has a JSON twin (docs/pages.md)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request

from assay import flows
from assay.audit.log import ACTIONS
from assay.audit.policies import AuditPolicy
from assay.audit.service import audit_filter, page_of_events
from assay.auth.principals import Principal
from assay.authz import authorize
from assay.backends.schemas import BACKENDS, FEATURES, STRATEGIES
from assay.backends.service.settings import model_json
from assay.db import get_db
from assay.exports.formats import FORMATS
from assay.exports.service.jobs import job_json, list_jobs
from assay.markdown import render as markdown
from assay.orgs.models import ROLES, Role
from assay.orgs.policies import UserPolicy
from assay.orgs.service import list_users, user_json
from assay.pages.render import guarded, render
from assay.projects import quality
from assay.projects.policies import ProjectPolicy
from assay.projects.service import get_project_by_id
from assay.queue.service import membership
from assay.web import parse_int

router = APIRouter(include_in_schema=False)


@router.get("/admin/users")
@guarded
def users_page(request: Request, principal: Principal):
    authorize(principal, UserPolicy.manage)
    with get_db().read() as session:
        users = [user_json(u) for u in list_users(session, principal.org_id)]
    return render("admin_users.html", request, users=users, roles=ROLES)


@router.get("/admin/audit")
@guarded
def audit_page(request: Request, principal: Principal):
    authorize(principal, AuditPolicy.view)
    where = audit_filter(request.query_params)
    before = parse_int(request.query_params.get("before"), "before", default=0, lo=0, hi=2**63 - 1) or None
    with get_db().read() as session:
        events, next_before = page_of_events(session, principal.org_id, where, before)
    query = {k: v for k, v in request.query_params.items() if k != "before"}
    return render("admin_audit.html", request, events=events, where=where, actions=sorted(ACTIONS), action_help=ACTIONS,
                  since=request.query_params.get("since", ""), until=request.query_params.get("until", ""), next_before=next_before,
                  next_query=urlencode({**query, "before": next_before}) if next_before else "")


@router.get("/admin/projects")
@guarded
def projects_page(request: Request, principal: Principal):
    authorize(principal, ProjectPolicy.manage)
    with get_db().read() as session:
        projects = flows.projects_with_progress(session, principal)
    return render("admin_projects.html", request, projects=projects)


@router.get("/admin/projects/{project_id}")
@guarded
def project_page(request: Request, principal: Principal, project_id: str):
    authorize(principal, ProjectPolicy.manage)
    with get_db().read() as session:
        project = get_project_by_id(session, principal, project_id)
        settings = flows.project_settings(session, project)
        model = model_json(session, project)
        member_ids = {m["id"] for m in settings["members"]}
        candidates = [u for u in list_users(session, principal.org_id) if u.id not in member_ids and u.role != Role.CUSTOMER and u.active]
        exports = [job_json(j) for j in list_jobs(session, project, principal.is_test)]
    formats = [f.json() for f in FORMATS.values() if not f.task_types or project.type in f.task_types]
    return render("admin_project.html", request, project=settings, candidates=candidates, instruction_html=markdown(settings["instruction"]),
                  model=model, backends=BACKENDS, features=FEATURES, strategies=STRATEGIES, exports=exports, formats=formats)


def _heat(value: float | None, buckets: int = 5) -> int:
    """Intensity bucket 0..buckets of a share in [0, 1] (0 only for nothing at all)."""
    if value is None or value <= 0:
        return 0
    return min(buckets, 1 + int(value * buckets))


def _heat_rows(matrix: list[list[int]]) -> list[list[dict]]:
    """Confusion matrix cells with their share of the row (the final label) and a bucket."""
    rows = []
    for r, row in enumerate(matrix):
        total = sum(row)
        rows.append([{"n": n, "share": n / total if total else 0.0, "heat": _heat(n / total if total else 0.0), "diagonal": r == c}
                     for c, n in enumerate(row)])
    return rows


@router.get("/admin/projects/{project_id}/quality")
@guarded
def quality_page(request: Request, principal: Principal, project_id: str):
    with get_db().read() as session:
        project = get_project_by_id(session, principal, project_id)
        authorize(principal, ProjectPolicy.view_quality(membership.is_member(session, project, principal.user_id), project.name))
        report = quality.quality_report(session, project)
    return render("quality.html", request, report=report, heat=_heat, **_quality_figures(report))


def _quality_figures(report: dict) -> dict:
    """The quality page's heat maps and pairwise-kappa table from the report."""
    heatmaps = []
    if report["categorical"] and report["annotators"]:
        heatmaps.append({"title": "All annotators", "user_id": "all", "rows": _heat_rows(report["confusion_total"])})
        heatmaps += [{"title": a["email"] or f"user {a['user_id']}", "user_id": a["user_id"], "rows": _heat_rows(a["confusion"])}
                     for a in report["annotators"] if a["answers"]]
    gold_heatmaps = []
    if report["categorical"] and report["gold_answers"]:
        gold_heatmaps.append({"title": "All annotators", "user_id": "gold-all", "rows": _heat_rows(report["gold_confusion_total"])})
        gold_heatmaps += [{"title": a["email"] or f"user {a['user_id']}", "user_id": f"gold-{a['user_id']}", "rows": _heat_rows(a["gold_confusion"])}
                          for a in report["annotators"] if a["gold_answered"]]
    kappa = {(p["a"], p["b"]): p for p in report["agreement"]["pairwise"]["pairs"]}
    kappa.update({(b, a): p for (a, b), p in list(kappa.items())})
    return {"heatmaps": heatmaps, "gold_heatmaps": gold_heatmaps, "kappa_people": [a for a in report["annotators"] if a["kappa"]],
            "kappa": kappa, "by_id": {a["user_id"]: a for a in report["annotators"]}}

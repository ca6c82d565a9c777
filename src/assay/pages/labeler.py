"""The labeler's pages: home (projects and backlog), the workbench (label and review), and
the task page. Each page's data has a JSON twin (docs/pages.md)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from assay import flows
from assay.auth.principals import Principal
from assay.authz import authorize
from assay.config import get_settings
from assay.db import get_db
from assay.pages.render import HERE, guarded, render
from assay.queue.policies import QueuePolicy
from assay.queue.service import access, workbench
from assay.tasks.policies import TaskPolicy
from assay.tasks.service import detail
from assay.tasktypes import get_plugin

router = APIRouter(include_in_schema=False)


@router.get("/")
@guarded
def home(request: Request, principal: Principal):
    authorize(principal, QueuePolicy.work())
    with get_db().read() as session:
        projects = workbench.project_summaries(session, principal)
    return render("home.html", request, projects=projects)


def _workbench(request: Request, principal: Principal, project_id: str, mode: str):
    with get_db().read() as session:
        project = access.project_access(session, principal, project_id)
    authorize(principal, QueuePolicy.review(project) if mode == "review" else QueuePolicy.label(project))
    settings = get_settings()
    tool_css = (HERE / "static" / "css" / "tools" / f"{project.type}.css").exists()
    return render("workbench.html", request, project=project, mode=mode, type_title=get_plugin(project.type).title, tool_css=tool_css,
                  has_tool=workbench.tool_available(project.type),
                  heartbeat_seconds=settings.heartbeat_seconds, idle_after_seconds=settings.idle_after_seconds,
                  break_after_minutes=settings.break_after_minutes)


@router.get("/label/{project_id}")
@guarded
def label_page(request: Request, principal: Principal, project_id: str):
    return _workbench(request, principal, project_id, "label")  # authorize(...) inside


@router.get("/review/{project_id}")
@guarded
def review_page(request: Request, principal: Principal, project_id: str):
    return _workbench(request, principal, project_id, "review")  # authorize(...) inside


@router.get("/view/task/{task_id}")
@guarded
def task_page(request: Request, principal: Principal, task_id: str):
    with get_db().read() as session:
        task = detail.load_task(session, principal, task_id)
        authorize(principal, TaskPolicy.read_detail(*detail.access_facts(session, principal, task)))
        data = flows.task_page(session, principal, task)
    tool_css = (HERE / "static" / "css" / "tools" / f"{task.type}.css").exists()
    return render("task.html", request, task=data, type_title=get_plugin(task.type).title, tool_css=tool_css)

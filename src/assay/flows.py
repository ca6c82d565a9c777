"""Steps that span two domains, called by views and pages (after Netflix Dispatch's
`flows`): kept here, small, so no domain service ever imports another."""

from __future__ import annotations

import io
import posixpath
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.audit.service import AuditFilter, page_of_events
from assay.auth.principals import Principal
from assay.authz import authorize
from assay.backends.schemas import ChatTurnBody
from assay.backends.service import livechat
from assay.backends.service.settings import get_model
from assay.errors import field_error
from assay.files import service as files
from assay.insights.service import progress, slices, trends
from assay.orgs.models import Role
from assay.projects.models import Project
from assay.projects.service import get_project_by_id, list_projects, project_json, settings_json, staffing_json
from assay.queue.models import Assignment
from assay.queue.policies import QueuePolicy
from assay.queue.schemas import AnswerBody, SubmitBody
from assay.queue.service import submit
from assay.queue.service.access import task_project_access
from assay.queue.service.leases import own_assignment
from assay.queue.service.membership import members_json
from assay.queue.service.submit import answer_directly
from assay.queue.service.workbench import read_only_view
from assay.tasks.models import Task, TaskKind
from assay.tasks.service import detail, listing
from assay.tasks.service import imports as task_imports
from assay.tasks.service.create import create_tasks_bulk


def project_settings(session: Session, project: Project) -> dict[str, Any]:
    """A project's settings (projects) with its members and their gold records (queue)."""
    return {**settings_json(project), "members": members_json(session, project), **staffing_json(session, project)}


def answer_task(session: Session, principal: Principal, task_id: str, body: AnswerBody) -> dict[str, Any]:
    """One answer without a lease: the task (tasks) under the queue's rules and slots
    (queue), rendered as Scale JSON."""
    task = listing.get_task(session, principal, task_id, for_update=True)
    authorize(principal, QueuePolicy.answer(task_project_access(session, principal, task)))
    if task.type == "multichat" and task.kind == TaskKind.TASK:
        # a live chat's transcript is the one its turns stored, in the caller's assignment
        mine = session.scalar(select(Assignment.id).where(Assignment.task_id == task.id, Assignment.user_id == principal.user_id)
                              .order_by(Assignment.id.desc()).limit(1))
        livechat.check_transcript(session, mine or 0, body.response)
    answer_directly(session, principal, task, body)
    session.flush()
    return listing.render(session, task)


def projects_with_progress(session: Session, principal: Principal) -> list[dict[str, Any]]:
    """The organization's projects (projects) with their progress (insights)."""
    projects = [p for p in list_projects(session, principal) if not p.archived]
    done = progress.progress(session.connection(), principal.org_id, [p.id for p in projects])
    return [{**project_json(p), "review_fraction": p.review_fraction, "progress": done[p.id]} for p in projects]


def chart_data(session: Session, principal: Principal, project: Project | None, days: int) -> dict[str, Any]:
    """A project's (or the organization's) series over time (insights) with the project."""
    data = trends.trends(session.connection(), principal.org_id, project.id if project else None, days)
    return {"project": _brief(project) if project else None, **data}


def slice_data(session: Session, project: Project, query) -> dict[str, Any]:
    """Slices of a project's labels by a metadata key (`key`) or a labeler attribute
    (`labeler`); the first metadata key seen when neither is given."""
    conn = session.connection()
    keys = slices.metadata_keys(conn, project.id)
    if query.get("labeler"):
        report = slices.by_labeler(conn, project, query["labeler"])
    elif query.get("key") or keys:
        report = slices.by_metadata(conn, project, query.get("key") or keys[0])
    else:
        report = None
    return {"project": _brief(project), "metadata_keys": keys, "report": report}


def task_page(session: Session, principal: Principal, task: Task) -> dict[str, Any]:
    """One task for its page and JSON twin: everything people did on it (tasks), its
    audit-log entries in the history (audit), and the read-only tool's view with every
    answer the caller may see, the consolidated one first (queue)."""
    out = detail.task_detail(session, principal, task)
    responses: dict[str, Any] = {}
    if out.get("consolidated"):
        responses["consolidated"] = out["consolidated"]["response"]
    for answer in out["answers"]:
        responses[f"answer-{answer['id']}"] = answer["response"]
    out["tool"] = read_only_view(session, task.id, responses)
    events = [] if principal.role == Role.ANNOTATOR else page_of_events(session, principal.org_id, AuditFilter(target_id=task.public_id),
                                                                         limit=200)[0]
    out["history"] = sorted(out["history"] + [
        {"at": e["at"], "what": e["action"], "who": e["actor"], "detail": _audit_detail(e["details"])}
        for e in events if e["target_type"] == "task"], key=lambda e: (e["at"] or "", e["what"] == out["status"]))  # the end last
    return out


def _audit_detail(details: dict[str, Any]) -> str | None:
    return ", ".join(f"{k}: {v}" for k, v in details.items() if not isinstance(v, (list, dict))) or None


def _brief(project: Project) -> dict[str, Any]:
    return {"id": project.public_id, "name": project.name, "type": project.type}


def import_tasks(session: Session, principal: Principal, project: Project, parsed: Any, mode: str, batch: str | None) -> list[str]:
    """An import's media stored as uploaded files (their scaledata:// URLs become the
    attachments), then its tasks, in the caller's transaction."""
    attachments: dict[str, str] = {}
    for name, data in parsed.media.items():
        file_id, path, size, sha = files.store_stream(principal, io.BytesIO(data))
        files.record_file(session, principal, file_id, path, size, sha, posixpath.basename(name), None, {"project_name": project.name})
        attachments[name] = f"scaledata://{principal.org_public_id}/{file_id}"
    return task_imports.store(session, principal, project, parsed.rows, mode, batch, attachments)


def leaderboard_projects(session: Session, principal: Principal, raw: str | None) -> list[Project]:
    """The chat projects a leaderboard covers (projects) for the leaderboards: those named
    in `projects=` (comma-separated ids, the caller's organization only), else all."""
    if not raw:
        return [p for p in list_projects(session, principal) if p.type == "chat"]
    projects = []
    for public_id in dict.fromkeys(x.strip() for x in raw.split(",") if x.strip()):
        project = get_project_by_id(session, principal, public_id)
        if project.type != "chat":
            raise field_error("projects", f"project {project.name!r} is a {project.type} project; leaderboards rank the models of chat projects")
        projects.append(project)
    return projects


def submit_answer(session: Session, principal: Principal, assignment_id: str, body: SubmitBody) -> dict[str, Any]:
    """Submit through the queue (queue); a live chat's transcript is first checked against
    the turns stored for the assignment (backends)."""
    assignment = own_assignment(session, principal, assignment_id)
    task = session.get(Task, assignment.task_id)
    if task is not None and task.type == "multichat" and task.kind == TaskKind.TASK:
        livechat.check_transcript(session, assignment.id, body.response)
    return submit.submit(session, principal, assignment_id, body)


def live_chat_plan(session: Session, principal: Principal, assignment_id: str, body: ChatTurnBody) -> livechat.TurnPlan:
    """What a live-chat turn asks: the caller's assignment (queue), its task (tasks) and the
    project's chat model (backends)."""
    assignment = own_assignment(session, principal, assignment_id)
    task = session.get(Task, assignment.task_id)
    project = session.get(Project, assignment.project_id)
    return livechat.plan_turn(session, get_model(session, project), task, assignment, body)


def live_chat_turns(session: Session, principal: Principal, assignment_id: str) -> dict[str, Any]:
    """The turns stored for the caller's assignment (a reloaded page picks the chat up)."""
    assignment = own_assignment(session, principal, assignment_id)
    return {"assignment_id": assignment_id, "turns": livechat.stored_turns(session, assignment.id)}


def evaluation_tasks(session: Session, principal: Principal, project: Project, tasks: list[dict[str, Any]]) -> list[str]:
    """An evaluation run's items as chat tasks for people (tasks), made in one transaction."""
    if not tasks:
        return []
    return create_tasks_bulk(session, principal, {"type": "chat", "project": project.name, "tasks": tasks})

"""Native JSON API of the workbench: the pull queue, leases, submissions, review.
Pages call these with the session cookie (and CSRF header); scripts with an API key.
Each handler loads, authorizes with QueuePolicy, calls a queue service, returns JSON."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from assay import flows
from assay.audit.log import record
from assay.auth.dependencies import authenticate
from assay.auth.principals import Principal
from assay.authz import authorize
from assay.db import get_db
from assay.queue.models import AssignmentKind
from assay.queue.policies import QueuePolicy
from assay.queue.schemas import FlagBody, NextBody, ReviewBody, SkipBody, SubmitBody
from assay.queue.service import access, claim, leases, review, submit, workbench
from assay.web import JSON, JSONRoute, run_db

native = APIRouter(prefix="/api", route_class=JSONRoute)


@native.get("/workbench")
async def workbench_home(principal: Principal = Depends(authenticate)):
    """JSON twin of the home page: the caller's projects and their backlog."""
    authorize(principal, QueuePolicy.work())

    def run():
        with get_db().read() as session:
            projects = workbench.project_summaries(session, principal)
        return {"user": {"email": principal.email, "role": principal.role}, "projects": projects}
    return JSON(await run_db(run))


def _claim(principal: Principal, project_id: str, kind: str, holding: list[str]):
    with get_db().write() as session:
        project = access.project_access(session, principal, project_id)
        authorize(principal, QueuePolicy.label(project) if kind == AssignmentKind.LABEL else QueuePolicy.review(project))
        out = claim.claim(session, principal, project, kind, holding)
        project_pk = project.id
    # counted after the commit, outside the write lock: it reads the project's whole backlog
    with get_db().read() as session:
        return {**out, "progress": workbench.progress(session, principal, project_pk, kind)}


@native.post("/projects/{project_id}/next")
async def next_task(project_id: str, body: NextBody | None = None, principal: Principal = Depends(authenticate)):
    authorize(principal, QueuePolicy.work())  # then the project's own rules in _claim
    return JSON(await run_db(_claim, principal, project_id, AssignmentKind.LABEL, body.holding if body else []))


@native.post("/projects/{project_id}/review/next")
async def next_review(project_id: str, body: NextBody | None = None, principal: Principal = Depends(authenticate)):
    authorize(principal, QueuePolicy.work())  # then the project's own rules in _claim
    return JSON(await run_db(_claim, principal, project_id, AssignmentKind.REVIEW, body.holding if body else []))


@native.get("/projects/{project_id}/previous")
async def previous_submission(project_id: str, principal: Principal = Depends(authenticate)):
    def run():
        with get_db().write() as session:
            project = access.project_access(session, principal, project_id)
            authorize(principal, QueuePolicy.label(project))
            return submit.previous(session, principal, project)
    return JSON(await run_db(run))


def _on_assignment(fn, principal: Principal, assignment_id: str, *args):
    """Assignment routes: the caller's own assignments only (the query is scoped to them)."""
    with get_db().write() as session:
        return fn(session, principal, assignment_id, *args)


def _flag(principal: Principal, assignment_id: str, body: FlagBody) -> dict:
    with get_db().write() as session:
        result = submit.flag(session, principal, assignment_id, body)
        record(session, principal, "task.flag", "task", result["task_id"], {"warning": result["content_warning"]})
        return result


@native.post("/assignments/{assignment_id}/flag")
async def flag_content(assignment_id: str, body: FlagBody, principal: Principal = Depends(authenticate)):
    authorize(principal, QueuePolicy.work())  # and only the caller's own assignment (scoped query)
    return JSON(await run_db(_flag, principal, assignment_id, body))


@native.post("/assignments/{assignment_id}/heartbeat")
async def heartbeat(assignment_id: str, principal: Principal = Depends(authenticate)):
    authorize(principal, QueuePolicy.work())
    return JSON(await run_db(_on_assignment, leases.heartbeat, principal, assignment_id))


@native.post("/assignments/{assignment_id}/submit")
async def submit_answer(assignment_id: str, body: SubmitBody, principal: Principal = Depends(authenticate)):
    authorize(principal, QueuePolicy.work())
    return JSON(await run_db(_on_assignment, flows.submit_answer, principal, assignment_id, body))


@native.post("/assignments/{assignment_id}/skip")
async def skip(assignment_id: str, body: SkipBody, principal: Principal = Depends(authenticate)):
    authorize(principal, QueuePolicy.work())
    return JSON(await run_db(_on_assignment, submit.skip, principal, assignment_id, body))


@native.post("/assignments/{assignment_id}/review")
async def review_verdict(assignment_id: str, body: ReviewBody, principal: Principal = Depends(authenticate)):
    authorize(principal, QueuePolicy.work())
    return JSON(await run_db(_on_assignment, review.review, principal, assignment_id, body))

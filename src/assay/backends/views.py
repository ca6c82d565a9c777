"""A project's model backend, its background round on demand, and label-error checks:
handlers load the project, authorize with ModelPolicy, call a backends service, return
JSON."""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends

from assay import flows
from assay.audit.log import record
from assay.auth.dependencies import authenticate
from assay.auth.principals import Principal
from assay.authz import authorize
from assay.backends import builtin
from assay.backends.policies import ModelPolicy
from assay.backends.schemas import ChatTurnBody, ModelSettingsBody
from assay.backends.service import http, judge_quality, label_errors, livechat, rounds, settings
from assay.db import get_db
from assay.errors import Conflict, field_error
from assay.projects.service import get_project_by_id
from assay.queue.policies import QueuePolicy
from assay.web import JSON, JSONRoute

native = APIRouter(prefix="/api", route_class=JSONRoute)


@native.get("/projects/{project_id}/model")
def get_model(project_id: str, principal: Principal = Depends(authenticate)):
    """The project's model backend: settings, state (version, training, threshold, last
    error) and counts. Admins and customers."""
    authorize(principal, ModelPolicy.view)
    with get_db().read() as session:
        return JSON(settings.model_json(session, get_project_by_id(session, principal, project_id)))


@native.put("/projects/{project_id}/model")
@native.patch("/projects/{project_id}/model")
def set_model(project_id: str, body: ModelSettingsBody, principal: Principal = Depends(authenticate)):
    """Attach or change the model backend (`{"backend": "builtin"|"http", "url", ...}`);
    `{"backend": null}` detaches it. 400 naming the field; nothing changes on error."""
    authorize(principal, ModelPolicy.change)
    with get_db().write() as session:
        project = get_project_by_id(session, principal, project_id)
        settings.update_settings(session, project, body)
        details = body.model_dump(exclude_unset=True)
        if "api_key" in details:
            details["api_key"] = "(set)" if details["api_key"] else None  # the key itself is never logged
        record(session, principal, "model.settings", "project", project.public_id, details)
        return JSON(settings.model_json(session, project))


@native.post("/projects/{project_id}/model/check")
def check_model(project_id: str, principal: Principal = Depends(authenticate)):
    """Ask an HTTP backend's /health now (the result is recorded on the project)."""
    authorize(principal, ModelPolicy.change)
    with get_db().write() as session:
        return JSON(http.check_health(session, get_project_by_id(session, principal, project_id)))


@native.post("/projects/{project_id}/model/run")
def run_model(project_id: str, principal: Principal = Depends(authenticate)):
    """Run one round of the model's background work for this project now (train when due,
    predict pending tasks, order the queue, calibrate and auto-accept), after any round the
    background jobs are running (409 if that takes over a minute). A backend failure is
    recorded and returned, not raised."""
    authorize(principal, ModelPolicy.change)
    db = get_db()
    with db.read() as session:
        project = get_project_by_id(session, principal, project_id)
        model = settings.get_model(session, project)
        if model is None:
            raise field_error("backend", "no model backend is attached to this project")
    deadline = time.monotonic() + 60
    while not rounds.claim_model(db, model.id):
        if time.monotonic() > deadline:
            raise Conflict("the project's model is busy with a background round; try again shortly")
        time.sleep(0.05)
    try:
        rounds.work_on(db, model.id)
    except (http.BackendError, builtin.NotPredictable) as exc:
        settings.record(db, model.id, error=str(exc))
    finally:
        rounds.release_model(db, model.id)
    with db.write() as session:
        record(session, principal, "model.run", "project", project.public_id)
    with db.read() as session:
        return JSON(settings.model_json(session, project))


@native.post("/projects/{project_id}/label-errors/scan")
def scan_label_errors(project_id: str, principal: Principal = Depends(authenticate)):
    """Rank the finished single-choice text tasks by how likely their label is wrong
    (confident learning on out-of-fold predictions); stores and returns the top 50."""
    authorize(principal, ModelPolicy.change)
    db = get_db()
    with db.read() as session:
        project = get_project_by_id(session, principal, project_id)
    result = label_errors.scan_label_errors(db, project)
    with db.write() as session:
        record(session, principal, "model.label_errors", "project", project.public_id, {"tasks": result["tasks"]})
    return JSON(result)


@native.get("/projects/{project_id}/label-errors")
def get_label_errors(project_id: str, principal: Principal = Depends(authenticate)):
    authorize(principal, ModelPolicy.view)
    with get_db().read() as session:
        project = get_project_by_id(session, principal, project_id)
        model = settings.get_model(session, project)
        return JSON((model.suspects if model else None) or {"suspects": [], "scanned_at": None})


@native.get("/projects/{project_id}/judge")
def get_judge_quality(project_id: str, principal: Principal = Depends(authenticate)):
    """How the project's LLM judge compares with people on pairwise chat tasks: position
    bias, Cohen's kappa, accuracy against the consolidated answer, the adaptive-overlap
    replay with the judge as a labeler (docs/judges.md)."""
    with get_db().read() as session:
        project = get_project_by_id(session, principal, project_id)
        authorize(principal, ModelPolicy.view)
        return JSON(judge_quality.judge_report(session, project))


@native.post("/assignments/{assignment_id}/chat")
def live_chat_turn(assignment_id: str, body: ChatTurnBody, principal: Principal = Depends(authenticate)):
    """One live-chat turn of a multichat assignment: the labeler's prompt goes to the
    project's chat model, its replies are stored in order and returned (docs/live-chat.md).
    The model is called outside any database transaction."""
    authorize(principal, QueuePolicy.work())
    db = get_db()
    with db.read() as session:
        plan = flows.live_chat_plan(session, principal, assignment_id, body)
    replies = livechat.generate(plan)
    with db.write() as session:
        return JSON(livechat.store_turn(session, plan, replies))


@native.get("/assignments/{assignment_id}/chat")
def live_chat_transcript(assignment_id: str, principal: Principal = Depends(authenticate)):
    """The turns stored so far for the caller's multichat assignment."""
    authorize(principal, QueuePolicy.work())
    with get_db().read() as session:
        return JSON(flows.live_chat_turns(session, principal, assignment_id))

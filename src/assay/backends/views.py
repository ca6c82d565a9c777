"""Model backends, pre-labels, active learning, auto-accept, label errors and export:
handlers load the project, authorize, call `backends.service`, return JSON."""

from __future__ import annotations

import csv
import io
from typing import Any

import orjson
from fastapi import APIRouter, Body, Depends
from fastapi.responses import StreamingResponse

from assay.backends import service
from assay.db import get_db
from assay.errors import field_error
from assay.policies import live_principal, require_admin, require_task_api
from assay.projects.service import get_project_by_id
from assay.security import Principal, authenticate
from assay.web import JSON, JSONRoute, attachment_disposition

native = APIRouter(prefix="/api", route_class=JSONRoute)


@native.get("/projects/{project_id}/model")
def get_model(project_id: str, principal: Principal = Depends(live_principal)):
    """The project's model backend: settings, state (version, training, threshold, last
    error) and counts. Admins and customers."""
    require_task_api(principal)
    with get_db().read() as session:
        return JSON(service.model_json(session, get_project_by_id(session, principal, project_id)))


@native.put("/projects/{project_id}/model")
@native.patch("/projects/{project_id}/model")
def set_model(project_id: str, body: Any = Body(None), principal: Principal = Depends(live_principal)):
    """Attach or change the model backend (`{"backend": "builtin"|"http", "url", ...}`);
    `{"backend": null}` detaches it. 400 naming the field; nothing changes on error."""
    require_admin(principal)
    with get_db().write() as session:
        project = get_project_by_id(session, principal, project_id)
        service.update_settings(session, project, body)
        return JSON(service.model_json(session, project))


@native.post("/projects/{project_id}/model/check")
def check_model(project_id: str, principal: Principal = Depends(live_principal)):
    """Ask an HTTP backend's /health now (the result is recorded on the project)."""
    require_admin(principal)
    with get_db().write() as session:
        return JSON(service.check_health(session, get_project_by_id(session, principal, project_id)))


@native.post("/projects/{project_id}/model/run")
def run_model(project_id: str, principal: Principal = Depends(live_principal)):
    """Run one round of the model's background work for this project now (train when due,
    predict pending tasks, order the queue, calibrate and auto-accept), after any round the
    background jobs are running (409 if that takes over a minute). A backend failure is
    recorded and returned, not raised."""
    import time

    from assay.errors import Conflict

    require_admin(principal)
    db = get_db()
    with db.read() as session:
        project = get_project_by_id(session, principal, project_id)
        model = service.get_model(session, project)
        if model is None:
            raise field_error("backend", "no model backend is attached to this project")
    deadline = time.monotonic() + 60
    while not service.claim(db, model.id):
        if time.monotonic() > deadline:
            raise Conflict("the project's model is busy with a background round; try again shortly")
        time.sleep(0.05)
    try:
        service.work_on(db, model.id)
    except (service.BackendError, service.builtin.NotPredictable) as exc:
        service.record(db, model.id, error=str(exc))
    finally:
        service.release(db, model.id)
    with db.read() as session:
        return JSON(service.model_json(session, project))


@native.post("/projects/{project_id}/label-errors/scan")
def scan_label_errors(project_id: str, principal: Principal = Depends(live_principal)):
    """Rank the finished single-choice text tasks by how likely their label is wrong
    (confident learning on out-of-fold predictions); stores and returns the top 50."""
    require_admin(principal)
    db = get_db()
    with db.read() as session:
        project = get_project_by_id(session, principal, project_id)
    return JSON(service.scan_label_errors(db, project))


@native.get("/projects/{project_id}/label-errors")
def label_errors(project_id: str, principal: Principal = Depends(live_principal)):
    require_task_api(principal)
    with get_db().read() as session:
        project = get_project_by_id(session, principal, project_id)
        model = service.get_model(session, project)
        return JSON((model.suspects if model else None) or {"suspects": [], "scanned_at": None})


@native.post("/tasks/{task_id}/send-back")
def send_back(task_id: str, body: Any = Body(None), principal: Principal = Depends(live_principal)):
    """Reopen a completed task: to a reviewer (people's answer) or to labelers (a model's
    auto-accepted answer). `{"comment": "..."}` optional."""
    from assay.tasks.service import get_task

    require_admin(principal)
    comment = body.get("comment") if isinstance(body, dict) else None
    with get_db().write() as session:
        task = get_task(session, principal, task_id, for_update=True)
        service.send_back(session, task, comment)
        return JSON({"task_id": task.public_id, "status": task.status, "review_state": task.review_state, "open_slots": task.open_slots})


EXPORT_COLUMNS = ("task_id", "status", "completed_at", "response", "confidence", "labels", "method", "auto_accepted", "metadata", "unique_id")


@native.get("/projects/{project_id}/export")
def export(project_id: str, format: str = "jsonl", status: str | None = "completed", principal: Principal = Depends(authenticate)):
    """The project's tasks as `/v1` task JSON lines (`format=jsonl`) or a flat CSV
    (`format=csv`), completed ones by default (`status=` for another, `status=all`)."""
    from assay.tasks.models import TASK_STATUSES

    require_task_api(principal)
    if format not in ("jsonl", "csv"):
        raise field_error("format", "must be jsonl or csv")
    if status not in (*TASK_STATUSES, "all"):
        raise field_error("status", f"must be one of {', '.join((*TASK_STATUSES, 'all'))}")
    db = get_db()
    with db.read() as session:
        project = get_project_by_id(session, principal, project_id)

    def lines():
        with db.read() as session:
            if format == "csv":
                buf = io.StringIO()
                writer = csv.writer(buf)
                writer.writerow(EXPORT_COLUMNS)
                for task in service.export_rows(session, project, None if status == "all" else status, principal.is_test):
                    q = task.get("quality") or {}
                    writer.writerow([_csv_cell(v) for v in (task["task_id"], task["status"], task.get("completed_at", ""),
                                     orjson.dumps(task.get("response")).decode() if task.get("response") is not None else "",
                                     q.get("confidence", ""), q.get("labels", ""), q.get("method", ""), "true" if q.get("auto_accepted") else "false",
                                     orjson.dumps(task.get("metadata") or {}).decode(), task.get("unique_id", ""))])
                    if buf.tell() > 65536:
                        yield buf.getvalue()
                        buf.seek(0)
                        buf.truncate()
                yield buf.getvalue()
            else:
                for task in service.export_rows(session, project, None if status == "all" else status, principal.is_test):
                    yield orjson.dumps(task) + b"\n"

    media = "text/csv; charset=utf-8" if format == "csv" else "application/x-ndjson"
    return StreamingResponse(lines(), media_type=media, headers={"content-disposition": attachment_disposition(f"{project.name}.{format}")})


# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: Any) -> Any:
    """CSV cells are data, never formulas: a text cell that a spreadsheet would evaluate
    gets a leading apostrophe (OWASP's advice for CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value

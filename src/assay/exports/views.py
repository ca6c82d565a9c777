"""Export endpoints: the formats, a streamed download, background jobs with progress and
their download, a project's export history. Handlers load, authorize, call the service."""

from __future__ import annotations

import threading
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, RedirectResponse, StreamingResponse

from assay.audit.log import record
from assay.auth.dependencies import authenticate
from assay.auth.principals import Principal
from assay.authz import authorize
from assay.db import get_db
from assay.errors import NotFound, field_error
from assay.exports.formats import FORMATS
from assay.exports.models import ExportStatus
from assay.exports.policies import ExportPolicy
from assay.exports.schemas import ExportRequest
from assay.exports.service import jobs, query, run
from assay.projects.service import get_project_by_id
from assay.schemas import validate
from assay.timeutil import parse_filter_time
from assay.web import JSON, JSONRoute, attachment_disposition, parse_bool

native = APIRouter(prefix="/api", route_class=JSONRoute)
BOOLEAN_FILTERS = ("include_gold", "include_test", "include_auto_accepted", "answers", "media")


def request_from_query(params: Any) -> ExportRequest:
    """Query parameters as an ExportRequest (400 naming the parameter)."""
    data: dict[str, Any] = {}
    for key, value in params.items():
        if key in BOOLEAN_FILTERS:
            data[key] = parse_bool(value, key)
        elif key == "min_confidence":
            try:
                data[key] = float(value)
            except ValueError:
                raise field_error(key, f"{value!r} is not a number") from None
        elif key in ("since", "until"):
            data[key] = parse_filter_time(value, key)
        else:
            data[key] = value
    return validate(ExportRequest, data)


@native.get("/export-formats")
def export_formats(principal: Principal = Depends(authenticate)):
    """Every export format: name, title, file extension and the task types it is for."""
    authorize(principal, ExportPolicy.export)
    return JSON({"formats": [f.json() for f in FORMATS.values()]})


@native.get("/projects/{project_id}/export")
def export_tasks(project_id: str, request: Request, principal: Principal = Depends(authenticate)):
    """The project's tasks in one format, streamed (`format=jsonl` by default; filters as
    query parameters, see ExportRequest); a test key exports test tasks. An empty export
    says why in `X-Export-Note`."""
    authorize(principal, ExportPolicy.export)
    params = request_from_query(request.query_params)
    db = get_db()
    with db.write() as session:
        project = get_project_by_id(session, principal, project_id)
        fmt = run.check_format(project, params)
        record(session, principal, "export", "project", project.public_id,
               {"format": fmt.name, "status": params.status, "test": principal.is_test, **params.filters()})
    with query.reading(db) as conn:
        scope = query.scope(conn, project, principal.is_test, params)
        total = query.count(conn, scope)
        note = run.empty_note(conn, project, principal.is_test, params) if total == 0 else None
    context = run.context_for(project, principal.org_public_id, params)

    def chunks():
        with query.reading(db) as conn:
            yield from run.chunks(fmt, run.pages(conn, scope, fmt), context)

    headers = {"content-disposition": attachment_disposition(run.filename(project, fmt, params)), "x-export-matched": str(total)}
    if note:
        headers["x-export-note"] = note
    return StreamingResponse(chunks(), media_type=fmt.file_media_type(params.media), headers=headers)


def _start(job_id: int) -> None:
    """Run the job now in a thread of this process (the jobs loop would otherwise take it
    on its next tick; whichever claims it first runs it)."""
    threading.Thread(target=jobs.run_job, args=(get_db(), job_id), name=f"assay-export-{job_id}", daemon=True).start()


@native.post("/projects/{project_id}/exports")
def start_export(project_id: str, body: ExportRequest, principal: Principal = Depends(authenticate)):
    """Start a background export (the body's format and filters); 202 with the job, whose
    `done`/`total` show progress and whose `download_url` appears when it is done."""
    authorize(principal, ExportPolicy.export)
    with get_db().write() as session:
        project = get_project_by_id(session, principal, project_id)
        job = jobs.create_job(session, project, principal.is_test, principal.email, body)
        record(session, principal, "export", "project", project.public_id,
               {"format": job.format, "job": job.public_id, "test": principal.is_test, **job.filters})
        out = jobs.job_json(job)
    _start(job.id)
    return JSON(out, status_code=202)


@native.get("/projects/{project_id}/exports")
def export_history(project_id: str, principal: Principal = Depends(authenticate)):
    """The project's latest exports (20), newest first."""
    authorize(principal, ExportPolicy.export)
    with get_db().read() as session:
        project = get_project_by_id(session, principal, project_id)
        return JSON({"exports": [jobs.job_json(j) for j in jobs.list_jobs(session, project, principal.is_test)]})


@native.get("/exports/{export_id}")
def export_job(export_id: str, principal: Principal = Depends(authenticate)):
    """One export job: status, progress (`done` of `total`), and its download link when done."""
    authorize(principal, ExportPolicy.export)
    with get_db().read() as session:
        return JSON(jobs.job_json(jobs.get_job(session, principal.org_id, principal.is_test, export_id)))


@native.get("/exports/{export_id}/download")
def download_export(export_id: str, principal: Principal = Depends(authenticate)):
    """The file of a finished export job (404 until it is done)."""
    authorize(principal, ExportPolicy.export)
    with get_db().read() as session:
        job = jobs.get_job(session, principal.org_id, principal.is_test, export_id)
    if job.status != ExportStatus.DONE:
        raise NotFound("This export has no file yet.", field="export_id")
    fmt = FORMATS.get(job.format)
    media_type = fmt.file_media_type(bool(job.filters.get("media"))) if fmt else "application/octet-stream"
    link = jobs.store_link(principal.org_public_id, job, media_type)
    if link is not None:  # object storage: from the bucket, not through the app
        return RedirectResponse(link, status_code=307, headers={"Cache-Control": "private, no-store"})
    path = jobs.file_path(principal.org_public_id, job)
    if not path.is_file():
        raise NotFound("This export has no file yet.", field="export_id")
    return FileResponse(path, media_type=media_type,
                        headers={"content-disposition": attachment_disposition(job.filename), "x-content-type-options": "nosniff"})

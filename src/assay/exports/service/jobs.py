"""Background export jobs: a job row (queued) made in the request, run in a thread of
the serving process or by the background jobs loop (whichever claims it first, with one
conditional UPDATE), writing DATA_DIR/exports/<organization>/<job>.<ext> and its progress
as it goes; the file is downloaded through the job's link."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from assay.config import get_settings
from assay.db import Database, new_public_id, utcnow
from assay.errors import NotFound
from assay.exports.models import ExportJob, ExportStatus
from assay.exports.schemas import ExportRequest
from assay.exports.service import query, run
from assay.orgs.models import Organization
from assay.projects.models import Project
from assay.storage import get_storage
from assay.timeutil import iso

log = logging.getLogger("assay.exports")
J = ExportJob.__table__
HISTORY = 20  # jobs shown on the project page


def create_job(session: Session, project: Project, is_test: bool, actor: str, request: ExportRequest) -> ExportJob:
    fmt = run.check_format(project, request)
    job = ExportJob(public_id=new_public_id(), org_id=project.org_id, project_id=project.id, created_by=actor[:320], is_test=is_test,
                    format=fmt.name, filters=request.filters(), status=ExportStatus.QUEUED, filename=run.filename(project, fmt, request)[:300])
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, org_id: int, is_test: bool, public_id: str) -> ExportJob:
    job = session.scalar(select(ExportJob).where(ExportJob.public_id == public_id, ExportJob.org_id == org_id, ExportJob.is_test == is_test))
    if job is None:
        raise NotFound("Export not found.", field="export_id")
    return job


def list_jobs(session: Session, project: Project, is_test: bool, limit: int = HISTORY) -> list[ExportJob]:
    return list(session.scalars(select(ExportJob).where(ExportJob.org_id == project.org_id, ExportJob.project_id == project.id,
                                                        ExportJob.is_test == is_test).order_by(ExportJob.id.desc()).limit(limit)))


def job_json(job: ExportJob) -> dict[str, Any]:
    return {"id": job.public_id, "format": job.format, "filters": job.filters, "status": job.status, "done": job.done, "total": job.total,
            "size": job.size, "filename": job.filename, "error": job.error, "note": job.note, "created_by": job.created_by,
            "created_at": iso(job.created_at), "started_at": iso(job.started_at), "finished_at": iso(job.finished_at),
            "download_url": f"/api/exports/{job.public_id}/download" if job.status == ExportStatus.DONE else None}


def file_key(org_public_id: str, job: ExportJob) -> str:
    """The export file's key in `storage` (its path under the data directory)."""
    extension = job.filename.rsplit(".", 1)[-1] if "." in job.filename else "bin"
    return f"exports/{org_public_id}/{job.public_id}.{extension}"


def file_path(org_public_id: str, job: ExportJob) -> Path:
    return get_settings().data_dir / file_key(org_public_id, job)


def store_link(org_public_id: str, job: ExportJob, media_type: str) -> str | None:
    """With object storage: a presigned link to the finished file in the bucket (any
    machine can hand it out); None with local files (the app serves them)."""
    storage = get_storage()
    if not storage.remote:
        return None
    return storage.url(file_key(org_public_id, job), get_settings().presign_seconds, filename=job.filename)


def claim(db: Database, job_id: int) -> bool:
    """Take a queued job (one conditional UPDATE: a job runs once whoever tries)."""
    with db.write() as session:
        taken = session.execute(update(J).where(J.c.id == job_id, J.c.status == ExportStatus.QUEUED)
                                .values(status=ExportStatus.RUNNING, started_at=utcnow()))
        return taken.rowcount == 1


def run_job(db: Database, job_id: int) -> None:
    """Claim and run one job; a failure is stored on the job (its message), never raised."""
    if not claim(db, job_id):
        return
    with db.read() as session:
        job = session.get(ExportJob, job_id)
        project = session.get(Project, job.project_id)
        org_public_id = session.scalar(select(Organization.public_id).where(Organization.id == job.org_id))
    path = file_path(org_public_id, job)
    try:
        size, done, total, note = _write(db, job, project, org_public_id, path)
    except Exception as exc:  # the job says what went wrong; the server goes on
        log.exception("export %s failed", job.public_id)
        with db.write() as session:
            session.execute(update(J).where(J.c.id == job_id).values(status=ExportStatus.FAILED, error=f"{exc.__class__.__name__}: {exc}"[:2000],
                                                                     finished_at=utcnow()))
        return
    with db.write() as session:
        session.execute(update(J).where(J.c.id == job_id).values(status=ExportStatus.DONE, size=size, done=done, total=total, note=note,
                                                                 finished_at=utcnow()))


def _write(db: Database, job: ExportJob, project: Project, org_public_id: str, path: Path) -> tuple[int, int, int, str | None]:
    request = ExportRequest.model_validate({"format": job.format, **job.filters}, strict=False)
    fmt = run.check_format(project, request)
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_suffix(path.suffix + ".part")
    done = 0

    def progress(n: int) -> None:
        nonlocal done
        done += n
        with db.write() as session:
            session.execute(update(J).where(J.c.id == job.id).values(done=done))

    with query.reading(db) as conn:
        scope = query.scope(conn, project, job.is_test, request)
        total = query.count(conn, scope)
        with db.write() as session:
            session.execute(update(J).where(J.c.id == job.id).values(total=total))
        size = 0
        with open(part, "wb") as out:
            for chunk in run.chunks(fmt, run.pages(conn, scope, fmt, progress), run.context_for(project, org_public_id, request)):
                out.write(chunk)
                size += len(chunk)
        note = run.empty_note(conn, project, job.is_test, request) if done == 0 else None
    os.replace(part, path)
    storage = get_storage()
    if storage.remote:  # every machine downloads it from the bucket
        storage.put_file(file_key(org_public_id, job), path)
        path.unlink()
    return size, done, total, note


def run_queued(db: Database) -> int:
    """The background jobs' turn: run every queued export (oldest first)."""
    with db.read() as session:
        queued = list(session.scalars(select(ExportJob.id).where(ExportJob.status == ExportStatus.QUEUED).order_by(ExportJob.id).limit(10)))
    for job_id in queued:
        run_job(db, job_id)
    return len(queued)

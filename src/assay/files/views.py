from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse

from assay.db import get_db
from assay.errors import field_error
from assay.files import service
from assay.security import Principal
from assay.tasks.views import task_api
from assay.web import JSON

v1 = APIRouter(prefix="/v1")
native = APIRouter(prefix="/api")


@v1.post("/files/upload")
async def upload_file(request: Request, principal: Principal = Depends(task_api)):
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise field_error("file", "send the file as multipart/form-data with a part named 'file'")
    form = await request.form(max_files=1, max_fields=50)
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise field_error("file", "required: a multipart part named 'file'")
    fields = {k: v for k, v in form.items() if k != "file" and isinstance(v, str)}

    def store():
        file_id, path, size, sha = service.store_stream(principal, upload.file)
        with get_db().write() as session:
            row = service.record_file(session, principal, file_id, path, size, sha, upload.filename or "file", upload.content_type, fields)
            return service.file_json(row, principal.org_public_id)

    try:
        return JSON(await run_in_threadpool(store))
    finally:
        await form.close()


@v1.post("/files/import")
def import_file(body: Any = Body(None), principal: Principal = Depends(task_api)):
    file_id, path, size, sha, filename, mime = service.import_from_url(principal, body)
    fields = {k: v for k, v in body.items() if k != "file_url"}
    with get_db().write() as session:
        row = service.record_file(session, principal, file_id, path, size, sha, filename, mime, fields, source_url=body["file_url"])
        return JSON(service.file_json(row, principal.org_public_id))


@native.get("/files/{org_id}/{file_id}")
def download_file(org_id: str, file_id: str, request: Request):
    """Signed links only (see include_attachment_url); no API key needed."""
    path = service.signed_file_path(org_id, file_id, request.query_params.get("expires"), request.query_params.get("signature"))
    with get_db().read() as session:
        from sqlalchemy import select

        from assay.files.models import StoredFile

        mime = session.scalar(select(StoredFile.mime_type).where(StoredFile.public_id == file_id)) or "application/octet-stream"
    return FileResponse(path, media_type=mime, headers={"Cache-Control": "private, max-age=600"})

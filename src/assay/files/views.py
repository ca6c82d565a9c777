from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, RedirectResponse

from assay.auth.dependencies import authenticate
from assay.auth.principals import Principal
from assay.authz import authorize
from assay.db import get_db
from assay.errors import field_error
from assay.files import service
from assay.files.policies import FilePolicy
from assay.files.sniff import sniff
from assay.files.stored import stored_path
from assay.web import JSON, JSONRoute

v1 = APIRouter(prefix="/v1", route_class=JSONRoute)
native = APIRouter(prefix="/api", route_class=JSONRoute)

# Headers of every stored file we serve: the browser must not guess a type, and a file
# opened as a document runs no script and loads nothing, even if it is HTML or SVG.
FILE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "private, max-age=600",
}


@v1.post("/files/upload")
async def upload_file(request: Request, principal: Principal = Depends(authenticate)):
    authorize(principal, FilePolicy.upload)
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
def import_file(body: Any = Body(None), principal: Principal = Depends(authenticate)):
    authorize(principal, FilePolicy.upload)
    file_id, path, size, sha, filename, mime = service.import_from_url(principal, body)
    fields = {k: v for k, v in body.items() if k != "file_url"}
    with get_db().write() as session:
        row = service.record_file(session, principal, file_id, path, size, sha, filename, mime, fields, source_url=body["file_url"])
        return JSON(service.file_json(row, principal.org_public_id))


@native.get("/files/{org_id}/{file_id}")
def download_file(org_id: str, file_id: str, request: Request):
    """Signed links only (see include_attachment_url); no API key needed. Shown inline
    only when the bytes are a raster image, audio, video or PDF (never by the uploader's
    word); anything else downloads."""
    with get_db().read() as session:
        row = service.signed_row(session, org_id, file_id, request.query_params.get("expires"), request.query_params.get("signature"))
    inline_type = sniff(service.first_bytes(org_id, file_id), row.mime_type)
    link = service.store_link(org_id, file_id, request.query_params["expires"], row.filename or "file", inline_type)
    if link is not None:  # object storage: the bytes come from the store, not through the app
        return RedirectResponse(link, status_code=307, headers={"Cache-Control": "private, no-store"})
    return FileResponse(stored_path(org_id, file_id), media_type=inline_type or "application/octet-stream", filename=row.filename or "file",
                        content_disposition_type="inline" if inline_type else "attachment", headers=FILE_HEADERS)

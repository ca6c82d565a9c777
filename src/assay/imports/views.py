"""Import endpoints: a preview of an uploaded file mapped to task fields with every row's
error and line (nothing stored), and the import itself (all or nothing)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Body, Depends, Request
from starlette.concurrency import run_in_threadpool

from assay import flows
from assay.audit.log import record
from assay.auth.dependencies import authenticate
from assay.auth.principals import Principal
from assay.authz import authorize
from assay.config import get_settings
from assay.db import get_db
from assay.errors import InvalidRequest, field_error
from assay.imports.media import parse
from assay.imports.policies import ImportPolicy
from assay.imports.rows import ImportError_, Parsed
from assay.imports.schemas import BucketImport, ImportOptions
from assay.projects.service import get_project_by_id
from assay.schemas import validate
from assay.tasks.service import imports as task_imports
from assay.web import JSON, JSONRoute

native = APIRouter(prefix="/api", route_class=JSONRoute)
FORM = {"requestBody": {"content": {"multipart/form-data": {"schema": {"type": "object", "properties": {
    "file": {"type": "string", "format": "binary"}, "format": {"type": "string"}, "mode": {"type": "string"},
    "mapping": {"type": "string"}, "base_url": {"type": "string"}, "batch": {"type": "string"}}, "required": ["file"]}}}, "required": True}}


async def _upload(request: Request) -> tuple[str, bytes, ImportOptions]:
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise field_error("file", "send the file as multipart/form-data with a part named 'file'")
    form = await request.form(max_files=1, max_fields=20)
    try:
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise field_error("file", "required: a multipart part named 'file'")
        data = await upload.read()
        fields: dict[str, Any] = {k: v for k, v in form.items() if k != "file" and isinstance(v, str) and v != ""}
        if "mapping" in fields:
            try:
                fields["mapping"] = orjson.loads(fields["mapping"])
            except orjson.JSONDecodeError:
                raise field_error("mapping", "must be a JSON object of column → param names") from None
        return upload.filename or "upload", data, validate(ImportOptions, fields)
    finally:
        await form.close()


def _parsed(filename: str, data: bytes, options: ImportOptions, task_type: str) -> Parsed:
    try:
        return parse(filename, data, options.format, task_type, options.mapping, options.base_url, get_settings().max_upload_bytes)
    except ImportError_ as exc:
        raise InvalidRequest(str(exc), field=exc.field) from None


def _result(parsed: Parsed, errors: list[dict[str, Any]], preview: list[dict[str, Any]]) -> dict[str, Any]:
    parse_errors = [e.json() for e in parsed.errors]
    return {"format": parsed.format, "rows": len(parsed.rows) + len(parsed.errors), "columns": parsed.columns, "media": len(parsed.media),
            "errors": sorted(parse_errors + errors, key=lambda e: e["line"]), "preview": preview}


def _refusal(errors: list[dict[str, Any]], field: str) -> JSON:
    """400 with every row's error: nothing was imported."""
    first = errors[0] if errors else {"line": 0, "field": field, "error": "holds no task"}
    message = f"line {first['line']}: {first['field']}: {first['error']}" if first["line"] else f"{field}: {first['error']}"
    body = {"status_code": 400, "error": f"{len(errors) or 1} rows have errors; nothing was imported. First: {message}", "field": field,
            "errors": errors}
    return JSON(body, status_code=400)


@native.post("/projects/{project_id}/imports/preview", openapi_extra=FORM)
async def preview_import(project_id: str, request: Request, principal: Principal = Depends(authenticate)):
    """The upload mapped to tasks: the first 20 rows as they would be created, and every
    row's error with its line. Nothing is stored."""
    authorize(principal, ImportPolicy.import_tasks)
    filename, data, options = await _upload(request)

    def run() -> dict[str, Any]:
        with get_db().read() as session:
            project = get_project_by_id(session, principal, project_id)
            if options.mode == "gold":
                authorize(principal, ImportPolicy.import_gold)
            parsed = _parsed(filename, data, options, project.type)
            errors, preview = task_imports.check(session, principal, project, parsed.rows, options.mode, options.batch)
            return _result(parsed, errors, preview)

    return JSON(await run_in_threadpool(run))


@native.post("/projects/{project_id}/imports", openapi_extra=FORM)
async def import_tasks(project_id: str, request: Request, principal: Principal = Depends(authenticate)):
    """Import the upload: all rows or none. With any error, 400 with every row's error
    (`errors`: line, field, error) and nothing stored; else the created task ids."""
    authorize(principal, ImportPolicy.import_tasks)
    filename, data, options = await _upload(request)

    def run() -> JSON:
        with get_db().write() as session:
            project = get_project_by_id(session, principal, project_id)
            if options.mode == "gold":
                authorize(principal, ImportPolicy.import_gold)
            parsed = _parsed(filename, data, options, project.type)
            errors, _ = task_imports.check(session, principal, project, parsed.rows, options.mode, options.batch)
            result = _result(parsed, errors, [])
            if result["errors"] or not parsed.rows:
                session.rollback()
                return _refusal(result["errors"], "file")
            ids = flows.import_tasks(session, principal, project, parsed, options.mode, options.batch)
            record(session, principal, "import", "project", project.public_id,
                   {"format": parsed.format, "mode": options.mode, "tasks": len(ids), "media": len(parsed.media), "file": filename[:200]})
            return JSON({"format": parsed.format, "mode": options.mode, "created": len(ids), "task_ids": ids}, status_code=201)

    return await run_in_threadpool(run)


@native.post("/projects/{project_id}/imports/bucket")
def import_from_bucket(project_id: str, body: Any = Body(None), principal: Principal = Depends(authenticate)):
    """Tasks from the storage bucket (ASSAY_STORAGE_URL): one per media object under
    `prefix`, or the rows of a `manifest` object, checked and stored all or nothing as an
    upload is. Objects that already have a task in the project are skipped (a prefix
    imported again adds only its new objects). 400 with every row's error, nothing stored;
    else 201 with the created task ids (200 when there was nothing new)."""
    authorize(principal, ImportPolicy.import_tasks)
    options = validate(BucketImport, body)
    if options.mode == "gold":
        authorize(principal, ImportPolicy.import_gold)
    result = flows.import_from_bucket(get_db(), principal, project_id, options)
    if result.errors:
        return _refusal(result.errors, "manifest" if options.manifest else "prefix")
    return JSON({"format": result.format, "mode": options.mode, "created": len(result.task_ids), "task_ids": result.task_ids,
                 "skipped": result.skipped, "ignored": result.ignored}, status_code=201 if result.task_ids else 200)

"""Shared web plumbing: the JSON response class, error handlers, API path normalization."""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import unquote

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from assay.errors import ApiError

log = logging.getLogger("assay.web")

# First path segments of Scale's v1 API; requests without the /v1 prefix are served too.
V1_ROOTS = frozenset({"task", "tasks", "batches", "projects", "files", "teams", "studio", "evaluation_tasks", "training_tasks"})
_SLASHES = re.compile(rb"/{2,}")


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def error_response(status_code: int, message: str, **extra) -> JSON:
    return JSON({"status_code": status_code, "error": message, **extra}, status_code=status_code)


def name_param(value: str) -> str:
    """Path parameters of /v1 routes arrive still percent-encoded (see V1PathMiddleware)."""
    return unquote(value)


class V1PathMiddleware:
    """Routes /v1 on the raw path so a batch named 'a/b' (sent as a%2Fb) reaches
    /v1/batches/{name}; collapses '//' and adds a missing /v1 prefix."""

    def __init__(self, app, max_request_bytes: int):
        self.app = app
        self.max_request_bytes = max_request_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            raw = scope.get("raw_path") or scope["path"].encode()
            raw = _SLASHES.sub(b"/", raw.split(b"?", 1)[0])
            first = raw.split(b"/", 2)[1] if raw.count(b"/") >= 1 else b""
            if first.decode("latin-1") in V1_ROOTS:
                raw = b"/v1" + raw
            if raw.startswith(b"/v1/") or raw == b"/v1":
                scope = dict(scope)
                scope["path"] = raw.decode("latin-1")
                scope["raw_path"] = raw
            length = dict(scope.get("headers") or []).get(b"content-length")
            limit = self.max_request_bytes
            if scope["path"].endswith("/files/upload"):
                from assay.config import get_settings

                limit = get_settings().max_upload_bytes + 1024 * 1024
            if length and length.isdigit() and int(length) > limit:
                response = error_response(413, f"body: the request is {int(length)} bytes, over the {limit}-byte limit", field="body")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError):
        return JSON(exc.body(), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
        field = ".".join(loc) or "body"
        message = first.get("msg", "invalid request")
        if first.get("type") == "json_invalid":
            field, message = "body", "is not valid JSON"
        return error_response(400, f"{field}: {message}", field=field)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException):
        message = exc.detail if isinstance(exc.detail, str) else "error"
        if exc.status_code == 404 and message == "Not Found":
            message = "Not found: no such endpoint"
        if exc.status_code == 405:
            message = "Method not allowed on this endpoint"
        return error_response(exc.status_code, message)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception):
        log.exception("unhandled error", exc_info=exc)
        return error_response(500, "Internal server error")

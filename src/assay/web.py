"""Shared web plumbing: the JSON response class, strict JSON request bodies, error
handlers, and the outermost guard (API path normalization, authentication before any
body is read, body size limits enforced while streaming)."""

from __future__ import annotations

import base64
import json
import logging
import re
from typing import Annotated, Any
from urllib.parse import quote, unquote

import orjson
from fastapi import FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from assay.audit.log import client_address
from assay.db import get_db
from assay.errors import ApiError
from assay.schemas import error_field_and_message

log = logging.getLogger("assay.web")

# First path segments of Scale's v1 API; requests without the /v1 prefix are served too.
V1_ROOTS = frozenset({"task", "tasks", "batches", "projects", "files", "teams", "studio", "evaluation_tasks", "training_tasks"})
_SLASHES = re.compile(rb"/{2,}")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Bodies of routes that need no credentials (the login and logout forms) stay small.
ANONYMOUS_BODY_BYTES = 64 * 1024
# JSON nesting deeper than this is refused: no task or setting needs it, and very deep
# values break serialisers further down.
MAX_JSON_DEPTH = 64
INT_MIN, INT_MAX = -(2**63), 2**64 - 1
# orjson turns integers outside 64 bits into floats silently: bodies with a 19+ digit
# run are parsed again exactly to find them.
_LONG_DIGITS = re.compile(rb"\d{19,}")


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)
        except orjson.JSONEncodeError:
            # a lone surrogate quoted from the request: escaped JSON is still JSON
            return json.dumps(content, ensure_ascii=True, default=str).encode()


def error_response(status_code: int, message: str, **extra) -> JSON:
    return JSON({"status_code": status_code, "error": message, **extra}, status_code=status_code)


def attachment_disposition(filename: str) -> str:
    """Content-Disposition for a download named `filename`, any script (RFC 6266): an
    ASCII fallback plus the UTF-8 name in `filename*`."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename) or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


# Integer path parameters that name rows: a database id, never a 30-digit number
# (tests/test_architecture.py checks every integer path parameter is bounded).
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]
UserId = RowId
# A tile's column or row, a video frame's number.
GridIndex = Annotated[int, Path(ge=0, le=1_000_000)]


def name_param(value: str) -> str:
    """Path parameters of /v1 routes arrive still percent-encoded (see RequestGuard)."""
    return unquote(value)


# ----------------------------------------------------------------------------- query parameters

def parse_bool(value: str | None, field: str, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    lowered = value.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise ApiError(f"{field}: {value!r} is not a boolean (true/false)", field=field)


def parse_int(value: str | None, field: str, *, default: int, lo: int, hi: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ApiError(f"{field}: {value!r} is not an integer", field=field) from None
    if not lo <= number <= hi:
        raise ApiError(f"{field}: must be between {lo} and {hi}", field=field)
    return number


def encode_cursor(*parts: int) -> str:
    """An opaque paging token (Scale's next_token) of a few integers."""
    return base64.urlsafe_b64encode(":".join(str(p) for p in parts).encode()).decode().rstrip("=")


def decode_cursor(token: str, size: int, field: str = "next_token") -> tuple[int, ...]:
    try:
        padded = token + "=" * (-len(token) % 4)
        parts = tuple(int(x) for x in base64.urlsafe_b64decode(padded.encode()).decode().split(":"))
    except (ValueError, UnicodeDecodeError):
        parts = ()
    if len(parts) != size:
        raise ApiError(f"{field}: is not a token returned by this server", field=field)
    return parts


async def run_db(fn, *args):
    """Run a handler's database work. On SQLite on the event loop: there is one writer
    anyway, and a thread hop per request plus a lock convoy among pool threads cost more
    CPU than the query. PostgreSQL work goes to the thread pool so the loop keeps serving
    during network round trips."""
    if get_db().is_sqlite:
        return fn(*args)
    return await run_in_threadpool(fn, *args)


# ----------------------------------------------------------------------------- strict JSON

class BodyRejected(StarletteHTTPException):
    """A request body that parses but holds a value we never store (FastAPI re-raises
    HTTPExceptions from body parsing as they are)."""

    def __init__(self, field: str, reason: str):
        field = printable(field)
        super().__init__(400, f"{field}: {reason}")
        self.field = field


def printable(text: str) -> str:
    """`text` with lone surrogates written as escapes, so an error can quote it."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def parse_json(raw: bytes) -> Any:
    """Parse a request body strictly: RFC 8259 JSON (no NaN or Infinity), no lone
    surrogates or NUL characters, integers within 64 bits, nesting at most MAX_JSON_DEPTH.
    Raises json.JSONDecodeError for malformed JSON, BodyRejected naming the field for a
    value we refuse."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if "surrogate" not in str(exc):
            raise
        # find where: the standard parser keeps lone surrogates, and the walk names them
        value = json.loads(raw, parse_constant=_no_constant)
    else:
        if _LONG_DIGITS.search(raw):
            value = json.loads(raw, parse_constant=_no_constant)
    check_json_value(value)
    return value


def _no_constant(name: str):
    raise json.JSONDecodeError(f"{name} is not JSON", name, 0)


def check_json_value(value: Any, root: str = "body") -> None:
    """Walk a parsed JSON value (iteratively: depth is what is being checked)."""
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack:
        item, path, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise BodyRejected(path or root, f"nested more than {MAX_JSON_DEPTH} levels deep")
        if isinstance(item, dict):
            for key, child in item.items():
                _check_text(key, f"{path}.{key}" if path else key, "key")
                stack.append((child, f"{path}.{key}" if path else str(key), depth + 1))
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{i}]", depth + 1) for i, child in enumerate(item))
        elif isinstance(item, str):
            _check_text(item, path or root, "value")
        elif isinstance(item, int) and not isinstance(item, bool) and not INT_MIN <= item <= INT_MAX:
            raise BodyRejected(path or root, "integer out of range (it must fit in 64 bits)")


def _check_text(text: str, path: str, what: str) -> None:
    if "\x00" in text:
        raise BodyRejected(path, f"the {what} contains a NUL character (\\u0000), which cannot be stored")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BodyRejected(path, f"the {what} contains a lone UTF-16 surrogate, which is not valid Unicode") from None


class StrictRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = parse_json(await self.body())
        return self._json


class JSONRoute(APIRoute):
    """Routes whose JSON bodies go through parse_json."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def strict(request: Request):
            return await handler(StrictRequest(request.scope, request.receive))

        return strict


def check_request_text(request: Request) -> None:
    """App-wide dependency: path and query parameters hold no NUL character (PostgreSQL
    cannot compare text with one; /v1 path parameters are still percent-encoded)."""
    for name, value in request.path_params.items():
        if isinstance(value, str) and "\x00" in unquote(value):
            raise ApiError(f"{name}: contains a NUL character", field=name)
    for name, value in request.query_params.multi_items():
        if "\x00" in value or "\x00" in name:
            raise ApiError(f"{name}: contains a NUL character", field=name)


# ----------------------------------------------------------------------------- the guard

class RequestGuard:
    """The outermost ASGI layer.

    * Routes /v1 on the raw path so a batch named 'a/b' (sent as a%2Fb) reaches
      /v1/batches/{name}; collapses '//' and adds a missing /v1 prefix.
    * Authenticates API requests that carry a body before a byte of it is read: a
      stranger's upload costs nothing (the principal is kept for the route).
    * Enforces the body size limit while the body streams in (Content-Length or chunked).
    """

    def __init__(self, app, max_request_bytes: int, max_upload_bytes: int, authenticate):
        self.app = app
        self.authenticate = authenticate  # Request → principal, raising ApiError
        self.max_request_bytes = max_request_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope = self._route_v1(scope)
        client_address.set((scope.get("client") or ("",))[0] or "")
        path = scope["path"]
        api = path.startswith(("/v1/", "/api/"))
        limit = self.max_request_bytes if api else ANONYMOUS_BODY_BYTES
        if path.endswith(("/files/upload", "/imports", "/imports/preview")):
            limit = self.max_upload_bytes + 1024 * 1024
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length and length.isdigit() and int(length) > limit:
            await _too_large(limit, int(length))(scope, receive, send)
            return
        if api and scope["method"] in BODY_METHODS:
            denied = await _authenticate_early(scope, self.authenticate)
            if denied is not None:
                await denied(scope, receive, send)
                return
        body = _BodyLimit(receive, send, limit)
        await self.app(scope, body.receive, body.send)

    @staticmethod
    def _route_v1(scope):
        raw = scope.get("raw_path") or scope["path"].encode()
        raw = _SLASHES.sub(b"/", raw.split(b"?", 1)[0])
        first = raw.split(b"/", 2)[1] if raw.count(b"/") >= 1 else b""
        if first.decode("latin-1") in V1_ROOTS:
            raw = b"/v1" + raw
        if raw.startswith(b"/v1/") or raw == b"/v1":
            scope = dict(scope)
            scope["path"] = raw.decode("latin-1")
            scope["raw_path"] = raw
        return scope


def _too_large(limit: int, size: int | None = None) -> JSON:
    said = f"{size} bytes" if size is not None else "larger than that"
    return error_response(413, f"body: the request is {said}, over the {limit}-byte limit", field="body")


async def _authenticate_early(scope, authenticate) -> Response | None:
    """The route's principal, resolved from the headers alone and kept in the request
    state; an error response when the credentials are missing or wrong."""
    request = Request(scope)
    try:
        scope.setdefault("state", {})["principal"] = await authenticate(request)
    except ApiError as exc:
        return JSON(exc.body(), status_code=exc.status_code)
    return None


class _BodyLimit:
    """The route's `receive` and `send` for one request: receive counts body bytes; past
    the limit it answers 413 itself and tells the route the client went away (whatever
    the route answers after that is dropped)."""

    def __init__(self, receive, send, limit: int):
        self._receive = receive
        self._send = send
        self.limit = limit
        self.received = 0
        self.started = False
        self.refused = False

    async def receive(self):
        message = await self._receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                if not self.started:
                    self.refused = self.started = True
                    await _too_large(self.limit)({"type": "http"}, self._receive, self._send)
                return {"type": "http.disconnect"}
        return message

    async def send(self, message):
        if self.refused:
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


# ----------------------------------------------------------------------------- errors

class CatchAll:
    """Innermost guard against bugs: an unexpected exception becomes a JSON 500 (or, if
    the response already started, is only logged) and is not raised further, so the
    server keeps the keep-alive connection usable for the next request."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("unhandled error in %s %s", scope.get("method"), scope.get("path"))
            if not started:
                await error_response(500, "Internal server error")(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError):
        return JSON(exc.body(), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        loc = tuple(first.get("loc", ()))
        first = {**first, "loc": loc[1:] if loc[:1] in (("body",), ("query",), ("path",)) else loc}
        field, message = error_field_and_message(first)
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
        field = getattr(exc, "field", None)
        return error_response(exc.status_code, message, **({"field": field} if field else {}))

    app.add_middleware(CatchAll)

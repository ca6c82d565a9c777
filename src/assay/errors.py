"""API errors. Every error body is a JSON object {"status_code", "error"} (Scale's shape),
plus "field" when one request field is at fault."""

from __future__ import annotations


class ApiError(Exception):
    status_code = 400

    def __init__(self, message: str, *, field: str | None = None, status_code: int | None = None, **extra):
        super().__init__(message)
        self.message = message
        self.field = field
        if status_code is not None:
            self.status_code = status_code
        self.extra = extra

    def body(self) -> dict:
        body = {"status_code": self.status_code, "error": self.message}
        if self.field:
            body["field"] = self.field
        body.update(self.extra)
        return body


class InvalidRequest(ApiError):
    status_code = 400


class Unauthorized(ApiError):
    status_code = 401


class Forbidden(ApiError):
    status_code = 403


class NotFound(ApiError):
    status_code = 404


class Conflict(ApiError):
    status_code = 409


class PayloadTooLarge(ApiError):
    status_code = 413


def field_error(field: str, reason: str) -> InvalidRequest:
    return InvalidRequest(f"{field}: {reason}", field=field)

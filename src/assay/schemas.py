"""The base of every typed request body of the native API, and how a pydantic validation
error becomes our 400 naming the field (for bodies and for task-type params alike)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from assay.errors import InvalidRequest


class RequestBody(BaseModel):
    """Strict types (no "1" for 1, no true for 1.0): a JSON body says what it means.
    Unknown keys are ignored unless a body says otherwise."""

    model_config = ConfigDict(strict=True, extra="ignore")


def validate(model: type[BaseModel], data: Any, prefix: str = "") -> BaseModel:
    """`model` validated from `data`, or a 400 naming the field (under `prefix`)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error_to_api(exc, prefix) from None


def error_field_and_message(error: dict, prefix: str = "") -> tuple[str, str]:
    """(field path, message) of one pydantic error, its location written as a field path
    (`annotations[3].label`), pydantic's own prefixes dropped."""
    field = _loc_to_field(tuple(error.get("loc", ())), prefix) or prefix or "body"
    message = error.get("msg", "invalid value")
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    if error.get("type") == "extra_forbidden":
        message = "is not a known setting of this endpoint"
    return field, message


def _loc_to_field(loc: tuple, prefix: str = "") -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            # pydantic adds union/tag names such as 'function-after[...]'; keep only real keys
            if "[" in str(item) and "]" in str(item):
                continue
            parts.append(("." if parts else "") + str(item))
    field = "".join(parts)
    return f"{prefix}.{field}" if prefix and field else (prefix or field)


def validation_error_to_api(exc: ValidationError, prefix: str = "") -> InvalidRequest:
    field, message = error_field_and_message(exc.errors()[0], prefix)
    return InvalidRequest(f"{field}: {message}", field=field)

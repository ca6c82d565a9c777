"""Validation of user-chosen names (projects, batches)."""

from __future__ import annotations

from assay.errors import field_error


def check_name(value, field: str) -> str:
    if not isinstance(value, str):
        raise field_error(field, "must be a string")
    name = value.strip()
    if not name:
        raise field_error(field, "must not be empty")
    if len(name) > 200:
        raise field_error(field, "must be at most 200 characters")
    if any(ord(ch) < 32 for ch in name):
        raise field_error(field, "must not contain control characters")
    return name

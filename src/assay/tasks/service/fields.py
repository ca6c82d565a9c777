"""Validation of the task settings that creation and the small mutations share."""

from __future__ import annotations

from typing import Any

from assay.errors import field_error

MAX_TAGS = 5


def check_tags(value: Any, field: str = "tags") -> list[str]:
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise field_error(field, "must be a list of strings")
    tags: list[str] = []
    for tag in value:
        tag = tag.strip()
        if not tag:
            raise field_error(field, "tags must be non-empty strings")
        if len(tag) > 200:
            raise field_error(field, "a tag is at most 200 characters")
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise field_error(field, f"a task has at most {MAX_TAGS} tags ({len(tags)} given)")
    return tags


def check_unique_id(value: Any, field: str = "unique_id") -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise field_error(field, "must be a non-empty string")
    if len(value) > 500:
        raise field_error(field, "must be at most 500 characters")
    return value

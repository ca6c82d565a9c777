"""Checks on URLs customers give us (callbacks, attachments)."""

from __future__ import annotations

from urllib.parse import urlsplit

from assay.errors import field_error


def check_callback_url(value, field: str) -> str | None:
    """None/'' means no callback. Otherwise an absolute http(s) URL."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise field_error(field, "must be a string URL")
    if "@" in value and "://" not in value:
        raise field_error(field, "e-mail callbacks are not supported by this server; give an http(s) URL")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise field_error(field, f"{value!r} is not an absolute http(s) URL")
    if len(value) > 2000:
        raise field_error(field, "must be at most 2000 characters")
    return value

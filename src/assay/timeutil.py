"""Timestamps: stored as naive UTC, shown as ISO-8601 with milliseconds and Z (Scale's format)."""

from __future__ import annotations

from datetime import datetime, timezone

from assay.errors import field_error


def iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    return dt.isoformat(timespec="milliseconds") + "Z"


def parse_filter_time(value: str, field: str) -> datetime:
    """Accepts '2020-09-08', '2020-09-08 12:00:00.123456', ISO with or without zone.
    Zone-less values are UTC."""
    text = value.strip()
    if text.endswith("Z") or text.endswith("z"):
        text = text[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise field_error(field, f"{value!r} is not a date or ISO-8601 time") from None
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc).replace(tzinfo=None)
    return dt

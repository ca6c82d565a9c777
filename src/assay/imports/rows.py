"""What every parser returns: task bodies (the `/v1` create body without `project`), each
with where it came from and the annotation it carried, plus the errors found while
parsing, and the media files that the bodies name."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Row:
    line: int  # the line (CSV, JSON lines, CoNLL) or the item number (JSON, COCO image, file in a zip), from 1
    body: dict[str, Any]
    label: dict[str, Any] | None = None  # an existing answer in the task type's response form
    media: str | None = None  # the name of a media file in the upload that becomes the attachment


@dataclass
class RowError:
    line: int
    field: str
    error: str

    def json(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "error": self.error}


@dataclass
class Parsed:
    format: str
    rows: list[Row] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    media: dict[str, bytes] = field(default_factory=dict)  # name in the upload → bytes
    columns: list[str] = field(default_factory=list)


class ImportError_(ValueError):
    """The upload as a whole cannot be read (not a zip, no annotations file, …)."""

    def __init__(self, message: str, field: str = "file"):
        super().__init__(message)
        self.field = field

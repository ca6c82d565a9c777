"""What an export asks for: the format and the filters, the same for the streamed
download (query parameters), a background job (JSON body) and `assay export`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from assay.schemas import RequestBody

StatusFilter = Literal["pending", "completed", "canceled", "error", "all"]


class ExportRequest(RequestBody):
    """Every key optional. `status` defaults to completed; `since`/`until` bound
    `date_field` (completed_at or created_at, UTC); `min_confidence` keeps tasks whose
    consolidated confidence is at least that; gold items (evaluation and training) are left
    out unless `include_gold`; a live key adds its organization's test tasks with
    `include_test` (a test key always exports test tasks only); `answers` adds every
    labeler's answer (JSON lines); `media` puts the images into a vision zip."""

    model_config = ConfigDict(strict=True, extra="forbid")

    format: Annotated[str, Field(min_length=1, max_length=20, description="One of the formats of GET /api/export-formats.")] = "jsonl"
    status: StatusFilter = "completed"
    batch: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    # ISO-8601 text in a JSON body (strict mode would take only datetime objects)
    since: Annotated[datetime, Field(strict=False)] | None = None
    until: Annotated[datetime, Field(strict=False)] | None = None
    date_field: Literal["completed_at", "created_at"] = "completed_at"
    min_confidence: Annotated[float, Field(ge=0, le=1)] | None = None
    include_gold: bool = False
    include_test: bool = False
    include_auto_accepted: bool = True
    answers: bool = False
    media: bool = False

    def filters(self) -> dict:
        """The filters as stored with a job (JSON-ready, defaults left out)."""
        return self.model_dump(mode="json", exclude={"format"}, exclude_defaults=True)

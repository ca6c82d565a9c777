"""Request bodies of the native task endpoints (the /v1 bodies are Scale's, validated by
the task types and tasks/service)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from assay.schemas import RequestBody


class SendBackBody(RequestBody):
    comment: Annotated[str, Field(max_length=2000, description="Why the task goes back (shown to the reviewer).")] | None = None

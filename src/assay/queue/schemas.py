"""Request bodies of the workbench's JSON API (the OpenAPI schema describes them; a bad
field is a 400 naming it)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from assay.schemas import RequestBody

ActiveSeconds = Annotated[float, Field(ge=0, allow_inf_nan=False, description="Active time on the task in seconds (page events).")]


class NextBody(RequestBody):
    holding: list[str] = Field(default_factory=list, max_length=50,
                               description="Assignment ids already on the caller's screen (the page prefetches one ahead).")


class SubmitBody(RequestBody):
    response: Any = Field(description="The answer, in the task type's response format.")
    active_seconds: ActiveSeconds | None = None
    shown_seconds: Annotated[float, Field(ge=0, allow_inf_nan=False, description="Time the task was on screen (active and idle), for timesheets.")] | None = None


class FlagBody(RequestBody):
    warning: Annotated[str, Field(min_length=1, max_length=200, description="What the content shows (the warning others see).")] = "flagged by a labeler"


class SkipBody(RequestBody):
    reason: Annotated[str, Field(max_length=1000, description="Why the task is skipped.")]

    @field_validator("reason")
    @classmethod
    def _said(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("required: say why you skip (e.g. 'unreadable', 'not in the guidelines')")
        return value.strip()


class ReviewBody(RequestBody):
    action: Literal["accept", "fix", "reject"]
    response: Any = Field(None, description="The corrected answer (fix only).")
    comment: Annotated[str, Field(max_length=5000)] | None = None
    active_seconds: ActiveSeconds | None = None


class AnswerBody(RequestBody):
    """An answer sent without a lease (`POST /api/tasks/{id}/answers`)."""

    response: Any = Field(description="The answer, in the task type's response format.")
    active_seconds: ActiveSeconds | None = None

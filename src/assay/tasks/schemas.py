"""Request bodies of the native task endpoints (the /v1 bodies are Scale's, validated by
the task types and tasks/service)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from assay.schemas import RequestBody


class SendBackBody(RequestBody):
    comment: Annotated[str, Field(max_length=2000, description="Why the task goes back (shown to the reviewer).")] | None = None


class BulkActionBody(RequestBody):
    """`POST /api/tasks/bulk-action`: one action over up to 1000 tasks the caller picked."""

    task_ids: Annotated[list[Annotated[str, Field(max_length=64)]], Field(min_length=1, max_length=1000, description="The tasks to act on.")]
    action: Literal["send_back", "cancel", "priority", "assign", "tag"]
    value: Annotated[int | list[str] | None, Field(description="priority: the new priority; assign: a person's id (null releases); tag: the tags to add.")] = None
    comment: Annotated[str, Field(max_length=2000, description="send_back: why (shown to the reviewer).")] | None = None

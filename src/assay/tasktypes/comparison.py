"""`comparison` (legacy): compare two or more attachments.

Params: `instruction` (required; enforced by the task service after project defaults are
merged), `attachments` (2+ items, each a string or `{type, content}`), `attachment_type`
(default "text": string attachments are the text itself; for any other type they are
URLs), and `choices` (unique strings) and/or `fields` (`{field_name: description}`) — at
least one of the two.

Response: `{"choice": "<one of choices>"}` when the task has `choices`, and
`{"fields": {field_name: value}}` when it has `fields` (every field answered with a
non-blank string, a number or a boolean; no unknown names). A task with both needs both.
"""

from __future__ import annotations

import random
from typing import Any, Literal

from pydantic import Field, ValidationInfo, model_validator

from assay.tasktypes.base import ParamsModel, ResponseModel, TaskTypePlugin
from assay.tasktypes.fields import (
    NonEmptyStr,
    check_unique,
    context_params,
    fail,
    is_url,
    string_or_model,
)
from assay.tasktypes.registry import register

AttachmentType = Literal["text", "image", "website", "video", "audio", "pdf"]


class ComparisonAttachment(ParamsModel):
    type: AttachmentType
    content: str = Field(min_length=1)


class ComparisonParams(ParamsModel):
    attachments: list[string_or_model(ComparisonAttachment)] = Field(min_length=2)
    attachment_type: AttachmentType = "text"
    fields: dict[str, str] | None = None
    choices: list[NonEmptyStr] | None = None

    @model_validator(mode="after")
    def _check(self) -> "ComparisonParams":
        for i, item in enumerate(self.attachments):
            kind, content = (self.attachment_type, item) if isinstance(item, str) else (item.type, item.content)
            if kind != "text" and not is_url(content):
                loc = ("attachments", i) if isinstance(item, str) else ("attachments", i, "content")
                fail(loc, f"must be an http://, https:// or scaledata:// URL for {kind} attachments", content)
        if self.choices is not None:
            if not self.choices:
                fail(("choices",), "must list at least one choice (or leave choices out and use fields)")
            check_unique(self.choices, ("choices",), "choices")
        if self.fields is not None:
            if not self.fields:
                fail(("fields",), "must name at least one field (or leave fields out and use choices)")
            for name in self.fields:
                if not name.strip():
                    fail(("fields",), "field names must be non-empty")
        if not self.choices and not self.fields:
            fail(("choices",), "Field required (a comparison task needs choices and/or fields)")
        return self


class ComparisonResponse(ResponseModel):
    choice: str | None = None
    fields: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _against_params(self, info: ValidationInfo) -> "ComparisonResponse":
        params = context_params(info)
        if not params:
            if self.choice is None and self.fields is None:
                fail(("choice",), "Field required (give choice and/or fields)")
            return self
        choices = params.get("choices") or []
        fields = params.get("fields") or {}
        if choices:
            if self.choice is None:
                fail(("choice",), "Field required")
            if self.choice not in choices:
                fail(("choice",), f"{self.choice!r} is not one of the task's choices", self.choice)
        elif self.choice is not None:
            fail(("choice",), "this task has no choices", self.choice)
        if fields:
            if self.fields is None:
                fail(("fields",), "Field required")
            for name, value in self.fields.items():
                if name not in fields:
                    fail(("fields", name), f"unknown field; this task's fields are {', '.join(map(repr, fields))}", value)
                if isinstance(value, str):
                    if not value.strip():
                        fail(("fields", name), "must not be blank", value)
                elif not isinstance(value, (int, float, bool)):
                    fail(("fields", name), "must be a string, a number or a boolean", value)
            for name in fields:
                if name not in self.fields:
                    fail(("fields", name), "this field is not answered")
        elif self.fields is not None:
            fail(("fields",), "this task has no fields", self.fields)
        return self


@register
class Comparison(TaskTypePlugin):
    name = "comparison"
    title = "Comparison (legacy)"
    Params = ComparisonParams
    Response = ComparisonResponse
    requires_instruction = True

    def synthetic_response(self, params: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if params.get("choices"):
            out["choice"] = rng.choice(params["choices"])
        if params.get("fields"):
            n = len(params["attachments"])
            out["fields"] = {name: f"attachment {rng.randint(1, n)}" for name in params["fields"]}
        return out

    def attachment_urls(self, params: dict[str, Any]) -> list[str]:
        urls: list[str] = []
        default = params.get("attachment_type", "text")
        for item in params.get("attachments") or []:
            if isinstance(item, str) and default != "text":
                urls.append(item)
            elif isinstance(item, dict) and item.get("type") not in (None, "text") and isinstance(item.get("content"), str):
                urls.append(item["content"])
        return urls

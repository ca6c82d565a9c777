"""`categorization`: pick one (or, with allow_multiple, several) of `categories`."""

from __future__ import annotations

import random
import re
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from assay.tasktypes.base import Aggregate, ParamsModel, ResponseModel, TaskTypePlugin
from assay.tasktypes.fields import fail, is_url
from assay.tasktypes.registry import register

SCHEME = re.compile(r"^\s*[a-zA-Z][a-zA-Z0-9+.-]*:")


class CategorizationParams(ParamsModel):
    attachment: str = Field(min_length=1)
    attachment_type: Literal["text", "image", "website", "video", "audio", "pdf"] = "image"
    categories: list[str] = Field(min_length=1)
    allow_multiple: bool = False
    category_ids: dict[str, str] | None = None

    @model_validator(mode="after")
    def _attachment_is_a_link(self) -> "CategorizationParams":
        # a website attachment becomes a link and a frame in the workbench; media become
        # sources: only http(s) and our own files, never javascript:, data: or file:
        if self.attachment_type != "text" and not is_url(self.attachment):
            if self.attachment_type == "website" or SCHEME.match(self.attachment):
                fail(("attachment",), f"must be an http://, https:// or scaledata:// URL for {self.attachment_type} attachments",
                     self.attachment)
        return self

    @field_validator("categories")
    @classmethod
    def _unique_non_empty(cls, value: list[str]) -> list[str]:
        if any(not c.strip() for c in value):
            raise ValueError("categories must be non-empty strings")
        if len(set(value)) != len(value):
            raise ValueError("categories must be unique")
        return value


class CategorizationResponse(ResponseModel):
    category: str | list[str]

    @model_validator(mode="after")
    def _known_category(self, info: ValidationInfo) -> "CategorizationResponse":
        params = (info.context or {}).get("params") or {}
        categories = params.get("categories") or []
        chosen = self.category if isinstance(self.category, list) else [self.category]
        if isinstance(self.category, list) and not params.get("allow_multiple"):
            raise ValueError("category: this task allows one category, not a list")
        for c in chosen:
            if categories and c not in categories:
                raise ValueError(f"category: {c!r} is not one of the task's categories")
        return self


@register
class Categorization(TaskTypePlugin):
    name = "categorization"
    title = "Categorization"
    Params = CategorizationParams
    Response = CategorizationResponse
    varying_fields = ("attachment",)

    def varying_ok(self, name: str, value: Any, validated: dict[str, Any]) -> bool:
        # CategorizationParams.attachment and its link check, for a validated rest
        if name != "attachment" or not isinstance(value, str) or not value:
            return False
        return validated.get("attachment_type") == "text" or is_url(value) or not (
            validated.get("attachment_type") == "website" or SCHEME.match(value))

    def synthetic_response(self, params: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        categories = params["categories"]
        if params.get("allow_multiple"):
            k = rng.randint(1, len(categories))
            return {"category": sorted(rng.sample(categories, k), key=categories.index)}
        return {"category": rng.choice(categories)}

    def consensus_key(self, response: dict[str, Any], params: dict[str, Any]) -> Any:
        category = response.get("category")
        return tuple(sorted(category)) if isinstance(category, list) else category

    def answer_space(self, params: dict[str, Any]) -> int | None:
        n = len(params.get("categories") or [])
        # multi-select: every non-empty subset is an answer
        return (2**n - 1) if params.get("allow_multiple") else n

    def is_categorical(self, params: dict[str, Any]) -> bool:
        return not params.get("allow_multiple")

    def aggregate(self, responses: list[dict[str, Any]], weights: list[float], params: dict[str, Any]) -> Aggregate | None:
        """Multi-select: each category is a yes/no vote of its own (weighted); a category is
        chosen with more than half of the weight. Confidence: the mean winning share over
        the categories. Single choice uses the one-coin model (None here)."""
        if not params.get("allow_multiple"):
            return None
        categories = params["categories"]
        total = sum(weights) or 1.0
        shares = [sum(w for r, w in zip(responses, weights) if c in r["category"]) / total for c in categories]
        chosen = [c for c, share in zip(categories, shares) if share > 0.5]
        if not chosen:  # an answer names at least one category: the most voted one
            chosen = [categories[max(range(len(categories)), key=lambda i: (shares[i], -i))]]
        confidence = sum(max(share, 1 - share) for share in shares) / len(shares)
        contributors = [i for i, r in enumerate(responses) if set(r["category"]) == set(chosen)]
        return Aggregate({"category": chosen}, confidence, contributors, "per_label_vote")

"""The task-type plug-in interface.

A task type is one module in this package that defines a subclass of `TaskTypePlugin`
and registers it with `@register`. The task service only talks to this interface:

* `Params`: pydantic model of the type-specific request parameters. Unknown extra
  parameters are kept (Scale passes many optional ones). Validation errors become a 400
  naming the field (`categories: Field required`).
* `Response`: pydantic model of a completed answer (`response` of a Scale task); the
  completion path validates human answers with it, and `hypothesis` (pre-labels) too.
* `synthetic_response(params, rng)`: a well-formed answer for test-mode (`test_…`) keys.
* `attachment_urls(params)`: the URLs the server may check or serve for this task.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, ClassVar

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from assay.errors import InvalidRequest
from assay.schemas import validation_error_to_api


class ParamsModel(BaseModel):
    """Base for params models: extra keys are kept, values are validated strictly enough
    that a wrong type is a 400, not a crash later."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class ResponseModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


@dataclass
class Aggregate:
    """A consolidated answer: the response, its confidence in [0, 1], the indices of the
    answers that agree with it (their labelers' records count them as agreeing), and the
    method's name for the task's `quality.method`. `details` (optional, JSON-ready) is
    added to the task's `quality` object as is: e.g. per-item scores with intervals."""

    response: dict[str, Any]
    confidence: float
    contributors: list[int]
    method: str
    details: dict[str, Any] | None = None


class TaskTypePlugin:
    name: ClassVar[str]
    title: ClassVar[str]
    Params: ClassVar[type[ParamsModel]]
    Response: ClassVar[type[ResponseModel]]
    # Fields that must be present after project defaults are merged (besides Params' own
    # required fields); used for legacy types where Scale requires `instruction`.
    requires_instruction: ClassVar[bool] = False
    # Params that vary from task to task in a homogeneous list (an attachment) and whose
    # check does not depend on the rest beyond what `varying_ok` reads: a bulk import
    # validates each distinct rest once (`ShapeValidator`) and only checks these per task.
    varying_fields: ClassVar[tuple[str, ...]] = ()

    def varying_ok(self, name: str, value: Any, validated: dict[str, Any]) -> bool:
        """Whether `value` of the varying param `name` passes the Params model next to the
        already validated params `validated`, and is dumped unchanged. False sends the
        task through the full model (which then names the error)."""
        return False

    def validate_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """Validate merged params; returns them with defaults filled in (JSON-ready)."""
        try:
            model = self.Params.model_validate(params)
        except ValidationError as exc:
            raise validation_error_to_api(exc) from None
        out = model.model_dump(mode="json", by_alias=True, exclude_none=True)
        hypothesis = params.get("hypothesis")
        if hypothesis is not None:
            out["hypothesis"] = self.validate_response(hypothesis, out, field="hypothesis")
        return out

    def validate_response(self, response: Any, params: dict[str, Any], field: str = "response") -> dict[str, Any]:
        """Validate an answer against the Response model and the task's params."""
        if not isinstance(response, dict):
            raise InvalidRequest(f"{field}: must be a JSON object", field=field)
        try:
            model = self.Response.model_validate(response, context={"params": params})
        except ValidationError as exc:
            raise validation_error_to_api(exc, field) from None
        return model.model_dump(mode="json", by_alias=True, exclude_none=True)

    def synthetic_response(self, params: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        raise NotImplementedError

    def consensus_key(self, response: dict[str, Any], params: dict[str, Any]) -> Any:
        """What makes two answers "the same" for consensus: by default the whole answer
        (canonical JSON). Types with a natural label (a category) override it."""
        return orjson.dumps(response, option=orjson.OPT_SORT_KEYS)

    # answers are uploaded masks: consolidation votes per pixel (media/consensus.py)
    consolidates_masks = False

    def aggregate(self, responses: list[dict[str, Any]], weights: list[float], params: dict[str, Any]) -> Aggregate | None:
        """Type-specific consolidation of several labelers' answers (spans, geometry, free
        text), each weighted by the labeler's accuracy estimate. None: answers are the same
        or different as a whole (`consensus_key`) and the one-coin model decides."""
        return None

    def answer_space(self, params: dict[str, Any]) -> int | None:
        """How many different answers are possible (e.g. the number of categories), or
        None when unbounded (free text, geometry)."""
        return None

    def preference_pairs(self, params: dict[str, Any], response: dict[str, Any]) -> list[dict[str, Any]]:
        """The answer as preference data: `{prompt, chosen, rejected, ...}` dicts (none
        for types that express no preference)."""
        return []

    def judge_can_vote(self, params: dict[str, Any]) -> bool:
        """Whether an LLM judge's verdict can count as one more vote in consolidation."""
        return False

    def flags_content(self, params: dict[str, Any]) -> bool:
        """The task shows content that may be harmful to read (red-teaming): the workbench
        warns first, and it counts as flagged content for the labeler's well-being."""
        return False

    def is_categorical(self, params: dict[str, Any]) -> bool:
        """One of a fixed set of classes, compared as a whole: what the named truth-inference
        methods (Dawid-Skene, GLAD, …) model, and what the built-in text classifier predicts."""
        return False

    def workbench_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """The params as the labeling tool receives them (pre-labels travel separately).
        A type whose content holds Markdown adds rendered, escaped `*_html` fields here."""
        return {k: v for k, v in params.items() if k != "hypothesis"}

    def attachment_urls(self, params: dict[str, Any]) -> list[str]:
        urls: list[str] = []
        attachment = params.get("attachment")
        if isinstance(attachment, str) and params.get("attachment_type", "image") != "text":
            urls.append(attachment)
        for item in params.get("attachments") or []:
            if isinstance(item, str):
                urls.append(item)
            elif isinstance(item, dict) and item.get("type") not in (None, "text") and isinstance(item.get("content"), str):
                urls.append(item["content"])
        return urls


class ShapeValidator:
    """`validate_params` for the tasks of one bulk request: tasks that differ only in their
    type's `varying_fields` share one validation of everything else (the model runs once
    per distinct shape, the varying values are checked by `varying_ok`). The result is
    what `validate_params` returns for each task; anything unusual takes the full path."""

    MAX_SHAPES = 1000

    def __init__(self, plugin: TaskTypePlugin):
        self.plugin = plugin
        self.varying = frozenset(plugin.varying_fields)
        self.shapes: dict[tuple, dict[str, Any]] = {}

    def __call__(self, params: dict[str, Any]) -> dict[str, Any]:
        if not self.varying or "hypothesis" in params:
            return self.plugin.validate_params(params)
        rest, vary = {}, {}
        for key, value in params.items():
            (vary if key in self.varying else rest)[key] = value
        try:
            shape = (tuple(vary), orjson.dumps(rest, option=orjson.OPT_SORT_KEYS))
        except TypeError:
            return self.plugin.validate_params(params)
        template = self.shapes.get(shape)
        if template is not None and all(self.plugin.varying_ok(k, v, template) for k, v in vary.items()):
            out = dict(template)
            out.update(vary)
            return out
        out = self.plugin.validate_params(params)
        if template is None and len(self.shapes) < self.MAX_SHAPES and all(out.get(k) == v for k, v in vary.items()):
            self.shapes[shape] = out
        return dict(out)

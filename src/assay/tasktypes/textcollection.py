"""`textcollection`: a form (`fields`) answered about some `attachments`.

Field types: `category`, `text`, `number`, `datetime`, `ranking`, `boolean`.

Response (Scale's shape): `{"annotations": {"<field_id>": {"type", "field_id", "response": [[...]]}}}`.
`response` is a list of answers (usually one; a field may allow several with
`min_responses_required` / `max_responses_required`, default 1 each), each answer a list
of values:

* category: the selected choice `value`s (subchoice values count), between `min_choices`
  (default 1) and `max_choices` (default max(1, min_choices)) of them;
* text: one string within `min_characters` / `max_characters`; a blank string does not
  answer a required field;
* number: one number within `min` / `max`;
* datetime: one ISO-8601 date or date-time string;
* ranking: choice values in rank order (best first), each at most once; `ranks` (an int,
  or a list of rank names) is how many positions to fill, default every choice (so the
  answer is a permutation of the choices);
* boolean: one true/false.

Fields with `required: true` must be answered (unless they carry Scale `conditions`, which
this server does not evaluate). `type` and `field_id` inside an answer are optional and, when
given, must match the field; they are filled in on output.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import Field, PlainValidator, ValidationInfo, field_validator, model_validator

from assay.tasktypes.base import Aggregate, ParamsModel, ResponseModel, TaskTypePlugin
from assay.tasktypes.fields import (
    NonEmptyStr,
    Number,
    check_unique,
    context_params,
    fail,
    is_url,
    tagged_union,
)
from assay.tasktypes.registry import register

ATTACHMENT_TYPES = ("text", "image", "pdf", "video", "website", "audio")
FIELD_TYPES = ("category", "text", "number", "datetime", "ranking", "boolean")


class Attachment(ParamsModel):
    type: Literal["text", "image", "pdf", "video", "website", "audio"]
    content: str = Field(min_length=1)
    forms: list[str] | None = None

    @model_validator(mode="after")
    def _url_content(self) -> "Attachment":
        if self.type != "text" and not is_url(self.content):
            fail(("content",), f"must be an http://, https:// or scaledata:// URL for {self.type} attachments")
        return self


class Choice(ParamsModel):
    label: NonEmptyStr
    value: NonEmptyStr
    subchoices: list["Choice"] | None = None

    @field_validator("subchoices", mode="before")
    @classmethod
    def _plain(cls, value: Any) -> Any:
        return _strings_to_choices(value)


def _strings_to_choices(value: Any) -> Any:
    if isinstance(value, list):
        return [{"label": c, "value": c} if isinstance(c, str) else c for c in value]
    return value


def choice_values(choices: Any) -> list[str]:
    """Every selectable value, subchoices included."""
    out: list[str] = []
    for choice in choices or []:
        if isinstance(choice, str):
            out.append(choice)
        elif isinstance(choice, dict):
            if isinstance(choice.get("value"), str):
                out.append(choice["value"])
            out.extend(choice_values(choice.get("subchoices")))
    return out


def _ranks(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            raise ValueError("must be at least 1")
        return value
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return value
    raise ValueError("must be a positive integer or a non-empty list of rank names")


class _Field(ParamsModel):
    type: str
    field_id: NonEmptyStr
    title: NonEmptyStr
    description: str | None = None
    required: bool | None = None
    min_responses_required: int | None = Field(default=None, ge=0)
    max_responses_required: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _responses(self) -> "_Field":
        low, high = self.min_responses_required, self.max_responses_required
        if low is not None and high is not None and low > high:
            fail(("max_responses_required",), f"must be at least min_responses_required ({low})", high)
        return self


class CategoryField(_Field):
    type: Literal["category"]
    choices: list[Choice] = Field(min_length=1)
    min_choices: int | None = Field(default=None, ge=0)
    max_choices: int | None = Field(default=None, ge=1)

    @field_validator("choices", mode="before")
    @classmethod
    def _plain(cls, value: Any) -> Any:
        return _strings_to_choices(value)

    @model_validator(mode="after")
    def _check(self) -> "CategoryField":
        values = choice_values(self.model_dump()["choices"])
        check_unique(values, ("choices",), "choice values")
        low, high = category_bounds(self.min_choices, self.max_choices)
        if self.max_choices is not None and low > high:
            fail(("max_choices",), f"must be at least min_choices ({low})", self.max_choices)
        if low > len(values):
            fail(("min_choices",), f"is more than the number of choices ({len(values)})", self.min_choices)
        return self


class TextField(_Field):
    type: Literal["text"]
    min_characters: int | None = Field(default=None, ge=0)
    max_characters: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _check(self) -> "TextField":
        if self.min_characters is not None and self.max_characters is not None and self.min_characters > self.max_characters:
            fail(("max_characters",), f"must be at least min_characters ({self.min_characters})", self.max_characters)
        return self


class NumberField(_Field):
    type: Literal["number"]
    min: Number | None = None
    max: Number | None = None

    @model_validator(mode="after")
    def _check(self) -> "NumberField":
        if self.min is not None and self.max is not None and self.min > self.max:
            fail(("max",), f"must be at least min ({self.min})", self.max)
        return self


class DatetimeField(_Field):
    type: Literal["datetime"]


class RankingField(_Field):
    type: Literal["ranking"]
    choices: list[Choice] = Field(min_length=1)
    ranks: Annotated[Any, PlainValidator(_ranks)] = None

    @field_validator("choices", mode="before")
    @classmethod
    def _plain(cls, value: Any) -> Any:
        return _strings_to_choices(value)

    @model_validator(mode="after")
    def _check(self) -> "RankingField":
        values = [c.value for c in self.choices]
        check_unique(values, ("choices",), "choice values")
        if ranking_positions(self.ranks, len(values)) > len(values):
            fail(("ranks",), f"asks for more positions than there are choices ({len(values)})", self.ranks)
        return self


class BooleanField(_Field):
    type: Literal["boolean"]


TextCollectionField = tagged_union(
    "type",
    {
        "category": CategoryField,
        "text": TextField,
        "number": NumberField,
        "datetime": DatetimeField,
        "ranking": RankingField,
        "boolean": BooleanField,
    },
    name="TextCollectionField",
)


def category_bounds(min_choices: int | None, max_choices: int | None) -> tuple[int, int]:
    low = 1 if min_choices is None else min_choices
    high = max(1, low) if max_choices is None else max_choices
    return low, high


def ranking_values(choices: Any) -> list[str]:
    """A ranking field ranks its top-level choices (subchoices are not ranked)."""
    return [c if isinstance(c, str) else c.get("value") for c in choices or [] if isinstance(c, (str, dict))]


def ranking_positions(ranks: Any, n_choices: int) -> int:
    if ranks is None:
        return n_choices
    return ranks if isinstance(ranks, int) else len(ranks)


def response_bounds(field: dict[str, Any]) -> tuple[int, int]:
    low = field.get("min_responses_required")
    low = 1 if low is None else low
    high = field.get("max_responses_required")
    return low, (max(1, low) if high is None else high)


class TextCollectionParams(ParamsModel):
    attachments: list[Attachment] = Field(min_length=1)
    fields: list[TextCollectionField] = Field(min_length=1)
    title: str | None = None
    description: str | None = None
    responses_required: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> "TextCollectionParams":
        seen: set[str] = set()
        for i, field in enumerate(self.fields):
            if field.field_id in seen:
                fail(("fields", i, "field_id"), f"duplicate field_id {field.field_id!r}", field.field_id)
            seen.add(field.field_id)
        return self


class FieldAnswer(ResponseModel):
    type: str | None = None
    field_id: str | None = None
    response: list[list[Any]]


def _parse_datetime(value: Any) -> bool:
    if not isinstance(value, str) or not value.strip():
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _check_values(field: dict[str, Any], values: list[Any], loc: tuple) -> None:
    kind = field.get("type")
    if kind == "category":
        allowed = choice_values(field.get("choices"))
        low, high = category_bounds(field.get("min_choices"), field.get("max_choices"))
        if not low <= len(values) <= high:
            want = f"{low}" if low == high else f"{low} to {high}"
            fail(loc, f"select {want} choice(s), got {len(values)}", values)
        for j, value in enumerate(values):
            if value not in allowed:
                fail(loc + (j,), f"{value!r} is not one of the field's choice values", value)
        check_unique([str(v) for v in values], loc, "selected choices")
        return
    if kind == "ranking":
        allowed = ranking_values(field.get("choices"))
        n = ranking_positions(field.get("ranks"), len(allowed))
        if len(values) != n:
            fail(loc, f"rank {n} of the choices, got {len(values)}", values)
        for j, value in enumerate(values):
            if value not in allowed:
                fail(loc + (j,), f"{value!r} is not one of the field's choice values", value)
        check_unique([str(v) for v in values], loc, "ranked choices")
        return
    if len(values) != 1:
        fail(loc, f"a {kind} field takes one value per response, got {len(values)}", values)
    value = values[0]
    here = loc + (0,)
    if kind == "text":
        if not isinstance(value, str):
            fail(here, "must be a string", value)
        if field.get("required") and not field.get("conditions") and not value.strip():
            fail(here, "must not be blank (the field is required)", value)
        if field.get("min_characters") is not None and len(value) < field["min_characters"]:
            fail(here, f"must be at least {field['min_characters']} characters", value)
        if field.get("max_characters") is not None and len(value) > field["max_characters"]:
            fail(here, f"must be at most {field['max_characters']} characters", value)
    elif kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            fail(here, "must be a number", value)
        if field.get("min") is not None and value < field["min"]:
            fail(here, f"must be at least {field['min']}", value)
        if field.get("max") is not None and value > field["max"]:
            fail(here, f"must be at most {field['max']}", value)
    elif kind == "datetime":
        if not _parse_datetime(value):
            fail(here, "must be an ISO-8601 date or date-time string", value)
    elif kind == "boolean":
        if not isinstance(value, bool):
            fail(here, "must be true or false", value)


class TextCollectionResponse(ResponseModel):
    annotations: dict[str, FieldAnswer]

    @model_validator(mode="after")
    def _against_params(self, info: ValidationInfo) -> "TextCollectionResponse":
        params = context_params(info)
        fields = {f["field_id"]: f for f in params.get("fields") or [] if isinstance(f, dict) and "field_id" in f}
        if not fields:
            return self
        for field_id, answer in self.annotations.items():
            here = ("annotations", field_id)
            field = fields.get(field_id)
            if field is None:
                fail(here, f"unknown field_id; this task's fields are {', '.join(map(repr, fields))}")
            if answer.field_id is not None and answer.field_id != field_id:
                fail(here + ("field_id",), f"must be {field_id!r} (the key it is under)", answer.field_id)
            if answer.type is not None and answer.type != field.get("type"):
                fail(here + ("type",), f"must be {field.get('type')!r} (the field's type)", answer.type)
            answer.field_id, answer.type = field_id, field.get("type")
            low, high = response_bounds(field)
            n = len(answer.response)
            must_answer = field.get("required") and not field.get("conditions")
            if (n > 0 or must_answer) and not low <= n <= high or (n == 0 and must_answer):
                want = f"{low}" if low == high else f"{low} to {high}"
                fail(here + ("response",), f"give {want} response(s), got {n}")
            for i, values in enumerate(answer.response):
                _check_values(field, values, here + ("response", i))
        for field_id, field in fields.items():
            if field.get("required") and not field.get("conditions") and field_id not in self.annotations:
                fail(("annotations", field_id), "this field is required but not answered")
        return self


def _synthetic_values(field: dict[str, Any], rng: random.Random) -> list[Any]:
    kind = field["type"]
    if kind == "category":
        allowed = choice_values(field["choices"])
        low, high = category_bounds(field.get("min_choices"), field.get("max_choices"))
        k = rng.randint(min(low, len(allowed)), min(high, len(allowed)))
        return sorted(rng.sample(allowed, k), key=allowed.index)
    if kind == "ranking":
        allowed = ranking_values(field["choices"])
        return rng.sample(allowed, ranking_positions(field.get("ranks"), len(allowed)))
    if kind == "text":
        low = field.get("min_characters") or 1
        high = field.get("max_characters") or max(low, 60)
        target = rng.randint(low, min(high, low + 60))
        words = ["synthetic", "answer", "lorem", "ipsum", "dolor", "sit", "amet", "data", "label"]
        text = rng.choice(words)
        while len(text) < target:
            text += " " + rng.choice(words)
        text = text[:target]
        return [text[:-1] + "x" if text.endswith(" ") else text]
    if kind == "number":
        low, high = field.get("min"), field.get("max")
        if low is None:
            low = 0 if high is None else high - 100
        if high is None:
            high = low + 100
        if isinstance(low, int) and isinstance(high, int):
            return [rng.randint(low, high)]
        return [min(max(round(rng.uniform(low, high), 3), low), high)]
    if kind == "datetime":
        return [(date(2020, 1, 1) + timedelta(days=rng.randint(0, 2000))).isoformat()]
    if kind == "boolean":
        return [rng.random() < 0.5]
    raise ValueError(f"unknown field type {kind!r}")


@register
class TextCollection(TaskTypePlugin):
    name = "textcollection"
    title = "Text collection"
    Params = TextCollectionParams
    Response = TextCollectionResponse

    def synthetic_response(self, params: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        annotations: dict[str, Any] = {}
        for field in params["fields"]:
            low, _ = response_bounds(field)
            annotations[field["field_id"]] = {
                "type": field["type"],
                "field_id": field["field_id"],
                "response": [_synthetic_values(field, rng) for _ in range(max(1, low))],
            }
        return {"annotations": annotations}

    def aggregate(self, responses: list[dict[str, Any]], weights: list[float], params: dict[str, Any]) -> Aggregate | None:
        """Field by field: numbers by weighted median, free text by the medoid, rankings
        that order every choice by Bradley-Terry, anything else (choices, booleans, dates,
        several responses) by weighted plurality of the whole field answer. Confidence: the
        mean over fields of the winning weight share (or the method's own confidence).
        `details.scores[field_id]`: each choice's Bradley-Terry score and 95 % interval, best
        first, for the ranking fields consolidated by Bradley-Terry."""
        from assay.quality.numbers import weighted_median  # noqa: PLC0415 - numpy loads on the first consolidation
        from assay.quality.ranking import bradley_terry, ranking_to_comparisons  # noqa: PLC0415 - numpy/scipy load on the first consolidation
        from assay.quality.text import text_medoid  # noqa: PLC0415 - numpy loads on the first consolidation

        fields = {f["field_id"]: f for f in params.get("fields") or []}
        total = sum(weights) or 1.0
        out: dict[str, Any] = {}
        confidences: list[float] = []
        scores: dict[str, list[dict[str, Any]]] = {}
        for field_id, field in fields.items():
            given = [(i, r["annotations"][field_id]["response"]) for i, r in enumerate(responses) if field_id in (r.get("annotations") or {})]
            if not given:
                continue
            w = [weights[i] for i, _ in given]
            single = all(len(v) == 1 and len(v[0]) == 1 for _, v in given)
            value = None
            if field["type"] == "number" and single:
                result = weighted_median([v[0][0] for _, v in given], w)
                value, conf = [[result.answer]], result.confidence
            elif field["type"] == "text" and single:
                result = text_medoid([v[0][0] for _, v in given], w)
                value, conf = [[result.answer]], result.confidence
            elif field["type"] == "ranking" and all(len(v) == 1 for _, v in given):
                choices = [c["value"] if isinstance(c, dict) else c for c in field.get("choices") or []]
                orders = [v[0] for _, v in given]
                if choices and all(sorted(o) == sorted(choices) for o in orders):
                    index = {c: k for k, c in enumerate(choices)}
                    comparisons, cw = ranking_to_comparisons([[index[c] for c in o] for o in orders], w)
                    result = bradley_terry(len(choices), comparisons, cw)
                    value, conf = [[choices[k] for k in result.ranking]], result.confidence
                    scores[field_id] = result.score_table(choices)
            if value is None:
                votes: dict[str, tuple[float, Any]] = {}
                for (_, v), weight in zip(given, w):
                    key = repr(v)
                    votes[key] = (votes.get(key, (0.0, v))[0] + weight, v)
                best = max(votes.values(), key=lambda item: item[0])  # first given wins ties (dict order)
                value, conf = best[1], best[0] / total
            out[field_id] = {"type": field["type"], "field_id": field_id, "response": value}
            confidences.append(float(conf))
        if not out:
            return None
        response = self.validate_response({"annotations": out}, params)
        contributors = [i for i, r in enumerate(responses)
                        if all(r.get("annotations", {}).get(f, {}).get("response") == a["response"] for f, a in response["annotations"].items())]
        return Aggregate(response, sum(confidences) / len(confidences), contributors, "per_field", {"scores": scores} if scores else None)

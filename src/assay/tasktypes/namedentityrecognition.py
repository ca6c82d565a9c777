"""`namedentityrecognition`: highlight spans of `text` and give each one of `labels`.

Offsets are Python string indices (Unicode code points), `start` inclusive and `end`
exclusive: `text[start:end]` is the span.

Labels may nest (`children`, as in Scale's NamedEntityRecognitionLabel); any label of the
tree may be used. Plain strings in `labels` are normalised to `{"name": ...}`.

Relationship definitions follow Scale: either all named or all unnamed; optional
`source_label` / `target_label` (Scale, one label) or `source_labels` / `target_labels`
(a list) restrict the two ends (a label also admits its children); `is_directed` defaults
to false, in which case source and target may be swapped.
"""

from __future__ import annotations

import random
import re
from typing import Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from assay.tasktypes.base import Aggregate, ParamsModel, ResponseModel, TaskTypePlugin
from assay.tasktypes.fields import (
    NonEmptyStr,
    check_unique,
    context_params,
    fail,
    synthetic_uuid,
)
from assay.tasktypes.registry import register


def _strings_to_labels(value: Any) -> Any:
    if isinstance(value, list):
        return [{"name": item} if isinstance(item, str) else item for item in value]
    return value


class NerLabel(ParamsModel):
    name: NonEmptyStr
    display_name: str | None = None
    description: str | None = None
    attributes: dict[str, Any] | None = None
    children: list["NerLabel"] | None = None

    @field_validator("children", mode="before")
    @classmethod
    def _plain_children(cls, value: Any) -> Any:
        return _strings_to_labels(value)


class RelationshipDefinition(ParamsModel):
    name: NonEmptyStr | None = None
    display_name: str | None = None
    is_directed: bool | None = None
    source_label: NonEmptyStr | None = None
    target_label: NonEmptyStr | None = None
    source_labels: list[NonEmptyStr] | None = None
    target_labels: list[NonEmptyStr] | None = None


def _walk_labels(labels: Any, parent: str | None = None):
    """Yield (label dict, parent name) over the label tree (dicts or plain strings)."""
    for label in labels or []:
        if isinstance(label, str):
            label = {"name": label}
        if isinstance(label, dict):
            yield label, parent
            yield from _walk_labels(label.get("children"), label.get("name"))


def label_names(labels: Any) -> list[str]:
    return [label["name"] for label, _ in _walk_labels(labels) if isinstance(label.get("name"), str)]


def _with_descendants(names: list[str], labels: Any) -> set[str]:
    children: dict[str, list[str]] = {}
    for label, parent in _walk_labels(labels):
        if parent is not None:
            children.setdefault(parent, []).append(label["name"])
    out: set[str] = set()
    stack = list(names)
    while stack:
        name = stack.pop()
        if name not in out:
            out.add(name)
            stack.extend(children.get(name, []))
    return out


def _ends(definition: dict[str, Any], side: str) -> list[str] | None:
    """The labels allowed at one end (`source` or `target`) of a relationship definition."""
    names: list[str] = []
    if definition.get(f"{side}_label"):
        names.append(definition[f"{side}_label"])
    names.extend(definition.get(f"{side}_labels") or [])
    return names or None


class NamedEntityRecognitionParams(ParamsModel):
    text: str = Field(min_length=1)
    labels: list[NerLabel] = Field(min_length=1)
    allow_overlap: bool = False
    relationships: list[RelationshipDefinition] | None = None

    @field_validator("labels", mode="before")
    @classmethod
    def _plain_labels(cls, value: Any) -> Any:
        return _strings_to_labels(value)

    @model_validator(mode="after")
    def _check(self) -> "NamedEntityRecognitionParams":
        dumped = self.model_dump(exclude_none=True)
        names = label_names(dumped["labels"])
        check_unique(names, ("labels",), "label names")
        known = set(names)
        definitions = dumped.get("relationships") or []
        named = [bool(d.get("name")) for d in definitions]
        if any(named) and not all(named):
            fail(("relationships", named.index(False), "name"), "either every relationship is named or none is")
        check_unique([d["name"] for d in definitions if d.get("name")], ("relationships",), "relationship names")
        for i, definition in enumerate(definitions):
            for key in ("source_label", "target_label"):
                if definition.get(key) and definition[key] not in known:
                    fail(("relationships", i, key), f"{definition[key]!r} is not one of the task's labels")
            for key in ("source_labels", "target_labels"):
                for j, name in enumerate(definition.get(key) or []):
                    if name not in known:
                        fail(("relationships", i, key, j), f"{name!r} is not one of the task's labels")
        return self


class NerAnnotation(ResponseModel):
    id: NonEmptyStr | None = None
    start: int = Field(ge=0, strict=True)
    end: int = Field(ge=0, strict=True)
    text: str | None = None
    label: NonEmptyStr
    attributes: dict[str, Any] | None = None


class NerRelationship(ResponseModel):
    id: NonEmptyStr | None = None
    source_ref: NonEmptyStr
    target_ref: NonEmptyStr
    name: str | None = None


class NamedEntityRecognitionResponse(ResponseModel):
    annotations: list[NerAnnotation]
    relationships: list[NerRelationship] = Field(default_factory=list)

    @model_validator(mode="after")
    def _against_params(self, info: ValidationInfo) -> "NamedEntityRecognitionResponse":
        params = context_params(info)
        text = params.get("text")
        labels = params.get("labels")
        known = {label["name"]: label for label, _ in _walk_labels(labels) if isinstance(label.get("name"), str)}
        for i, ann in enumerate(self.annotations):
            here = ("annotations", i)
            if ann.end <= ann.start:
                fail(here + ("end",), f"must be greater than start ({ann.start})", ann.end)
            if isinstance(text, str):
                if ann.end > len(text):
                    fail(here + ("end",), f"must be at most the length of the text ({len(text)})", ann.end)
                if ann.text is None:
                    ann.text = text[ann.start:ann.end]
                elif ann.text != text[ann.start:ann.end]:
                    fail(here + ("text",), f"does not match the task text at {ann.start}:{ann.end} "
                         f"({text[ann.start:ann.end]!r})", ann.text)
            if known and ann.label not in known:
                fail(here + ("label",), f"{ann.label!r} is not one of the task's labels", ann.label)
            spec = known.get(ann.label) or {}
            if ann.attributes and isinstance(spec.get("attributes"), dict):
                for key, value in ann.attributes.items():
                    if key not in spec["attributes"]:
                        fail(here + ("attributes", key), f"label {ann.label!r} has no attribute {key!r}", value)
                    choices = spec["attributes"][key].get("choices") if isinstance(spec["attributes"][key], dict) else None
                    if isinstance(choices, list) and choices:
                        allowed = [c.get("value", c.get("label")) if isinstance(c, dict) else c for c in choices]
                        if value not in allowed:
                            fail(here + ("attributes", key), f"{value!r} is not one of the attribute's choices", value)
        ids = [a.id for a in self.annotations if a.id is not None]
        for i, ann in enumerate(self.annotations):
            if ann.id is not None and ids.count(ann.id) > 1:
                fail(("annotations", i, "id"), f"duplicate id {ann.id!r}", ann.id)

        if not params.get("allow_overlap", False):
            order = sorted(range(len(self.annotations)), key=lambda k: (self.annotations[k].start, self.annotations[k].end))
            reach = -1  # index of the span reaching furthest right so far
            for k in order:
                ann = self.annotations[k]
                if reach >= 0 and ann.start < self.annotations[reach].end:
                    other = self.annotations[reach]
                    fail(("annotations", k), f"overlaps annotations[{reach}] ({other.start}-{other.end}); "
                         "this task does not allow overlapping spans (allow_overlap)")
                if reach < 0 or ann.end > self.annotations[reach].end:
                    reach = k

        by_id = {a.id: a for a in self.annotations if a.id is not None}
        definitions = params.get("relationships") or []
        named = [d for d in definitions if d.get("name")]
        for i, rel in enumerate(self.relationships):
            here = ("relationships", i)
            for key in ("source_ref", "target_ref"):
                ref = getattr(rel, key)
                if ref not in by_id:
                    fail(here + (key,), f"{ref!r} is not the id of an annotation in this response", ref)
            if not definitions:
                if params:
                    fail(here, "this task defines no relationships")
                continue
            if rel.name:
                candidates = [d for d in named if d["name"] == rel.name]
                if not candidates:
                    if named:
                        fail(here + ("name",), f"{rel.name!r} is not one of the task's relationships "
                             f"({', '.join(d['name'] for d in named)})", rel.name)
                    fail(here + ("name",), "this task's relationships are unnamed", rel.name)
            else:
                if named:
                    fail(here + ("name",), f"required; one of {', '.join(d['name'] for d in named)}")
                candidates = definitions
            source, target = by_id[rel.source_ref].label, by_id[rel.target_ref].label
            if not any(_relationship_fits(d, source, target, labels) for d in candidates):
                fail(here, f"a {rel.name or 'relationship'} cannot link {source!r} to {target!r}")
        return self


def _relationship_fits(definition: dict[str, Any], source: str, target: str, labels: Any) -> bool:
    def allowed(side: str, label: str) -> bool:
        ends = _ends(definition, side)
        return ends is None or label in _with_descendants(ends, labels)

    if allowed("source", source) and allowed("target", target):
        return True
    return not definition.get("is_directed") and allowed("source", target) and allowed("target", source)


@register
class NamedEntityRecognition(TaskTypePlugin):
    name = "namedentityrecognition"
    title = "Named entity recognition"
    Params = NamedEntityRecognitionParams
    Response = NamedEntityRecognitionResponse

    def synthetic_response(self, params: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        text: str = params["text"]
        labels = params["labels"]
        names = label_names(labels)
        words = [m.span() for m in re.finditer(r"\S+", text)] or [(0, 1)]
        count = rng.randint(1, min(3, len(words)))
        spans = sorted(rng.sample(words, count))
        chosen = [rng.choice(names) for _ in spans]
        definitions = params.get("relationships") or []
        relationship: dict[str, Any] | None = None
        if definitions and len(spans) >= 2:
            definition = rng.choice(definitions)
            sources = sorted(_with_descendants(_ends(definition, "source") or names, labels))
            targets = sorted(_with_descendants(_ends(definition, "target") or names, labels))
            chosen[0], chosen[1] = rng.choice(sources), rng.choice(targets)
            relationship = {"name": definition.get("name")}
        specs = {label["name"]: label for label, _ in _walk_labels(labels)}
        annotations = []
        for (start, end), label in zip(spans, chosen):
            ann: dict[str, Any] = {
                "id": synthetic_uuid(rng), "start": start, "end": end, "text": text[start:end], "label": label,
            }
            attributes = {}
            for key, spec in (specs[label].get("attributes") or {}).items():
                choices = spec.get("choices") if isinstance(spec, dict) else None
                if isinstance(choices, list) and choices:
                    c = rng.choice(choices)
                    attributes[key] = c.get("value", c.get("label")) if isinstance(c, dict) else c
            if attributes:
                ann["attributes"] = attributes
            annotations.append(ann)
        relationships = []
        if relationship is not None:
            rel = {"id": synthetic_uuid(rng), "source_ref": annotations[0]["id"], "target_ref": annotations[1]["id"]}
            if relationship["name"]:
                rel["name"] = relationship["name"]
            relationships.append(rel)
        return {"annotations": annotations, "relationships": relationships}

    def aggregate(self, responses: list[dict[str, Any]], weights: list[float], params: dict[str, Any]) -> Aggregate | None:
        """Token-level span voting (assay.quality.spans.vote_spans); a relationship is
        kept when more than half of the weight drew it between the same two spans."""
        from assay.quality.spans import vote_spans  # noqa: PLC0415 - numpy loads on the first consolidation

        text = params["text"]
        spans = [[(a["start"], a["end"], a["label"]) for a in r.get("annotations") or []] for r in responses]
        result = vote_spans(len(text), spans, weights)
        annotations = [{"id": f"a{i + 1}", "start": s, "end": e, "text": text[s:e], "label": label}
                       for i, (s, e, label) in enumerate(result.answer)]
        ids = {(a["start"], a["end"], a["label"]): a["id"] for a in annotations}
        votes: dict[tuple, float] = {}
        for response, weight in zip(responses, weights):
            by_id = {a.get("id"): (a["start"], a["end"], a["label"]) for a in response.get("annotations") or []}
            drawn = {(by_id.get(r["source_ref"]), by_id.get(r["target_ref"]), r.get("name")) for r in response.get("relationships") or []}
            for key in drawn:
                votes[key] = votes.get(key, 0.0) + weight
        total = sum(weights)
        relationships = []
        for (source, target, name), weight in sorted(votes.items(), key=lambda kv: str(kv[0])):
            if weight * 2 > total and source in ids and target in ids:
                rel = {"id": f"r{len(relationships) + 1}", "source_ref": ids[source], "target_ref": ids[target]}
                if name is not None:
                    rel["name"] = name
                relationships.append(rel)
        response = {"annotations": annotations}
        if relationships:
            response["relationships"] = relationships
        return Aggregate(self.validate_response(response, params), result.confidence, list(result.contributors), "span_vote")

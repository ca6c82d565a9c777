"""`segmentannotation`: semantic (and, with `instance_labels`, panoptic) segmentation.

Labels are strings or `{choice, subchoices?, description?}`; every name of the tree is a
label. `instance_labels` must be among the labels.

Response (Scale's shape):

    {"annotations": {"unlabeled": url | null,
                     "labeled": {label: url | [url, ...]},
                     "combined": {"image": url, "indexedImage": url, "extendedIndexedImage"?: url}},
     "labelMapping": {label: {"index": int, "color": str} | [{"index", "color"}, ...]}}

A list (one mask / mapping entry per instance) is how instance labels are answered; when
both `labeled[label]` and `labelMapping[label]` are lists they must have the same length.
Every label in `labeled` must also be in `labelMapping`; indices are unique. URLs are
http(s):// or scaledata:// (synthetic answers use `scaledata://synthetic/...` placeholders,
which point at nothing).
"""

from __future__ import annotations

import random
from typing import Any, Literal

from pydantic import Field, ValidationInfo, model_serializer, model_validator

from assay.tasktypes.base import ParamsModel, ResponseModel, TaskTypePlugin
from assay.tasktypes.fields import (
    URL,
    NonEmptyStr,
    check_unique,
    choice_names,
    context_params,
    fail,
    leaf_names,
    one_or_many,
    string_or_model,
)
from assay.tasktypes.imageannotation import (
    ObjectChoice,
)
from assay.tasktypes.registry import register


class SegmentLabel(ObjectChoice):
    description: str | None = None


SegmentLabelItem = string_or_model(SegmentLabel)


class SegmentAnnotationParams(ParamsModel):
    attachment: URL
    attachment_type: Literal["image"] = "image"
    labels: list[SegmentLabelItem] = Field(min_length=1)
    instance_labels: list[NonEmptyStr] | None = None
    allow_unlabeled: bool = False

    @model_validator(mode="after")
    def _check(self) -> "SegmentAnnotationParams":
        names = choice_names(self.model_dump()["labels"])
        check_unique(names, ("labels",), "labels")
        for i, name in enumerate(self.instance_labels or []):
            if name not in names:
                fail(("instance_labels", i), f"{name!r} is not one of the task's labels", name)
        return self


class Combined(ResponseModel):
    image: URL
    indexedImage: URL
    extendedIndexedImage: URL | None = None


class SegmentAnnotations(ResponseModel):
    unlabeled: URL | None = None
    labeled: dict[str, one_or_many(URL)] = Field(default_factory=dict)
    combined: Combined

    @model_serializer(mode="wrap")
    def _keep_unlabeled(self, handler: Any) -> dict[str, Any]:
        out = handler(self)
        out.setdefault("unlabeled", self.unlabeled)  # `null` is meaningful here; keep it
        return out


class LabelColor(ResponseModel):
    index: int = Field(ge=0)
    color: NonEmptyStr


class SegmentAnnotationResponse(ResponseModel):
    annotations: SegmentAnnotations
    labelMapping: dict[str, one_or_many(LabelColor)]

    @model_validator(mode="after")
    def _against_params(self, info: ValidationInfo) -> "SegmentAnnotationResponse":
        params = context_params(info)
        names = set(choice_names(params.get("labels")))
        for label in self.labelMapping:
            if names and label not in names:
                fail(("labelMapping", label), f"{label!r} is not one of the task's labels")
        seen: dict[int, str] = {}
        for label, entry in self.labelMapping.items():
            for item in entry if isinstance(entry, list) else [entry]:
                if item.index in seen:
                    fail(("labelMapping", label), f"index {item.index} is also used by {seen[item.index]!r}")
                seen[item.index] = label
        for label, urls in self.annotations.labeled.items():
            here = ("annotations", "labeled", label)
            if names and label not in names:
                fail(here, f"{label!r} is not one of the task's labels")
            mapping = self.labelMapping.get(label)
            if mapping is None:
                fail(here, f"{label!r} has a mask but no labelMapping entry")
            if isinstance(urls, list) and isinstance(mapping, list) and len(urls) != len(mapping):
                fail(here, f"{len(urls)} instance masks but {len(mapping)} labelMapping entries")
        return self


@register
class SegmentAnnotation(TaskTypePlugin):
    name = "segmentannotation"
    title = "Segmentation"
    consolidates_masks = True
    Params = SegmentAnnotationParams
    Response = SegmentAnnotationResponse

    def synthetic_response(self, params: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        token = f"{rng.getrandbits(64):016x}"
        base = f"scaledata://synthetic/segmentation/{token}"
        instance = set(params.get("instance_labels") or [])
        labeled: dict[str, Any] = {}
        mapping: dict[str, Any] = {}
        index = 1
        for i, label in enumerate(leaf_names(params["labels"])):
            if rng.random() < 0.3 and len(mapping) > 0:
                continue  # not every label appears in every image
            if label in instance:
                count = rng.randint(1, 3)
                labeled[label] = [f"{base}/labeled/{i}-{k}.png" for k in range(count)]
                mapping[label] = []
                for _ in range(count):
                    mapping[label].append({"index": index, "color": f"#{rng.getrandbits(24):06x}"})
                    index += 1
            else:
                labeled[label] = f"{base}/labeled/{i}.png"
                mapping[label] = {"index": index, "color": f"#{rng.getrandbits(24):06x}"}
                index += 1
        allow_unlabeled = params.get("allow_unlabeled", False)
        return {
            "annotations": {
                "unlabeled": f"{base}/unlabeled.png" if allow_unlabeled else None,
                "labeled": labeled,
                "combined": {
                    "image": f"{base}/combined.png",
                    "indexedImage": f"{base}/indexed.png",
                    "extendedIndexedImage": f"{base}/extended-indexed.png",
                },
            },
            "labelMapping": mapping,
        }

"""`documenttranscription`: locate and transcribe the `features` of a document.

Params: `attachment` (one URL: an image or a PDF) and/or `attachments` (a list of page
URLs); `features`, each `{type: block|row|cell|text, label, children?}` (children are
features too; every label of the tree must be unique and may be used in an answer).

Response: `{"annotations": [{uuid, page, label, text, location, refs?}]}` with
`location` either `{type: "box", left, top, width, height}` or
`{type: "polygon", vertices: [{x, y}, ...]}` (3+ vertices); `page` is 0-based (when the
task lists page images in `attachments`, it must be below their count); `refs` name the
uuids of other annotations in the same response (e.g. a cell's row).
"""

from __future__ import annotations

import random
from typing import Any, Literal

from pydantic import Field, ValidationInfo, model_validator

from assay.tasktypes.base import ParamsModel, ResponseModel, TaskTypePlugin
from assay.tasktypes.fields import (
    URL,
    NonEmptyStr,
    NonNegNumber,
    PosNumber,
    check_unique,
    context_params,
    fail,
    synthetic_uuid,
    tagged_union,
)
from assay.tasktypes.imageannotation import (
    Vertex,
)
from assay.tasktypes.registry import register

FEATURE_TYPES = ("block", "row", "cell", "text")


class Feature(ParamsModel):
    type: Literal["block", "row", "cell", "text"]
    label: NonEmptyStr
    children: list["Feature"] | None = None


def feature_labels(features: Any) -> list[str]:
    out: list[str] = []
    for feature in features or []:
        if isinstance(feature, dict):
            if isinstance(feature.get("label"), str):
                out.append(feature["label"])
            out.extend(feature_labels(feature.get("children")))
    return out


class DocumentTranscriptionParams(ParamsModel):
    attachment: URL | None = None
    attachments: list[URL] | None = None
    features: list[Feature] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> "DocumentTranscriptionParams":
        if not self.attachment and not self.attachments:
            fail(("attachment",), "Field required (give attachment or a non-empty attachments list)")
        check_unique(feature_labels(self.model_dump()["features"]), ("features",), "feature labels")
        return self


def page_count(params: dict[str, Any]) -> int | None:
    """Pages known from the params: one per URL in `attachments` (None for a single
    `attachment`, which may be a multi-page PDF)."""
    attachments = params.get("attachments")
    if isinstance(attachments, list) and attachments and not params.get("attachment"):
        if all(isinstance(a, str) and not a.lower().split("?")[0].endswith(".pdf") for a in attachments):
            return len(attachments)
    return None


class BoxLocation(ResponseModel):
    type: Literal["box"]
    left: NonNegNumber
    top: NonNegNumber
    width: PosNumber
    height: PosNumber


class PolygonLocation(ResponseModel):
    type: Literal["polygon"]
    vertices: list[Vertex] = Field(min_length=3)


Location = tagged_union("type", {"box": BoxLocation, "polygon": PolygonLocation}, name="Location")


class DocumentAnnotation(ResponseModel):
    uuid: NonEmptyStr
    page: int = Field(ge=0, strict=True)
    label: NonEmptyStr
    text: str
    location: Location
    refs: list[NonEmptyStr] | None = None


class DocumentTranscriptionResponse(ResponseModel):
    annotations: list[DocumentAnnotation]

    @model_validator(mode="after")
    def _against_params(self, info: ValidationInfo) -> "DocumentTranscriptionResponse":
        params = context_params(info)
        labels = set(feature_labels(params.get("features")))
        pages = page_count(params)
        uuids: set[str] = set()
        for i, ann in enumerate(self.annotations):
            if ann.uuid in uuids:
                fail(("annotations", i, "uuid"), f"duplicate uuid {ann.uuid!r}", ann.uuid)
            uuids.add(ann.uuid)
        for i, ann in enumerate(self.annotations):
            here = ("annotations", i)
            if labels and ann.label not in labels:
                fail(here + ("label",), f"{ann.label!r} is not one of the task's feature labels", ann.label)
            if pages is not None and ann.page >= pages:
                fail(here + ("page",), f"must be below the number of pages ({pages})", ann.page)
            for j, ref in enumerate(ann.refs or []):
                if ref not in uuids:
                    fail(here + ("refs", j), f"{ref!r} is not the uuid of an annotation in this response", ref)
        return self


@register
class DocumentTranscription(TaskTypePlugin):
    name = "documenttranscription"
    title = "Document transcription"
    Params = DocumentTranscriptionParams
    Response = DocumentTranscriptionResponse

    def synthetic_response(self, params: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        labels = feature_labels(params["features"])
        pages = page_count(params) or 1
        words = ["Invoice", "Total", "ACME", "2024-01-31", "42.00", "Name", "Address", "Item", "Qty"]
        annotations: list[dict[str, Any]] = []
        for page in range(pages):
            for _ in range(rng.randint(1, 3)):
                if rng.random() < 0.5:
                    location: dict[str, Any] = {
                        "type": "box",
                        "left": rng.randint(0, 600),
                        "top": rng.randint(0, 900),
                        "width": rng.randint(20, 300),
                        "height": rng.randint(10, 60),
                    }
                else:
                    x, y, w, h = rng.randint(0, 600), rng.randint(0, 900), rng.randint(20, 300), rng.randint(10, 60)
                    location = {"type": "polygon", "vertices": [
                        {"x": x, "y": y}, {"x": x + w, "y": y}, {"x": x + w, "y": y + h}, {"x": x, "y": y + h},
                    ]}
                ann: dict[str, Any] = {
                    "uuid": synthetic_uuid(rng),
                    "page": page,
                    "label": rng.choice(labels),
                    "text": " ".join(rng.choice(words) for _ in range(rng.randint(1, 3))),
                    "location": location,
                }
                if annotations and rng.random() < 0.3:
                    ann["refs"] = [annotations[-1]["uuid"]]
                annotations.append(ann)
        return {"annotations": annotations}

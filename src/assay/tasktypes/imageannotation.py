"""`imageannotation`: draw boxes, polygons, lines, points, ellipses (and 2D cuboids) on an image.

Response geometry (Scale's shapes):

* box: `left`, `top`, `width` > 0, `height` > 0, optional `rotation` (radians; non-zero only
  when the geometry has `can_rotate`);
* polygon / line: `vertices: [{x, y}]` (polygon >= 3, line >= 2, within `min_vertices` /
  `max_vertices`);
* point: `x`, `y`;
* ellipse: exactly 4 `vertices`, the ends of the two axes in order around the ellipse
  (`vertices[0]`-`vertices[2]` is one axis, `vertices[1]`-`vertices[3]` the other; the two
  axes must cross at their midpoints and be perpendicular, within a pixel or so);
* cuboid (2D): 4 to 8 `vertices` (`{x, y, ...}`, extra keys such as `description` kept).
"""

from __future__ import annotations

import math
import random
from typing import Any, Literal

from pydantic import (
    Field,
    ValidationInfo,
    model_validator,
)

from assay.tasktypes.base import Aggregate, ParamsModel, ResponseModel, TaskTypePlugin
from assay.tasktypes.fields import (
    URL,
    NonEmptyStr,
    NonNegNumber,
    Number,
    PosNumber,
    check_unique,
    choice_names,
    context_params,
    fail,
    is_url,
    string_or_model,
    synthetic_uuid,
    tagged_union,
)
from assay.tasktypes.registry import register

# --------------------------------------------------------------------------------------
# Params
# --------------------------------------------------------------------------------------

GEOMETRY_TYPES = ("box", "polygon", "line", "point", "ellipse", "cuboid")
MIN_VERTICES = {"polygon": 3, "line": 2}


class ObjectChoice(ParamsModel):
    choice: NonEmptyStr
    subchoices: list["ObjectItem"] | None = None


ObjectItem = string_or_model(ObjectChoice)
ObjectChoice.model_rebuild()


class GeometrySpec(ParamsModel):
    objects_to_annotate: list[ObjectItem] = Field(min_length=1)
    min_width: NonNegNumber | None = None
    min_height: NonNegNumber | None = None
    min_vertices: int | None = Field(default=None, ge=0)
    max_vertices: int | None = Field(default=None, ge=1)
    can_rotate: bool | None = None

    @model_validator(mode="after")
    def _check(self) -> "GeometrySpec":
        check_unique(choice_names(self.model_dump()["objects_to_annotate"]), ("objects_to_annotate",), "labels")
        if self.min_vertices is not None and self.max_vertices is not None and self.min_vertices > self.max_vertices:
            fail(("max_vertices",), f"must be at least min_vertices ({self.min_vertices})", self.max_vertices)
        return self


class Geometries(ParamsModel):
    box: GeometrySpec | None = None
    polygon: GeometrySpec | None = None
    line: GeometrySpec | None = None
    point: GeometrySpec | None = None
    ellipse: GeometrySpec | None = None
    cuboid: GeometrySpec | None = None

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in data:
                if key not in GEOMETRY_TYPES:
                    fail((key,), f"unknown geometry; expected one of {', '.join(GEOMETRY_TYPES)}")
        return data

    @model_validator(mode="after")
    def _check(self) -> "Geometries":
        present = [g for g in GEOMETRY_TYPES if getattr(self, g) is not None]
        if not present:
            fail((), f"at least one geometry is required ({', '.join(GEOMETRY_TYPES)})")
        for name, minimum in MIN_VERTICES.items():
            spec = getattr(self, name)
            if spec is not None and spec.max_vertices is not None and spec.max_vertices < minimum:
                fail((name, "max_vertices"), f"a {name} needs at least {minimum} vertices", spec.max_vertices)
        return self


class AttributeSpec(ParamsModel):
    """One entry of `annotation_attributes` (Scale: category (default), number, angle, text…)."""

    type: str | None = None
    description: str | None = None
    choices: list[NonEmptyStr] | None = None
    min: Number | None = None
    max: Number | None = None
    allow_multiple: bool | None = None

    @model_validator(mode="after")
    def _check(self) -> "AttributeSpec":
        kind = self.type or "category"
        if kind == "category":
            if not self.choices:
                fail(("choices",), "a category attribute needs at least one choice")
            check_unique(self.choices, ("choices",), "choices")
        if self.min is not None and self.max is not None and self.min > self.max:
            fail(("max",), f"must be at least min ({self.min})", self.max)
        return self


class ImageAnnotationParams(ParamsModel):
    attachment: URL
    attachment_type: Literal["image"] = "image"
    geometries: Geometries
    annotation_attributes: dict[str, AttributeSpec] | None = None
    # `links`, `padding`, `layers`, `base_annotations`, … are kept as given (extra keys).


# --------------------------------------------------------------------------------------
# Response
# --------------------------------------------------------------------------------------


class Vertex(ResponseModel):
    x: Number
    y: Number


class _Annotation(ResponseModel):
    uuid: NonEmptyStr
    type: str
    label: NonEmptyStr
    attributes: dict[str, Any] | None = None


class BoxAnnotation(_Annotation):
    type: Literal["box"]
    left: Number
    top: Number
    width: PosNumber
    height: PosNumber
    rotation: Number | None = None


class PolygonAnnotation(_Annotation):
    type: Literal["polygon"]
    vertices: list[Vertex] = Field(min_length=3)


class LineAnnotation(_Annotation):
    type: Literal["line"]
    vertices: list[Vertex] = Field(min_length=2)


class PointAnnotation(_Annotation):
    type: Literal["point"]
    x: Number
    y: Number


class EllipseAnnotation(_Annotation):
    type: Literal["ellipse"]
    vertices: list[Vertex] = Field(min_length=4, max_length=4)


class CuboidAnnotation(_Annotation):
    type: Literal["cuboid"]
    vertices: list[Vertex] = Field(min_length=4, max_length=8)


ImageAnnotationItem = tagged_union(
    "type",
    {
        "box": BoxAnnotation,
        "polygon": PolygonAnnotation,
        "line": LineAnnotation,
        "point": PointAnnotation,
        "ellipse": EllipseAnnotation,
        "cuboid": CuboidAnnotation,
    },
    name="ImageAnnotation",
)


def check_attribute_values(attributes: dict[str, Any] | None, specs: Any, loc: tuple) -> None:
    """Answers to `annotation_attributes`: names must be defined (when the task defines
    any), category values among the choices, numbers within min/max. Attributes that are
    not answered are fine (Scale's `conditions` make some apply only sometimes)."""
    if not attributes or not isinstance(specs, dict) or not specs:
        return
    for name, value in attributes.items():
        spec = specs.get(name)
        if spec is None:
            fail(loc + (name,), f"unknown attribute; this task defines {', '.join(map(repr, specs))}", value)
        if not isinstance(spec, dict):
            continue
        kind = spec.get("type") or "category"
        if kind == "category" and spec.get("choices"):
            values = value if isinstance(value, list) and spec.get("allow_multiple") else [value]
            for v in values:
                if v not in spec["choices"]:
                    fail(loc + (name,), f"{v!r} is not one of the attribute's choices", value)
        elif kind == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                fail(loc + (name,), "must be a number", value)
            if spec.get("min") is not None and value < spec["min"]:
                fail(loc + (name,), f"must be at least {spec['min']}", value)
            if spec.get("max") is not None and value > spec["max"]:
                fail(loc + (name,), f"must be at most {spec['max']}", value)


def _check_ellipse(vertices: list[Vertex], loc: tuple) -> None:
    p = [(float(v.x), float(v.y)) for v in vertices]
    ax = (p[2][0] - p[0][0], p[2][1] - p[0][1])
    bx = (p[3][0] - p[1][0], p[3][1] - p[1][1])
    a = math.hypot(*ax)
    b = math.hypot(*bx)
    if a == 0 or b == 0:
        fail(loc, "an ellipse's axes (vertices 0-2 and 1-3) must have non-zero length")
    mid_a = ((p[0][0] + p[2][0]) / 2, (p[0][1] + p[2][1]) / 2)
    mid_b = ((p[1][0] + p[3][0]) / 2, (p[1][1] + p[3][1]) / 2)
    if math.dist(mid_a, mid_b) > max(1.5, 0.02 * max(a, b)):
        fail(loc, "an ellipse's axes (vertices 0-2 and 1-3) must cross at their midpoints")
    if abs(ax[0] * bx[0] + ax[1] * bx[1]) / a > max(1.5, 0.05 * b):
        fail(loc, "an ellipse's axes (vertices 0-2 and 1-3) must be perpendicular")


def check_image_annotations(annotations: list[Any], params: dict[str, Any], loc: tuple) -> None:
    """Check image annotations against the task's geometries and annotation_attributes.
    Used by imageannotation (the whole response) and videoannotation (each frame)."""
    geometries = params.get("geometries") if isinstance(params.get("geometries"), dict) else {}
    attribute_specs = params.get("annotation_attributes")
    seen: set[str] = set()
    for i, ann in enumerate(annotations):
        here = loc + (i,)
        if ann.uuid in seen:
            fail(here + ("uuid",), f"duplicate uuid {ann.uuid!r}", ann.uuid)
        seen.add(ann.uuid)
        spec = geometries.get(ann.type) if geometries else None
        if geometries:
            if not isinstance(spec, dict):
                asked = ", ".join(g for g in GEOMETRY_TYPES if g in geometries)
                fail(here + ("type",), f"this task did not ask for {ann.type} annotations (asked: {asked})", ann.type)
            labels = choice_names(spec.get("objects_to_annotate"))
            if labels and ann.label not in labels:
                fail(here + ("label",), f"{ann.label!r} is not one of the {ann.type} labels of this task", ann.label)
        spec = spec if isinstance(spec, dict) else {}
        if ann.type == "box":
            if spec.get("min_width") is not None and ann.width < spec["min_width"]:
                fail(here + ("width",), f"must be at least min_width ({spec['min_width']})", ann.width)
            if spec.get("min_height") is not None and ann.height < spec["min_height"]:
                fail(here + ("height",), f"must be at least min_height ({spec['min_height']})", ann.height)
            if ann.rotation not in (None, 0) and geometries and not spec.get("can_rotate"):
                fail(here + ("rotation",), "this task's boxes cannot rotate (can_rotate is not set)", ann.rotation)
        elif ann.type in ("polygon", "line"):
            n = len(ann.vertices)
            if spec.get("min_vertices") is not None and n < spec["min_vertices"]:
                fail(here + ("vertices",), f"needs at least {spec['min_vertices']} vertices, got {n}")
            if spec.get("max_vertices") is not None and n > spec["max_vertices"]:
                fail(here + ("vertices",), f"allows at most {spec['max_vertices']} vertices, got {n}")
        elif ann.type == "ellipse":
            _check_ellipse(ann.vertices, here + ("vertices",))
        check_attribute_values(ann.attributes, attribute_specs, here + ("attributes",))


class ImageAnnotationResponse(ResponseModel):
    annotations: list[ImageAnnotationItem]
    global_attributes: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _against_params(self, info: ValidationInfo) -> "ImageAnnotationResponse":
        check_image_annotations(self.annotations, context_params(info), ("annotations",))
        return self


# --------------------------------------------------------------------------------------
# Synthetic answers
# --------------------------------------------------------------------------------------

CANVAS = 1000  # synthetic coordinates live in a notional 1000x1000 image


def synthetic_attributes(specs: Any, rng: random.Random) -> dict[str, Any] | None:
    if not isinstance(specs, dict) or not specs:
        return None
    out: dict[str, Any] = {}
    for name, spec in specs.items():
        spec = spec if isinstance(spec, dict) else {}
        kind = spec.get("type") or "category"
        if kind == "category" and spec.get("choices"):
            out[name] = rng.choice(spec["choices"])
        elif kind == "number":
            lo, hi = spec.get("min"), spec.get("max")
            if lo is None:
                lo = 0 if hi is None else hi - 10
            if hi is None:
                hi = lo + 10
            out[name] = rng.randint(math.ceil(lo), math.floor(hi)) if math.ceil(lo) <= math.floor(hi) else lo
        elif kind == "angle":
            out[name] = rng.randint(0, 359)
        elif kind == "text":
            out[name] = "synthetic"
    return out or None


def synthetic_geometry(gtype: str, spec: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """Geometry fields of one synthetic annotation of type `gtype` obeying `spec`'s limits."""
    if gtype == "box":
        width = max(math.ceil(spec.get("min_width") or 0), rng.randint(10, 300))
        height = max(math.ceil(spec.get("min_height") or 0), rng.randint(10, 300))
        out: dict[str, Any] = {
            "left": rng.randint(0, max(0, CANVAS - width)),
            "top": rng.randint(0, max(0, CANVAS - height)),
            "width": width,
            "height": height,
        }
        if spec.get("can_rotate"):
            out["rotation"] = round(rng.uniform(0, math.pi / 4), 4)
        return out
    if gtype in ("polygon", "line"):
        low = max(MIN_VERTICES[gtype], spec.get("min_vertices") or 0)
        high = spec.get("max_vertices") or low + 4
        n = rng.randint(low, min(high, low + 8))
        cx, cy, r = rng.randint(200, 800), rng.randint(200, 800), rng.randint(50, 150)
        angles = sorted(rng.uniform(0, 2 * math.pi) for _ in range(n))
        return {
            "vertices": [
                {"x": round(cx + r * math.cos(t), 2), "y": round(cy + r * math.sin(t), 2)} for t in angles
            ]
        }
    if gtype == "point":
        return {"x": rng.randint(0, CANVAS), "y": rng.randint(0, CANVAS)}
    if gtype == "ellipse":
        cx, cy = rng.randint(200, 800), rng.randint(200, 800)
        a, b = rng.randint(20, 150), rng.randint(10, 150)
        return {"vertices": [{"x": cx + a, "y": cy}, {"x": cx, "y": cy + b}, {"x": cx - a, "y": cy}, {"x": cx, "y": cy - b}]}
    if gtype == "cuboid":
        left, top = rng.randint(0, 600), rng.randint(0, 600)
        w, h, dx, dy = rng.randint(50, 200), rng.randint(50, 200), rng.randint(10, 60), rng.randint(-40, -10)
        front = [(left, top), (left + w, top), (left + w, top + h), (left, top + h)]
        back = [(x + dx, y + dy) for x, y in front]
        names = ["face-topleft", "face-topright", "face-bottomright", "face-bottomleft"]
        return {
            "vertices": [{"x": x, "y": y, "description": n} for (x, y), n in zip(front, names)]
            + [{"x": x, "y": y, "description": "back-" + n} for (x, y), n in zip(back, names)]
        }
    raise ValueError(f"unknown geometry {gtype!r}")


def synthetic_image_annotation(params: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    geometries = params.get("geometries") or {}
    present = [g for g in GEOMETRY_TYPES if isinstance(geometries.get(g), dict)]
    gtype = rng.choice(present)
    spec = geometries[gtype]
    ann: dict[str, Any] = {
        "uuid": synthetic_uuid(rng),
        "type": gtype,
        "label": rng.choice(choice_names(spec.get("objects_to_annotate"))),
    }
    ann.update(synthetic_geometry(gtype, spec, rng))
    attributes = synthetic_attributes(params.get("annotation_attributes"), rng)
    if attributes:
        ann["attributes"] = attributes
    return ann


# Geometries the aggregator consolidates; points within this many pixels are one point.
CLUSTERED_TYPES = ("box", "polygon", "point", "ellipse")
POINT_RADIUS = 10.0


def _geometry(gtype: str, value: tuple) -> dict[str, Any]:
    """Geometry fields of a consolidated shape (structured's `ConsensusShape.value`)."""
    if gtype == "box":
        left, top, width, height, _ = value
        return {"left": round(float(left), 2), "top": round(float(top), 2), "width": round(float(width), 2), "height": round(float(height), 2)}
    if gtype == "point":
        return {"x": round(float(value[0]), 2), "y": round(float(value[1]), 2)}
    return {"vertices": [{"x": x, "y": y} for x, y in value[0]]}  # the medoid, as drawn


@register
class ImageAnnotation(TaskTypePlugin):
    name = "imageannotation"
    title = "Image annotation"
    Params = ImageAnnotationParams
    Response = ImageAnnotationResponse
    varying_fields = ("attachment",)

    def varying_ok(self, name: str, value: Any, validated: dict[str, Any]) -> bool:
        return name == "attachment" and isinstance(value, str) and is_url(value)

    def synthetic_response(self, params: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        count = rng.randint(1, 4)
        return {"annotations": [synthetic_image_annotation(params, rng) for _ in range(count)]}

    def aggregate(self, responses: list[dict[str, Any]], weights: list[float], params: dict[str, Any]) -> Aggregate | None:
        """Shapes are clustered across labelers, each geometry type on its own, each labeler
        weighted by skill (assay.quality.shapes): unrotated boxes by IoU with
        weight-averaged coordinates; points within POINT_RADIUS pixels (same label) at their
        weighted mean; polygons and ellipses by exact polygon IoU (ellipses as inscribed
        64-gons), each cluster represented by its weighted medoid shape as drawn. A cluster is
        kept with more than half of the total weight; its label is the weighted majority.
        Confidence: the mean over kept shapes of support x similarity (with none kept, the
        weight share of the labelers who drew nothing); contributors: the labelers with a
        shape in a kept cluster. Lines, cuboids and rotated boxes fall back to whole-answer
        consensus (None); attributes are not merged (left out)."""
        from assay.quality.shapes import cluster_boxes, cluster_ellipses, cluster_points, cluster_polygons  # noqa: PLC0415 - numpy/scipy load on the first consolidation

        drawn = [r.get("annotations") or [] for r in responses]
        if any(a.get("type") not in CLUSTERED_TYPES or (a.get("type") == "box" and a.get("rotation")) for shapes in drawn for a in shapes):
            return None

        def outline(a: dict[str, Any]) -> tuple:
            return tuple((v["x"], v["y"]) for v in a["vertices"])

        inputs = {
            "box": (lambda a: (a["left"], a["top"], a["width"], a["height"], a["label"]), cluster_boxes),
            "polygon": (lambda a: (outline(a), a["label"]), cluster_polygons),
            "point": (lambda a: (a["x"], a["y"], a["label"]), lambda answers, w: cluster_points(answers, w, radius=POINT_RADIUS)),
            "ellipse": (lambda a: (outline(a), a["label"]), cluster_ellipses),
        }
        annotations: list[dict[str, Any]] = []
        kept = []
        for gtype, (shape_of, cluster) in inputs.items():
            answers = [[shape_of(a) for a in shapes if a["type"] == gtype] for shapes in drawn]
            if not any(answers):
                continue
            result = cluster(answers, weights)
            kept.extend(result.shapes)
            for i, value in enumerate(result.answer):
                annotations.append({"uuid": f"{gtype}-{i + 1}", "type": gtype, "label": value[-1], **_geometry(gtype, value)})
        if kept:
            confidence = sum(s.confidence for s in kept) / len(kept)
            contributors = sorted({i for s in kept for i in s.members})
        else:  # nothing has a majority: the consensus is "no shapes", backed by those who drew none
            skill = list(weights) if any(w > 0 for w in weights) else [1.0] * len(weights)
            contributors = [i for i, shapes in enumerate(drawn) if not shapes]
            confidence = sum(skill[i] for i in contributors) / sum(skill)
        method = "box_clustering" if all(a["type"] == "box" for shapes in drawn for a in shapes) else "geometry_clustering"
        return Aggregate(self.validate_response({"annotations": annotations}, params), confidence, contributors, method)


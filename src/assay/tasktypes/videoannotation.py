"""`videoannotation`: image-style annotations on every frame of a video.

Params: either `attachments` (frame image URLs, `attachment_type: "image"`, the default
when `attachments` is given) or `attachment` (one video URL, `attachment_type: "video"`,
the default when only `attachment` is given; `frame_rate` (> 0) is how many frames a
second to annotate); `geometries` and `annotation_attributes` as for `imageannotation`;
optional `events_to_annotate` (event labels).

Responses, two accepted forms:

* Scale's: `{"annotations": {"url": "<JSON file: a list of per-frame {annotations: [...]}>"},
  "events"?: {"url": ...}}` — only the URL is checked (the file is not fetched);
* inline: `{"annotations": {"frames": [{"annotations": [<imageannotation annotation>, ...]}, ...]},
  "events"?: [{uuid?, label, type?: "event"|"range", start, end?}]}` — frame `i` is
  attachment `i` (so with `attachments` there is exactly one frame entry per attachment);
  an object keeps its `uuid` across frames (uuids are unique within a frame); events use
  frame indices (`start` <= `end` < number of frames) and labels from `events_to_annotate`.

Synthetic answers use the inline form: one frame per attachment (3 for a video), with
one or two objects tracked across them.
"""

from __future__ import annotations

import random
from typing import Annotated, Any, Literal, Union

from pydantic import Discriminator, Field, Tag, ValidationInfo, model_validator

from assay.tasktypes.base import Aggregate, ParamsModel, ResponseModel, TaskTypePlugin
from assay.tasktypes.fields import (
    URL,
    NonEmptyStr,
    PosNumber,
    check_unique,
    context_params,
    fail,
    synthetic_uuid,
)
from assay.tasktypes.imageannotation import (
    AttributeSpec,
    Geometries,
    ImageAnnotationItem,
    check_image_annotations,
    synthetic_image_annotation,
)
from assay.tasktypes.registry import register

SYNTHETIC_VIDEO_FRAMES = 3


class VideoAnnotationParams(ParamsModel):
    attachment: URL | None = None
    attachments: list[URL] | None = None
    attachment_type: Literal["image", "video"] | None = None
    geometries: Geometries
    annotation_attributes: dict[str, AttributeSpec] | None = None
    events_to_annotate: list[NonEmptyStr] | None = None
    frame_rate: PosNumber | None = None

    @model_validator(mode="after")
    def _check(self) -> "VideoAnnotationParams":
        if self.attachments:
            if self.attachment_type is None:
                self.attachment_type = "image"
            elif self.attachment_type != "image":
                fail(("attachment_type",), "must be 'image' when attachments (frame URLs) are given", self.attachment_type)
        elif self.attachments is not None and not self.attachment:
            fail(("attachments",), "must list at least one frame URL", self.attachments)
        elif self.attachment:
            if self.attachment_type is None:
                self.attachment_type = "video"
        else:
            fail(("attachments",), "Field required (give attachments, a list of frame URLs, or attachment, a video URL)")
        if self.events_to_annotate is not None:
            check_unique(self.events_to_annotate, ("events_to_annotate",), "event labels")
        return self


class Frame(ResponseModel):
    annotations: list[ImageAnnotationItem] = Field(default_factory=list)


class FramesUrl(ResponseModel):
    url: URL

    @model_validator(mode="before")
    @classmethod
    def _object(cls, value: Any) -> Any:
        if not isinstance(value, (dict, FramesUrl)):
            raise ValueError('must be {"url": ...} or the inline form (see docs/task-types.md)')
        return value


class InlineFrames(ResponseModel):
    frames: list[Frame]


def _annotations_form(value: Any) -> str:
    if isinstance(value, dict) and "frames" in value:
        return "[frames]"
    if isinstance(value, InlineFrames):
        return "[frames]"
    return "[url]"


VideoAnnotations = Annotated[
    Union[Annotated[FramesUrl, Tag("[url]")], Annotated[InlineFrames, Tag("[frames]")]],
    Discriminator(_annotations_form),
]


class Event(ResponseModel):
    uuid: NonEmptyStr | None = None
    label: NonEmptyStr
    type: Literal["event", "range"] | None = None
    start: int = Field(ge=0, strict=True)
    end: int | None = Field(default=None, ge=0, strict=True)


def _events_form(value: Any) -> str:
    return "[list]" if isinstance(value, list) else "[url]"


VideoEvents = Annotated[
    Union[Annotated[list[Event], Tag("[list]")], Annotated[FramesUrl, Tag("[url]")]],
    Discriminator(_events_form),
]


class VideoAnnotationResponse(ResponseModel):
    annotations: VideoAnnotations
    events: VideoEvents | None = None

    @model_validator(mode="after")
    def _against_params(self, info: ValidationInfo) -> "VideoAnnotationResponse":
        params = context_params(info)
        n_frames: int | None = None
        if isinstance(self.annotations, InlineFrames):
            frames = self.annotations.frames
            n_frames = len(frames)
            attachments = params.get("attachments")
            if isinstance(attachments, list) and attachments and n_frames != len(attachments):
                fail(("annotations", "frames"), f"give one entry per attachment ({len(attachments)}), got {n_frames}")
            for i, frame in enumerate(frames):
                check_image_annotations(frame.annotations, params, ("annotations", "frames", i, "annotations"))
        if isinstance(self.events, list):
            labels = params.get("events_to_annotate")
            for i, event in enumerate(self.events):
                here = ("events", i)
                if params and not labels:
                    fail(here, "this task has no events_to_annotate")
                if labels and event.label not in labels:
                    fail(here + ("label",), f"{event.label!r} is not one of the task's events_to_annotate", event.label)
                if event.end is not None and event.end < event.start:
                    fail(here + ("end",), f"must be at least start ({event.start})", event.end)
                last = event.start if event.end is None else event.end
                if n_frames is not None and last >= n_frames:
                    key = "start" if event.end is None else "end"
                    fail(here + (key,), f"must be below the number of frames ({n_frames})", last)
        return self


@register
class VideoAnnotation(TaskTypePlugin):
    name = "videoannotation"
    title = "Video annotation"
    Params = VideoAnnotationParams
    Response = VideoAnnotationResponse

    def synthetic_response(self, params: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        attachments = params.get("attachments") or []
        n_frames = len(attachments) if attachments else SYNTHETIC_VIDEO_FRAMES
        tracks = [synthetic_image_annotation(params, rng) for _ in range(rng.randint(1, 2))]
        frames = []
        for _ in range(n_frames):
            frame = []
            for track in tracks:
                ann = dict(track)
                if ann["type"] == "box":  # move tracked boxes a little from frame to frame
                    track["left"] = ann["left"] = max(0, ann["left"] + rng.randint(-5, 5))
                    track["top"] = ann["top"] = max(0, ann["top"] + rng.randint(-5, 5))
                frame.append(ann)
            frames.append({"annotations": frame})
        out: dict[str, Any] = {"annotations": {"frames": frames}}
        labels = params.get("events_to_annotate")
        if labels:
            start = rng.randint(0, n_frames - 1)
            out["events"] = [{
                "uuid": synthetic_uuid(rng),
                "label": rng.choice(labels),
                "type": "range",
                "start": start,
                "end": rng.randint(start, n_frames - 1),
            }]
        return out

    def aggregate(self, responses: list[dict[str, Any]], weights: list[float], params: dict[str, Any]) -> Aggregate | None:
        """Inline answers of box tracks consolidate by per-frame IoU matching
        (assay.quality.tracks.consolidate_tracks): an object kept by labelers holding more
        than half the weight, drawn on the frames where most of them draw it, at their
        weighted mean box, with their majority label. Confidence: the mean over kept tracks
        of support x mean per-frame IoU. Answers by URL, other geometries, events or unequal
        frame counts fall back to whole-answer consensus (None)."""
        from assay.quality.tracks import consolidate_tracks  # noqa: PLC0415 - numpy/scipy load on the first consolidation

        tracks = _box_tracks(responses)
        if tracks is None:
            return None
        n_frames, answers = tracks
        kept = consolidate_tracks(answers, weights)
        frames: list[dict[str, Any]] = [{"annotations": []} for _ in range(n_frames)]
        for i, track in enumerate(kept):
            for f in range(n_frames):
                if track.visible[f]:
                    left, top, width, height = (round(float(v), 2) for v in track.boxes[f])
                    frames[f]["annotations"].append({"uuid": f"track-{i + 1}", "type": "box", "label": track.label,
                                                     "left": left, "top": top, "width": width, "height": height})
        if kept:
            confidence = sum(t.support * t.similarity for t in kept) / len(kept)
            contributors = sorted({m for t in kept for m in t.members})
        else:
            contributors = [i for i, a in enumerate(answers) if not a]
            confidence = len(contributors) / len(answers)
        return Aggregate(self.validate_response({"annotations": {"frames": frames}}, params), confidence, contributors, "track_matching")


def _box_tracks(responses: list[dict[str, Any]]):
    """(frames, per answer [(label, boxes (n, 4), visible (n,))]) when every answer is the
    inline form with boxes only and no events; None otherwise."""
    import numpy as np  # noqa: PLC0415 - only when a video task consolidates

    counts = set()
    out = []
    for response in responses:
        ann = response.get("annotations")
        if not isinstance(ann, dict) or not isinstance(ann.get("frames"), list) or response.get("events"):
            return None
        counts.add(len(ann["frames"]))
        out.append(ann["frames"])
    if len(counts) != 1:
        return None
    n = counts.pop()
    answers = []
    for frames in out:
        by_uuid: dict[str, tuple] = {}
        for f, frame in enumerate(frames):
            for a in frame.get("annotations") or []:
                if a.get("type") != "box" or a.get("rotation"):
                    return None
                label, boxes, visible = by_uuid.setdefault(a["uuid"], (a["label"], np.full((n, 4), np.nan), np.zeros(n, dtype=bool)))
                boxes[f] = (a["left"], a["top"], a["width"], a["height"])
                visible[f] = True
        answers.append(list(by_uuid.values()))
    return n, answers


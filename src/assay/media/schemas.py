"""Request bodies of the vision assists and of mask uploads from the segmentation tool."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from assay.schemas import RequestBody

Pixels = Annotated[int, Field(ge=0, le=100_000)]
MAX_MASK_PIXELS = 50_000_000


class PixelBox(RequestBody):
    left: Pixels
    top: Pixels
    width: Annotated[int, Field(ge=2, le=100_000)]
    height: Annotated[int, Field(ge=2, le=100_000)]


class GrabCutBody(RequestBody):
    box: PixelBox = Field(description="The object's box in image pixels; GrabCut finds the object inside it.")
    iterations: Annotated[int, Field(ge=1, le=10)] = 4


class MaskLabel(RequestBody):
    label: Annotated[str, Field(min_length=1, max_length=500)]
    index: Annotated[int, Field(ge=1, le=65535)]
    color: Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")]


class MaskBody(RequestBody):
    """A class-index mask as row-major runs `[[value, length], …]` (0: unlabeled) and what
    each index means. Instance labels list one entry per instance (each its own index)."""

    width: Annotated[int, Field(ge=1, le=20_000)]
    height: Annotated[int, Field(ge=1, le=20_000)]
    runs: list[Annotated[list[int], Field(min_length=2, max_length=2)]] = Field(max_length=5_000_000)
    labels: list[MaskLabel] = Field(max_length=1000)

    @model_validator(mode="after")
    def _check(self) -> "MaskBody":
        if self.width * self.height > MAX_MASK_PIXELS:
            raise ValueError(f"width × height: at most {MAX_MASK_PIXELS} pixels")
        if sum(length for _, length in self.runs) != self.width * self.height:
            raise ValueError("runs: their lengths must add up to width × height")
        indices = {item.index for item in self.labels}
        if len(indices) != len(self.labels):
            raise ValueError("labels: each index once")
        for value, length in self.runs:
            if length < 0 or (value != 0 and value not in indices):
                raise ValueError(f"runs: value {value} is not one of the labels' indices")
        return self


class TrackBody(RequestBody):
    box: PixelBox = Field(description="The object's box on frame `frame`, in image pixels.")
    frame: Annotated[int, Field(ge=0, le=1_000_000)]
    frames: Annotated[int, Field(ge=1, le=300)] = Field(30, description="How many frames after `frame` to follow it.")
    method: Literal["csrt", "kcf", "mil"] = "csrt"

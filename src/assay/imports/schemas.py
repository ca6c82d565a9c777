"""The form fields of an import beside the file (multipart/form-data)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from assay.schemas import RequestBody


class ImportOptions(RequestBody):
    """`format`: csv, jsonl, json, coco, yolo, conll or media (default: from the file
    name); `mode`: tasks (annotations ignored), prelabels (the annotation is each task's
    pre-label) or gold (evaluation items; live keys); `mapping`: JSON object renaming
    columns to task params ({"review": "attachment"}); `base_url`: where COCO images
    that are not in the upload are served; `batch`: the batch the tasks go into."""

    model_config = ConfigDict(strict=True, extra="forbid")

    format: Literal["csv", "jsonl", "json", "coco", "yolo", "conll", "media"] | None = None
    mode: Literal["tasks", "prelabels", "gold"] = "tasks"
    mapping: dict[str, Annotated[str, Field(min_length=1, max_length=200)]] = Field(default_factory=dict)
    base_url: Annotated[str, Field(pattern=r"^https?://", max_length=2000)] | None = None
    batch: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class BucketImport(RequestBody):
    """Tasks from the storage bucket: `prefix` (s3://bucket/raw/: one task per media object
    under it) or `manifest` (s3://bucket/raw/tasks.jsonl: a CSV, JSON lines or JSON file of
    task bodies whose s3:// strings name objects); `format` of the manifest (default: from
    its name); `mode`, `mapping` and `batch` as for an upload."""

    model_config = ConfigDict(strict=True, extra="forbid")

    prefix: Annotated[str, Field(min_length=1, max_length=2000)] | None = None
    manifest: Annotated[str, Field(min_length=1, max_length=2000)] | None = None
    format: Literal["csv", "jsonl", "json"] | None = None
    mode: Literal["tasks", "prelabels", "gold"] = "tasks"
    mapping: dict[str, Annotated[str, Field(min_length=1, max_length=200)]] = Field(default_factory=dict)
    batch: Annotated[str, Field(min_length=1, max_length=200)] | None = None

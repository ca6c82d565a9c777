"""What the vision formats share: each task's image (name, URL, size), its shapes in
pixel terms (boxes, outlines, named points), the label list, and COCO's RLE."""

from __future__ import annotations

import math
import posixpath
import re
from dataclasses import dataclass
from typing import Any, Iterator
from urllib.parse import urlsplit

from assay.exports.formats.base import Context, answer_of

IMAGE_TYPES = ("imageannotation", "segmentannotation")
VIDEO_TYPES = ("videoannotation",)
ELLIPSE_SIDES = 64
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class Image:
    task_id: str
    url: str
    stem: str  # unique, safe file name without extension
    extension: str
    width: int | None
    height: int | None
    file_name: str  # as the customer named it (COCO import's file_name), else stem + extension


class Images:
    """Unique, safe file names for the tasks' images, in export order."""

    def __init__(self, context: Context):
        self.context = context
        self.taken: set[str] = set()

    def of(self, row: dict[str, Any]) -> Image:
        params = row.get("params") or {}
        metadata = row.get("metadata") or {}
        url = params.get("attachment") if isinstance(params.get("attachment"), str) else ""
        named = metadata.get("file_name") if isinstance(metadata.get("file_name"), str) else ""
        base = posixpath.basename(named or urlsplit(url).path) or row["task_id"]
        stem, extension = posixpath.splitext(base)
        stem = _UNSAFE.sub("_", stem).strip("._") or row["task_id"]
        if extension.lower() not in (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif", ".tif", ".tiff"):
            extension = ".jpg"
        if stem in self.taken:
            stem = f"{stem}-{row['task_id']}"
        self.taken.add(stem)
        width, height = metadata.get("width"), metadata.get("height")
        if not (isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0):
            width, height = self.context.media.size(url) or (None, None)
        return Image(row["task_id"], url, stem, extension, width, height, named or stem + extension)

    def media(self, image: Image, folder: str) -> Iterator[tuple[str, bytes]]:
        """The image itself, when asked for and stored here (uploaded, scaledata://)."""
        if not self.context.with_media:
            return
        data = self.context.media.read(image.url)
        if data is None:
            self.context.warnings.append(f"{image.task_id}: image {image.url[:200]} is not an uploaded file; not included")
            return
        yield f"{folder}/{image.stem}{image.extension}", data


def label_names(items: Any) -> list[str]:
    """Every label of a Scale label list (strings, or {choice, subchoices})."""
    out: list[str] = []
    for item in items or []:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict) and isinstance(item.get("choice"), str):
            out.append(item["choice"])
            out.extend(label_names(item.get("subchoices")))
    return out


class Labels:
    """Class ids in a stable order: the project's labels first, then any other label in
    order of first appearance."""

    def __init__(self, names: list[str]):
        self.names: list[str] = []
        self.ids: dict[str, int] = {}
        for name in names:
            self.id(name)

    def id(self, name: str) -> int:
        if name not in self.ids:
            self.ids[name] = len(self.names)
            self.names.append(name)
        return self.ids[name]


def project_labels(context: Context) -> list[str]:
    params = context.project_params
    names: list[str] = []
    for spec in (params.get("geometries") or {}).values():
        if isinstance(spec, dict):
            names.extend(n for n in label_names(spec.get("objects_to_annotate")) if n not in names)
    names.extend(n for n in label_names(params.get("labels")) if n not in names)
    return names


def shapes(row: dict[str, Any]) -> list[dict[str, Any]]:
    response = answer_of(row) or {}
    annotations = response.get("annotations")
    return [a for a in annotations if isinstance(a, dict)] if isinstance(annotations, list) else []


def outline(shape: dict[str, Any]) -> list[tuple[float, float]] | None:
    """A shape's outline in pixels: polygons as drawn, ellipses as 64-gons, boxes (rotated
    ones too) as their four corners; None for shapes without an area (points, lines)."""
    kind = shape.get("type")
    if kind == "polygon":
        return [(float(v["x"]), float(v["y"])) for v in shape["vertices"]]
    if kind == "ellipse":
        return ellipse_polygon(shape["vertices"])
    if kind == "box":
        left, top, width, height = (float(shape[k]) for k in ("left", "top", "width", "height"))
        corners = [(left, top), (left + width, top), (left + width, top + height), (left, top + height)]
        angle = float(shape.get("rotation") or 0)
        if angle:
            cx, cy, c, s = left + width / 2, top + height / 2, math.cos(angle), math.sin(angle)
            corners = [(cx + (x - cx) * c - (y - cy) * s, cy + (x - cx) * s + (y - cy) * c) for x, y in corners]
        return corners
    return None


def ellipse_polygon(vertices: list[dict[str, Any]]) -> list[tuple[float, float]]:
    p = [(float(v["x"]), float(v["y"])) for v in vertices]
    cx, cy = (p[0][0] + p[2][0]) / 2, (p[0][1] + p[2][1]) / 2
    ax, ay = (p[0][0] - cx, p[0][1] - cy)
    bx, by = (p[1][0] - cx, p[1][1] - cy)
    return [(round(cx + ax * math.cos(t) + bx * math.sin(t), 2), round(cy + ay * math.cos(t) + by * math.sin(t), 2))
            for t in (2 * math.pi * k / ELLIPSE_SIDES for k in range(ELLIPSE_SIDES))]


def bounds(points: list[tuple[float, float]]) -> tuple[float, float, float, float]:
    """(left, top, width, height) around points."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)


def box_of(shape: dict[str, Any]) -> tuple[float, float, float, float] | None:
    if shape.get("type") == "box" and not shape.get("rotation"):
        return float(shape["left"]), float(shape["top"]), float(shape["width"]), float(shape["height"])
    points = outline(shape)
    return bounds(points) if points else None


def polygon_area(points: list[tuple[float, float]]) -> float:
    return abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1]))) / 2


# ----------------------------------------------------------------------------- masks

def read_mask(context: Context, url: Any):
    """A mask image as a boolean array (non-zero pixels, or opaque ones with alpha), or
    None when it is not stored here."""
    gray = read_pixels(context, url)
    return None if gray is None else gray > 0


def read_pixels(context: Context, url: Any):
    """A mask image as a 2-D array of pixel values (the first channel; alpha when the image
    has one and nothing else set)."""
    data = context.media.read(url) if isinstance(url, str) else None
    if data is None:
        return None
    import io  # noqa: PLC0415 - only with masks

    import numpy as np  # noqa: PLC0415 - numpy/Pillow load when a mask is read
    from PIL import Image as PILImage  # noqa: PLC0415 - as above

    with PILImage.open(io.BytesIO(data)) as image:
        if image.mode == "P":
            return np.asarray(image)
        if image.mode in ("RGBA", "LA"):
            pixels = np.asarray(image)
            return np.where(pixels[..., -1] > 0, np.maximum(pixels[..., :-1].max(axis=-1), 1), 0)
        pixels = np.asarray(image.convert("L") if image.mode not in ("L", "I", "I;16", "1") else image)
        return pixels.astype(np.int64) if pixels.dtype == bool else pixels


def rle_encode(mask) -> dict[str, Any]:
    """COCO's compressed RLE of a boolean mask (column-major runs starting with zeros,
    written as in pycocotools' rleToString)."""
    import numpy as np  # noqa: PLC0415 - only with masks

    flat = np.asarray(mask, dtype=np.uint8).flatten(order="F")
    changes = np.flatnonzero(np.diff(flat)) + 1
    edges = np.concatenate(([0], changes, [flat.size]))
    counts = np.diff(edges).tolist()
    if flat.size and flat[0] == 1:
        counts = [0, *counts]
    out = []
    for i, count in enumerate(counts):
        x = count - counts[i - 2] if i > 2 else count
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = (x != -1) if (c & 0x10) else (x != 0)
            if more:
                c |= 0x20
            out.append(chr(c + 48))
    height, width = mask.shape
    return {"size": [int(height), int(width)], "counts": "".join(out)}


def mask_box(mask) -> tuple[float, float, float, float]:
    import numpy as np  # noqa: PLC0415 - only with masks

    ys, xs = np.nonzero(mask)
    if xs.size == 0:
        return 0.0, 0.0, 0.0, 0.0
    return float(xs.min()), float(ys.min()), float(xs.max() - xs.min() + 1), float(ys.max() - ys.min() + 1)

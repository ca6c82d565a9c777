"""YOLO (Ultralytics layout): `images/`, `labels/<image>.txt` and `data.yaml`.
Detect: one `class cx cy w h` line per shape with an area (polygons and ellipses by their
bounding box), normalized by the image size. Segment: one `class x1 y1 x2 y2 …` line per
outline (boxes as their four corners). An image whose size is unknown cannot be
normalized: it is listed in warnings.txt and left out."""

from __future__ import annotations

from typing import Any, Iterator

from assay.exports.formats import vision
from assay.exports.formats.base import Context, Format, Pages


def _number(value: float) -> str:
    return f"{min(1.0, max(0.0, value)):.6f}"


def _lines(row: dict[str, Any], image: vision.Image, labels: vision.Labels, segment: bool, context: Context) -> list[str]:
    lines = []
    for shape in vision.shapes(row):
        if segment:
            points = vision.outline(shape)
            if points:
                coords = " ".join(f"{_number(x / image.width)} {_number(y / image.height)}" for x, y in points)
                lines.append(f"{labels.id(shape['label'])} {coords}")
                continue
        else:
            box = vision.box_of(shape)
            if box:
                left, top, width, height = box
                lines.append(f"{labels.id(shape['label'])} {_number((left + width / 2) / image.width)} "
                             f"{_number((top + height / 2) / image.height)} {_number(width / image.width)} {_number(height / image.height)}")
                continue
        context.warnings.append(f"{row['task_id']}: a {shape.get('type')} ({shape.get('label')}) has no YOLO form; left out")
    return lines


def data_yaml(names: list[str]) -> bytes:
    """data.yaml (names as a mapping; each name JSON-quoted, which YAML reads as is)."""
    import orjson  # noqa: PLC0415 - tiny; keeps the module's imports to what YOLO needs

    lines = ["path: .", "train: images", "val: images", f"nc: {len(names)}", "names:"]
    lines += [f"  {i}: {orjson.dumps(name).decode()}" for i, name in enumerate(names)]
    return ("\n".join(lines) + "\n").encode()


def _files(pages: Pages, context: Context, segment: bool) -> Iterator[tuple[str, bytes]]:
    images = vision.Images(context)
    labels = vision.Labels(vision.project_labels(context))
    for page in pages:
        for row in page:
            image = images.of(row)
            if image.width is None:
                context.warnings.append(f"{row['task_id']}: image size unknown; YOLO needs it to normalize, left out")
                continue
            yield from images.media(image, "images")
            yield f"labels/{image.stem}.txt", "".join(line + "\n" for line in _lines(row, image, labels, segment, context)).encode()
    yield "data.yaml", data_yaml(labels.names)


def detect(pages: Pages, context: Context) -> Iterator[tuple[str, bytes]]:
    yield from _files(pages, context, segment=False)


def segment(pages: Pages, context: Context) -> Iterator[tuple[str, bytes]]:
    yield from _files(pages, context, segment=True)


DETECT = Format("yolo", "YOLO detect (zip with data.yaml)", "zip", "application/zip", ("imageannotation",), files=detect)
SEGMENT = Format("yolo-seg", "YOLO segment (zip with data.yaml)", "zip", "application/zip", ("imageannotation",), files=segment)

"""COCO object detection / instance segmentation JSON: boxes (`bbox`), polygons and
ellipses (`segmentation` outlines), segmentation masks as compressed RLE, and named points
as one keypoints instance per image (category "points", its keypoints the point labels).
Lines and cuboids have no COCO form: they are listed in warnings.txt (zip) and left out.
Streamed: images are written as they come, annotations are kept on a spooled temporary
file and appended after them."""

from __future__ import annotations

import tempfile
from typing import Any, Iterator

import orjson

from assay.exports.formats import vision
from assay.exports.formats.base import Context, Format, Pages, answer_of, confidence_of

POINTS = "points"


class CocoBuilder:
    def __init__(self, context: Context):
        self.context = context
        self.images = vision.Images(context)
        self.labels = vision.Labels(vision.project_labels(context))
        self.point_names: list[str] = []
        self.next_annotation = 1
        self.next_image = 1

    def task(self, row: dict[str, Any]) -> tuple[vision.Image, dict[str, Any], list[dict[str, Any]]]:
        image = self.images.of(row)
        image_id = self.next_image
        self.next_image += 1
        entry = {"id": image_id, "file_name": image.file_name if not self.context.with_media else f"images/{image.stem}{image.extension}",
                 "width": image.width or 0, "height": image.height or 0, "assay_task_id": row["task_id"], "coco_url": image.url}
        if image.width is None:
            self.context.warnings.append(f"{row['task_id']}: image size unknown (no width/height in metadata, not an uploaded file)")
        confidence = confidence_of(row)
        if row.get("type") == "segmentannotation":
            annotations = self._masks(row, image_id)
        else:
            annotations = self._shapes(row, image_id)
        for a in annotations:
            a["score"] = confidence
        return image, entry, annotations

    def _annotation(self, image_id: int, label: str, **fields: Any) -> dict[str, Any]:
        out = {"id": self.next_annotation, "image_id": image_id, "category_id": self.labels.id(label) + 1, "iscrowd": 0, **fields}
        self.next_annotation += 1
        return out

    def _shapes(self, row: dict[str, Any], image_id: int) -> list[dict[str, Any]]:
        out, points = [], {}
        for shape in vision.shapes(row):
            kind = shape.get("type")
            if kind == "point":
                points[shape["label"]] = (float(shape["x"]), float(shape["y"]))
                continue
            if kind in ("line", "cuboid"):
                self.context.warnings.append(f"{row['task_id']}: a {kind} ({shape.get('label')}) has no COCO form; left out")
                continue
            left, top, width, height = vision.box_of(shape)
            polygon = vision.outline(shape) if kind != "box" or shape.get("rotation") else None
            segmentation = [[round(c, 2) for p in polygon for c in p]] if polygon else []
            area = vision.polygon_area(polygon) if polygon else width * height
            out.append(self._annotation(image_id, shape["label"], bbox=[left, top, width, height], area=area, segmentation=segmentation,
                                        attributes=shape.get("attributes") or {}, assay_uuid=shape.get("uuid")))
        if points:
            out.append(self._keypoints(image_id, points))
        return out

    def _keypoints(self, image_id: int, points: dict[str, tuple[float, float]]) -> dict[str, Any]:
        for name in points:
            if name not in self.point_names:
                self.point_names.append(name)
        keypoints: list[float] = []
        for name in self.point_names:
            x, y = points.get(name, (0.0, 0.0))
            keypoints += [x, y, 2 if name in points else 0]
        left, top, width, height = vision.bounds(list(points.values()))
        return self._annotation(image_id, POINTS, bbox=[left, top, width, height], area=width * height, keypoints=keypoints,
                                num_keypoints=len(points), segmentation=[])

    def _masks(self, row: dict[str, Any], image_id: int) -> list[dict[str, Any]]:
        response = answer_of(row) or {}
        annotations = response.get("annotations") or {}
        mapping = response.get("labelMapping") or {}
        indexed = None
        out = []
        for label, urls in (annotations.get("labeled") or {}).items():
            entries = mapping.get(label)
            urls = urls if isinstance(urls, list) else [urls]
            entries = entries if isinstance(entries, list) else [entries] * len(urls)
            for url, entry in zip(urls, entries):
                mask = vision.read_mask(self.context, url)
                if mask is None and isinstance(entry, dict):
                    if indexed is None:
                        indexed = vision.read_pixels(self.context, (annotations.get("combined") or {}).get("indexedImage"))
                    mask = None if indexed is None else indexed == entry.get("index")
                if mask is None:
                    self.context.warnings.append(f"{row['task_id']}: mask of {label!r} is not an uploaded file; left out")
                    continue
                out.append(self._annotation(image_id, label, segmentation=vision.rle_encode(mask), area=float(mask.sum()),
                                            bbox=list(vision.mask_box(mask))))
        return out

    def categories(self) -> list[dict[str, Any]]:
        out = []
        for i, name in enumerate(self.labels.names):
            category: dict[str, Any] = {"id": i + 1, "name": name, "supercategory": ""}
            if name == POINTS and self.point_names:
                category["keypoints"] = list(self.point_names)
                category["skeleton"] = []
            out.append(category)
        return out


def _json(pages: Pages, builder: CocoBuilder, media: list | None = None) -> Iterator[bytes]:
    """The COCO JSON in pieces: header, images as they come, then the annotations (spooled),
    then the categories (known only at the end)."""
    yield b'{"info":{"description":' + orjson.dumps(builder.context.project_name) + b',"version":"1.0"},"licenses":[],"images":['
    first = True
    with tempfile.SpooledTemporaryFile(max_size=32 << 20) as spool:
        first_annotation = True
        for page in pages:
            out = []
            for row in page:
                image, entry, annotations = builder.task(row)
                if media is not None:
                    media.extend(builder.images.media(image, "images"))
                out.append(orjson.dumps(entry))
                for a in annotations:
                    spool.write((b"" if first_annotation else b",") + orjson.dumps(a))
                    first_annotation = False
            if out:
                yield (b"" if first else b",") + b",".join(out)
                first = False
        yield b'],"annotations":['
        spool.seek(0)
        while chunk := spool.read(1 << 20):
            yield chunk
    yield b'],"categories":' + orjson.dumps(builder.categories()) + b"}"


def write(pages: Pages, context: Context) -> Iterator[bytes]:
    yield from _json(pages, CocoBuilder(context))


def files(pages: Pages, context: Context) -> Iterator[tuple[str, bytes]]:
    """images/ (uploaded images) and annotations.json."""
    media: list[tuple[str, bytes]] = []
    with tempfile.SpooledTemporaryFile(max_size=64 << 20) as document:
        for piece in _json(pages, CocoBuilder(context), media):
            document.write(piece)
            yield from media
            media.clear()
        document.seek(0)
        yield "annotations.json", document.read()


FORMAT = Format("coco", "COCO (boxes, polygons, RLE masks, keypoints)", "json", "application/json", vision.IMAGE_TYPES, write=write,
                files=files)

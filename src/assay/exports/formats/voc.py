"""Pascal VOC: `Annotations/<image>.xml` per image (`<bndbox>` in the devkit's 1-based,
inclusive pixel indices: xmin = left + 1, xmax = left + width), `JPEGImages/` with the
media, and `ImageSets/Main/default.txt`. Polygons and ellipses are written as their
bounding box plus a `<polygon>`; points and lines have no VOC form."""

from __future__ import annotations

from typing import Any, Iterator
from xml.sax.saxutils import escape

from assay.exports.formats import vision
from assay.exports.formats.base import Context, Format, Pages


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def _object(shape: dict[str, Any]) -> str | None:
    box = vision.box_of(shape)
    if box is None:
        return None
    left, top, width, height = box
    parts = [f"<object><name>{escape(shape['label'])}</name><pose>Unspecified</pose><truncated>0</truncated><difficult>0</difficult>",
             f"<bndbox><xmin>{_num(left + 1)}</xmin><ymin>{_num(top + 1)}</ymin><xmax>{_num(left + width)}</xmax><ymax>{_num(top + height)}</ymax></bndbox>"]
    if shape.get("type") in ("polygon", "ellipse"):
        points = vision.outline(shape) or []
        coords = "".join(f"<x{i}>{_num(x + 1)}</x{i}><y{i}>{_num(y + 1)}</y{i}>" for i, (x, y) in enumerate(points, start=1))
        parts.append(f"<polygon>{coords}</polygon>")
    parts.append("</object>")
    return "".join(parts)


def annotation_xml(row: dict[str, Any], image: vision.Image, context: Context) -> bytes:
    objects = []
    for shape in vision.shapes(row):
        xml = _object(shape)
        if xml is None:
            context.warnings.append(f"{row['task_id']}: a {shape.get('type')} ({shape.get('label')}) has no VOC form; left out")
        else:
            objects.append(xml)
    size = f"<size><width>{image.width or 0}</width><height>{image.height or 0}</height><depth>3</depth></size>"
    return (f"<annotation><folder>JPEGImages</folder><filename>{escape(image.stem + image.extension)}</filename>"
            f"<source><database>{escape(context.project_name)}</database><annotation>assay {escape(row['task_id'])}</annotation></source>"
            f"{size}<segmented>0</segmented>{''.join(objects)}</annotation>\n").encode()


def files(pages: Pages, context: Context) -> Iterator[tuple[str, bytes]]:
    images = vision.Images(context)
    stems = []
    for page in pages:
        for row in page:
            image = images.of(row)
            stems.append(image.stem)
            yield from images.media(image, "JPEGImages")
            yield f"Annotations/{image.stem}.xml", annotation_xml(row, image, context)
    yield "ImageSets/Main/default.txt", "".join(s + "\n" for s in stems).encode()


FORMAT = Format("voc", "Pascal VOC XML (zip)", "zip", "application/zip", ("imageannotation",), files=files)

"""Semantic segmentation masks: `SegmentationClass/<image>.png`, one 8-bit PNG per image
whose pixel value is the class id (0: unlabeled; the project's labels from 1 in order),
`labelmap.txt` (id and name per line) and the images with the media. Instance masks of
one label share its class id; where masks overlap, the label later in the list wins."""

from __future__ import annotations

import io
from typing import Any, Iterator

from assay.exports.formats import vision
from assay.exports.formats.base import Context, Format, Pages, answer_of


def class_mask(row: dict[str, Any], labels: vision.Labels, context: Context):
    """The class-id image of one task, or None when none of its masks is stored here."""
    import numpy as np  # noqa: PLC0415 - numpy loads when masks are exported

    response = answer_of(row) or {}
    annotations = response.get("annotations") or {}
    mapping = response.get("labelMapping") or {}
    indexed = vision.read_pixels(context, (annotations.get("combined") or {}).get("indexedImage"))
    out = None if indexed is None else np.zeros(indexed.shape, dtype=np.uint8)
    # painted in class-id order (a later label wins where masks overlap), whatever order the
    # answer's keys come in (PostgreSQL's JSONB reorders them)
    for label, urls in sorted((annotations.get("labeled") or {}).items(), key=lambda item: labels.id(item[0])):
        class_id = labels.id(label) + 1
        entries = mapping.get(label)
        urls = urls if isinstance(urls, list) else [urls]
        entries = entries if isinstance(entries, list) else [entries] * len(urls)
        for url, entry in zip(urls, entries):
            mask = vision.read_mask(context, url)
            if mask is None and indexed is not None and isinstance(entry, dict):
                mask = indexed == entry.get("index")
            if mask is None:
                context.warnings.append(f"{row['task_id']}: mask of {label!r} is not an uploaded file; left out")
                continue
            if out is None:
                out = np.zeros(mask.shape, dtype=np.uint8)
            out[mask] = class_id
    return out


def png(pixels) -> bytes:
    from PIL import Image  # noqa: PLC0415 - Pillow loads when masks are exported

    buf = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(buf, format="PNG")
    return buf.getvalue()


def files(pages: Pages, context: Context) -> Iterator[tuple[str, bytes]]:
    images = vision.Images(context)
    labels = vision.Labels(vision.project_labels(context))
    for page in pages:
        for row in page:
            image = images.of(row)
            pixels = class_mask(row, labels, context)
            if pixels is None:
                continue
            yield from images.media(image, "JPEGImages")
            yield f"SegmentationClass/{image.stem}.png", png(pixels)
    yield "labelmap.txt", ("0 unlabeled\n" + "".join(f"{i + 1} {name}\n" for i, name in enumerate(labels.names))).encode()


FORMAT = Format("masks", "Segmentation masks (class-id PNGs, zip)", "zip", "application/zip", ("segmentannotation",), files=files)

"""COCO and YOLO: one image task per image, its boxes (and polygons, named points) as the
existing answer. The image is the upload's own file (a zip with the images) or
`base_url` + its file name; COCO's width and height and file name go to the task's
metadata (the exports use them)."""

from __future__ import annotations

import io
import posixpath
from typing import Any

import orjson

from assay.imports.rows import ImportError_, Parsed, Row, RowError


def _attachment(name: str, media: dict[str, bytes], base_url: str | None) -> tuple[str | None, str | None]:
    """(media file name in the upload, or the URL) for an image named `name`."""
    for candidate in (name, posixpath.basename(name)):
        for key in media:
            if key == candidate or key.endswith("/" + candidate):
                return key, None
    if base_url:
        return None, base_url.rstrip("/") + "/" + name.lstrip("/")
    return None, None


def parse_coco(document: bytes, media: dict[str, bytes], base_url: str | None) -> Parsed:
    out = Parsed("coco", media=media)
    try:
        coco = orjson.loads(document)
    except orjson.JSONDecodeError as exc:
        raise ImportError_(f"file: the COCO annotations are not valid JSON ({exc})") from None
    if not isinstance(coco, dict) or not isinstance(coco.get("images"), list):
        raise ImportError_("file: not COCO: no 'images' list")
    categories = {c.get("id"): c for c in coco.get("categories") or [] if isinstance(c, dict)}
    by_image: dict[Any, list[dict[str, Any]]] = {}
    for a in coco.get("annotations") or []:
        if isinstance(a, dict):
            by_image.setdefault(a.get("image_id"), []).append(a)
    names = [c.get("name") for c in categories.values() if isinstance(c.get("name"), str)]
    for number, image in enumerate(coco["images"], start=1):
        if not isinstance(image, dict) or not isinstance(image.get("file_name"), str):
            out.errors.append(RowError(number, "images", "an image needs a file_name"))
            continue
        key, url = _attachment(image["file_name"], media, base_url)
        if key is None and url is None:
            out.errors.append(RowError(number, "attachment", f"image {image['file_name']!r} is not in the upload; give base_url for linked images"))
            continue
        shapes = []
        for k, a in enumerate(by_image.get(image.get("id"), [])):
            shape = _shape(a, categories, k)
            if isinstance(shape, str):
                out.errors.append(RowError(number, f"annotations[{k}]", shape))
            else:
                shapes.extend(shape)
        metadata = {"file_name": image["file_name"], "coco_image_id": image.get("id")}
        for dim in ("width", "height"):
            if isinstance(image.get(dim), int):
                metadata[dim] = image[dim]
        body = {"attachment": url, "attachment_type": "image", "metadata": metadata, "geometries": _geometries(shapes, names)}
        out.rows.append(Row(number, body, {"annotations": shapes}, media=key))
    return out


def _geometries(shapes: list[dict[str, Any]], names: list[str]) -> dict[str, Any]:
    kinds = sorted({s["type"] for s in shapes} | {"box"})
    return {kind: {"objects_to_annotate": names or sorted({s["label"] for s in shapes if s["type"] == kind})} for kind in kinds}


def _shape(a: dict[str, Any], categories: dict[Any, dict[str, Any]], k: int) -> list[dict[str, Any]] | str:
    category = categories.get(a.get("category_id"))
    if category is None or not isinstance(category.get("name"), str):
        return f"category_id {a.get('category_id')!r} is not among the categories"
    label = category["name"]
    uuid = str(a.get("id", k))
    segmentation = a.get("segmentation")
    if isinstance(a.get("keypoints"), list) and category.get("keypoints"):
        values = a["keypoints"]
        return [{"uuid": f"{uuid}-{name}", "type": "point", "label": name, "x": values[3 * i], "y": values[3 * i + 1]}
                for i, name in enumerate(category["keypoints"]) if 3 * i + 2 < len(values) and values[3 * i + 2] > 0]
    if isinstance(segmentation, list) and segmentation and isinstance(segmentation[0], list) and len(segmentation[0]) >= 6:
        flat = segmentation[0]
        return [{"uuid": uuid, "type": "polygon", "label": label, "vertices": [{"x": flat[i], "y": flat[i + 1]} for i in range(0, len(flat) - 1, 2)]}]
    bbox = a.get("bbox")
    if not (isinstance(bbox, list) and len(bbox) == 4 and all(isinstance(v, (int, float)) for v in bbox)):
        return "needs a bbox [x, y, width, height]"
    return [{"uuid": uuid, "type": "box", "label": label, "left": bbox[0], "top": bbox[1], "width": bbox[2], "height": bbox[3]}]


def yolo_names(text: bytes) -> list[str]:
    import yaml  # noqa: PLC0415 - only a YOLO import reads YAML

    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ImportError_(f"file: data.yaml is not valid YAML ({exc})") from None
    names = document.get("names") if isinstance(document, dict) else None
    if isinstance(names, dict):
        return [str(names[k]) for k in sorted(names, key=int)]
    if isinstance(names, list):
        return [str(n) for n in names]
    raise ImportError_("file: data.yaml has no 'names'")


def parse_yolo(media: dict[str, bytes]) -> Parsed:
    """images/… with labels/<stem>.txt (`class cx cy w h`, or a polygon), names from
    data.yaml; the image's size (read from it) turns normalized numbers into pixels."""
    from PIL import Image, UnidentifiedImageError  # noqa: PLC0415 - Pillow loads for image imports only

    yaml_name = next((n for n in media if posixpath.basename(n) in ("data.yaml", "dataset.yaml")), None)
    if yaml_name is None:
        raise ImportError_("file: a YOLO zip needs data.yaml (its class names)")
    names = yolo_names(media.pop(yaml_name))
    labels = {posixpath.splitext(posixpath.basename(n))[0]: n for n in media if n.endswith(".txt")}
    out = Parsed("yolo", media={n: b for n, b in media.items() if not n.endswith(".txt")})
    for number, name in enumerate(sorted(out.media), start=1):
        try:
            with Image.open(io.BytesIO(out.media[name])) as image:
                width, height = image.size
        except (UnidentifiedImageError, OSError):
            out.errors.append(RowError(number, "file", f"{name} is not an image"))
            continue
        shapes, stem = [], posixpath.splitext(posixpath.basename(name))[0]
        for k, line in enumerate((media.get(labels.get(stem, ""), b"").decode("utf-8", "replace")).splitlines()):
            shape = _yolo_shape(line.split(), names, width, height, f"{stem}-{k}")
            if isinstance(shape, str):
                out.errors.append(RowError(number, f"{labels.get(stem)} line {k + 1}", shape))
            elif shape is not None:
                shapes.append(shape)
        body = {"attachment": None, "attachment_type": "image", "metadata": {"file_name": posixpath.basename(name), "width": width, "height": height},
                "geometries": _geometries(shapes, names)}
        out.rows.append(Row(number, body, {"annotations": shapes}, media=name))
    return out


def _yolo_shape(parts: list[str], names: list[str], width: int, height: int, uuid: str) -> dict[str, Any] | str | None:
    if not parts:
        return None
    try:
        cls, values = int(parts[0]), [float(p) for p in parts[1:]]
    except ValueError:
        return "needs a class number and numbers"
    if not 0 <= cls < len(names):
        return f"class {cls} is not in data.yaml's names"
    if len(values) == 4:
        cx, cy, w, h = values
        return {"uuid": uuid, "type": "box", "label": names[cls], "left": round((cx - w / 2) * width, 2), "top": round((cy - h / 2) * height, 2),
                "width": round(w * width, 2), "height": round(h * height, 2)}
    if len(values) >= 6 and len(values) % 2 == 0:
        return {"uuid": uuid, "type": "polygon", "label": names[cls],
                "vertices": [{"x": round(values[i] * width, 2), "y": round(values[i + 1] * height, 2)} for i in range(0, len(values), 2)]}
    return "needs 4 numbers (a box) or an even number of at least 6 (a polygon)"

"""Segmentation masks as Scale answers them: PNG files of the caller's organization (one
binary mask per label or instance, the combined colour image, the indexed image where each
pixel is its class index) built from a class-index array, and the COCO run-length encoding
of each label's mask read back from an answer's indexed image."""

from __future__ import annotations

import io
from typing import Any, Callable

import numpy as np
from PIL import Image

from assay.quality.masks import rle_encode


def runs_to_mask(width: int, height: int, runs: list[tuple[int, int]]) -> np.ndarray:
    values = np.array([v for v, _ in runs], dtype=np.uint16)
    lengths = np.array([n for _, n in runs], dtype=np.int64)
    return np.repeat(values, lengths).reshape(height, width)


def png(array: np.ndarray, mode: str) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array, mode=mode).save(out, "PNG", optimize=False)
    return out.getvalue()


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def mask_answer(mask: np.ndarray, labels: list[dict[str, Any]], instance_labels: set[str], allow_unlabeled: bool,
                store: Callable[[str, bytes], str]) -> dict[str, Any]:
    """The Scale response for a class-index mask. `labels`: [{label, index, color}];
    `store(name, png_bytes)` keeps a file and returns its scaledata:// URL. Labels that
    paint no pixel are left out (Scale lists the labels present)."""
    if mask.max() > 255:
        indexed = png(mask.astype(np.uint16).astype(np.int32).astype(np.uint16), "I;16")
    else:
        indexed = png(mask.astype(np.uint8), "L")
    combined = np.zeros(mask.shape + (3,), dtype=np.uint8)
    labeled: dict[str, Any] = {}
    mapping: dict[str, Any] = {}
    present = set(np.unique(mask).tolist())
    for item in sorted(labels, key=lambda x: x["index"]):
        if item["index"] not in present:
            continue
        pixels = mask == item["index"]
        combined[pixels] = _rgb(item["color"])
        url = store(f"mask-{item['index']}.png", png(pixels.astype(np.uint8) * 255, "L"))
        entry = {"index": item["index"], "color": item["color"].lower()}
        if item["label"] in instance_labels:
            labeled.setdefault(item["label"], []).append(url)
            mapping.setdefault(item["label"], []).append(entry)
        else:
            labeled[item["label"]] = url
            mapping[item["label"]] = entry
    unlabeled = store("unlabeled.png", png((mask == 0).astype(np.uint8) * 255, "L")) if allow_unlabeled else None
    return {
        "annotations": {
            "unlabeled": unlabeled,
            "labeled": labeled,
            "combined": {"image": store("combined.png", png(combined, "RGB")), "indexedImage": store("indexed.png", indexed)},
        },
        "labelMapping": mapping,
    }


def read_indexed(data: bytes) -> np.ndarray:
    img = Image.open(io.BytesIO(data))
    return np.asarray(img.convert("I") if img.mode not in ("L", "I;16", "I") else img).astype(np.int64)


def label_rles(indexed: np.ndarray, label_mapping: dict[str, Any]) -> dict[str, Any]:
    """COCO RLE per label (a list per instance label) of an answer's indexed image."""
    out: dict[str, Any] = {}
    for label, entry in label_mapping.items():
        if isinstance(entry, list):
            out[label] = [rle_encode(indexed == item["index"]) for item in entry]
        else:
            out[label] = rle_encode(indexed == entry["index"])
    return out

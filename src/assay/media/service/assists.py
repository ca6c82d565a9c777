"""Labeling assists over an image of the caller's organization: GrabCut (a box → the
object's mask) and object trackers (a box on one frame → boxes on the next frames). OpenCV
is an optional extra (`pip install 'assay[vision]'`); without it the assists say so."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from assay.errors import InvalidRequest

GRABCUT_MAX_SIDE = 640  # GrabCut runs on the box's region scaled to fit this (seconds → tenths)


def opencv():
    try:
        import cv2  # noqa: PLC0415 - optional extra, loaded when an assist runs
    except ImportError:
        raise InvalidRequest("This server has no OpenCV (install the 'vision' extra: pip install 'assay[vision]').", field="method") from None
    return cv2


def mask_runs(mask: np.ndarray) -> list[int]:
    """Row-major runs of a binary mask, starting with a run of zeros (possibly empty)."""
    flat = mask.astype(np.uint8).ravel()
    if flat.size == 0:
        return [0]
    edges = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    runs = np.diff(np.concatenate([[0], edges, [flat.size]])).tolist()
    return ([0] if flat[0] else []) + [int(r) for r in runs]


def grabcut(image: np.ndarray, box: dict[str, int], iterations: int = 4) -> dict[str, Any]:
    """GrabCut inside `box` (left, top, width, height; clipped to the image) on an RGB
    array. Returns the box used and the foreground as row-major runs over that box."""
    cv2 = opencv()
    h, w = image.shape[:2]
    left, top = min(max(0, box["left"]), w - 1), min(max(0, box["top"]), h - 1)
    right, bottom = min(w, box["left"] + box["width"]), min(h, box["top"] + box["height"])
    if right - left < 2 or bottom - top < 2:
        raise InvalidRequest("box: must cover at least 2 × 2 pixels of the image", field="box")
    # a margin of background around the box, so GrabCut has something to learn it from
    pad = max(4, (right - left + bottom - top) // 10)
    x0, y0, x1, y1 = max(0, left - pad), max(0, top - pad), min(w, right + pad), min(h, bottom + pad)
    crop = np.ascontiguousarray(image[y0:y1, x0:x1, ::-1])  # OpenCV wants BGR
    scale = min(1.0, GRABCUT_MAX_SIDE / max(crop.shape[:2]))
    small = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else crop
    rect = (int((left - x0) * scale), int((top - y0) * scale), max(1, int((right - left) * scale)), max(1, int((bottom - top) * scale)))
    mask = np.zeros(small.shape[:2], np.uint8)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(small, mask, rect, bgd, fgd, iterations, cv2.GC_INIT_WITH_RECT)
    fg = ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.uint8)
    if scale < 1:
        fg = cv2.resize(fg, (crop.shape[1], crop.shape[0]), interpolation=cv2.INTER_NEAREST)
    inside = fg[top - y0: bottom - y0, left - x0: right - x0]
    return {"left": int(left), "top": int(top), "width": int(right - left), "height": int(bottom - top), "runs": mask_runs(inside)}


def tracker(method: str):
    """A new OpenCV tracker (CSRT and KCF come with opencv-contrib; MIL with plain OpenCV)."""
    cv2 = opencv()
    name = {"csrt": "TrackerCSRT", "kcf": "TrackerKCF", "mil": "TrackerMIL"}[method]
    for holder in (cv2, getattr(cv2, "legacy", None)):
        cls = getattr(holder, name, None)
        if cls is not None and hasattr(cls, "create"):
            return cls.create()
        make = getattr(holder, f"{name}_create", None)
        if make is not None:
            return make()
    raise InvalidRequest(f"this OpenCV build has no {method.upper()} tracker", field="method")


def track(frames: Sequence[np.ndarray], box: dict[str, int], method: str = "csrt") -> list[dict[str, Any] | None]:
    """Follows the object in `box` on frames[0] through the rest (RGB arrays). One entry
    per later frame: the box, or None from where the tracker lost it."""
    t = tracker(method)
    t.init(np.ascontiguousarray(frames[0][:, :, ::-1]), (box["left"], box["top"], box["width"], box["height"]))
    out: list[dict[str, Any] | None] = []
    lost = False
    for frame in frames[1:]:
        ok, (x, y, w, h) = t.update(np.ascontiguousarray(frame[:, :, ::-1])) if not lost else (False, (0, 0, 0, 0))
        lost = lost or not ok
        out.append(None if lost else {"left": round(float(x), 2), "top": round(float(y), 2), "width": round(float(w), 2), "height": round(float(h), 2)})
    return out

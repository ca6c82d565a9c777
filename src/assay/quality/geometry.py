"""Overlap of drawn shapes: IoU of boxes, exact area, overlap and IoU of polygons (any
polygon, convex or not), ellipses as inscribed polygons, a polygon's bounding box.

Polygon IoU is exact for any polygon (simple or not, convex or not; a self-intersecting
one is filled by the even-odd rule), by a vertical slab decomposition: cut the plane at
the x of every vertex and of every crossing of two edges. Inside one slab no edge starts,
ends or crosses another, so each polygon's cross-section at x is a fixed set of intervals
whose ends move linearly with x; the cross-section lengths of P, Q and P ∩ Q are then
linear in x, and the midpoint rule integrates them exactly. (Sutherland–Hodgman clipping
is only valid for a convex clip polygon, and rasterising would only be approximate.)
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = [
    "box_iou",
    "ellipse_to_polygon",
    "polygon_area",
    "polygon_array",
    "polygon_array_iou",
    "polygon_iou",
    "polygon_overlap",
    "polygon_to_box",
]


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix between boxes ``a`` (k, 4) and ``b`` (m, 4) given as left, top, width,
    height. Two zero-area boxes have IoU 1 if identical, else 0."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    al, at, ar, ab = a[:, 0:1], a[:, 1:2], a[:, 0:1] + a[:, 2:3], a[:, 1:2] + a[:, 3:4]
    bl, bt, br, bb = b[None, :, 0], b[None, :, 1], b[None, :, 0] + b[None, :, 2], b[None, :, 1] + b[None, :, 3]
    iw = np.clip(np.minimum(ar, br) - np.maximum(al, bl), 0.0, None)
    ih = np.clip(np.minimum(ab, bb) - np.maximum(at, bt), 0.0, None)
    inter = iw * ih
    union = (a[:, 2:3] * a[:, 3:4]) + (b[None, :, 2] * b[None, :, 3]) - inter
    identical = np.all(a[:, None, :] == b[None, :, :], axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / np.where(union > 0, union, 1.0), identical.astype(np.float64))


def polygon_to_box(points: Sequence[tuple[float, float]], label: str) -> tuple[float, float, float, float, str]:
    """Bounding box ``(left, top, width, height, label)`` of a polygon (to match polygons
    with boxes; :func:`assay.quality.shapes.cluster_polygons` compares polygons by their exact IoU)."""
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if not len(p):
        raise ValueError("empty polygon")
    lo, hi = p.min(axis=0), p.max(axis=0)
    return (float(lo[0]), float(lo[1]), float(hi[0] - lo[0]), float(hi[1] - lo[1]), label)


def polygon_array(points, what: str = "polygon") -> np.ndarray:
    """``points`` as an (n, 2) float array, checked: at least 3 finite vertices."""
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 2 or len(p) < 3:
        raise ValueError(f"a {what} needs at least 3 (x, y) vertices: {points!r}")
    if not np.all(np.isfinite(p)):
        raise ValueError(f"non-finite coordinate in {points!r}")
    return p


def polygon_area(points: Sequence[tuple[float, float]]) -> float:
    """Area of a simple polygon (vertices in order, either orientation): the shoelace formula."""
    p = polygon_array(points)
    x, y = p[:, 0], p[:, 1]
    return abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))) / 2.0


def _cross_sections(edges: np.ndarray, mids: np.ndarray) -> np.ndarray:
    """(slab, k) sorted y of the edges crossing x = mids[slab]; +inf pads the rest."""
    x0, y0, x1, y1 = (edges[:, k][None, :] for k in range(4))
    xm = mids[:, None]
    spans = (np.minimum(x0, x1) < xm) & (xm < np.maximum(x0, x1))
    with np.errstate(invalid="ignore", divide="ignore"):
        y = y0 + (xm - x0) * (y1 - y0) / (x1 - x0)
    ys = np.sort(np.where(spans, y, np.inf), axis=1)
    if ys.shape[1] % 2:  # a vertical line crosses a closed polygon an even number of times
        ys = np.concatenate([ys, np.full((len(ys), 1), np.inf)], axis=1)
    return ys


def _inside_length(ys: np.ndarray) -> np.ndarray:
    lo, hi = ys[:, 0::2], ys[:, 1::2]
    return np.where(np.isfinite(hi), hi - np.where(np.isfinite(lo), lo, 0.0), 0.0).sum(axis=1)


def polygon_overlap(a: Sequence[tuple[float, float]], b: Sequence[tuple[float, float]]) -> tuple[float, float, float]:
    """``(area(a), area(b), area(a ∩ b))`` of two polygons, exactly (up to rounding), by the
    slab decomposition of the module docstring; polygons that cross themselves are filled by the
    even-odd rule (for simple polygons that is the ordinary interior)."""
    pa, pb = polygon_array(a), polygon_array(b)
    ea = np.concatenate([pa, np.roll(pa, -1, axis=0)], axis=1)  # x0, y0, x1, y1 per edge
    eb = np.concatenate([pb, np.roll(pb, -1, axis=0)], axis=1)
    edges = np.concatenate([ea, eb])
    x0, y0 = edges[:, 0], edges[:, 1]
    rx, ry = edges[:, 2] - x0, edges[:, 3] - y0
    # Crossings of every pair of edges (p + t r = q + u s); parallel pairs cross nowhere
    # new (where collinear edges overlap, their ends are vertices already).
    denom = rx[:, None] * ry[None, :] - ry[:, None] * rx[None, :]
    qx, qy = x0[None, :] - x0[:, None], y0[None, :] - y0[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        t = (qx * ry[None, :] - qy * rx[None, :]) / denom
        u = (qx * ry[:, None] - qy * rx[:, None]) / denom
    crosses = (denom != 0) & (t >= 0) & (t <= 1) & (u >= 0) & (u <= 1)
    xs = np.unique(np.concatenate([edges[:, 0], (x0[:, None] + np.where(crosses, t, 0.0) * rx[:, None])[crosses]]))
    if len(xs) < 2:
        return 0.0, 0.0, 0.0
    mids, widths = (xs[:-1] + xs[1:]) / 2.0, np.diff(xs)
    ya, yb = _cross_sections(ea, mids), _cross_sections(eb, mids)
    # Intersection: merge both polygons' crossings; a polygon's sorted crossings alternate
    # entering (+1) and leaving (-1); where the depth is 2 the point is inside both.
    step = np.tile([1, -1], ya.shape[1] // 2 + yb.shape[1] // 2)
    ys = np.concatenate([ya, yb], axis=1)
    delta = np.where(np.isfinite(ys), step[None, :], 0)
    order = np.argsort(ys, axis=1, kind="stable")
    ys, depth = np.take_along_axis(ys, order, axis=1), np.cumsum(np.take_along_axis(delta, order, axis=1), axis=1)
    with np.errstate(invalid="ignore"):  # inf - inf between padding entries
        gaps = np.diff(ys, axis=1)
    both = np.where((depth[:, :-1] == 2) & np.isfinite(gaps), gaps, 0.0).sum(axis=1)
    return float(widths @ _inside_length(ya)), float(widths @ _inside_length(yb)), float(widths @ both)


def polygon_iou(a: Sequence[tuple[float, float]], b: Sequence[tuple[float, float]]) -> float:
    """Intersection over union of two polygons (exact; see :func:`polygon_overlap`). Two
    zero-area polygons have IoU 1 if they have the same vertices, else 0."""
    pa, pb = polygon_array(a), polygon_array(b)
    lo_a, hi_a, lo_b, hi_b = pa.min(axis=0), pa.max(axis=0), pb.min(axis=0), pb.max(axis=0)
    if np.any(hi_a < lo_b) or np.any(hi_b < lo_a):  # bounding boxes apart: no overlap
        return 0.0
    return polygon_array_iou(pa, pb)


def polygon_array_iou(pa: np.ndarray, pb: np.ndarray) -> float:
    """:func:`polygon_iou` of two checked vertex arrays (:func:`polygon_array`), without the
    bounding-box shortcut (for callers that test the boxes themselves)."""
    area_a, area_b, inter = polygon_overlap(pa, pb)
    union = area_a + area_b - inter
    if not union > 0:
        return float(pa.shape == pb.shape and np.array_equal(pa, pb))
    return min(1.0, max(0.0, inter / union))


def ellipse_to_polygon(vertices: Sequence[tuple[float, float]], n: int = 64) -> list[tuple[float, float]]:
    """An ellipse given by the ends of its two axes (``vertices[0]``-``vertices[2]`` and
    ``vertices[1]``-``vertices[3]``, Scale's shape) as the inscribed ``n``-gon through those
    four points: centre + cos(t) a + sin(t) b for half-axes a, b. Its area is
    ``n sin(2 pi / n) / (2 pi)`` of the ellipse's (99.84 % for n = 64), the same factor for
    every ellipse, so IoUs are nearly unaffected."""
    p = np.asarray(vertices, dtype=np.float64).reshape(-1, 2)
    if len(p) != 4 or not np.all(np.isfinite(p)):
        raise ValueError(f"an ellipse needs 4 finite (x, y) axis ends: {vertices!r}")
    if n < 4 or n % 4:
        raise ValueError("n must be a positive multiple of 4 (so the axis ends are vertices)")
    centre = (p[0] + p[1] + p[2] + p[3]) / 4.0
    half_a, half_b = (p[0] - p[2]) / 2.0, (p[1] - p[3]) / 2.0
    t = 2.0 * np.pi * np.arange(n) / n
    ring = centre + np.cos(t)[:, None] * half_a + np.sin(t)[:, None] * half_b
    return [(float(x), float(y)) for x, y in ring]

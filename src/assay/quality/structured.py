"""Truth inference for non-categorical answers: spans, shapes, numbers, free text, comparisons.

Every consolidation function takes the answers that several labelers gave to ONE task, plus
optional per-labeler ``weights`` (a skill in [0, 1], e.g. ``AggregationResult.worker_skill``;
default 1 each), and returns a dataclass with the consolidated ``answer``, a ``confidence``
in [0, 1] and ``contributors`` — the (sorted) indices of the answers that support it.

Rules shared by all of them:

* Weights must be finite and >= 0. If they are all 0 they are replaced by 1 each (a task
  labelled only by zero-skill labelers still gets the plain unweighted consensus).
* No answers at all is a ``ValueError`` (there is nothing to consolidate).
* Labelers whose answers are identical are merged into one labeler with the summed weight,
  and the merged labelers are processed in a canonical order (sorted by answer). So the
  result depends on the multiset of (answer, weight) pairs only: permuting labelers changes
  nothing, not even rounding, and duplicating every labeler doubles every weight exactly
  (a power of two), which leaves every share, mean and threshold comparison bit-identical.
* All "majority" rules are strict: a share must be *more than* half of the total weight.

Methods:

* :func:`vote_spans` — named-entity spans ``(start, end, label)``. The text is cut into
  elementary segments at every boundary any labeler used; each segment is voted on
  (a labeler who did not mark it votes "O"); a label wins a segment with > 1/2 of the weight.
  Adjacent winning segments of the same label are merged into one span when more than half
  of the weight of the labelers who gave that label on either side had ONE span covering
  both (so two adjacent entities stay separate when the labelers separated them).
* :func:`cluster_boxes` / :func:`cluster_points` — geometry. Labelers are visited by
  descending weight; each labeler's shapes are matched one-to-one (Hungarian,
  ``scipy.optimize.linear_sum_assignment``) to the current cluster centres (weighted means),
  IoU >= ``iou_threshold`` (boxes) or distance <= ``radius`` (points); unmatched shapes open
  new clusters. A cluster is kept when its members' weight is > 1/2 of the total weight;
  the output is its weighted-mean shape and weighted-majority label.
* :func:`cluster_polygons` / :func:`cluster_ellipses` — shapes that cannot be averaged
  (polygons with different vertex counts). The same matching, on the weighted mean exact
  IoU (:func:`polygon_iou`, a slab decomposition valid for any polygon, convex or not)
  with the cluster's members; a kept cluster is represented by its weighted medoid, a
  shape as one labeler drew it. Ellipses are compared as inscribed 64-gons.
* :func:`weighted_median` — numbers: the lower weighted median.
* :func:`text_medoid` — free text: the weighted medoid under a similarity (token Jaccard
  by default, or character n-gram cosine).
* :func:`bradley_terry` — pairwise comparisons (and, via :func:`ranking_to_comparisons`,
  full rankings): Bradley-Terry, or Davidson's extension when ties are modelled, fitted by
  Newton's method on the (concave) log-posterior. :func:`pairwise_preference` turns a
  two-item fit into one decision (first / second / tie) with its posterior probability.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Sequence

import numpy as np
from scipy.integrate import quad
from scipy.optimize import linear_sum_assignment
from scipy.special import ndtr

__all__ = [
    "BradleyTerryResult",
    "ClusterResult",
    "ConsensusShape",
    "MedianResult",
    "MedoidResult",
    "PreferenceResult",
    "SpanResult",
    "box_iou",
    "bradley_terry",
    "char_ngram_cosine",
    "cluster_boxes",
    "cluster_ellipses",
    "cluster_points",
    "cluster_polygons",
    "ellipse_to_polygon",
    "pairwise_preference",
    "polygon_area",
    "polygon_iou",
    "polygon_overlap",
    "polygon_to_box",
    "ranking_to_comparisons",
    "text_medoid",
    "token_jaccard",
    "vote_spans",
    "weighted_median",
]


# --------------------------------------------------------------------------- shared helpers


def _weights(weights: Any, n: int) -> np.ndarray:
    if n == 0:
        raise ValueError("no answers to consolidate")
    if weights is None:
        return np.ones(n)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n,):
        raise ValueError(f"expected {n} weights, got shape {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite and >= 0")
    if not np.any(w > 0):
        return np.ones(n)
    return w


@dataclass
class _Groups:
    """Identical answers merged: ``keys[g]`` (canonical order), summed ``weight[g]``,
    and the original answer indices ``members[g]``."""

    keys: list
    weight: np.ndarray
    members: list[list[int]]

    @property
    def total(self) -> float:
        return float(self.weight.sum())

    def original(self, groups) -> list[int]:
        return sorted(i for g in groups for i in self.members[g])


def _group(keys: list, w: np.ndarray) -> _Groups:
    buckets: dict[Hashable, list[int]] = {}
    for i, k in enumerate(keys):
        buckets.setdefault(k, []).append(i)
    order = sorted(buckets)
    # fsum is exactly rounded, so a group's weight does not depend on the member order.
    gw = np.array([math.fsum(w[buckets[k]]) for k in order], dtype=np.float64)
    return _Groups(order, gw, [buckets[k] for k in order])


# --------------------------------------------------------------------------- spans


@dataclass
class SpanResult:
    """Consensus spans. ``span_confidence[k]`` is the length-weighted mean winning share of
    the segments of ``answer[k]``; ``confidence`` is their mean (or the mean "O" share of
    the text when no span won)."""

    answer: list[tuple[int, int, str]]
    span_confidence: list[float]
    confidence: float
    contributors: list[int]
    boundaries: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, dtype=np.int64))
    segment_labels: list[str | None] = field(repr=False, default_factory=list)  # winner per segment, None = O
    segment_share: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))


def _span_key(answer, text_length: int) -> tuple:
    spans = []
    for span in answer:
        start, end, label = span
        if int(start) != start or int(end) != end:
            raise ValueError(f"span offsets must be integers: {span!r}")
        start, end = int(start), int(end)
        if not 0 <= start <= end <= text_length:
            raise ValueError(f"span {span!r} outside [0, {text_length}] or reversed")
        if start < end:  # empty spans carry no vote
            spans.append((start, end, label))
    return tuple(sorted(set(spans)))


def vote_spans(text_length: int, answers: Sequence[Sequence[tuple[int, int, str]]], weights=None) -> SpanResult:
    """Token-level weighted voting over named-entity spans (code-point offsets, end exclusive).

    Rules:

    * Elementary segments: ``[0, text_length)`` cut at every start/end of every answer.
    * One vote per labeler per segment. If a labeler's own spans overlap (nested entities),
      the innermost (shortest) covering span votes; among equally long ones the earlier
      start, then the smaller label. Duplicate spans within one answer count once.
    * A label wins a segment with > 1/2 of the total weight, else the segment is "O".
    * Adjacent segments that won the same label are merged when the labelers whose vote was
      that label on either segment, weighted, had one span across the boundary in a strict
      majority (a tie keeps them apart).
    * ``contributors``: labelers who voted the winning label on at least one segment of an
      output span; with no output span, the labelers whose answer is empty.
    """
    text_length = int(text_length)
    if text_length < 0:
        raise ValueError("text_length must be >= 0")
    w = _weights(weights, len(answers))
    groups = _group([_span_key(a, text_length) for a in answers], w)
    G, gw, total = len(groups.keys), groups.weight, groups.total

    cuts = {0, text_length}
    for key in groups.keys:
        for s, e, _ in key:
            cuts.update((s, e))
    bounds = np.array(sorted(cuts), dtype=np.int64)
    n_seg = len(bounds) - 1
    seg_len = np.diff(bounds).astype(np.float64)
    labels = sorted({lab for key in groups.keys for _, _, lab in key})
    label_id = {lab: k for k, lab in enumerate(labels)}

    # chosen[g, s]: global id of the span labeler-group g votes with on segment s (-1 = O).
    chosen = np.full((G, n_seg), -1, dtype=np.int64)
    span_label: list[int] = []
    for g, key in enumerate(groups.keys):
        # Paint longest first so the innermost span is painted last and wins.
        paint = sorted(key, key=lambda sp: sp[2], reverse=True)
        paint.sort(key=lambda sp: (-(sp[1] - sp[0]), -sp[0]))  # stable: equal ones keep label order
        for s, e, lab in paint:
            lo, hi = np.searchsorted(bounds, [s, e])
            chosen[g, lo:hi] = len(span_label)
            span_label.append(label_id[lab])
    span_label_arr = np.array(span_label + [-1], dtype=np.int64)  # index -1 maps to O
    seg_label = span_label_arr[chosen]  # (G, n_seg), -1 = O

    onehot = seg_label[:, :, None] == np.arange(len(labels))[None, None, :]
    votes = np.einsum("g,gsl->sl", gw, onehot.astype(np.float64))  # (n_seg, n_labels)
    o_votes = gw @ (seg_label == -1).astype(np.float64)
    best = votes.argmax(axis=1) if labels else np.zeros(n_seg, dtype=np.int64)
    best_votes = votes[np.arange(n_seg), best] if labels else np.zeros(n_seg)
    won = 2.0 * best_votes > total
    winner = np.where(won, best, -1)
    share = np.where(won, best_votes, o_votes) / total

    # Merge decision at each inner boundary k | k+1.
    same = (winner[:-1] == winner[1:]) & (winner[:-1] >= 0)
    lab_l = seg_label[:, :-1] == winner[None, :-1]
    lab_r = seg_label[:, 1:] == winner[None, 1:]
    either = gw @ ((lab_l | lab_r) & same[None, :]).astype(np.float64)
    joined = gw @ ((chosen[:, :-1] == chosen[:, 1:]) & lab_l & same[None, :]).astype(np.float64)
    merge = same & (2.0 * joined > either)

    spans: list[tuple[int, int, str]] = []
    span_conf: list[float] = []
    in_span = np.zeros(n_seg, dtype=bool)
    s = 0
    while s < n_seg:
        if winner[s] < 0:
            s += 1
            continue
        e = s
        while e < n_seg - 1 and merge[e]:
            e += 1
        spans.append((int(bounds[s]), int(bounds[e + 1]), labels[winner[s]]))
        span_conf.append(float(np.dot(share[s : e + 1], seg_len[s : e + 1]) / seg_len[s : e + 1].sum()))
        in_span[s : e + 1] = True
        s = e + 1

    if spans:
        confidence = float(np.mean(span_conf))
        agree = ((seg_label == winner[None, :]) & in_span[None, :]).any(axis=1)
        contributors = groups.original(np.flatnonzero(agree))
    else:
        confidence = float(np.dot(share, seg_len) / text_length) if text_length else 1.0
        contributors = groups.original([g for g, key in enumerate(groups.keys) if not key])
    return SpanResult(
        answer=spans,
        span_confidence=span_conf,
        confidence=min(1.0, max(0.0, confidence)),
        contributors=contributors,
        boundaries=bounds,
        segment_labels=[labels[k] if k >= 0 else None for k in winner],
        segment_share=share,
    )


# --------------------------------------------------------------------------- geometry


@dataclass
class ConsensusShape:
    """One consolidated object. ``value``: ``(left, top, width, height, label)`` for boxes,
    ``(x, y, label)`` for points, ``(vertices, label)`` for polygons and ellipses (the
    medoid's ``((x, y), ...)``). ``support``: its members' share of the total weight;
    ``similarity``: weighted mean IoU (boxes, polygons, ellipses) or ``1 - distance /
    radius`` (points) of the members to the consensus shape; ``confidence = support *
    similarity``; ``members``: the answers (labelers) with a shape in the cluster."""

    value: tuple
    confidence: float
    support: float
    similarity: float
    label_share: float
    members: list[int]


@dataclass
class ClusterResult:
    """Consensus shapes sorted by coordinates; ``confidence`` is the mean over them, or,
    when nothing was kept, the weight share of the labelers who drew nothing."""

    shapes: list[ConsensusShape]
    confidence: float
    contributors: list[int]

    @property
    def answer(self) -> list[tuple]:
        return [s.value for s in self.shapes]


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
    with boxes; :func:`cluster_polygons` compares polygons by their exact IoU)."""
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if not len(p):
        raise ValueError("empty polygon")
    lo, hi = p.min(axis=0), p.max(axis=0)
    return (float(lo[0]), float(lo[1]), float(hi[0] - lo[0]), float(hi[1] - lo[1]), label)


def _shape_key(answer, dim: int, what: str) -> tuple:
    shapes = []
    for shape in answer:
        if len(shape) != dim + 1:
            raise ValueError(f"{what} must have {dim} coordinates and a label: {shape!r}")
        coords = tuple(float(c) for c in shape[:dim])
        if not all(math.isfinite(c) for c in coords):
            raise ValueError(f"non-finite coordinate in {shape!r}")
        if dim == 4 and (coords[2] < 0 or coords[3] < 0):
            raise ValueError(f"negative width or height in {shape!r}")
        shapes.append((*coords, shape[dim]))
    return tuple(sorted(shapes))  # a labeler may draw the same shape twice: keep both


def _cluster(
    groups: _Groups,
    dim: int,
    similarity: Callable[[np.ndarray, np.ndarray], np.ndarray],
    threshold: float,
    same_label: bool,
) -> ClusterResult:
    G, gw, total = len(groups.keys), groups.weight, groups.total
    coords = [np.array([s[:dim] for s in key], dtype=np.float64).reshape(-1, dim) for key in groups.keys]
    labs = [[s[dim] for s in key] for key in groups.keys]

    # Centres are kept as seed + weighted mean offset from the seed: identical members then
    # give the seed back bit-exactly (sum(w x) / sum(w) can be off by an ulp).
    seed: list[np.ndarray] = []
    wsum: list[np.ndarray] = []  # weighted offset sum per cluster
    psum: list[np.ndarray] = []  # plain offset sum (used while the cluster's weight is still 0)
    cw: list[float] = []
    members: list[list[tuple[int, int]]] = []  # (group, shape index)
    seed_label: list[Any] = []

    def centres() -> np.ndarray:
        return np.array([s0 + (ws / c if c > 0 else ps / len(m)) for s0, ws, ps, c, m in zip(seed, wsum, psum, cw, members)]).reshape(
            -1, dim
        )

    # Most skilled labelers first, so they seed the clusters; ties in canonical answer order.
    for g in sorted(range(G), key=lambda g: (-gw[g], g)):
        X = coords[g]
        assigned = np.full(len(X), -1, dtype=np.int64)
        if len(X) and cw:
            S = similarity(X, centres())
            valid = S >= threshold
            if same_label:
                valid &= np.array([[a == b for b in seed_label] for a in labs[g]], dtype=bool)
            if valid.any():
                # Invalid pairs cost more than all valid ones together, so the assignment
                # maximises the number of matches first, then the summed similarity.
                cost = np.where(valid, -S, min(valid.shape) + 1.0)
                rows, cols = linear_sum_assignment(cost)
                ok = valid[rows, cols]
                assigned[rows[ok]] = cols[ok]
        for k in range(len(X)):
            c = int(assigned[k])
            if c < 0:
                seed.append(X[k].copy())
                wsum.append(np.zeros(dim))
                psum.append(np.zeros(dim))
                cw.append(0.0)
                members.append([])
                seed_label.append(labs[g][k])
                c = len(cw) - 1
            wsum[c] = wsum[c] + gw[g] * (X[k] - seed[c])
            psum[c] = psum[c] + (X[k] - seed[c])
            cw[c] += float(gw[g])
            members[c].append((g, k))

    shapes: list[ConsensusShape] = []
    used: set[int] = set()
    cent = centres()
    for c in range(len(cw)):
        if not 2.0 * cw[c] > total:
            continue
        mw = np.array([gw[g] for g, _ in members[c]])
        mx = np.array([coords[g][k] for g, k in members[c]])
        sims = similarity(mx, cent[c : c + 1])[:, 0]
        sim = float(np.dot(mw, sims) / cw[c])
        votes: dict[Any, float] = {}
        for (g, k), wt in zip(members[c], mw):
            votes[labs[g][k]] = votes.get(labs[g][k], 0.0) + float(wt)
        top = max(votes.values())
        label = min(lab for lab, v in votes.items() if v == top)  # tie: smallest label
        support = cw[c] / total
        shapes.append(
            ConsensusShape(
                value=(*(float(v) for v in cent[c]), label),
                confidence=min(1.0, max(0.0, support * sim)),
                support=support,
                similarity=sim,
                label_share=top / cw[c],
                members=groups.original({g for g, _ in members[c]}),
            )
        )
        used.update(g for g, _ in members[c])
    shapes.sort(key=lambda s: s.value)
    if shapes:
        return ClusterResult(shapes, float(np.mean([s.confidence for s in shapes])), groups.original(used))
    empty = [g for g in range(G) if not groups.keys[g]]
    return ClusterResult([], float(gw[empty].sum() / total) if empty else 0.0, groups.original(empty))


def cluster_boxes(answers: Sequence[Sequence[tuple]], weights=None, iou_threshold: float = 0.5, same_label: bool = False) -> ClusterResult:
    """Consensus bounding boxes ``(left, top, width, height, label)``.

    A box matches a cluster when its IoU with the cluster's current weighted-mean box is
    >= ``iou_threshold`` (and > 0); each labeler contributes at most one box per cluster.
    Boxes are matched regardless of label unless ``same_label`` (labelers disagree on the
    class more often than on the object); the output label is the weighted majority, ties
    going to the smallest label.
    """
    w = _weights(weights, len(answers))
    groups = _group([_shape_key(a, 4, "box") for a in answers], w)
    thr = max(float(iou_threshold), np.nextafter(0.0, 1.0))
    return _cluster(groups, 4, box_iou, thr, same_label)


def cluster_points(answers: Sequence[Sequence[tuple]], weights=None, radius: float = 10.0, same_label: bool = True) -> ClusterResult:
    """Consensus keypoints ``(x, y, label)``; ``radius`` in the coordinates' units (pixels).

    A point matches a cluster within ``radius`` of its weighted-mean centre; by default only
    points with the same label match (keypoint labels are part names: a left and a right
    eye are different objects however close). Similarity ``1 - distance / radius``.
    """
    if not radius > 0:
        raise ValueError("radius must be > 0")
    w = _weights(weights, len(answers))
    groups = _group([_shape_key(a, 2, "point") for a in answers], w)

    def similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        d = np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1])
        return 1.0 - d / radius

    return _cluster(groups, 2, similarity, 0.0, same_label)


# --------------------------------------------------------------------------- polygons & ellipses
#
# Polygon IoU is exact for any polygon (simple or not, convex or not; a self-intersecting
# one is filled by the even-odd rule), by a vertical slab decomposition: cut the plane at
# the x of every vertex and of every crossing of two edges. Inside one slab no edge starts,
# ends or crosses another, so each polygon's cross-section at x is a fixed set of intervals
# whose ends move linearly with x; the cross-section lengths of P, Q and P ∩ Q are then
# linear in x, and the midpoint rule integrates them exactly. (Sutherland–Hodgman clipping
# is only valid for a convex clip polygon, and rasterising would only be approximate.)


def _polygon_array(points, what: str = "polygon") -> np.ndarray:
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 2 or len(p) < 3:
        raise ValueError(f"a {what} needs at least 3 (x, y) vertices: {points!r}")
    if not np.all(np.isfinite(p)):
        raise ValueError(f"non-finite coordinate in {points!r}")
    return p


def polygon_area(points: Sequence[tuple[float, float]]) -> float:
    """Area of a simple polygon (vertices in order, either orientation): the shoelace formula."""
    p = _polygon_array(points)
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
    slab decomposition described above; polygons that cross themselves are filled by the
    even-odd rule (for simple polygons that is the ordinary interior)."""
    pa, pb = _polygon_array(a), _polygon_array(b)
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
    pa, pb = _polygon_array(a), _polygon_array(b)
    lo_a, hi_a, lo_b, hi_b = pa.min(axis=0), pa.max(axis=0), pb.min(axis=0), pb.max(axis=0)
    if np.any(hi_a < lo_b) or np.any(hi_b < lo_a):  # bounding boxes apart: no overlap
        return 0.0
    return _iou_of_arrays(pa, pb)


def _iou_of_arrays(pa: np.ndarray, pb: np.ndarray) -> float:
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


def _outline_key(answer, what: str, n_vertices: int | None) -> tuple:
    shapes = []
    for shape in answer:
        if len(shape) != 2:
            raise ValueError(f"{what} must be (vertices, label): {shape!r}")
        vertices, label = shape
        p = np.asarray(vertices, dtype=np.float64)
        if n_vertices is not None and p.shape != (n_vertices, 2):
            raise ValueError(f"{what} must have {n_vertices} (x, y) vertices: {shape!r}")
        p = _polygon_array(p, what)
        shapes.append((tuple((float(x), float(y)) for x, y in p), label))
    return tuple(sorted(shapes))


def _cluster_medoids(groups: _Groups, outline: Callable[[tuple], Any], threshold: float, same_label: bool) -> ClusterResult:
    """Clustering for shapes that cannot be averaged. Like :func:`_cluster` (labelers by
    descending weight, one-to-one Hungarian matching, strict-majority clusters) but a
    shape's similarity to a cluster is its weighted mean IoU (of the polygons
    ``outline(geometry)``) with the cluster's members, and the consensus is a member: the
    weighted medoid."""
    G, gw, total = len(groups.keys), groups.weight, groups.total
    polygons = {geometry: _polygon_array(outline(geometry)) for key in groups.keys for geometry, _ in key}
    bounds = {geometry: (*p.min(axis=0).tolist(), *p.max(axis=0).tolist()) for geometry, p in polygons.items()}
    cache: dict[tuple, float] = {}

    def sim(a: tuple, b: tuple) -> float:
        if a == b:
            return 1.0
        (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = bounds[a], bounds[b]
        if ax1 < bx0 or bx1 < ax0 or ay1 < by0 or by1 < ay0:  # bounding boxes apart (most pairs)
            return 0.0
        pair = (a, b) if a < b else (b, a)  # one evaluation per pair: bit-identical either way
        if pair not in cache:
            cache[pair] = _iou_of_arrays(polygons[pair[0]], polygons[pair[1]])
        return cache[pair]

    def shape(member: tuple[int, int]) -> tuple:
        return groups.keys[member[0]][member[1]]

    cw: list[float] = []
    members: list[list[tuple[int, int]]] = []  # (group, shape index)
    seed_label: list[Any] = []

    def affinity(geometry: tuple, c: int) -> float:
        mw = [float(gw[g]) for g, _ in members[c]]
        s = [sim(geometry, shape(m)[0]) for m in members[c]]
        if cw[c] > 0:
            return math.fsum(w * v for w, v in zip(mw, s)) / cw[c]
        return math.fsum(s) / len(s)  # only zero-weight members so far: plain mean

    for g in sorted(range(G), key=lambda g: (-gw[g], g)):
        key = groups.keys[g]
        assigned = np.full(len(key), -1, dtype=np.int64)
        if key and cw:
            S = np.array([[affinity(geometry, c) for c in range(len(cw))] for geometry, _ in key])
            valid = S >= threshold
            if same_label:
                valid &= np.array([[label == s for s in seed_label] for _, label in key], dtype=bool)
            if valid.any():
                cost = np.where(valid, -S, min(valid.shape) + 1.0)
                rows, cols = linear_sum_assignment(cost)
                ok = valid[rows, cols]
                assigned[rows[ok]] = cols[ok]
        for k in range(len(key)):
            c = int(assigned[k])
            if c < 0:
                cw.append(0.0)
                members.append([])
                seed_label.append(key[k][1])
                c = len(cw) - 1
            cw[c] += float(gw[g])
            members[c].append((g, k))

    shapes: list[ConsensusShape] = []
    used: set[int] = set()
    for c in range(len(cw)):
        if not 2.0 * cw[c] > total:
            continue
        mw = [float(gw[g]) for g, _ in members[c]]
        geos = [shape(m)[0] for m in members[c]]
        # Weighted medoid: most weight-IoU with all members, itself included (IoU 1), i.e.
        # least weighted distance 1 - IoU. Counting its own weight lets a shape that several
        # labelers drew identically (one merged group) beat a single labeler's shape.
        score = [math.fsum(w * sim(a, b) for w, b in zip(mw, geos)) for a in geos]
        best = min(range(len(geos)), key=lambda m: (-score[m], -mw[m], geos[m]))
        votes: dict[Any, float] = {}
        for (g, k), wt in zip(members[c], mw):
            label = groups.keys[g][k][1]
            votes[label] = votes.get(label, 0.0) + wt
        top = max(votes.values())
        label = min(lab for lab, v in votes.items() if v == top)
        similarity = min(1.0, score[best] / cw[c])
        support = cw[c] / total
        shapes.append(
            ConsensusShape(
                value=(geos[best], label),
                confidence=min(1.0, max(0.0, support * similarity)),
                support=support,
                similarity=similarity,
                label_share=top / cw[c],
                members=groups.original({g for g, _ in members[c]}),
            )
        )
        used.update(g for g, _ in members[c])
    shapes.sort(key=lambda s: s.value)
    if shapes:
        return ClusterResult(shapes, float(np.mean([s.confidence for s in shapes])), groups.original(used))
    empty = [g for g in range(G) if not groups.keys[g]]
    return ClusterResult([], float(gw[empty].sum() / total) if empty else 0.0, groups.original(empty))


def cluster_polygons(answers: Sequence[Sequence[tuple]], weights=None, iou_threshold: float = 0.5, same_label: bool = False) -> ClusterResult:
    """Consensus polygons; each answer is a list of ``(vertices, label)`` with ``vertices`` a
    sequence of ``(x, y)``.

    Matching as for :func:`cluster_boxes`, except that a polygon matches a cluster when its
    weighted mean IoU (:func:`polygon_iou`, exact) with the cluster's members is
    >= ``iou_threshold`` (and > 0). Vertex averaging is meaningless for polygons with
    different vertex counts, so a kept cluster (> 1/2 of the total weight) is represented by
    its weighted medoid: the member polygon with the highest weighted IoU with all the
    members, its own weight counting as IoU 1 (ties: the larger own weight, then the smaller
    vertex tuple). ``value``: ``(vertices, label)`` with the medoid's vertices as drawn and
    the weighted-majority label; ``similarity``: the members' weighted mean IoU with the medoid.
    """
    w = _weights(weights, len(answers))
    groups = _group([_outline_key(a, "polygon", None) for a in answers], w)
    thr = max(float(iou_threshold), np.nextafter(0.0, 1.0))
    return _cluster_medoids(groups, lambda vertices: vertices, thr, same_label)


def cluster_ellipses(
    answers: Sequence[Sequence[tuple]], weights=None, iou_threshold: float = 0.5, same_label: bool = False, n_vertices: int = 64
) -> ClusterResult:
    """Consensus ellipses, each ``(axis_ends, label)`` with the 4 axis ends of
    :func:`ellipse_to_polygon`. As :func:`cluster_polygons`, the IoU being that of the
    inscribed ``n_vertices``-gons; the consensus is the medoid ellipse (its 4 axis ends)."""
    w = _weights(weights, len(answers))
    groups = _group([_outline_key(a, "ellipse", 4) for a in answers], w)
    thr = max(float(iou_threshold), np.nextafter(0.0, 1.0))
    return _cluster_medoids(groups, lambda axis_ends: ellipse_to_polygon(axis_ends, n_vertices), thr, same_label)


# --------------------------------------------------------------------------- numbers


@dataclass
class MedianResult:
    """``answer``: the lower weighted median; ``confidence``: weight share of the values
    within ``tolerance`` of it; ``mad``: the weighted median absolute deviation."""

    answer: float
    confidence: float
    contributors: list[int]
    tolerance: float
    mad: float


def _lower_median(values: np.ndarray, w: np.ndarray) -> float:
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(w[order])
    # Lower weighted median: the smallest value with at least half the weight at or below.
    k = int(np.searchsorted(2.0 * cum, cum[-1], side="left"))
    return float(values[order][min(k, len(order) - 1)])


def weighted_median(values: Sequence[float], weights=None, abs_tol: float = 0.0, rel_tol: float = 0.01) -> MedianResult:
    """Weighted median of numeric answers (robust to a minority of wild values).

    The lower weighted median: the smallest value ``m`` with ``weight(v <= m) >= W / 2``;
    on an exact tie (half the weight on each side of a gap) it is the lower of the two
    middle values. Zero-weight values are never chosen (unless every weight is 0, when all
    count equally). ``confidence`` = weight share of values ``v`` with
    ``|v - m| <= max(abs_tol, rel_tol * |m|)``; those values are the ``contributors``.
    """
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    w = _weights(weights, len(v))
    if not np.all(np.isfinite(v)):
        raise ValueError("values must be finite")
    groups = _group([float(x) for x in v], w)
    uv = np.array(groups.keys, dtype=np.float64)
    m = _lower_median(uv, groups.weight)
    tol = max(float(abs_tol), float(rel_tol) * abs(m))
    near = np.abs(uv - m) <= tol
    mad = _lower_median(np.abs(uv - m), groups.weight)
    return MedianResult(
        answer=m,
        confidence=float(groups.weight[near].sum() / groups.total),
        contributors=groups.original(np.flatnonzero(near)),
        tolerance=tol,
        mad=mad,
    )


# --------------------------------------------------------------------------- free text


@dataclass
class MedoidResult:
    """``answer``: the chosen text; ``confidence``: its weighted mean similarity to the
    other labelers' answers; ``similarity[i]``: similarity of answer ``i`` to it;
    ``contributors``: the labelers who gave exactly that text."""

    answer: str
    confidence: float
    contributors: list[int]
    similarity: np.ndarray


_TOKEN = re.compile(r"\w+", re.UNICODE)


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.casefold())


def token_jaccard(a: str, b: str) -> float:
    """Jaccard similarity of the sets of case-folded word tokens (two texts without any
    token are identical: 1)."""
    ta, tb = set(_tokens(a)), set(_tokens(b))
    if not ta and not tb:
        return 1.0
    return len(ta & tb) / len(ta | tb)


def char_ngram_cosine(a: str, b: str, n: int = 3) -> float:
    """Cosine similarity of character n-gram counts of the case-folded, whitespace-collapsed
    texts (padded with a space, so short words still yield n-grams)."""

    def grams(t: str) -> Counter:
        t = " " + " ".join(t.casefold().split()) + " "
        return Counter(t[i : i + n] for i in range(max(1, len(t) - n + 1)))

    ga, gb = grams(a), grams(b)
    dot = sum(c * gb[g] for g, c in ga.items())
    na = math.sqrt(sum(c * c for c in ga.values()))
    nb = math.sqrt(sum(c * c for c in gb.values()))
    return min(1.0, dot / (na * nb)) if na and nb else float(na == nb)


_SIMILARITIES: dict[str, Callable[[str, str], float]] = {"jaccard": token_jaccard, "ngram": char_ngram_cosine}


def text_medoid(texts: Sequence[str], weights=None, similarity: str | Callable[[str, str], float] = "jaccard") -> MedoidResult:
    """The answer most similar to all the others (weighted medoid).

    Chosen: argmax over answers ``i`` of ``sum_j w_j sim(i, j) / W`` with ``sim(i, i) = 1``
    — i.e. the minimiser of the weighted distance ``sum_j w_j (1 - sim(i, j))``. For equal
    weights this is exactly "highest mean similarity to the others"; counting the answer's
    own weight makes a skilled labeler's answer win close calls and makes the choice
    invariant to duplicating labelers. Ties: the larger own weight, then the smaller text.
    ``confidence``: the chosen answer's weighted mean similarity to the *other* labelers'
    answers (excluding one labeler who gave it, the heaviest); 1 when there is no other.
    ``similarity``: ``"jaccard"`` (:func:`token_jaccard`), ``"ngram"``
    (:func:`char_ngram_cosine`) or a symmetric callable into [0, 1].
    """
    sim_fn = _SIMILARITIES[similarity] if isinstance(similarity, str) else similarity
    w = _weights(weights, len(texts))
    groups = _group([str(t) for t in texts], w)
    G, gw, total = len(groups.keys), groups.weight, groups.total
    S = np.eye(G)
    for a in range(G):
        for b in range(a + 1, G):
            S[a, b] = S[b, a] = min(1.0, max(0.0, float(sim_fn(groups.keys[a], groups.keys[b]))))
    score = S @ gw / total
    best = min(range(G), key=lambda g: (-score[g], -gw[g], groups.keys[g]))
    own = float(max(w[groups.members[best]]))
    others = total - own
    confidence = float((S[best] @ gw - own) / others) if others > 1e-12 * total else 1.0
    sim = np.empty(len(texts))
    for g, mem in enumerate(groups.members):
        sim[mem] = S[best, g]
    return MedoidResult(
        answer=groups.keys[best],
        confidence=min(1.0, max(0.0, confidence)),
        contributors=sorted(groups.members[best]),
        similarity=sim,
    )


# --------------------------------------------------------------------------- comparisons


@dataclass
class BradleyTerryResult:
    """``scores``: log-strengths (mean 0); ``se``: standard errors from the observed
    information of the log-posterior, projected onto the sum-to-zero constraint; ``ci_low``
    / ``ci_high``: ``scores -/+ 1.96 se``; ``ranking``: items best first (equal scores to
    the lower index); ``pair_confidence[k]``: approximate P(``ranking[k]`` really beats
    ``ranking[k+1]``), ``confidence`` their mean (1 for fewer than two items);
    ``tie_strength``: Davidson's nu (0 when ties are not modelled); ``contributors``: the
    comparisons with positive weight."""

    scores: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    ranking: list[int]
    pair_confidence: np.ndarray
    confidence: float
    contributors: list[int]
    tie_strength: float
    covariance: np.ndarray = field(repr=False)
    # Inverse observed information of the fitted parameters as fitted: log-strengths (not
    # centred) then, with ties, log nu. Differences of scores and nu's uncertainty use it.
    raw_covariance: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((0, 0)))
    log_posterior: float = 0.0
    n_iter: int = 0
    converged: bool = True

    @property
    def answer(self) -> list[int]:
        return self.ranking

    def score_table(self, items: Sequence | None = None, digits: int = 4) -> list[dict[str, Any]]:
        """JSON-ready scores, best first: ``{"item", "score", "low", "high"}`` per item, where
        ``item`` is ``items[k]`` (default: the index ``k``) and ``low`` / ``high`` the 95 %
        interval ends, rounded to ``digits`` (rounding keeps ``low <= score <= high``)."""
        names = list(range(len(self.scores))) if items is None else list(items)
        if len(names) != len(self.scores):
            raise ValueError(f"expected {len(self.scores)} item names, got {len(names)}")

        def r(x: float) -> float:
            return round(float(x), digits) + 0.0  # + 0.0: no "-0.0" in JSON

        return [{"item": names[k], "score": r(self.scores[k]), "low": r(self.ci_low[k]), "high": r(self.ci_high[k])} for k in self.ranking]


def ranking_to_comparisons(rankings: Sequence[Sequence[int]], weights=None) -> tuple[list[tuple[int, int, float]], np.ndarray]:
    """Full rankings (item indices, best first) -> pairwise comparisons ``(better, worse, 1.0)``
    and the per-comparison weights (each comparison inherits its ranking's weight), ready for
    ``bradley_terry(n_items, *ranking_to_comparisons(rankings, weights))``. Note: the
    ``k (k - 1) / 2`` comparisons from one ranking are not independent, so standard errors
    computed from them are optimistic."""
    w = np.ones(len(rankings)) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (len(rankings),):
        raise ValueError(f"expected {len(rankings)} weights, got shape {w.shape}")
    comps: list[tuple[int, int, float]] = []
    cw: list[float] = []
    for r, wt in zip(rankings, w):
        r = [int(x) for x in r]
        if len(set(r)) != len(r):
            raise ValueError(f"ranking lists an item twice: {r}")
        for a in range(len(r)):
            for b in range(a + 1, len(r)):
                comps.append((r[a], r[b], 1.0))
                cw.append(float(wt))
    return comps, np.array(cw, dtype=np.float64)


# Local Jacobian d(logits)/d(theta_a, theta_b, eta): win a, win b, tie (Davidson).
_J_DAVIDSON = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.5, 0.5, 1.0]])
_J_BT = np.eye(2)


def bradley_terry(
    n_items: int,
    comparisons: Sequence[tuple[int, int, float]],
    weights=None,
    ties: bool = True,
    prior: float = 1.0,
    max_iter: int = 200,
    tol: float = 1e-10,
) -> BradleyTerryResult:
    """Strengths from pairwise comparisons ``(i, j, outcome)``: outcome 1 = i wins, 0 = j
    wins, 0.5 = tie. ``weights``: one per comparison (e.g. the skill of its labeler).

    Model: ``ties=True`` — Davidson (1970): ``P(i wins) ∝ p_i``, ``P(j wins) ∝ p_j``,
    ``P(tie) ∝ nu sqrt(p_i p_j)``, with nu estimated. ``ties=False`` — plain Bradley-Terry,
    a tie counting as half a win for each side. Prior: every item plays ``prior`` virtual
    comparisons against a virtual average item (log-strength 0) whose outcome is split
    evenly over the possible results (win / loss / tie, or win / loss), so undefeated or
    unplayed items stay finite and nu stays finite. The log-posterior is concave in
    (log-strengths, log nu); it is maximised by Newton's method with step halving.
    """
    n_items = int(n_items)
    if n_items < 0:
        raise ValueError("n_items must be >= 0")
    ties = bool(ties) and n_items > 0  # no items: no tie parameter to estimate
    if not prior > 0:
        raise ValueError("prior must be > 0")
    m = len(comparisons)
    cw = np.ones(m) if weights is None else np.asarray(weights, dtype=np.float64)
    if cw.shape != (m,) or not np.all(np.isfinite(cw)) or np.any(cw < 0):
        raise ValueError(f"expected {m} finite weights >= 0")
    arr = np.asarray(comparisons, dtype=np.float64).reshape(m, 3)
    i, j, out = arr[:, 0], arr[:, 1], arr[:, 2]
    if m and (np.any(i != np.round(i)) or np.any(j != np.round(j)) or min(i.min(), j.min()) < 0 or max(i.max(), j.max()) >= n_items):
        raise ValueError(f"item indices must be integers in [0, {n_items})")
    if np.any(i == j):
        raise ValueError("an item cannot be compared with itself")
    if not np.all(np.isin(out, (0.0, 0.5, 1.0))):
        raise ValueError("outcomes must be 1 (i wins), 0 (j wins) or 0.5 (tie)")
    # Canonical form a < b, sorted, so the summation order (and rounding) does not depend
    # on the order the comparisons came in.
    swap = i > j
    a = np.where(swap, j, i).astype(np.int64)
    b = np.where(swap, i, j).astype(np.int64)
    oa = np.where(swap, 1.0 - out, out)
    order = np.lexsort((cw, oa, b, a))
    a, b, oa, wt = a[order], b[order], oa[order], cw[order]
    pair, inv = np.unique(a * max(n_items, 1) + b, return_inverse=True)
    pa, pb = pair // max(n_items, 1), pair % max(n_items, 1)
    win_a = np.bincount(inv, weights=wt * (oa == 1.0), minlength=len(pair))
    win_b = np.bincount(inv, weights=wt * (oa == 0.0), minlength=len(pair))
    tie = np.bincount(inv, weights=wt * (oa == 0.5), minlength=len(pair))
    if not ties:
        win_a, win_b = win_a + tie / 2.0, win_b + tie / 2.0
    # Virtual item n_items (log-strength fixed at 0) for the prior.
    items = np.arange(n_items)
    virt = np.full(n_items, n_items)
    share = prior / (3.0 if ties else 2.0)
    A = np.concatenate([pa, items])
    B = np.concatenate([pb, virt])
    if ties:
        counts = np.column_stack(
            [
                np.concatenate([win_a, np.full(n_items, share)]),
                np.concatenate([win_b, np.full(n_items, share)]),
                np.concatenate([tie, np.full(n_items, share)]),
            ]
        )
        J = _J_DAVIDSON
    else:
        counts = np.column_stack([np.concatenate([win_a, np.full(n_items, share)]), np.concatenate([win_b, np.full(n_items, share)])])
        J = _J_BT
    N = counts.sum(axis=1)
    n_par = n_items + (1 if ties else 0)  # theta_0..n-1 (+ eta = log nu)
    # Parameter index per local column; the virtual item maps to a dropped slot (-1 -> n_par).
    cols = [A, np.where(B == n_items, n_par, B)] + ([np.full(len(A), n_items)] if ties else [])
    cols_arr = np.column_stack(cols)

    def evaluate(x: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        full = np.append(x, 0.0)  # slot n_par: the virtual item, fixed at 0
        theta_a, theta_b = full[cols_arr[:, 0]], full[cols_arr[:, 1]]
        if ties:
            eta = x[n_items]
            logits = np.column_stack([theta_a, theta_b, eta + 0.5 * (theta_a + theta_b)])
        else:
            logits = np.column_stack([theta_a, theta_b])
        mx = logits.max(axis=1, keepdims=True)
        ex = np.exp(logits - mx)
        z = ex.sum(axis=1, keepdims=True)
        p = ex / z
        lse = (mx + np.log(z))[:, 0]
        loglik = float(np.sum(counts * logits) - np.dot(N, lse))
        g_local = (counts - N[:, None] * p) @ J  # (P, k)
        grad = np.zeros(n_par + 1)
        np.add.at(grad, cols_arr, g_local)
        M = N[:, None, None] * (np.einsum("pk,kl->pkl", p, np.eye(p.shape[1])) - p[:, :, None] * p[:, None, :])
        H_local = np.einsum("ki,pkl,lj->pij", J, M, J)
        H = np.zeros((n_par + 1, n_par + 1))
        np.add.at(H, (cols_arr[:, :, None], cols_arr[:, None, :]), H_local)
        return loglik, grad[:n_par], H[:n_par, :n_par]

    x = np.zeros(n_par)
    loglik, grad, H = evaluate(x)
    converged, it = n_par == 0, 0
    scale = 1.0 + float(N.sum())
    for it in range(1, max_iter + 1):
        if n_par == 0 or np.max(np.abs(grad)) <= tol * scale:
            converged = True
            break
        step = np.linalg.solve(H, grad)
        t = 1.0
        while True:
            new = evaluate(x + t * step)
            if new[0] >= loglik - 1e-12 * abs(loglik) or t < 1e-10:
                break
            t *= 0.5
        x = x + t * step
        loglik, grad, H = new
    else:
        converged = bool(n_par == 0 or np.max(np.abs(grad)) <= tol * scale * 1e3)

    theta = x[:n_items]
    scores = theta - theta.mean() if n_items else theta
    cov_full = np.linalg.pinv(H) if n_par else np.zeros((0, 0))
    P = np.eye(n_items) - 1.0 / max(n_items, 1)
    cov = P @ cov_full[:n_items, :n_items] @ P
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    # Round before sorting so items equal up to solver noise fall back to index order.
    ranking = [int(k) for k in np.lexsort((np.arange(n_items), -np.round(scores, 9)))]
    if n_items >= 2:
        r0, r1 = np.array(ranking[:-1]), np.array(ranking[1:])
        var = cov[r0, r0] + cov[r1, r1] - 2.0 * cov[r0, r1]
        pair_conf = ndtr((scores[r0] - scores[r1]) / np.sqrt(np.clip(var, 1e-300, None)))
        confidence = float(pair_conf.mean())
    else:
        pair_conf, confidence = np.zeros(0), 1.0
    return BradleyTerryResult(
        scores=scores,
        se=se,
        ci_low=scores - 1.96 * se,
        ci_high=scores + 1.96 * se,
        ranking=ranking,
        pair_confidence=pair_conf,
        confidence=confidence,
        contributors=[int(k) for k in np.flatnonzero(cw > 0)],
        tie_strength=float(np.exp(x[n_items])) if ties else 0.0,
        covariance=cov,
        raw_covariance=cov_full,
        log_posterior=loglik,
        n_iter=it,
        converged=converged,
    )


@dataclass
class PreferenceResult:
    """One pairwise judgement consolidated. ``answer``: 1.0 (the first item is preferred),
    0.0 (the second) or 0.5 (a tie); ``probabilities``: posterior probability of each
    decision, ``{1.0: .., 0.0: .., 0.5: ..}`` (no 0.5 without ties; they sum to 1);
    ``confidence``: that of ``answer``; ``contributors``: the judgements that gave
    ``answer``; ``model``: the fitted two-item Bradley-Terry / Davidson model."""

    answer: float
    confidence: float
    probabilities: dict[float, float]
    contributors: list[int]
    model: BradleyTerryResult


def _both_positive(mean: np.ndarray, cov: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """P(a.z > 0 and b.z > 0) for z ~ N(mean, cov): a one-dimensional integral over a.z
    (scipy's quad; deterministic, unlike scipy's multivariate normal CDF)."""
    sa, sb = math.sqrt(float(a @ cov @ a)), math.sqrt(float(b @ cov @ b))
    h, k = float(a @ mean) / sa, float(b @ mean) / sb
    rho = min(1.0, max(-1.0, float(a @ cov @ b) / (sa * sb)))
    rest = math.sqrt(max(1.0 - rho * rho, 1e-24))
    # z_a = standardised a.z >= -h; then b.z > 0 has probability ndtr((k + rho z_a) / rest).
    value, _ = quad(lambda t: math.exp(-0.5 * t * t) / math.sqrt(2.0 * math.pi) * float(ndtr((k + rho * t) / rest)), -h, np.inf,
                    epsabs=1e-12, epsrel=1e-10, limit=200)
    return min(1.0, max(0.0, value))


def pairwise_preference(outcomes: Sequence[float], weights=None, ties: bool = True, prior: float = 1.0) -> PreferenceResult:
    """Several judgements of the same pair (first vs second item) consolidated by a
    two-item :func:`bradley_terry` fit (Davidson's model when ``ties``), each judgement
    weighted by its labeler's skill. ``outcomes``: 1 = the first is better, 0 = the second,
    0.5 = a tie (counted half each way when not ``ties``).

    The decision is the outcome a judge most probably gives under the model: with
    d = theta_1 - theta_2 and eta = log nu, the first wins when d > 0 and d / 2 > eta, the
    second when d < 0 and -d / 2 > eta, a tie when eta > |d| / 2. Each decision's
    probability is the posterior mass of its region under the Laplace (Gaussian)
    approximation of (d, eta); the most probable decision is the answer (on an exact tie:
    the first item, then the second, then a tie). Without ties it is P(d > 0) against
    P(d < 0). All-zero weights count as 1 each.
    """
    o = np.asarray(outcomes, dtype=np.float64).reshape(-1)
    w = _weights(weights, len(o))
    model = bradley_terry(2, [(0, 1, float(x)) for x in o], w, ties=ties, prior=prior)
    raw = model.raw_covariance  # covariance of (theta_0, theta_1[, eta])
    fitted_d = float(model.scores[0] - model.scores[1])
    if ties:
        eta = math.log(model.tie_strength)
        mean = np.array([fitted_d, eta])
        to_d_eta = np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 1.0]])
        cov = to_d_eta @ raw @ to_d_eta.T
        first = _both_positive(mean, cov, np.array([1.0, 0.0]), np.array([1.0, -2.0]))
        second = _both_positive(mean, cov, np.array([-1.0, 0.0]), np.array([-1.0, -2.0]))
        tie = _both_positive(mean, cov, np.array([-1.0, 2.0]), np.array([1.0, 2.0]))
        total = first + second + tie  # 1 up to quadrature error; renormalise exactly
        probabilities = {1.0: first / total, 0.0: second / total, 0.5: tie / total}
    else:
        var = float(raw[0, 0] + raw[1, 1] - 2.0 * raw[0, 1])
        first = float(ndtr(fitted_d / math.sqrt(var))) if var > 0 else float(fitted_d > 0) + 0.5 * float(fitted_d == 0)
        probabilities = {1.0: first, 0.0: 1.0 - first}
    answer = max(probabilities, key=lambda k: (probabilities[k], {1.0: 2, 0.0: 1, 0.5: 0}[k]))
    return PreferenceResult(
        answer=answer,
        confidence=probabilities[answer],
        probabilities=probabilities,
        contributors=[int(i) for i in np.flatnonzero(o == answer)],
        model=model,
    )

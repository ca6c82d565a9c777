"""Consensus of drawn shapes: boxes, points, polygons, ellipses.

* :func:`cluster_boxes` / :func:`cluster_points` — shapes that can be averaged. Labelers
  are visited by descending weight; each labeler's shapes are matched one-to-one
  (Hungarian, ``scipy.optimize.linear_sum_assignment``) to the current cluster centres
  (weighted means), IoU >= ``iou_threshold`` (boxes) or distance <= ``radius`` (points);
  unmatched shapes open new clusters. A cluster is kept when its members' weight is > 1/2
  of the total weight; the output is its weighted-mean shape and weighted-majority label.
* :func:`cluster_polygons` / :func:`cluster_ellipses` — shapes that cannot be averaged
  (polygons with different vertex counts). The same matching, on the weighted mean exact
  IoU (:func:`assay.quality.geometry.polygon_iou`) with the cluster's members; a kept
  cluster is represented by its weighted medoid, a shape as one labeler drew it. Ellipses
  are compared as inscribed 64-gons.

Weights and merged identical answers follow :mod:`assay.quality.answer_groups`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

from assay.quality.answer_groups import AnswerGroups, checked_weights, group_answers
from assay.quality.geometry import box_iou, ellipse_to_polygon, polygon_array, polygon_array_iou

__all__ = ["ClusterResult", "ConsensusShape", "cluster_boxes", "cluster_ellipses", "cluster_points", "cluster_polygons"]


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


# --------------------------------------------------------------------------- shared steps


class _Clusters:
    """Clusters being built: each one's summed member weight, its members ``(group, shape
    index)`` and the label of the shape that opened it."""

    def __init__(self) -> None:
        self.weight: list[float] = []
        self.members: list[list[tuple[int, int]]] = []
        self.seed_label: list[Any] = []

    def open(self, shape: Any, label: Any) -> int:
        self.weight.append(0.0)
        self.members.append([])
        self.seed_label.append(label)
        return len(self.weight) - 1

    def join(self, c: int, shape: Any, w: float, member: tuple[int, int]) -> None:
        self.weight[c] += float(w)
        self.members[c].append(member)


class _MeanClusters(_Clusters):
    """Clusters whose centre is the weighted mean of their members' coordinates, kept as
    seed + weighted mean offset from the seed: identical members then give the seed back
    bit-exactly (sum(w x) / sum(w) can be off by an ulp)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim
        self.seed: list[np.ndarray] = []
        self.wsum: list[np.ndarray] = []  # weighted offset sum per cluster
        self.psum: list[np.ndarray] = []  # plain offset sum (used while the cluster's weight is still 0)

    def open(self, shape: np.ndarray, label: Any) -> int:
        self.seed.append(shape.copy())
        self.wsum.append(np.zeros(self.dim))
        self.psum.append(np.zeros(self.dim))
        return super().open(shape, label)

    def join(self, c: int, shape: np.ndarray, w: float, member: tuple[int, int]) -> None:
        self.wsum[c] = self.wsum[c] + w * (shape - self.seed[c])
        self.psum[c] = self.psum[c] + (shape - self.seed[c])
        super().join(c, shape, w, member)

    def centres(self) -> np.ndarray:
        rows = zip(self.seed, self.wsum, self.psum, self.weight, self.members)
        return np.array([s0 + (ws / c if c > 0 else ps / len(m)) for s0, ws, ps, c, m in rows]).reshape(-1, self.dim)


def _by_weight(groups: AnswerGroups) -> list[int]:
    """Most skilled labelers first, so they seed the clusters; ties in canonical answer order."""
    return sorted(range(len(groups.keys)), key=lambda g: (-groups.weight[g], g))


def _match(S: np.ndarray, threshold: float, labels: list, cluster_labels: list, same_label: bool) -> np.ndarray:
    """One-to-one matching of a labeler's shapes (rows of the similarity matrix ``S``) to
    clusters (columns): cluster index per shape, -1 for none."""
    assigned = np.full(S.shape[0], -1, dtype=np.int64)
    valid = S >= threshold
    if same_label:
        valid &= np.array([[a == b for b in cluster_labels] for a in labels], dtype=bool)
    if valid.any():
        # Invalid pairs cost more than all valid ones together, so the assignment
        # maximises the number of matches first, then the summed similarity.
        cost = np.where(valid, -S, min(valid.shape) + 1.0)
        rows, cols = linear_sum_assignment(cost)
        ok = valid[rows, cols]
        assigned[rows[ok]] = cols[ok]
    return assigned


def _add_shapes(clusters: _Clusters, g: int, shapes: Sequence, labels: list, w: float, assigned: np.ndarray) -> None:
    """Put labeler-group ``g``'s shapes in their assigned clusters, opening new ones for the
    unmatched."""
    for k in range(len(shapes)):
        c = int(assigned[k])
        if c < 0:
            c = clusters.open(shapes[k], labels[k])
        clusters.join(c, shapes[k], w, (g, k))


def _majority_label(labels: list, weights: Sequence[float]) -> tuple[Any, float]:
    """The weighted-majority label (ties: the smallest) and its weight."""
    votes: dict[Any, float] = {}
    for label, wt in zip(labels, weights):
        votes[label] = votes.get(label, 0.0) + float(wt)
    top = max(votes.values())
    return min(lab for lab, v in votes.items() if v == top), top


def _consensus_shape(value: tuple, similarity: float, label_weight: float, weight: float, total: float, members: list[int]):
    support = weight / total
    return ConsensusShape(
        value=value,
        confidence=min(1.0, max(0.0, support * similarity)),
        support=support,
        similarity=similarity,
        label_share=label_weight / weight,
        members=members,
    )


def _cluster_result(groups: AnswerGroups, shapes: list[ConsensusShape], used: set[int]) -> ClusterResult:
    shapes.sort(key=lambda s: s.value)
    if shapes:
        return ClusterResult(shapes, float(np.mean([s.confidence for s in shapes])), groups.original(used))
    empty = [g for g in range(len(groups.keys)) if not groups.keys[g]]
    return ClusterResult([], float(groups.weight[empty].sum() / groups.total) if empty else 0.0, groups.original(empty))


# --------------------------------------------------------------------------- boxes and points


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
    groups: AnswerGroups,
    dim: int,
    similarity: Callable[[np.ndarray, np.ndarray], np.ndarray],
    threshold: float,
    same_label: bool,
) -> ClusterResult:
    """Shapes of ``dim`` coordinates (then a label) clustered around weighted-mean centres."""
    coords = [np.array([s[:dim] for s in key], dtype=np.float64).reshape(-1, dim) for key in groups.keys]
    labs = [[s[dim] for s in key] for key in groups.keys]
    clusters = _MeanClusters(dim)
    for g in _by_weight(groups):
        X = coords[g]
        assigned = np.full(len(X), -1, dtype=np.int64)
        if len(X) and clusters.weight:
            assigned = _match(similarity(X, clusters.centres()), threshold, labs[g], clusters.seed_label, same_label)
        _add_shapes(clusters, g, X, labs[g], groups.weight[g], assigned)
    return _mean_consensus(groups, clusters, coords, labs, similarity)


def _mean_consensus(groups: AnswerGroups, clusters: _MeanClusters, coords: list[np.ndarray], labs: list[list],
                    similarity: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> ClusterResult:
    """The kept clusters (> 1/2 of the total weight) as their weighted-mean shapes."""
    gw, total = groups.weight, groups.total
    shapes: list[ConsensusShape] = []
    used: set[int] = set()
    cent = clusters.centres()
    for c, (cw, members) in enumerate(zip(clusters.weight, clusters.members)):
        if not 2.0 * cw > total:
            continue
        mw = np.array([gw[g] for g, _ in members])
        mx = np.array([coords[g][k] for g, k in members])
        sims = similarity(mx, cent[c : c + 1])[:, 0]
        label, top = _majority_label([labs[g][k] for g, k in members], mw)
        value = (*(float(v) for v in cent[c]), label)
        shapes.append(_consensus_shape(value, float(np.dot(mw, sims) / cw), top, cw, total, groups.original({g for g, _ in members})))
        used.update(g for g, _ in members)
    return _cluster_result(groups, shapes, used)


def cluster_boxes(answers: Sequence[Sequence[tuple]], weights=None, iou_threshold: float = 0.5, same_label: bool = False) -> ClusterResult:
    """Consensus bounding boxes ``(left, top, width, height, label)``.

    A box matches a cluster when its IoU with the cluster's current weighted-mean box is
    >= ``iou_threshold`` (and > 0); each labeler contributes at most one box per cluster.
    Boxes are matched regardless of label unless ``same_label`` (labelers disagree on the
    class more often than on the object); the output label is the weighted majority, ties
    going to the smallest label.
    """
    w = checked_weights(weights, len(answers))
    groups = group_answers([_shape_key(a, 4, "box") for a in answers], w)
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
    w = checked_weights(weights, len(answers))
    groups = group_answers([_shape_key(a, 2, "point") for a in answers], w)

    def similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        d = np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1])
        return 1.0 - d / radius

    return _cluster(groups, 2, similarity, 0.0, same_label)


# --------------------------------------------------------------------------- polygons and ellipses


def _outline_key(answer, what: str, n_vertices: int | None) -> tuple:
    shapes = []
    for shape in answer:
        if len(shape) != 2:
            raise ValueError(f"{what} must be (vertices, label): {shape!r}")
        vertices, label = shape
        p = np.asarray(vertices, dtype=np.float64)
        if n_vertices is not None and p.shape != (n_vertices, 2):
            raise ValueError(f"{what} must have {n_vertices} (x, y) vertices: {shape!r}")
        p = polygon_array(p, what)
        shapes.append((tuple((float(x), float(y)) for x, y in p), label))
    return tuple(sorted(shapes))


class _OutlineIoU:
    """IoU of two drawn geometries by their polygons ``outline(geometry)``; each pair is
    evaluated once (so it is bit-identical either way round), and pairs whose bounding boxes
    are apart (most pairs) are 0 without computing it."""

    def __init__(self, groups: AnswerGroups, outline: Callable[[tuple], Any]) -> None:
        self.polygons = {geometry: polygon_array(outline(geometry)) for key in groups.keys for geometry, _ in key}
        self.bounds = {geometry: (*p.min(axis=0).tolist(), *p.max(axis=0).tolist()) for geometry, p in self.polygons.items()}
        self.cache: dict[tuple, float] = {}

    def __call__(self, a: tuple, b: tuple) -> float:
        if a == b:
            return 1.0
        (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = self.bounds[a], self.bounds[b]
        if ax1 < bx0 or bx1 < ax0 or ay1 < by0 or by1 < ay0:
            return 0.0
        pair = (a, b) if a < b else (b, a)
        if pair not in self.cache:
            self.cache[pair] = polygon_array_iou(self.polygons[pair[0]], self.polygons[pair[1]])
        return self.cache[pair]


def _affinity(groups: AnswerGroups, clusters: _Clusters, iou: _OutlineIoU, geometry: tuple, c: int) -> float:
    """A geometry's weighted mean IoU with the members of cluster ``c``."""
    mw = [float(groups.weight[g]) for g, _ in clusters.members[c]]
    s = [iou(geometry, groups.keys[g][k][0]) for g, k in clusters.members[c]]
    if clusters.weight[c] > 0:
        return math.fsum(w * v for w, v in zip(mw, s)) / clusters.weight[c]
    return math.fsum(s) / len(s)  # only zero-weight members so far: plain mean


def _cluster_medoids(groups: AnswerGroups, outline: Callable[[tuple], Any], threshold: float, same_label: bool) -> ClusterResult:
    """Clustering for shapes that cannot be averaged. Like :func:`_cluster` (labelers by
    descending weight, one-to-one Hungarian matching, strict-majority clusters) but a
    shape's similarity to a cluster is its weighted mean IoU (of the polygons
    ``outline(geometry)``) with the cluster's members, and the consensus is a member: the
    weighted medoid."""
    iou = _OutlineIoU(groups, outline)
    clusters = _Clusters()
    for g in _by_weight(groups):
        key = groups.keys[g]
        labels = [label for _, label in key]
        assigned = np.full(len(key), -1, dtype=np.int64)
        if key and clusters.weight:
            S = np.array([[_affinity(groups, clusters, iou, geometry, c) for c in range(len(clusters.weight))] for geometry, _ in key])
            assigned = _match(S, threshold, labels, clusters.seed_label, same_label)
        _add_shapes(clusters, g, key, labels, groups.weight[g], assigned)
    return _medoid_consensus(groups, clusters, iou)


def _medoid_consensus(groups: AnswerGroups, clusters: _Clusters, iou: _OutlineIoU) -> ClusterResult:
    """The kept clusters (> 1/2 of the total weight) as their weighted medoids."""
    total = groups.total
    shapes: list[ConsensusShape] = []
    used: set[int] = set()
    for cw, members in zip(clusters.weight, clusters.members):
        if not 2.0 * cw > total:
            continue
        mw = [float(groups.weight[g]) for g, _ in members]
        geos = [groups.keys[g][k][0] for g, k in members]
        # Weighted medoid: most weight-IoU with all members, itself included (IoU 1), i.e.
        # least weighted distance 1 - IoU. Counting its own weight lets a shape that several
        # labelers drew identically (one merged group) beat a single labeler's shape.
        score = [math.fsum(w * iou(a, b) for w, b in zip(mw, geos)) for a in geos]
        best = min(range(len(geos)), key=lambda m: (-score[m], -mw[m], geos[m]))
        label, top = _majority_label([groups.keys[g][k][1] for g, k in members], mw)
        similarity = min(1.0, score[best] / cw)
        shapes.append(_consensus_shape((geos[best], label), similarity, top, cw, total, groups.original({g for g, _ in members})))
        used.update(g for g, _ in members)
    return _cluster_result(groups, shapes, used)


def cluster_polygons(answers: Sequence[Sequence[tuple]], weights=None, iou_threshold: float = 0.5, same_label: bool = False) -> ClusterResult:
    """Consensus polygons; each answer is a list of ``(vertices, label)`` with ``vertices`` a
    sequence of ``(x, y)``.

    Matching as for :func:`cluster_boxes`, except that a polygon matches a cluster when its
    weighted mean IoU (:func:`assay.quality.geometry.polygon_iou`, exact) with the cluster's
    members is >= ``iou_threshold`` (and > 0). Vertex averaging is meaningless for polygons
    with different vertex counts, so a kept cluster (> 1/2 of the total weight) is
    represented by its weighted medoid: the member polygon with the highest weighted IoU
    with all the members, its own weight counting as IoU 1 (ties: the larger own weight,
    then the smaller vertex tuple). ``value``: ``(vertices, label)`` with the medoid's
    vertices as drawn and the weighted-majority label; ``similarity``: the members' weighted
    mean IoU with the medoid.
    """
    w = checked_weights(weights, len(answers))
    groups = group_answers([_outline_key(a, "polygon", None) for a in answers], w)
    thr = max(float(iou_threshold), np.nextafter(0.0, 1.0))
    return _cluster_medoids(groups, lambda vertices: vertices, thr, same_label)


def cluster_ellipses(
    answers: Sequence[Sequence[tuple]], weights=None, iou_threshold: float = 0.5, same_label: bool = False, n_vertices: int = 64
) -> ClusterResult:
    """Consensus ellipses, each ``(axis_ends, label)`` with the 4 axis ends of
    :func:`assay.quality.geometry.ellipse_to_polygon`. As :func:`cluster_polygons`, the IoU
    being that of the inscribed ``n_vertices``-gons; the consensus is the medoid ellipse
    (its 4 axis ends)."""
    w = checked_weights(weights, len(answers))
    groups = group_answers([_outline_key(a, "ellipse", 4) for a in answers], w)
    thr = max(float(iou_threshold), np.nextafter(0.0, 1.0))
    return _cluster_medoids(groups, lambda axis_ends: ellipse_to_polygon(axis_ends, n_vertices), thr, same_label)

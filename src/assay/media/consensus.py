"""Consolidated segmentation masks: several labelers' masks of one image become one mask by
a per-pixel weighted vote (each labeler weighted by their accuracy estimate), stored as new
files of the organization in the Scale response shape.

Labelers' answers name classes by their own indices (`labelMapping`); every mask is mapped
to the task's labels first (label i of `labels` is class i + 1, 0 unlabeled). Instances of
an instance label are merged into one instance: a vote over pixels cannot say which
labeler's instance is which. An answer whose indexed image cannot be read (missing, another
organization's, another size) makes the task fall back to whole-answer consolidation."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.files.stored import keep_bytes, local_path
from assay.media.masks import mask_answer, read_indexed
from assay.orgs.models import Organization
from assay.quality.masks import weighted_vote
from assay.tasktypes.base import Aggregate
from assay.tasktypes.fields import leaf_names

# a labeler agrees with the consolidated mask when their mean IoU over the classes either
# of them painted reaches this (the same threshold that matches boxes)
AGREEMENT_IOU = 0.5
PALETTE = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45", "#469990", "#9a6324"]


def class_mask(indexed: np.ndarray, label_mapping: dict[str, Any], classes: dict[str, int]) -> np.ndarray | None:
    """An answer's indexed image with its own indices replaced by the task's class numbers;
    None when it names a label the task does not have."""
    lut: dict[int, int] = {}
    for label, entry in label_mapping.items():
        if label not in classes:
            return None
        for item in entry if isinstance(entry, list) else [entry]:
            lut[int(item["index"])] = classes[label]
    table = np.zeros(int(indexed.max()) + 1, dtype=np.int64)
    for index, cls in lut.items():
        if index < len(table):
            table[index] = cls
    return table[indexed]


def mean_iou(mask: np.ndarray, consensus: np.ndarray) -> float:
    """Mean IoU over the classes (not background) either mask has; 1.0 when both are empty."""
    present = np.union1d(np.unique(mask), np.unique(consensus))
    present = present[present != 0]
    if not len(present):
        return 1.0
    ious = [np.logical_and(mask == c, consensus == c).sum() / np.logical_or(mask == c, consensus == c).sum() for c in present]
    return float(np.mean(ious))


def vote_masks(masks: Sequence[np.ndarray], weights: Sequence[float], n_classes: int) -> tuple[np.ndarray, float, list[float]]:
    """(consolidated class mask, confidence, each labeler's mean IoU with it). Confidence is
    the winning class's mean weight share over the pixels anyone painted."""
    winner, share = weighted_vote(masks, weights, n_classes)
    painted = np.zeros(winner.shape, dtype=bool)
    for m in masks:
        painted |= m != 0
    confidence = float(share[painted].mean()) if painted.any() else 1.0
    return winner, confidence, [mean_iou(m, winner) for m in masks]


def consolidate_masks(session: Session, org_id: int, params: dict[str, Any], responses: list[dict[str, Any]],
                      weights: list[float]) -> Aggregate | None:
    """The consolidated `segmentannotation` answer, or None to fall back."""
    org_public_id = session.execute(select(Organization.public_id).where(Organization.id == org_id)).scalar_one()
    labels = leaf_names(params.get("labels"))
    classes = {label: i + 1 for i, label in enumerate(labels)}
    masks = []
    for response in responses:
        url = ((response.get("annotations") or {}).get("combined") or {}).get("indexedImage")
        path = local_path(url, org_public_id) if isinstance(url, str) else None
        if path is None:
            return None
        mask = class_mask(read_indexed(path.read_bytes()), response.get("labelMapping") or {}, classes)
        if mask is None or (masks and mask.shape != masks[0].shape):
            return None
        masks.append(mask)
    winner, confidence, ious = vote_masks(masks, weights, len(labels) + 1)
    colors = _colors(responses, labels)
    response = mask_answer(winner, [{"label": label, "index": classes[label], "color": colors[label]} for label in labels],
                           set(params.get("instance_labels") or []), bool(params.get("allow_unlabeled")),
                           lambda name, data: keep_bytes(session, org_id, org_public_id, data, f"consensus-{name}", "image/png"))
    return Aggregate(response=response, confidence=confidence, contributors=[i for i, iou in enumerate(ious) if iou >= AGREEMENT_IOU],
                     method="pixel_vote", details={"mask_iou": [round(iou, 4) for iou in ious]})


def _colors(responses: list[dict[str, Any]], labels: list[str]) -> dict[str, str]:
    """Each label's colour as the first answer that painted it chose, else the palette's."""
    out: dict[str, str] = {}
    for response in responses:
        for label, entry in (response.get("labelMapping") or {}).items():
            first = entry[0] if isinstance(entry, list) and entry else entry
            if isinstance(first, dict) and isinstance(first.get("color"), str):
                out.setdefault(label, first["color"])
    return {label: out.get(label, PALETTE[i % len(PALETTE)]) for i, label in enumerate(labels)}

"""Batch row → Scale v1 JSON (the batch endpoints and the batch-completion callback)."""

from __future__ import annotations

from typing import Any

from assay.batches.models import Batch
from assay.timeutil import iso


def batch_json(batch: Batch, project_name: str) -> dict[str, Any]:
    out = {
        "id": batch.public_id,
        "name": batch.name,
        "project": project_name,
        "status": batch.status,
        "callback": batch.callback or "",
        "calibration_batch": batch.calibration_batch,
        "self_label_batch": batch.self_label_batch,
        "created_at": iso(batch.created_at),
        "metadata": batch.metadata_ or {},
    }
    if batch.finalized_at:
        out["finalized_at"] = iso(batch.finalized_at)
    if batch.completed_at:
        out["completed_at"] = iso(batch.completed_at)
    return out

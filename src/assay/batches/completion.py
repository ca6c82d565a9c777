"""When a batch completes: a finalized batch with no pending task left. Checked after every
terminal transition of one of its tasks (tasks.lifecycle) and on finalize; the batch row is
locked by the caller so two transactions finishing its last two tasks cannot both miss it."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assay.batches.models import Batch, BatchStatus
from assay.batches.serialize import batch_json
from assay.callbacks.outbox import enqueue_batch_callback
from assay.db import utcnow
from assay.projects.models import Project
from assay.tasks.models import Task, TaskStatus


def check_batch_completion(session: Session, batch: Batch) -> None:
    if batch.finalized_at is None or batch.status == BatchStatus.COMPLETED:
        return
    counts = dict(session.execute(select(Task.status, func.count()).where(Task.batch_id == batch.id).group_by(Task.status)).all())
    if not counts or counts.get(TaskStatus.PENDING):
        return
    batch.status = BatchStatus.COMPLETED
    batch.completed_at = utcnow()
    session.flush()
    if batch.callback:
        project_name = session.scalar(select(Project.name).where(Project.id == batch.project_id))
        enqueue_batch_callback(session, batch.org_id, batch.id, batch.callback, batch_json(batch, project_name))

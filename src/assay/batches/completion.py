"""When a batch completes: a finalized batch with no pending task left. Checked after every
terminal transition of one of its tasks (tasks.lifecycle) and on finalize.

No hot row: a task's transition no longer locks its batch row for update (every completion
in a batch queued on it, and deadlocked with the key-share lock an outbox row's foreign key
takes). On PostgreSQL the transition takes FOR KEY SHARE on the batch (shared by all
transitions; finalize's FOR UPDATE waits for them, so it counts what they did). Only once
the batch is finalized do transitions decide completion, one at a time under a
transaction-level advisory lock, counting from the task counters (with their own
uncommitted deltas) instead of scanning the batch's tasks."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from assay.batches.models import Batch, BatchStatus
from assay.batches.serialize import batch_json
from assay.callbacks.outbox import enqueue_batch_callback
from assay.db import utcnow
from assay.projects.models import Project
from assay.tasks import counts as task_counts
from assay.tasks.models import TaskStatus

_KEY_SHARE = {"read": True, "key_share": True}
_ADVISORY = text("SELECT pg_advisory_xact_lock(hashtextextended('assay.batch.' || :b, 0))")


def after_task_transition(session: Session, batch_id: int) -> None:
    """A task of this batch reached a terminal state (or left it): complete the batch when
    it is finalized and nothing is pending any more. See the module's note on locks."""
    batch = session.get(Batch, batch_id, with_for_update=_KEY_SHARE)
    if batch is None or batch.finalized_at is None or batch.status == BatchStatus.COMPLETED:
        return
    decide_completion(session, batch)


def decide_completion(session: Session, batch: Batch) -> None:
    """For a finalized batch, outside finalize's own FOR UPDATE: one transaction at a time
    (the advisory lock) re-reads the status and counts the batch."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_ADVISORY, {"b": str(batch.id)})
        if session.scalar(select(Batch.status).where(Batch.id == batch.id).execution_options(populate_existing=True)) == BatchStatus.COMPLETED:
            return
    check_batch_completion(session, batch)


def check_batch_completion(session: Session, batch: Batch) -> None:
    if batch.finalized_at is None or batch.status == BatchStatus.COMPLETED:
        return
    counts = task_counts.batch_statuses(session, batch.org_id, batch.project_id, batch.id)
    if not counts or counts.get(TaskStatus.PENDING):
        return
    batch.status = BatchStatus.COMPLETED
    batch.completed_at = utcnow()
    session.flush()
    if batch.callback:
        project_name = session.scalar(select(Project.name).where(Project.id == batch.project_id))
        enqueue_batch_callback(session, batch.org_id, batch.id, batch.callback, batch_json(batch, project_name))

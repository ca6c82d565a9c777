from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint, event, text
from sqlalchemy.orm import Mapped, mapped_column

from assay.db import Base, BigIntPK, JSONType, utcnow


class TaskStatus(StrEnum):
    PENDING = "pending"
    COMPLETED = "completed"
    CANCELED = "canceled"
    ERROR = "error"


TASK_STATUSES = tuple(TaskStatus)


class TaskKind(StrEnum):
    """task: customer work; evaluation: hidden gold item (scores labelers); training:
    practice item shown first, with feedback. Gold items never complete or call back."""

    TASK = "task"
    EVALUATION = "evaluation"
    TRAINING = "training"


class ReviewState(StrEnum):
    """Where a task whose labels are in stands with review (None: no review)."""

    WAITING = "waiting"  # labels in, needs a reviewer
    LEASED = "leased"  # under review
    REWORK = "rework"  # sent back to its labelers
    DONE = "done"  # reviewed


class AnswerSource(StrEnum):
    HUMAN = "human"
    GOLD = "gold"  # an answer to an evaluation or training item
    REVIEW_FIX = "review_fix"  # a reviewer's corrected answer
    TEST_BOT = "test_bot"  # the synthetic answer of a test-mode task


class AnswerReview(StrEnum):
    """A reviewer's verdict on one labeler's answer."""

    ACCEPTED = "accepted"
    FIXED = "fixed"
    REJECTED = "rejected"

RANK_BAND = 1_000_000  # queue positions within one priority level
PRIORITY_LIMIT = 1_000  # ranks stay within a 32-bit integer


def queue_rank(priority: int | None, position: int | None = None) -> int:
    """Higher priority first (NULL counts as 0); within a priority, the active-learning
    position (0 = label first) when the project orders its queue by a model, else last,
    so unscored tasks keep their age order behind the scored ones."""
    p = max(-PRIORITY_LIMIT, min(PRIORITY_LIMIT, priority or 0))
    slot = RANK_BAND - 1 if position is None else max(0, min(RANK_BAND - 2, position))
    return -p * RANK_BAND + slot

# Scale's customer_review_status values (the customer's own audit of a completed task).
REVIEW_STATUSES = ("pending", "accepted", "fixed", "commented", "rejected")


class Task(Base):
    __tablename__ = "tasks"

    # Internal sequence: newest-first order and the opaque `next_token` cursor both use it.
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(24), unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"), nullable=True)
    is_test: Mapped[bool] = mapped_column(Boolean, default=False)
    type: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    instruction: Mapped[str] = mapped_column(Text, default="")
    params: Mapped[dict] = mapped_column(JSONType)
    callback_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    callback_succeeded: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    metadata_: Mapped[dict] = mapped_column("metadata", JSONType, default=dict)
    tags: Mapped[list | None] = mapped_column(JSONType, nullable=True)
    unique_id: Mapped[str | None] = mapped_column(String(500), nullable=True)
    clear_unique_id_on_error: Mapped[bool] = mapped_column(Boolean, default=False)
    priority: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response: Mapped[dict | None] = mapped_column(JSONType, nullable=True)
    audits: Mapped[list] = mapped_column(JSONType, default=list)
    customer_review_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # How many independent answers the task needs before it is consolidated.
    required_labels: Mapped[int] = mapped_column(Integer, default=1)
    # Label slots nobody has leased or answered yet; the assignment engine takes from it.
    open_slots: Mapped[int] = mapped_column(Integer, default=1)
    # Queue order: ascending rank, then age; see `queue_rank` below. One ascending index
    # serves the queue.
    queue_rank: Mapped[int] = mapped_column(Integer, default=0)
    # None: no review; waiting: labels in, needs a reviewer; leased: under review;
    # rework: sent back to its labelers; done: reviewed.
    review_state: Mapped[str | None] = mapped_column(String(10), nullable=True)
    # How the response was consolidated: {confidence, labels, method, agreeing}.
    quality: Mapped[dict | None] = mapped_column(JSONType, nullable=True)
    # quality["confidence"] as a column (indexed with the project): the browser's filter and
    # sort, the claim's "least certain first"; follows `quality` (the attribute event at the end
    # of this module; tasks.settle sets it for rows inserted without the ORM)
    confidence: Mapped[float | None] = mapped_column(nullable=True)
    # task: customer work; evaluation: hidden gold item (scores labelers); training:
    # practice item shown first, with feedback. Gold items never complete or call back.
    kind: Mapped[str] = mapped_column(String(12), default="task", server_default="task")
    expected_response: Mapped[dict | None] = mapped_column(JSONType, nullable=True)
    # Routing the claim reads: a skill (and level) the labeler must hold, a person the task
    # is reserved for, and a content warning (flagged content is blurred, budgeted, and
    # never served to people who opted out).
    required_skill: Mapped[str | None] = mapped_column(String(64), nullable=True)
    required_level: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    reserved_for: Mapped[int | None] = mapped_column(BigIntPK, nullable=True)
    content_warning: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint("org_id", "is_test", "unique_id", name="uq_tasks_unique_id"),
        Index("ix_tasks_org_mode_id", "org_id", "is_test", "id"),
        Index("ix_tasks_project_id", "project_id", "id"),
        Index("ix_tasks_batch_status", "batch_id", "status"),
        Index("ix_tasks_org_status_id", "org_id", "is_test", "status", "id"),
        # listing by project or batch, newest first: equality on the prefix, then id
        Index("ix_tasks_org_mode_project_id", "org_id", "is_test", "project_id", "id"),
        Index("ix_tasks_org_mode_batch_id", "org_id", "is_test", "batch_id", "id"),
        # the label queue: only tasks with an open slot are in this index
        Index(
            "ix_tasks_label_queue", "project_id", "queue_rank", "id",
            sqlite_where=text("status = 'pending' AND open_slots > 0 AND is_test = 0"),
            postgresql_where=text("status = 'pending' AND open_slots > 0 AND is_test = false"),
        ),
        # the browser's confidence filter and sort within a project
        Index("ix_tasks_project_confidence", "project_id", "confidence"),
        # routing by accuracy: open tasks with an interim confidence (waiting for another label)
        Index(
            "ix_tasks_uncertain_queue", "project_id", "confidence", "queue_rank", "id",
            sqlite_where=text("status = 'pending' AND open_slots > 0 AND is_test = 0 AND confidence IS NOT NULL"),
            postgresql_where=text("status = 'pending' AND open_slots > 0 AND is_test = false AND confidence IS NOT NULL"),
        ),
        # gold items of a project (few): the queue looks here before the label queue
        Index("ix_tasks_gold", "project_id", "kind", "id", sqlite_where=text("kind <> 'task'"), postgresql_where=text("kind <> 'task'")),
        Index(
            "ix_tasks_review_queue", "project_id", "queue_rank", "id",
            sqlite_where=text("status = 'pending' AND review_state = 'waiting'"),
            postgresql_where=text("status = 'pending' AND review_state = 'waiting'"),
        ),
    )


class TaskAnswer(Base):
    """One labeler's answer to a task (human, reviewer fix, or the test-mode bot)."""

    __tablename__ = "task_answers"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    source: Mapped[str] = mapped_column(String(20), default="human")
    response: Mapped[dict] = mapped_column(JSONType)
    active_seconds: Mapped[float | None] = mapped_column(nullable=True)
    # False once replaced (rework, or the labeler going back to edit it).
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Model pre-label (`hypothesis`) at submission: accepted unchanged, or edited.
    hypothesis_status: Mapped[str | None] = mapped_column(String(10), nullable=True)
    # Review outcome for this labeler's answer: accepted, fixed or rejected.
    review_status: Mapped[str | None] = mapped_column(String(10), nullable=True)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    review_comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    # A reviewer's fix (source "review_fix") names the labeler whose answer it corrects.
    corrects_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    # Answers to gold items: whether the answer matched the expected response.
    correct: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class TaskCount(Base):
    """Number of tasks per (org, mode, project, batch, status), kept in the same
    transaction as every insert and status change, so `total` of a task listing filtered
    by project/batch/status is a few-row SUM instead of a count over the tasks table
    (~70 ms at 110k tasks on this machine's SQLite). batch_id 0 means "no batch".
    On PostgreSQL each transaction adds its deltas to one of `counts.SHARDS` rows of a key
    (`shard`), so concurrent completions in one project do not queue on one row lock; a
    read sums the shards (exact), and the background job folds them back into shard 0."""

    __tablename__ = "task_counts"

    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True)
    is_test: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    project_id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=False)
    batch_id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False, default=0)
    n: Mapped[int] = mapped_column(Integer, default=0)


class LabelerStats(Base):
    """Per labeler and project: how many of their answers were consolidated, and how many
    agreed with the consolidated answer. The consensus model's accuracy estimate."""

    __tablename__ = "labeler_stats"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    answered: Mapped[int] = mapped_column(Integer, default=0)
    agreed: Mapped[int] = mapped_column(Integer, default=0)
    # evaluation (gold) items answered and answered correctly since the last reinstatement
    gold_answered: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    gold_correct: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ActivityRollup(Base):
    """Per project, person (0: the project itself) and hour: what happened, summed in the
    transaction of each answer, completion and verdict (`tasks.rollups`). Dashboards read
    these few rows instead of scanning answers. A project's own row (user 0) is sharded
    like the task counters on PostgreSQL (`shard`; readers sum, the jobs fold them);
    people's rows stay in shard 0."""

    __tablename__ = "activity_rollups"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    hour: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False, default=0)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    created: Mapped[int] = mapped_column(Integer, default=0)  # tasks created (user 0)
    labels: Mapped[int] = mapped_column(Integer, default=0)  # human answers to customer tasks
    annotations: Mapped[int] = mapped_column(Integer, default=0)  # shapes/spans/… inside them (1 for a choice)
    active_seconds: Mapped[float] = mapped_column(default=0.0)
    held_seconds: Mapped[float] = mapped_column(default=0.0)  # lease start to submission: active + idle
    completed: Mapped[int] = mapped_column(Integer, default=0)  # tasks completed (user 0)
    reviewed: Mapped[int] = mapped_column(Integer, default=0)  # verdicts given (the reviewer's row)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    consolidated: Mapped[int] = mapped_column(Integer, default=0)  # this person's answers consolidated
    agreed: Mapped[int] = mapped_column(Integer, default=0)  # … that agreed with the final answer
    gold_answered: Mapped[int] = mapped_column(Integer, default=0)
    gold_correct: Mapped[int] = mapped_column(Integer, default=0)
    flagged: Mapped[int] = mapped_column(Integer, default=0)  # answers to tasks with a content warning

    __table_args__ = (Index("ix_activity_rollups_org_day", "org_id", "day"), Index("ix_activity_rollups_user_day", "user_id", "day"),
                      # the rows the background fold looks for, without scanning the table
                      Index("ix_activity_rollups_shards", "project_id", postgresql_where=text("shard > 0"), sqlite_where=text("shard > 0")))



@event.listens_for(Task.quality, "set")
def _confidence_follows_quality(task: Task, value, _old, _initiator) -> None:
    """`confidence` is always quality["confidence"] (a number), whoever sets `quality`."""
    confidence = value.get("confidence") if isinstance(value, dict) else None
    task.confidence = float(confidence) if isinstance(confidence, (int, float)) and not isinstance(confidence, bool) else None

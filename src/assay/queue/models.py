"""Who may label which project, and who holds which slot of which task.

An `Assignment` is one person's claim on one task: a label slot (kind `label`) or the
review of the task (kind `review`). Its lease expires unless the page heartbeats; an
expired lease is deleted and its slot returns to the task (`tasks.open_slots`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from assay.db import Base, BigIntPK, utcnow


class AssignmentKind(StrEnum):
    LABEL = "label"
    REVIEW = "review"


class AssignmentStatus(StrEnum):
    LEASED = "leased"  # working on it
    SUBMITTED = "submitted"  # answered (editable while expires_at is ahead)
    SKIPPED = "skipped"  # passed with a reason (never offered again)
    REWORK = "rework"  # a reviewer sent it back
    REVIEWED = "reviewed"  # a review verdict was given


class ProjectMember(Base):
    __tablename__ = "project_members"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Set when the labeler's gold accuracy fell below the project's threshold; a lead
    # reinstates them. A paused member gets no work in this project.
    paused_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    paused_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class Assignment(Base):
    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(24), unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10), default="label")
    status: Mapped[str] = mapped_column(String(10), default="leased")
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    answer_id: Mapped[int | None] = mapped_column(ForeignKey("task_answers.id", ondelete="SET NULL"), nullable=True)
    skip_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    review_comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        # one slot per person per task and kind: no one labels a task twice
        UniqueConstraint("task_id", "user_id", "kind", name="uq_assignments_task_user_kind"),
        Index("ix_assignments_user_project_status", "user_id", "project_id", "status"),
        Index("ix_assignments_status_expires", "status", "expires_at"),
    )

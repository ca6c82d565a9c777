from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from assay.db import Base, BigIntPK, JSONType, utcnow


class BatchStatus(StrEnum):
    STAGING = "staging"  # a rapid project's batch before it is finalized
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


BATCH_STATUSES = tuple(BatchStatus)


class Batch(Base):
    __tablename__ = "batches"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(24), unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default=BatchStatus.IN_PROGRESS)
    callback: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    calibration_batch: Mapped[bool] = mapped_column(Boolean, default=False)
    self_label_batch: Mapped[bool] = mapped_column(Boolean, default=False)
    metadata_: Mapped[dict] = mapped_column("metadata", JSONType, default=dict)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finalized_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint("org_id", "name", name="uq_batches_org_name"),
        Index("ix_batches_org_id_desc", "org_id", "id"),
    )

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from assay.db import Base, BigIntPK, JSONType, utcnow

# Project params that configure the project itself (quality policy, instructions) rather
# than the params its tasks are created with.
PROJECT_ONLY_PARAMS = frozenset({"instruction", "labels_per_task", "max_labels", "target_confidence", "review_fraction", "review_below",
                                 "aggregation", "gold_rate", "qualification_size", "pause_below", "pipeline", "consensus_attempts",
                                 "required_skill", "required_skill_level", "content_warning", "route_by_accuracy"})


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(24), unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(50))
    rapid: Mapped[bool] = mapped_column(Boolean, default=False)
    studio: Mapped[bool] = mapped_column(Boolean, default=False)
    dataset_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # Scale's param_history: one entry per version, {version, created_at, instruction?, **params}.
    param_history: Mapped[list] = mapped_column(JSONType, default=list)
    # Labels each task needs before it is consolidated (the quality engine reads this).
    labels_per_task: Mapped[int] = mapped_column(default=1)
    # Share of tasks a reviewer sees before they complete (0: none, 1: every task).
    review_fraction: Mapped[float] = mapped_column(default=0.0)
    # Adaptive overlap: after `labels_per_task` labels, while the consensus confidence is
    # below `target_confidence`, ask for one more label, up to `max_labels` in all.
    max_labels: Mapped[int | None] = mapped_column(nullable=True)
    target_confidence: Mapped[float | None] = mapped_column(nullable=True)
    # Gold: share of claims that are evaluation items; evaluation items a new labeler must
    # answer before real work; smoothed gold accuracy below which a labeler is paused.
    gold_rate: Mapped[float] = mapped_column(default=0.0, server_default="0")
    qualification_size: Mapped[int] = mapped_column(default=0, server_default="0")
    pause_below: Mapped[float | None] = mapped_column(nullable=True)
    # Review sampling: besides `review_fraction`, every task whose consensus confidence is
    # below this goes to a reviewer.
    review_below: Mapped[float | None] = mapped_column(nullable=True)
    # Consolidation method (projects.service.AGGREGATIONS): "auto" (the type's aggregator,
    # else the one-coin model weighted by each labeler's record), vote shares, or a truth
    # model fitted in the background (truth/).
    aggregation: Mapped[str] = mapped_column(String(30), default="auto", server_default="auto")
    # Routing: the most accurate people available get the least certain tasks first.
    route_by_accuracy: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("org_id", "name", name="uq_projects_org_name"),)

    @property
    def current_params(self) -> dict:
        if not self.param_history:
            return {}
        latest = dict(self.param_history[-1])
        for key in ("version", "created_at"):
            latest.pop(key, None)
        return latest

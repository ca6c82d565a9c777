from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from assay.db import Base, BigIntPK, JSONType, utcnow


class TruthModel(Base):
    """A project's fitted truth-inference model (Dawid-Skene, one-coin DS or GLAD) over its
    single-choice answers: refitted in the background every so many new labels; tasks
    consolidated in between are scored with these parameters."""

    __tablename__ = "truth_models"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), unique=True)
    method: Mapped[str] = mapped_column(String(30))
    # labels the project had (sum of labeler records) when fitted: the refit trigger
    labels_seen: Mapped[int] = mapped_column(default=0)
    answers: Mapped[int] = mapped_column(default=0)
    tasks: Mapped[int] = mapped_column(default=0)
    workers: Mapped[int] = mapped_column(default=0)
    seconds: Mapped[float] = mapped_column(default=0.0)
    # {"classes": [key], "class_prior": [C], "workers": {user_id: [[C x C]]}, "population": [[C x C]]}
    state: Mapped[dict] = mapped_column(JSONType)
    fitted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

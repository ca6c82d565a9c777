from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from assay.db import Base, BigIntPK, JSONType, utcnow


class ProjectModel(Base):
    """A project's model: the attached backend (built-in or HTTP), how it orders the queue,
    its auto-accept policy, and its state (version, last training, last error)."""

    __tablename__ = "project_models"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), unique=True)
    # settings
    backend: Mapped[str] = mapped_column(String(10), default="builtin")  # builtin | http
    url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    timeout_seconds: Mapped[float] = mapped_column(Float, default=10.0)
    features: Mapped[str] = mapped_column(String(20), default="tfidf")  # built-in text features: tfidf | embeddings
    retrain_every: Mapped[int] = mapped_column(Integer, default=50)
    min_train_labels: Mapped[int] = mapped_column(Integer, default=10)
    prelabels: Mapped[bool] = mapped_column(Boolean, default=True)
    queue_strategy: Mapped[str] = mapped_column(String(30), default="as_submitted")
    autoaccept_target: Mapped[float | None] = mapped_column(Float, nullable=True)
    autoaccept_confidence: Mapped[float] = mapped_column(Float, default=0.95)
    audit_fraction: Mapped[float] = mapped_column(Float, default=0.05)
    # lowest: the lowest threshold whose bound meets the target (measured close to, not
    # exactly at, the confidence); fixed_sequence: strictly valid, accepts less
    autoaccept_rule: Mapped[str] = mapped_column(String(20), default="lowest", server_default="lowest")
    # state
    version: Mapped[int] = mapped_column(Integer, default=0)
    trained_labels: Mapped[int] = mapped_column(Integer, default=0)
    trained_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    train_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    threshold: Mapped[float | None] = mapped_column(Float, nullable=True)
    calibration: Mapped[dict | None] = mapped_column(JSONType, nullable=True)
    order_stale: Mapped[bool] = mapped_column(Boolean, default=True)
    healthy: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_error_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    busy_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    suspects: Mapped[dict | None] = mapped_column(JSONType, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Prediction(Base):
    """The latest model prediction for a task (one row per task, replaced when a newer
    model version predicts it): the response in the task type's format, its score, and
    class probabilities where the model has them (active learning reads those)."""

    __tablename__ = "predictions"

    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    model_version: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict] = mapped_column(JSONType)
    score: Mapped[float] = mapped_column(Float)
    probabilities: Mapped[dict | None] = mapped_column(JSONType, nullable=True)
    # the task was completed with this prediction (auto-accept); such tasks never train
    # the model or calibrate it
    auto_accepted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_predictions_project_version", "project_id", "model_version"),)

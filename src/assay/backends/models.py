from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false, true
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
    backend: Mapped[str] = mapped_column(String(10), default="builtin")  # builtin | http | openai
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
    # an openai backend (an LLM judge, a live-chat model): the model asked, its key (never
    # shown again), sampling, parallel calls, prompt templates per evaluation mode, and
    # whether a pair is judged in both orders (docs/judges.md)
    model_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    api_key: Mapped[str | None] = mapped_column(Text, nullable=True)
    temperature: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    concurrency: Mapped[int] = mapped_column(Integer, default=4, server_default="4")
    prompts: Mapped[dict | None] = mapped_column(JSONType, nullable=True)
    swap_positions: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # the judge's verdict counts as one more (weighted) vote in consolidation, weighted by
    # its accuracy against finished tasks (docs/judges.md)
    judge_votes: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    judge_accuracy: Mapped[float | None] = mapped_column(Float, nullable=True)
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


class JudgeVerdict(Base):
    """What an LLM judge said about a task (one row per task, replaced when a newer model
    version judges it): each call's verdict (`verdicts`: order of the responses shown and
    the answer, both orders for a pair), whether the two orders agree, and the response
    made of them (None when they disagree: an inconsistent verdict is not used)."""

    __tablename__ = "judge_verdicts"

    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    model_version: Mapped[int] = mapped_column(Integer)
    judge: Mapped[str] = mapped_column(String(200))
    verdicts: Mapped[list] = mapped_column(JSONType)
    consistent: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    response: Mapped[dict | None] = mapped_column(JSONType, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_judge_verdicts_project", "project_id", "model_version"),)


class ChatTurn(Base):
    """One turn of a live chat (multichat) in a labeler's assignment: the labeler's prompt
    and the model replies it got, numbered from 0 in the order they happened."""

    __tablename__ = "chat_turns"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    turn: Mapped[int] = mapped_column(Integer)
    prompt: Mapped[str] = mapped_column(Text)
    replies: Mapped[list] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("assignment_id", "turn", name="uq_chat_turns_assignment_turn"),)


class RunStatus(StrEnum):
    CREATED = "created"
    DONE = "done"  # responses generated (and judged, and tasks made, where asked)
    FAILED = "failed"


class EvaluationRun(Base):
    """An evaluation set run against one or two model endpoints: the items (prompts with
    reference answers), the endpoints (`config`; API keys stored, never shown), and what
    came back (`results`: responses, judge verdicts, the people's tasks)."""

    __tablename__ = "evaluation_runs"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(24), unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12), default=RunStatus.CREATED)
    config: Mapped[dict] = mapped_column(JSONType)
    items: Mapped[list] = mapped_column(JSONType)
    results: Mapped[dict | None] = mapped_column(JSONType, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    __table_args__ = (Index("ix_evaluation_runs_project", "project_id", "id"),)

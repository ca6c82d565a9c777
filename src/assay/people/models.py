"""Skills people hold and the rates they are paid."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from assay.db import Base, BigIntPK, utcnow


class SkillSource(StrEnum):
    MANUAL = "manual"  # granted by a lead
    QUALIFICATION = "qualification"  # earned from a gold record


class UserSkill(Base):
    __tablename__ = "user_skills"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    level: Mapped[int] = mapped_column(Integer, default=1)
    source: Mapped[str] = mapped_column(String(20), default="manual")
    granted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class PayUnit(StrEnum):
    TASK = "task"  # per answer submitted
    LABEL = "label"  # per annotation inside the answers (a choice counts 1)
    HOUR = "hour"  # per active hour


class PayRate(Base):
    """A rate for a person, a project, or a person on a project (the most specific
    applies: person+project, then person, then project)."""

    __tablename__ = "pay_rates"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), nullable=True)
    unit: Mapped[str] = mapped_column(String(10))
    amount: Mapped[float] = mapped_column()
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


def rate_for(rates: list[PayRate], user_id: int, project_id: int) -> PayRate | None:
    """The rate that applies: person on project, then person, then project, then the
    organization's default (neither set); the newest within each."""
    best, rank = None, -1
    for rate in sorted(rates, key=lambda r: r.id, reverse=True):
        score = (2 if rate.user_id == user_id else 0 if rate.user_id is None else -9) + (1 if rate.project_id == project_id else 0 if rate.project_id is None else -9)
        if score > rank:
            best, rank = rate, score
    return best


def charge(rate: PayRate | None, answers: float, labels: float, active_seconds: float) -> float:
    """What work costs at a rate: per answer, per label inside the answers, or per active hour."""
    if rate is None:
        return 0.0
    quantity = {PayUnit.TASK: answers, PayUnit.LABEL: labels, PayUnit.HOUR: active_seconds / 3600}[rate.unit]
    return round(quantity * rate.amount, 4)

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from assay.db import Base, BigIntPK, JSONType, utcnow


class AuditEvent(Base):
    """One administrative action or labeling decision. Append-only: the migration puts
    triggers on the table that refuse UPDATE and DELETE, on SQLite and PostgreSQL."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # who: the user (None for the system, e.g. an automatic pause), their e-mail at the
    # time, and how they came in: session, api_key, test_key, cli or system
    actor_id: Mapped[int | None] = mapped_column(nullable=True)
    actor: Mapped[str] = mapped_column(String(320))
    via: Mapped[str] = mapped_column(String(10))
    # from where: the client address the server saw ("" for the CLI and the system)
    address: Mapped[str] = mapped_column(String(64), default="")
    # what: a dotted action name, the kind and public id (or id) of what it acted on
    action: Mapped[str] = mapped_column(String(40))
    target_type: Mapped[str] = mapped_column(String(20), default="")
    target_id: Mapped[str] = mapped_column(String(64), default="")
    details: Mapped[dict] = mapped_column(JSONType, default=dict)

    __table_args__ = (Index("ix_audit_events_org_id", "org_id", "id"), Index("ix_audit_events_org_action", "org_id", "action", "id"))

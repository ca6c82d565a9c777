from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from assay.db import Base, BigIntPK, utcnow


class Role(StrEnum):
    ADMIN = "admin"
    CUSTOMER = "customer"
    REVIEWER = "reviewer"
    ANNOTATOR = "annotator"


ROLES = tuple(Role)
# Who may use the Scale-compatible task API (customers own the data; admins run the place).
TASK_API_ROLES = (Role.ADMIN, Role.CUSTOMER)
# Who may label tasks, and who may review them.
LABELER_ROLES = (Role.ADMIN, Role.REVIEWER, Role.ANNOTATOR)
REVIEWER_ROLES = (Role.ADMIN, Role.REVIEWER)


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(24), unique=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # Sent verbatim in the `scale-callback-auth` header and used as the HMAC key.
    callback_auth_key: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    # Unique within an organization only: another organization may have the same address
    # (a global constraint would tell one organization's admin who is in another).
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(String(300), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Well-being: never serve this person tasks with a content warning; their own daily
    # budget of flagged tasks (None: ASSAY_EXPOSURE_BUDGET).
    avoid_flagged: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    exposure_budget: Mapped[int | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("org_id", "email", name="uq_users_org_email"), Index("ix_users_email", "email"))


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # First characters of the key, kept to tell keys apart in listings; the key itself is never stored.
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    is_test: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    __table_args__ = (Index("ix_api_keys_org_user", "org_id", "user_id"),)


class UserSession(Base):
    """A browser sign-in. The cookie holds a random token; only its SHA-256 digest is
    stored, so a copy of this table cannot be replayed. Deleting the row ends the session
    (logout, password change, deactivation)."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    # where the sign-in came from, for an admin looking at a suspicious session
    address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")

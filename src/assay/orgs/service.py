"""Organizations, users and API keys."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.db import new_public_id, utcnow
from assay.errors import Conflict, NotFound, field_error
from assay.orgs.models import ROLES, ApiKey, Organization, User
from assay.security import generate_key, hash_key, hash_password, verify_password

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+$")


def get_org_by_name(session: Session, name: str) -> Organization | None:
    return session.scalar(select(Organization).where(Organization.name == name))


def create_org(session: Session, name: str) -> Organization:
    name = name.strip()
    if not name:
        raise field_error("name", "must not be empty")
    if len(name) > 200:
        raise field_error("name", "must be at most 200 characters")
    if get_org_by_name(session, name) is not None:
        raise Conflict(f"name: an organization named {name!r} already exists", field="name")
    org = Organization(public_id=new_public_id(), name=name, callback_auth_key="cb_" + secrets.token_hex(16))
    session.add(org)
    session.flush()
    return org


def get_or_create_org(session: Session, name: str) -> Organization:
    return get_org_by_name(session, name) or create_org(session, name)


def create_user(session: Session, org: Organization, email: str, role: str, password: str | None = None, name: str = "") -> User:
    email = email.strip().lower()
    if not EMAIL_RE.match(email):
        raise field_error("email", f"{email!r} is not an e-mail address")
    if role not in ROLES:
        raise field_error("role", f"must be one of {', '.join(ROLES)}")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(f"email: a user with e-mail {email!r} already exists", field="email")
    user = User(org_id=org.id, email=email, role=role, name=name, password_hash=hash_password(password) if password else None)
    session.add(user)
    session.flush()
    return user


@dataclass
class NewKey:
    key: str  # shown once, never stored
    row: ApiKey


def create_key(session: Session, user: User, is_test: bool = False) -> NewKey:
    key = generate_key(is_test)
    row = ApiKey(org_id=user.org_id, user_id=user.id, prefix=key[:12], key_hash=hash_key(key), is_test=is_test)
    session.add(row)
    session.flush()
    return NewKey(key=key, row=row)


def service_user(session: Session, org: Organization) -> User:
    """The org's first admin, or a new API admin user when it has none."""
    user = session.scalar(select(User).where(User.org_id == org.id, User.role == "admin").order_by(User.id))
    if user is not None:
        return user
    slug = re.sub(r"[^a-z0-9]+", "-", org.name.lower()).strip("-") or "org"
    email = f"api-admin@{slug}-{org.public_id[-6:]}.assay.local"
    return create_user(session, org, email, "admin", name=f"{org.name} API")


def revoke_key(session: Session, org_id: int, prefix: str) -> int:
    rows = session.scalars(select(ApiKey).where(ApiKey.org_id == org_id, ApiKey.prefix == prefix, ApiKey.revoked_at.is_(None))).all()
    for row in rows:
        row.revoked_at = utcnow()
    return len(rows)


def user_json(user: User) -> dict:
    return {"id": user.id, "email": user.email, "name": user.name, "role": user.role, "active": user.active}


def list_users(session: Session, org_id: int) -> list[User]:
    return list(session.scalars(select(User).where(User.org_id == org_id).order_by(User.id)))


def get_user(session: Session, org_id: int, user_id: int) -> User:
    user = session.scalar(select(User).where(User.org_id == org_id, User.id == user_id))
    if user is None:
        raise NotFound("User not found.", field="user_id")
    return user


def _check_password(value) -> str:
    if not isinstance(value, str) or len(value) < 8:
        raise field_error("password", "must be a string of at least 8 characters")
    return value


def add_user(session: Session, org: Organization, body) -> User:
    """An admin creates an account (annotator, reviewer, customer or admin) with a password."""
    if not isinstance(body, dict):
        raise field_error("body", 'must be a JSON object {"email", "role", "password", "name"?}')
    email, role, name = body.get("email"), body.get("role"), body.get("name", "")
    if not isinstance(email, str):
        raise field_error("email", "required: the person's e-mail address")
    if not isinstance(role, str):
        raise field_error("role", f"required: one of {', '.join(ROLES)}")
    if not isinstance(name, str) or len(name) > 200:
        raise field_error("name", "must be a string of at most 200 characters")
    return create_user(session, org, email, role, _check_password(body.get("password")), name=name.strip())


def change_user(session: Session, org_id: int, user_id: int, body, acting_user_id: int) -> User:
    if not isinstance(body, dict):
        raise field_error("body", 'must be a JSON object with any of "active", "role", "password", "name"')
    user = get_user(session, org_id, user_id)
    if "active" in body:
        if not isinstance(body["active"], bool):
            raise field_error("active", "must be true or false")
        if user.id == acting_user_id and not body["active"]:
            raise field_error("active", "you cannot deactivate yourself")
        user.active = body["active"]
    if "role" in body:
        if body["role"] not in ROLES:
            raise field_error("role", f"must be one of {', '.join(ROLES)}")
        if user.id == acting_user_id and body["role"] != "admin":
            raise field_error("role", "you cannot remove your own admin role")
        user.role = body["role"]
    if "password" in body:
        user.password_hash = hash_password(_check_password(body["password"]))
    if "name" in body:
        if not isinstance(body["name"], str) or len(body["name"]) > 200:
            raise field_error("name", "must be a string of at most 200 characters")
        user.name = body["name"].strip()
    session.flush()
    return user


def authenticate_password(session: Session, email, password) -> User | None:
    if not isinstance(email, str) or not isinstance(password, str):
        return None
    user = session.scalar(select(User).where(User.email == email.strip().lower(), User.active.is_(True)))
    if user is None or not verify_password(password, user.password_hash):
        return None
    return user

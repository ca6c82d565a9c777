"""Organizations, users and API keys."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assay.auth import sessions
from assay.auth.passwords import dummy_password_hash, hash_password, verify_password
from assay.auth.principals import generate_key, hash_key
from assay.db import new_public_id, utcnow
from assay.errors import Conflict, NotFound, field_error
from assay.orgs.models import ROLES, ApiKey, Organization, Role, User
from assay.orgs.schemas import NewUserBody, UserChangeBody

# The local part: RFC 5322 dot-atom characters (and any non-ASCII letter); no quoted forms.
_LOCAL_RE = re.compile(r"^[\w!#$%&'*+/=?^`{|}~-]+(\.[\w!#$%&'*+/=?^`{|}~-]+)*$")
# One domain label: letters or digits (any script), inner hyphens, at most 63 characters.
_LABEL_RE = re.compile(r"^[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?$")
# Accounts with the same e-mail (in different organizations) that one sign-in tries.
MAX_ACCOUNTS_PER_EMAIL = 10


def normalize_email(value) -> str:
    """The stored form of an e-mail address (trimmed, lower case), or a 400 naming `email`
    that says what is wrong with it."""
    if not isinstance(value, str):
        raise field_error("email", "required: the person's e-mail address as a string")
    email = value.strip().lower()
    if len(email) > 254:
        raise field_error("email", "is longer than 254 characters")
    if email.count("@") != 1:
        raise field_error("email", f"{email!r} is not an e-mail address (it needs exactly one @)")
    local, domain = email.split("@")
    if not local or len(local) > 64 or not _LOCAL_RE.match(local):
        raise field_error("email", f"{email!r} is not an e-mail address (the part before @ must be 1-64 letters, digits, dots "
                                   "(not first, last or doubled) or !#$%&'*+/=?^_`{|}~-)")
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL_RE.match(label) for label in labels) or labels[-1].isdigit():
        raise field_error("email", f"{email!r} is not an e-mail address (the domain after @ must be names separated by dots, "
                                   "like example.com)")
    return email


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


def create_user(session: Session, org: Organization, email: str, role: str, password: str | None = None, name: str = "",
                password_hash: str | None = None) -> User:
    """A new user of `org`. E-mails are unique within an organization only: whether another
    organization has the address is neither checked nor told. `password_hash` (from
    `hash_password`, made before the transaction) saves hashing inside it."""
    email = normalize_email(email)
    if role not in ROLES:
        raise field_error("role", f"must be one of {', '.join(ROLES)}")
    duplicate = Conflict(f"email: a user with e-mail {email!r} already exists in this organization", field="email")
    taken = select(User.id).where(User.org_id == org.id, User.email == email)
    if session.scalar(taken) is not None:
        raise duplicate
    if password_hash is None and password:
        password_hash = hash_password(password)
    user = User(org_id=org.id, email=email, role=role, name=name, password_hash=password_hash)
    session.add(user)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        if session.scalar(taken) is not None:  # a concurrent create of the same address won
            raise duplicate from None
        raise
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
    user = session.scalar(select(User).where(User.org_id == org.id, User.role == Role.ADMIN).order_by(User.id))
    if user is not None:
        return user
    slug = re.sub(r"[^a-z0-9]+", "-", org.name.lower()).strip("-")[:40].strip("-") or "org"  # a valid domain label
    email = f"api-admin@{slug}-{org.public_id[-6:]}.assay.local"
    return create_user(session, org, email, Role.ADMIN, name=f"{org.name} API")


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


def check_password(value) -> str:
    """A password the CLI was given (the API's bodies check the same through their schema)."""
    if not isinstance(value, str) or len(value) < 8:
        raise field_error("password", "must be a string of at least 8 characters")
    if len(value) > 1024:
        raise field_error("password", "must be at most 1024 characters")
    return value


def add_user(session: Session, org: Organization, body: NewUserBody, password_hash: str) -> User:
    """An admin creates an account (annotator, reviewer, customer or admin) with a password
    (hashed by the caller before the transaction: scrypt is slow)."""
    return create_user(session, org, body.email, body.role, name=body.name.strip(), password_hash=password_hash)


def set_password(session: Session, user: User, password_hash: str) -> None:
    """A new password ends every session of the user (a stolen cookie dies with the old
    password)."""
    user.password_hash = password_hash
    sessions.revoke_user(session, user.id)


def change_user(session: Session, org_id: int, user_id: int, body: UserChangeBody, acting_user_id: int,
                password_hash: str | None = None) -> User:
    """Only the keys the body gives change; `password_hash` is the new password's hash,
    made by the caller before the transaction."""
    given = body.model_fields_set
    user = get_user(session, org_id, user_id)
    if "active" in given:
        if user.id == acting_user_id and not body.active:
            raise field_error("active", "you cannot deactivate yourself")
        user.active = body.active
        if not user.active:
            sessions.revoke_user(session, user.id)  # reactivation does not bring them back
    if "role" in given:
        if user.id == acting_user_id and body.role != Role.ADMIN:
            raise field_error("role", "you cannot remove your own admin role")
        user.role = body.role
    if "password" in given:
        set_password(session, user, password_hash or hash_password(body.password))
    if "name" in given:
        user.name = body.name.strip()
    session.flush()
    return user


def authenticate_password(session: Session, email, password) -> User | None:
    """The active account this e-mail and password sign in to, or None. An address may
    have an account in several organizations: the password is checked against each (the
    oldest MAX_ACCOUNTS_PER_EMAIL), and the first that matches wins. The work does not
    depend on whether the e-mail exists: with no account, the dummy hash is verified, so an
    unknown address costs one scrypt like a known one. Blocking: run it off the event loop."""
    if not isinstance(email, str) or not isinstance(password, str) or len(password) > 1024:
        verify_password("", dummy_password_hash())
        return None
    candidates = session.scalars(
        select(User).where(User.email == email.strip().lower(), User.active.is_(True)).order_by(User.id).limit(MAX_ACCOUNTS_PER_EMAIL)
    ).all()
    if not candidates:
        verify_password(password, dummy_password_hash())
        return None
    matches = [user for user in candidates if verify_password(password, user.password_hash)]
    return matches[0] if matches else None

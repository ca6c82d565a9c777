"""The `Principal` of a request and its two loaders: an API key (HTTP Basic with the key
as username, or Bearer; stored as a SHA-256 digest) and a browser session (a cookie token,
stored as a digest in `user_sessions`). Both are cached in the process for at most
ASSAY_AUTH_CACHE_SECONDS; a miss is one indexed SELECT. Every query a service runs is scoped by
the principal's `org_id`."""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass

from sqlalchemy import select

from assay.config import get_settings
from assay.db import get_db, utcnow
from assay.orgs.models import ApiKey, Organization, User, UserSession

_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@dataclass(frozen=True)
class Principal:
    org_id: int
    org_public_id: str
    org_name: str
    user_id: int
    email: str
    role: str
    is_test: bool
    callback_auth_key: str
    # how the caller came in, for the audit log: api_key, test_key, session or cli
    via: str = "api_key"


@dataclass(frozen=True)
class SessionInfo:
    """A live browser session: its row, the digest of its token, its CSRF token, and who."""

    id: int
    digest: str
    csrf: str
    principal: Principal


# ----------------------------------------------------------------------------- API keys

def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def generate_key(is_test: bool) -> str:
    return ("test_" if is_test else "live_") + secrets.token_hex(16)


def extract_key(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    scheme = scheme.lower()
    value = value.strip()
    if scheme == "bearer":
        return value or None
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        return decoded.split(":", 1)[0] or None
    return None


_keys: dict[str, tuple[float, Principal]] = {}
_sessions: dict[str, tuple[float, SessionInfo]] = {}
_cache_lock = threading.Lock()


def principal_for_key(key: str) -> Principal | None:
    digest = hash_key(key)
    now = time.monotonic()
    with _cache_lock:
        hit = _keys.get(digest)
        if hit and hit[0] > now:
            return hit[1]
    with get_db().read() as session:
        row = session.execute(
            select(ApiKey, User, Organization)
            .join(User, User.id == ApiKey.user_id)
            .join(Organization, Organization.id == ApiKey.org_id)
            .where(ApiKey.key_hash == digest, ApiKey.revoked_at.is_(None), User.active.is_(True))
        ).first()
    if row is None:
        return None
    key_row, user, org = row
    principal = Principal(org_id=org.id, org_public_id=org.public_id, org_name=org.name, user_id=user.id, email=user.email,
                          role=user.role, is_test=key_row.is_test, callback_auth_key=org.callback_auth_key,
                          via="test_key" if key_row.is_test else "api_key")
    with _cache_lock:
        if len(_keys) > 10000:
            _keys.clear()
        _keys[digest] = (now + get_settings().auth_cache_seconds, principal)
    return principal


# ----------------------------------------------------------------------------- sessions

def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def plausible_token(token: str | None) -> bool:
    return bool(token) and len(token) <= 100 and set(token) <= _TOKEN_CHARS


def session_for_token(token: str | None) -> SessionInfo | None:
    """The live session of a cookie token (unexpired, its user active), else None."""
    if not plausible_token(token):
        return None
    digest = token_digest(token)
    now = time.monotonic()
    with _cache_lock:
        hit = _sessions.get(digest)
        if hit and hit[0] > now:
            return hit[1]
    found = _load_session(digest)
    if found is None:
        return None
    info, expires_at = found
    until = now + min(get_settings().auth_cache_seconds, (expires_at - utcnow()).total_seconds())
    with _cache_lock:
        if len(_sessions) > 10000:
            _sessions.clear()
        _sessions[digest] = (until, info)
    return info


def _load_session(digest: str) -> tuple[SessionInfo, object] | None:
    s, u, o = UserSession.__table__.c, User.__table__.c, Organization.__table__.c
    with get_db().connect() as conn:
        row = conn.execute(
            select(s.id, s.csrf_token, s.expires_at, u.id.label("user_id"), u.email, u.role, o.id.label("org_id"), o.public_id, o.name,
                   o.callback_auth_key)
            .join(User, (u.id == s.user_id) & (u.org_id == s.org_id))
            .join(Organization, o.id == s.org_id)
            .where(s.token_hash == digest, s.expires_at > utcnow(), u.active.is_(True))
        ).first()
    if row is None:
        return None
    principal = Principal(org_id=row.org_id, org_public_id=row.public_id, org_name=row.name, user_id=row.user_id, email=row.email,
                          role=row.role, is_test=False, callback_auth_key=row.callback_auth_key, via="session")
    return SessionInfo(id=row.id, digest=digest, csrf=row.csrf_token, principal=principal), row.expires_at


# ----------------------------------------------------------------------------- forgetting

def forget_session(digest: str) -> None:
    with _cache_lock:
        _sessions.pop(digest, None)


def forget_user_sessions(user_id: int) -> None:
    with _cache_lock:
        for digest in [d for d, (_, info) in _sessions.items() if info.principal.user_id == user_id]:
            del _sessions[digest]


def forget_all() -> None:
    """Forget every cached key and session principal in this process (a deactivation or a
    role change applies at once here; other processes within ASSAY_AUTH_CACHE_SECONDS)."""
    with _cache_lock:
        _keys.clear()
        _sessions.clear()

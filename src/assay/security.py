"""Authentication: API keys (HTTP Basic with the key as username, or Bearer), stored as
SHA-256 digests; passwords with scrypt. Every request resolves to a `Principal` whose
`org_id` scopes every query the services run."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import select

from assay.db import get_db
from assay.errors import Forbidden, Unauthorized

KEY_CACHE_SECONDS = 5.0


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


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def generate_key(is_test: bool) -> str:
    return ("test_" if is_test else "live_") + secrets.token_hex(16)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str | None) -> bool:
    if not stored or not stored.startswith("scrypt$"):
        return False
    _, salt_hex, digest_hex = stored.split("$")
    digest = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt_hex), n=2**14, r=8, p=1)
    return hmac.compare_digest(digest.hex(), digest_hex)


_cache: dict[str, tuple[float, Principal]] = {}
_cache_lock = threading.Lock()


def clear_key_cache() -> None:
    with _cache_lock:
        _cache.clear()
        _user_cache.clear()


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


def principal_for_key(key: str) -> Principal | None:
    from assay.orgs.models import ApiKey, Organization, User

    digest = hash_key(key)
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(digest)
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
    principal = Principal(
        org_id=org.id,
        org_public_id=org.public_id,
        org_name=org.name,
        user_id=user.id,
        email=user.email,
        role=user.role,
        is_test=key_row.is_test,
        callback_auth_key=org.callback_auth_key,
    )
    with _cache_lock:
        if len(_cache) > 10000:
            _cache.clear()
        _cache[digest] = (now + KEY_CACHE_SECONDS, principal)
    return principal


_user_cache: dict[int, tuple[float, Principal | None]] = {}


def session_principal(user_id: int) -> Principal | None:
    """The principal of a session's user, cached like keys (deactivation applies within
    KEY_CACHE_SECONDS)."""
    from assay.sessions import principal_for_user

    now = time.monotonic()
    with _cache_lock:
        hit = _user_cache.get(user_id)
        if hit and hit[0] > now:
            return hit[1]
    principal = principal_for_user(user_id)
    with _cache_lock:
        if len(_user_cache) > 10000:
            _user_cache.clear()
        _user_cache[user_id] = (now + KEY_CACHE_SECONDS, principal)
    return principal


async def authenticate(request: Request) -> Principal:
    """FastAPI dependency: the caller's principal, or 401. Async on purpose: a sync
    dependency costs a thread-pool hop per request, and the key is almost always cached
    (a miss is one indexed SELECT).

    An API key wins; without one, a browser session cookie is accepted, and then an
    unsafe method must carry the session's CSRF token. Requests with a body were already
    authenticated by web.RequestGuard before their body was read: that principal is reused."""
    early = request.scope.get("state", {}).get("principal")
    if early is not None:
        return early
    key = extract_key(request.headers.get("authorization"))
    if key is None:
        from assay import sessions

        session = sessions.read_cookie(request.cookies.get(sessions.COOKIE))
        if session is not None:
            if request.method not in sessions.SAFE_METHODS and not sessions.csrf_ok(session["c"], request.headers.get("x-csrf-token")):
                raise Forbidden("CSRF check failed: send the page's csrf token in the X-CSRF-Token header", field="X-CSRF-Token")
            principal = session_principal(session["u"])
            if principal is not None:
                request.state.csrf_token = session["c"]
                return principal
        raise Unauthorized(
            "Unauthorized: send your API key as the HTTP Basic username (the scaleapi client does) or as a Bearer token"
        )
    principal = principal_for_key(key)
    if principal is None:
        raise Unauthorized("Unauthorized: this API key is not valid (unknown or revoked)")
    return principal

"""Authentication: API keys (HTTP Basic with the key as username, or Bearer), stored as
SHA-256 digests; passwords with scrypt. Every request resolves to a `Principal` whose
`org_id` scopes every query the services run."""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import functools
import hashlib
import hmac
import os
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
    """A scrypt hash (about 16 MiB and tens of milliseconds of CPU: call it off the event
    loop: see `run_password_work`)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


# Verified when there is no account to verify against, so an unknown e-mail costs the same
# scrypt work as a known one. A random salt and digest: no password matches it.
DUMMY_PASSWORD_HASH = f"scrypt${secrets.token_hex(16)}${secrets.token_hex(64)}"


def _scrypt_parts(stored: str | None) -> tuple[bytes, str] | None:
    """(salt, hex digest) of a well-formed scrypt hash, else None."""
    parts = stored.split("$") if stored else []
    if len(parts) != 3 or parts[0] != "scrypt":
        return None
    try:
        return bytes.fromhex(parts[1]), parts[2]
    except ValueError:
        return None


def verify_password(password: str, stored: str | None) -> bool:
    """Whether `password` matches `stored`. Always runs one scrypt: an account without a
    (well-formed) password is checked against the dummy hash and then refused, so it
    answers as slowly as any other."""
    parsed = _scrypt_parts(stored)
    salt, digest_hex = parsed or _scrypt_parts(DUMMY_PASSWORD_HASH)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return hmac.compare_digest(digest.hex(), digest_hex) and parsed is not None


# threads start on first use
_password_pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(2, (os.cpu_count() or 2) // 2), thread_name_prefix="assay-password")


async def run_password_work(fn, *args):
    """Run password hashing or verification (`fn(*args)`) off the event loop, where
    scrypt would stall every other request. Its own few threads: a burst of sign-ins
    queues there instead of taking the thread pool the synchronous handlers run in."""
    return await asyncio.get_running_loop().run_in_executor(_password_pool, functools.partial(fn, *args))


_cache: dict[str, tuple[float, Principal]] = {}
_cache_lock = threading.Lock()


def clear_key_cache() -> None:
    """Forget the cached principals of keys and sessions in this process."""
    from assay import sessions

    with _cache_lock:
        _cache.clear()
    sessions.forget_all()


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

        session = sessions.resolve(request.cookies.get(sessions.COOKIE))
        if session is not None:
            if request.method not in sessions.SAFE_METHODS and not sessions.csrf_ok(session.csrf, request.headers.get("x-csrf-token")):
                raise Forbidden("CSRF check failed: send the page's csrf token in the X-CSRF-Token header", field="X-CSRF-Token")
            request.state.csrf_token = session.csrf
            request.state.session = session
            return session.principal
        raise Unauthorized(
            "Unauthorized: send your API key as the HTTP Basic username (the scaleapi client does) or as a Bearer token"
        )
    principal = principal_for_key(key)
    if principal is None:
        raise Unauthorized("Unauthorized: this API key is not valid (unknown or revoked)")
    return principal

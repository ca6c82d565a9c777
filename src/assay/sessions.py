"""Browser sessions and sign-in throttling.

A sign-in stores one `user_sessions` row: the SHA-256 digest of a random token, the
session's CSRF token and its expiry. The cookie carries only the token. Pages put the
CSRF token in a <meta> tag and in every form; unsafe requests authenticated by the cookie
must echo it (header `X-CSRF-Token` or form field `csrf_token`). API keys are not cookies
and need no token.

A session ends when its row is deleted: logout deletes it, a password change or a
deactivation deletes all of the user's rows. The principal behind a token is cached in
the process for at most `security.KEY_CACHE_SECONDS`; this process forgets its entries
at once on logout and revocation, other processes (`--workers`, the CLI) within that
bound.

Sign-ins are rate-limited with the `limits` package, in memory (so per process):
failed attempts per account (the e-mail, known or not) and attempts per client address.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import math
import secrets
import threading
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from assay.config import get_settings
from assay.db import get_db, utcnow

COOKIE = "assay_session"
# Before login there is no session; the login form's token lives in its own cookie.
LOGIN_CSRF_COOKIE = "assay_login_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@dataclass(frozen=True)
class SessionInfo:
    id: int
    digest: str
    csrf: str
    principal: object  # security.Principal


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_ok(expected: str, given: str | None) -> bool:
    return isinstance(given, str) and bool(given) and hmac.compare_digest(expected.encode(), given.encode())


# ----------------------------------------------------------------------------- cookies

def cookie_secure() -> bool:
    """Cookies are `Secure` when the server is reached over https (ASSAY_PUBLIC_URL)."""
    return get_settings().public_url.strip().lower().startswith("https://")


def set_cookie(response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="lax", secure=cookie_secure())


def delete_cookie(response, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, samesite="lax", secure=cookie_secure())


def set_session_cookie(response, token: str) -> None:
    set_cookie(response, COOKIE, token, int(get_settings().session_hours * 3600))


# ----------------------------------------------------------------------------- the table

def client_address(request) -> str:
    """The client's address as uvicorn reports it (behind a proxy listed in uvicorn's
    FORWARDED_ALLOW_IPS, the X-Forwarded-For client; else the connecting peer)."""
    return request.client.host if request.client else ""


def client_details(request) -> tuple[str, str]:
    return client_address(request), request.headers.get("user-agent", "")


def create(session: Session, user, address: str = "", user_agent: str = "", csrf: str | None = None,
           replaces: str | None = None) -> tuple[str, str]:
    """Store a new session of `user` in the caller's transaction; (cookie token, CSRF
    token). The session of the cookie it `replaces` (a browser signing in again) ends, and
    expired sessions of everyone are deleted on the way (an indexed range)."""
    from assay.orgs.models import UserSession

    now = utcnow()
    session.execute(delete(UserSession).where(UserSession.expires_at <= now))
    if _plausible(replaces):
        digest = token_digest(replaces)
        session.execute(delete(UserSession).where(UserSession.token_hash == digest))
        with _cache_lock:
            _cache.pop(digest, None)
    token = secrets.token_urlsafe(32)
    csrf = csrf or secrets.token_urlsafe(24)
    session.add(UserSession(org_id=user.org_id, user_id=user.id, token_hash=token_digest(token), csrf_token=csrf, created_at=now,
                            expires_at=now + timedelta(hours=get_settings().session_hours), address=(address or "")[:64],
                            user_agent=(user_agent or "")[:300]))
    session.flush()
    return token, csrf


def _plausible(token: str | None) -> bool:
    return bool(token) and len(token) <= 100 and set(token) <= _TOKEN_CHARS


_cache: dict[str, tuple[float, SessionInfo]] = {}
_cache_lock = threading.Lock()


def resolve(token: str | None) -> SessionInfo | None:
    """The live session of a cookie token (unexpired, its user active), else None. Cached
    for at most KEY_CACHE_SECONDS; a miss is one indexed SELECT."""
    from assay.security import KEY_CACHE_SECONDS

    if not _plausible(token):
        return None
    digest = token_digest(token)
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(digest)
        if hit and hit[0] > now:
            return hit[1]
    found = _load(digest)
    if found is None:
        return None
    info, expires_at = found
    until = now + min(KEY_CACHE_SECONDS, (expires_at - utcnow()).total_seconds())
    with _cache_lock:
        if len(_cache) > 10000:
            _cache.clear()
        _cache[digest] = (until, info)
    return info


def _load(digest: str):
    from assay.orgs.models import Organization, User, UserSession
    from assay.security import Principal

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
                          role=row.role, is_test=False, callback_auth_key=row.callback_auth_key)
    return SessionInfo(id=row.id, digest=digest, csrf=row.csrf_token, principal=principal), row.expires_at


def end(token: str | None) -> None:
    """Logout: delete the session of this cookie token (if any) and forget it here."""
    from assay.orgs.models import UserSession

    if not _plausible(token):
        return
    digest = token_digest(token)
    with get_db().write() as session:
        session.execute(delete(UserSession).where(UserSession.token_hash == digest))
    with _cache_lock:
        _cache.pop(digest, None)


def revoke_user(session: Session, user_id: int) -> None:
    """Delete every session of a user, in the caller's transaction (password change,
    deactivation), and forget them in this process."""
    from assay.orgs.models import UserSession

    session.execute(delete(UserSession).where(UserSession.user_id == user_id))
    forget_user(user_id)


def forget_user(user_id: int) -> None:
    with _cache_lock:
        for digest in [d for d, (_, info) in _cache.items() if info.principal.user_id == user_id]:
            del _cache[digest]


def forget_all() -> None:
    with _cache_lock:
        _cache.clear()


# ----------------------------------------------------------------------------- sign-in throttling

@lru_cache(maxsize=1)
def _limiter() -> MovingWindowRateLimiter:
    """The process's counters (made on first use: CLI commands never need them)."""
    return MovingWindowRateLimiter(MemoryStorage())


@lru_cache(maxsize=8)
def _limit(text: str) -> RateLimitItem:
    return parse(text)


def _retry_after(item: RateLimitItem, *key: str) -> int:
    """Seconds until the moving window lets the next attempt through (at least 1)."""
    reset = _limiter().get_window_stats(item, *key).reset_time
    return max(1, math.ceil(reset - time.time()))


def address_attempt(address: str) -> int | None:
    """Count a sign-in attempt from this client address; None when it may proceed, else
    the seconds to wait."""
    item = _limit(get_settings().login_address_limit)
    if _limiter().hit(item, "login-address", address):
        return None
    return _retry_after(item, "login-address", address)


def account_key(email) -> str:
    return email.strip().lower()[:320] if isinstance(email, str) else ""


def account_locked(account: str) -> int | None:
    """None when this account may try again, else the seconds to wait (too many failures)."""
    item = _limit(get_settings().login_account_limit)
    if _limiter().test(item, "login-account", account):
        return None
    return _retry_after(item, "login-account", account)


def account_failed(account: str) -> None:
    _limiter().hit(_limit(get_settings().login_account_limit), "login-account", account)


_gates: dict[str, list] = {}


@asynccontextmanager
async def account_gate(account: str):
    """One sign-in at a time per account in this process, so concurrent guesses cannot all
    pass the failure check before the first of them is counted."""
    gate = _gates.setdefault(account, [asyncio.Lock(), 0])
    gate[1] += 1
    try:
        async with gate[0]:
            yield
    finally:
        gate[1] -= 1
        if gate[1] == 0:
            _gates.pop(account, None)

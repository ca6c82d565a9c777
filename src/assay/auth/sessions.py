"""Browser sessions.

A sign-in stores one `user_sessions` row: the SHA-256 digest of a random token, the
session's CSRF token and its expiry. The cookie carries only the token. Pages put the
CSRF token in a <meta> tag and in every form; unsafe requests authenticated by the cookie
must echo it (header `X-CSRF-Token` or form field `csrf_token`). API keys are not cookies
and need no token.

A session ends when its row is deleted: logout deletes it, a password change or a
deactivation deletes all of the user's rows. The principal behind a token is cached in
the process for at most ASSAY_AUTH_CACHE_SECONDS; this process forgets its entries
at once on logout and revocation, other processes (`--workers`, the CLI) within that
bound. Resolving a cookie to its principal is `principals.session_for_token`.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from assay.auth.principals import forget_session, forget_user_sessions, plausible_token, token_digest
from assay.config import get_settings
from assay.db import get_db, utcnow
from assay.orgs.models import UserSession

COOKIE = "assay_session"
# Before login there is no session; the login form's token lives in its own cookie.
LOGIN_CSRF_COOKIE = "assay_login_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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
    now = utcnow()
    session.execute(delete(UserSession).where(UserSession.expires_at <= now))
    if plausible_token(replaces):
        digest = token_digest(replaces)
        session.execute(delete(UserSession).where(UserSession.token_hash == digest))
        forget_session(digest)
    token = secrets.token_urlsafe(32)
    csrf = csrf or secrets.token_urlsafe(24)
    session.add(UserSession(org_id=user.org_id, user_id=user.id, token_hash=token_digest(token), csrf_token=csrf, created_at=now,
                            expires_at=now + timedelta(hours=get_settings().session_hours), address=(address or "")[:64],
                            user_agent=(user_agent or "")[:300]))
    session.flush()
    return token, csrf


def end(token: str | None) -> None:
    """Logout: delete the session of this cookie token (if any) and forget it here."""
    if not plausible_token(token):
        return
    digest = token_digest(token)
    with get_db().write() as session:
        session.execute(delete(UserSession).where(UserSession.token_hash == digest))
    forget_session(digest)


def revoke_user(session: Session, user_id: int) -> None:
    """Delete every session of a user, in the caller's transaction (password change,
    deactivation), and forget them in this process."""
    session.execute(delete(UserSession).where(UserSession.user_id == user_id))
    forget_user_sessions(user_id)

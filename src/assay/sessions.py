"""Browser sessions: a signed cookie naming the user, with a CSRF token inside.

The cookie is `base64(json).hmac` signed with the server's secret key; it carries the
user id, an expiry and a random CSRF token. Pages put the token in a <meta> tag and in
every form; unsafe requests authenticated by the cookie must echo it (header
`X-CSRF-Token` or form field `csrf_token`). API keys are not cookies and need no token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

import orjson
from sqlalchemy import select

from assay.config import get_settings
from assay.db import get_db

COOKIE = "assay_session"
# Before login there is no session; the login form's token lives in its own cookie.
LOGIN_CSRF_COOKIE = "assay_login_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _sign(payload: bytes) -> str:
    key = get_settings().effective_secret_key.encode()
    return hmac.new(key, b"session:" + payload, hashlib.sha256).hexdigest()


def make_cookie(user_id: int) -> tuple[str, str]:
    """A new session cookie value and its CSRF token."""
    csrf = secrets.token_urlsafe(24)
    expires = int(time.time() + get_settings().session_hours * 3600)
    payload = base64.urlsafe_b64encode(orjson.dumps({"u": user_id, "e": expires, "c": csrf}))
    return f"{payload.decode()}.{_sign(payload)}", csrf


def read_cookie(value: str | None) -> dict | None:
    """The session dict {u, e, c} of a well-signed, unexpired cookie, else None."""
    if not value or "." not in value:
        return None
    payload, _, signature = value.rpartition(".")
    if not hmac.compare_digest(_sign(payload.encode()), signature):
        return None
    try:
        data = orjson.loads(base64.urlsafe_b64decode(payload.encode()))
    except (ValueError, orjson.JSONDecodeError):
        return None
    if not isinstance(data, dict) or data.get("e", 0) < time.time():
        return None
    return data


def csrf_ok(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), given.encode())


def principal_for_user(user_id: int):
    """The Principal of an active user (sessions are always live mode)."""
    from assay.orgs.models import Organization, User
    from assay.security import Principal

    with get_db().connect() as conn:
        row = conn.execute(
            select(User.__table__.c.id, User.email, User.role, Organization.__table__.c.id.label("org_id"), Organization.public_id,
                   Organization.name, Organization.callback_auth_key)
            .join(Organization, Organization.id == User.org_id)
            .where(User.id == user_id, User.active.is_(True))
        ).first()
    if row is None:
        return None
    return Principal(org_id=row.org_id, org_public_id=row.public_id, org_name=row.name, user_id=row.id, email=row.email,
                     role=row.role, is_test=False, callback_auth_key=row.callback_auth_key)

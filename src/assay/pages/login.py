"""Signing in and out. The login form has its own CSRF cookie (there is no session yet);
sign-ins are throttled per client address and per account (auth/throttle.py); the
password work runs off the event loop."""

from __future__ import annotations

import math
import secrets

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from assay.audit.log import record
from assay.auth import sessions, throttle
from assay.auth.passwords import run_password_work
from assay.auth.principals import session_for_token
from assay.db import get_db
from assay.orgs.service import authenticate_password
from assay.pages.render import render

router = APIRouter(include_in_schema=False)


def _safe_next(value: str | None) -> str:
    # only same-site paths: never an open redirect to another host
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


# ----------------------------------------------------------------------------- login

@router.get("/login")
def login_page(request: Request, next: str = "/"):
    token = request.cookies.get(sessions.LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    request.state.csrf_token = token
    response = render("login.html", request, next=_safe_next(next), error=None)
    sessions.set_cookie(response, sessions.LOGIN_CSRF_COOKIE, token, 3600)
    return response


def _too_many(request: Request, target: str, email: str, retry_after: int, reason: str) -> HTMLResponse:
    minutes = math.ceil(retry_after / 60)
    wait = f"{retry_after} seconds" if retry_after < 120 else f"{minutes} minutes"
    response = render("login.html", request, status_code=429, next=target, email=email,
                      error=f"Too many sign-in attempts {reason}. Try again in {wait}.")
    response.headers["Retry-After"] = str(retry_after)
    return response


def _sign_in(email: str, password: str, address: str, user_agent: str, previous: str | None) -> str | None:
    """Blocking: check the password (scrypt) and store a session in place of the browser's
    previous one; the new cookie token, or None."""
    with get_db().read() as session:
        user = authenticate_password(session, email, password)
    if user is None:
        return None
    with get_db().write() as session:
        token = sessions.create(session, user, address, user_agent, replaces=previous)[0]
        record(session, None, "session.sign_in", "user", user.id, {"user_agent": user_agent[:200]}, user=user, address=address)
        return token


@router.post("/login")
async def login_submit(request: Request):
    """Sign in. Refused with 429 (and Retry-After) while the client address has made too
    many attempts or the account has failed too often, even with the right password. The
    password work runs off the event loop."""
    form = await request.form()
    token = request.cookies.get(sessions.LOGIN_CSRF_COOKIE) or ""
    request.state.csrf_token = token
    target = _safe_next(form.get("next"))
    if not token or not sessions.csrf_ok(token, form.get("csrf_token")):
        return render("login.html", request, status_code=403, next=target, error="The form expired; please sign in again.")
    email = form.get("email") if isinstance(form.get("email"), str) else ""
    password = form.get("password") if isinstance(form.get("password"), str) else ""
    address, user_agent = sessions.client_details(request)
    wait = throttle.address_attempt(address)
    if wait:
        return _too_many(request, target, email, wait, "from your address")
    account = throttle.account_key(email)
    async with throttle.account_gate(account):
        wait = throttle.account_locked(account)
        if wait:
            return _too_many(request, target, email, wait, "for this account")
        cookie = await run_password_work(_sign_in, email, password, address, user_agent, request.cookies.get(sessions.COOKIE))
        if cookie is None:
            throttle.account_failed(account)
            return render("login.html", request, status_code=401, next=target, error="Wrong e-mail or password.", email=email)
    response = RedirectResponse(target, status_code=303)
    sessions.set_session_cookie(response, cookie)
    sessions.delete_cookie(response, sessions.LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
async def logout(request: Request):
    """Sign out: the session's row is deleted, so a copy of the cookie is worthless too."""
    token = request.cookies.get(sessions.COOKIE)
    session = await run_in_threadpool(session_for_token, token)
    form = await request.form()
    if session is not None and not sessions.csrf_ok(session.csrf, form.get("csrf_token")):
        return Response("CSRF check failed", status_code=403)
    await run_in_threadpool(sessions.end, token)
    response = RedirectResponse("/login", status_code=303)
    sessions.delete_cookie(response, sessions.COOKIE)
    return response

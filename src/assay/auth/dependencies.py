"""FastAPI dependencies that resolve a request to its `Principal` (401 when they cannot).
What the principal may then do is each route's `authorize(...)` call."""

from __future__ import annotations

from fastapi import Depends, Request

from assay.auth import sessions
from assay.auth.principals import Principal, extract_key, principal_for_key, session_for_token
from assay.errors import Forbidden, Unauthorized


async def authenticate(request: Request) -> Principal:
    """The caller's principal, or 401. Async on purpose: a sync dependency costs a
    thread-pool hop per request, and the key is almost always cached (a miss is one
    indexed SELECT).

    An API key wins; without one, a browser session cookie is accepted, and then an
    unsafe method must carry the session's CSRF token. Requests with a body were already
    authenticated by web.RequestGuard before their body was read: that principal is reused."""
    early = request.scope.get("state", {}).get("principal")
    if early is not None:
        return early
    key = extract_key(request.headers.get("authorization"))
    if key is None:
        session = session_for_token(request.cookies.get(sessions.COOKIE))
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


CallerDep = Depends(authenticate)

"""Who may do what. One small policy per resource; handlers call these after loading.

Rows are always loaded with the caller's org_id in the WHERE clause, so a row of another
organization is simply not found (404); policies decide by role."""

from __future__ import annotations

from fastapi import Depends

from assay.errors import Forbidden
from assay.security import Principal, authenticate

TASK_API_ROLES = ("admin", "customer")
LABELER_ROLES = ("admin", "reviewer", "annotator")


def require_task_api(principal: Principal) -> None:
    """The Scale-compatible /v1 API is for customers and admins."""
    if principal.role not in TASK_API_ROLES:
        raise Forbidden(f"role {principal.role!r} cannot use the task API; it needs an admin or customer key")


def require_labeler(principal: Principal) -> None:
    """Recording an answer needs a labeler (annotator/reviewer) or an admin."""
    if principal.role not in LABELER_ROLES:
        raise Forbidden(f"role {principal.role!r} cannot submit answers; it needs an annotator, reviewer or admin key")


def require_admin(principal: Principal) -> None:
    if principal.role != "admin":
        raise Forbidden(f"role {principal.role!r} cannot manage the organization; it needs an admin key")


def require_live_key(principal: Principal) -> None:
    """Test keys see test data only: the native API over people's work (labeling, review,
    quality, models, label errors, members, users) is live data, so they get 403 there."""
    if principal.is_test:
        raise Forbidden("a test key sees test data only, and this endpoint covers live work; use a live key", field="authorization")


async def live_principal(principal: Principal = Depends(authenticate)) -> Principal:
    """FastAPI dependency: the caller, refused when they use a test key."""
    require_live_key(principal)
    return principal

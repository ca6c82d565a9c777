"""One door for authorization, after Argilla's server: every route loads what it acts on
(rows of other organizations are never loaded: every query filters on `org_id`, so they
are 404), then calls `authorize(principal, rule, ...)` with rules from the resource's
policy module (`<domain>/policies.py`). A rule returns the reason to refuse, or None.
tests/test_policies.py fails when a route does not call `authorize`."""

from __future__ import annotations

from typing import Callable

from assay.auth.principals import Principal
from assay.errors import Forbidden
from assay.orgs.models import TASK_API_ROLES, Role

Rule = Callable[[Principal], "str | None"]


def authorize(principal: Principal, *rules: Rule) -> None:
    for rule in rules:
        reason = rule(principal)
        if reason is not None:
            raise Forbidden(reason)


# ----------------------------------------------------------------------------- rules every policy uses

def any_caller(_principal: Principal) -> str | None:
    """Anyone signed in (their own identity, their home page)."""
    return None


def task_api(principal: Principal) -> str | None:
    """The Scale-compatible task API is for customers and admins."""
    if principal.role not in TASK_API_ROLES:
        return f"role {principal.role!r} cannot use the task API; it needs an admin or customer key"
    return None


def admin(principal: Principal) -> str | None:
    if principal.role != Role.ADMIN:
        return f"role {principal.role!r} cannot manage the organization; it needs an admin key"
    return None


def live(principal: Principal) -> str | None:
    """Test keys see test data only: the native API over people's work (labeling, review,
    quality, models, label errors, members, users) is live data."""
    if principal.is_test:
        return "a test key sees test data only, and this endpoint covers live work; use a live key"
    return None


def all_of(*rules: Rule) -> Rule:
    """The first refusal of several rules, checked in order."""
    def rule(principal: Principal) -> str | None:
        for each in rules:
            reason = each(principal)
            if reason is not None:
                return reason
        return None
    return rule


def roles(allowed: tuple[str, ...], doing: str) -> Rule:
    def rule(principal: Principal) -> str | None:
        if principal.role not in allowed:
            return f"role {principal.role!r} cannot {doing}"
        return None
    return rule

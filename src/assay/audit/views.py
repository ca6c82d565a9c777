"""`GET /api/audit`: the organization's audit log (admins), newest first, filtered; the
JSON twin of the /admin/audit page."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from assay.audit.policies import AuditPolicy
from assay.audit.service import audit_filter, page_of_events
from assay.auth.dependencies import authenticate
from assay.auth.principals import Principal
from assay.authz import authorize
from assay.db import get_db
from assay.web import JSON, JSONRoute, parse_int

native = APIRouter(prefix="/api", route_class=JSONRoute)


@native.get("/audit")
def audit_log(request: Request, principal: Principal = Depends(authenticate)):
    """Query: `action` (or a prefix such as `member`), `actor` (e-mail), `target_id`,
    `since`, `until` (ISO-8601), `limit` (1-500), `before` (the `next_before` of the
    previous page)."""
    authorize(principal, AuditPolicy.view)
    query = request.query_params
    where = audit_filter(query)
    limit = parse_int(query.get("limit"), "limit", default=100, lo=1, hi=500)
    before = parse_int(query.get("before"), "before", default=0, lo=0, hi=2**63 - 1) or None
    with get_db().read() as session:
        events, next_before = page_of_events(session, principal.org_id, where, before, limit)
    return JSON({"events": events, "next_before": next_before})

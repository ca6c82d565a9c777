"""The audit log is an admin's, read with a live key."""

from __future__ import annotations

from assay.authz import Rule, admin, all_of, live


class AuditPolicy:
    view: Rule = staticmethod(all_of(admin, live))

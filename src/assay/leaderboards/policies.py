"""Who may see model leaderboards: admins and customers (they own the data), on live work."""

from __future__ import annotations

from assay.authz import Rule, all_of, live, roles
from assay.orgs.models import Role


class LeaderboardPolicy:
    view: Rule = staticmethod(all_of(live, roles((Role.ADMIN, Role.CUSTOMER), "see model leaderboards; it needs an admin or customer account")))

"""Who may manage people's skills, rates and budgets (admins, live keys), read timesheets,
payouts and exposure (the same), and change their own opt-out (anyone, for themselves)."""

from __future__ import annotations

from assay.auth.principals import Principal
from assay.authz import Rule, admin, all_of, live


class PeoplePolicy:
    manage: Rule = staticmethod(all_of(admin, live))

    @staticmethod
    def own_wellbeing(user_id: int) -> Rule:
        def rule(principal: Principal) -> str | None:
            if principal.user_id == user_id:
                return None
            return admin(principal)
        return all_of(live, rule)

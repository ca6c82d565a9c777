"""Who may do what with projects. The Scale-compatible project API is for customers and
admins; settings, members and gold items are an admin's, on live work; the quality report
is for admins and customers (they own the data) and reviewers who are members."""

from __future__ import annotations

from assay.auth.principals import Principal
from assay.authz import Rule, admin, all_of, live, roles, task_api
from assay.orgs.models import Role

QUALITY_ROLES = (Role.ADMIN, Role.CUSTOMER, Role.REVIEWER)


class ProjectPolicy:
    use_api: Rule = staticmethod(task_api)
    manage: Rule = staticmethod(all_of(admin, live))
    add_gold: Rule = staticmethod(all_of(task_api, live))

    @staticmethod
    def view_quality(is_member: bool, project_name: str) -> Rule:
        def member_if_reviewer(principal: Principal) -> str | None:
            if principal.role == Role.REVIEWER and not is_member:
                return f"you are not a member of project {project_name!r}; ask an admin to add you"
            return None
        return all_of(live, roles(QUALITY_ROLES, "see project quality; it needs an admin, reviewer or customer account"),
                      member_if_reviewer)

"""Who may do what with tasks. The Scale-compatible API is for customers and admins; the
task page (every labeler's answer) for admins and customers of the organization, reviewers
of the task's project, and annotators who were assigned the task; sending a finished task
back is a lead's decision on live work."""

from __future__ import annotations

from assay.auth.principals import Principal
from assay.authz import Rule, admin, all_of, live, task_api
from assay.orgs.models import Role


class TaskPolicy:
    use_api: Rule = staticmethod(task_api)
    export: Rule = staticmethod(task_api)
    send_back: Rule = staticmethod(all_of(admin, live))
    # the task browser and its bulk actions: a lead's, over live work
    browse: Rule = staticmethod(all_of(admin, live))

    @staticmethod
    def read_detail(is_member: bool, was_assigned: bool) -> Rule:
        def rule(principal: Principal) -> str | None:
            if principal.role in (Role.ADMIN, Role.CUSTOMER):
                return None
            if not is_member:
                return "you are not a member of this task's project"
            if principal.role == Role.ANNOTATOR and not was_assigned:
                return "this task was not assigned to you"
            return None
        return rule

"""People and keys: an admin manages the organization's accounts (with a live key);
everyone may see who they are; the Scale team listing is part of the task API."""

from __future__ import annotations

from assay.authz import Rule, admin, all_of, any_caller, live, task_api


class UserPolicy:
    me: Rule = staticmethod(any_caller)
    manage: Rule = staticmethod(all_of(admin, live))


class TeamPolicy:
    list: Rule = staticmethod(task_api)

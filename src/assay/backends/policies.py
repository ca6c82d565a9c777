"""A project's model backend: admins and customers see its state and the label-error
suspects; admins attach, change, run and scan it. All of it is live work."""

from __future__ import annotations

from assay.authz import Rule, admin, all_of, live, task_api


class ModelPolicy:
    view: Rule = staticmethod(all_of(task_api, live))
    change: Rule = staticmethod(all_of(admin, live))

"""Who may export: customers and admins (the task API's roles). A test key exports the
tasks made with test keys, a live key the live ones (and its test ones when asked)."""

from __future__ import annotations

from assay.authz import Rule, task_api


class ExportPolicy:
    export: Rule = staticmethod(task_api)

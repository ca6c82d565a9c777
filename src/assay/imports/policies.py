"""Who may import: customers and admins (the task API's roles); gold items are live work
(as ProjectPolicy.add_gold)."""

from __future__ import annotations

from assay.authz import Rule, all_of, live, task_api


class ImportPolicy:
    import_tasks: Rule = staticmethod(task_api)
    import_gold: Rule = staticmethod(all_of(task_api, live))

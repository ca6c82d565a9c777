"""Batches are part of the Scale-compatible task API: customers and admins."""

from __future__ import annotations

from assay.authz import Rule, task_api


class BatchPolicy:
    use_api: Rule = staticmethod(task_api)

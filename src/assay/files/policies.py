"""Uploads are part of the Scale-compatible task API (customers and admins). Downloads need
no principal: a signed link is its own authorization (files/references.py)."""

from __future__ import annotations

from assay.authz import Rule, task_api


class FilePolicy:
    upload: Rule = staticmethod(task_api)

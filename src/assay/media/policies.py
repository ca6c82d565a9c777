"""Previews and tiles are read through the file's signed link (the signature is the
authorization, as for the file itself: files/policies.py). The labeling assists act on
the task of an assignment the caller holds."""

from __future__ import annotations

from assay.authz import Rule
from assay.queue.policies import QueuePolicy


class MediaPolicy:
    # GrabCut and tracker assists work on a task the caller is labeling or reviewing
    assist = staticmethod(QueuePolicy.work)

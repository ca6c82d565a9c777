"""Previews, tiles and video frames are read through the file's signed link (the signature
is the authorization, as for the file itself: files/policies.py). The labeling assists
(GrabCut, trackers, mask uploads) act on the task of an assignment the caller holds: any
live principal, the query scoped to the caller's own assignments. The masks of a task's
answer are read like the task through the API."""

from __future__ import annotations

from assay.authz import Rule, live, task_api


class MediaPolicy:
    assist: Rule = staticmethod(live)
    read_masks: Rule = staticmethod(task_api)

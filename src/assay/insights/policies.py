"""Who may see the lead's overview: progress, charts and slices are admins' (live keys);
a project's charts and slices also its customers and reviewers who are members, like the
quality report."""

from __future__ import annotations

from assay.authz import Rule, admin, all_of, live
from assay.projects.policies import ProjectPolicy


class InsightsPolicy:
    overview: Rule = staticmethod(all_of(admin, live))
    view_project = staticmethod(ProjectPolicy.view_quality)

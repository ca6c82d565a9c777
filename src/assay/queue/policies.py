"""Who may work in a project's queue. Labeling: annotators, reviewers and admins;
reviewing: reviewers and admins. Everyone but admins must be a member of the project.
(Other organizations' projects are never loaded: the caller gets 404 before this.)"""

from __future__ import annotations

from assay.errors import Forbidden
from assay.security import Principal

REVIEW_ROLES = ("admin", "reviewer")
LABEL_ROLES = ("admin", "reviewer", "annotator")


def require_queue_access(principal: Principal, project_name: str, is_member: bool, *, review: bool) -> None:
    if principal.role not in (REVIEW_ROLES if review else LABEL_ROLES):
        raise Forbidden(f"role {principal.role!r} cannot {'review' if review else 'label'} tasks")
    if principal.role != "admin" and not is_member:
        raise Forbidden(f"you are not a member of project {project_name!r}; ask an admin to add you")

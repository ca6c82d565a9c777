"""Who may work in a project's queue. Labeling: annotators, reviewers and admins;
reviewing: reviewers and admins. Everyone but admins must be a member of the project;
a paused member gets no work, and a project's qualification comes before real work.
Labeling is live work: test keys are refused. (Other organizations' projects are never
loaded: the caller gets 404 before this.) `project` is the row `queue.service.access`
loads: the project with the caller's membership facts."""

from __future__ import annotations

from assay.auth.principals import Principal
from assay.authz import Rule, all_of, live, roles
from assay.orgs.models import LABELER_ROLES, REVIEWER_ROLES, Role


def _member(project) -> Rule:
    def rule(principal: Principal) -> str | None:
        if principal.role != Role.ADMIN and not project.is_member:
            return f"you are not a member of project {project.name!r}; ask an admin to add you"
        return None
    return rule


def _not_paused(project) -> Rule:
    def rule(_principal: Principal) -> str | None:
        if project.paused_reason is not None:
            return f"You are paused in project {project.name!r}: {project.paused_reason}. A project lead can reinstate you."
        return None
    return rule


def _qualified(project) -> Rule:
    def rule(principal: Principal) -> str | None:
        if principal.role != Role.ADMIN and project.qualifying:
            return (f"Project {project.name!r} asks for {project.qualification_size} qualification answers first; "
                    "take them from the labeling queue (next)")
        return None
    return rule


class QueuePolicy:
    @staticmethod
    def work() -> Rule:
        """The labeling API at all (home page, leases, submissions of one's own assignments)."""
        return live

    @staticmethod
    def label(project) -> Rule:
        return all_of(live, roles(LABELER_ROLES, "label tasks"), _member(project))

    @staticmethod
    def review(project) -> Rule:
        return all_of(live, roles(REVIEWER_ROLES, "review tasks"), _member(project))

    @staticmethod
    def answer(project) -> Rule:
        """Answering a task outside the page's queue (the native answers endpoint) obeys the
        same rules as `next` + `submit`, and the pause and qualification that `next` applies."""
        return all_of(live, roles(LABELER_ROLES, "submit answers; it needs an annotator, reviewer or admin key"), _member(project),
                      _not_paused(project), _qualified(project))

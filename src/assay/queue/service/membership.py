"""Who labels a project: members, added and removed by an admin (a removed member's leases
go back at once), paused automatically when their gold accuracy falls below the project's
threshold, and reinstated by a lead."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from assay.audit.log import record
from assay.auth.principals import Principal
from assay.db import utcnow
from assay.errors import NotFound, field_error
from assay.orgs.models import Role, User
from assay.projects.models import Project
from assay.queue.models import ProjectMember
from assay.queue.service.leases import release_leases
from assay.tasks.consolidation import labeler_accuracy
from assay.tasks.models import LabelerStats

# Gold answers a labeler gives before a low score can pause them.
MIN_GOLD_FOR_PAUSE = 3


def add_member(session: Session, principal: Principal, project: Project, email: str) -> None:
    user = session.scalar(select(User).where(User.org_id == principal.org_id, User.email == email.strip().lower()))
    if user is None:
        raise field_error("email", f"no user {email!r} in this organization")
    if user.role == Role.CUSTOMER:
        raise field_error("email", f"{email!r} is a customer account; only annotators, reviewers and admins label")
    exists = session.scalar(select(ProjectMember.user_id).where(ProjectMember.project_id == project.id, ProjectMember.user_id == user.id))
    if exists is None:
        session.add(ProjectMember(project_id=project.id, user_id=user.id, org_id=principal.org_id))
        session.flush()


def remove_member(session: Session, principal: Principal, project: Project, user_id: int) -> None:
    """Removes the member; their unfinished leases go back to the queue at once."""
    removed = session.execute(delete(ProjectMember).where(ProjectMember.project_id == project.id, ProjectMember.user_id == user_id,
                                                          ProjectMember.org_id == principal.org_id)).rowcount
    if not removed:
        raise NotFound("That user is not a member of this project.", field="user_id")
    release_leases(session, project.id, user_id)


def members_json(session: Session, project: Project) -> list[dict[str, Any]]:
    """The project's members with their pause and gold record (the settings page)."""
    members = session.execute(
        select(User.id, User.email, User.name, User.role, User.active, ProjectMember.paused_at, ProjectMember.paused_reason,
               LabelerStats.gold_answered, LabelerStats.gold_correct)
        .join(ProjectMember, ProjectMember.user_id == User.id)
        .outerjoin(LabelerStats, (LabelerStats.project_id == ProjectMember.project_id) & (LabelerStats.user_id == User.id))
        .where(ProjectMember.project_id == project.id).order_by(User.email)
    ).all()
    return [{"id": m.id, "email": m.email, "name": m.name, "role": m.role, "active": m.active, "paused": m.paused_at is not None,
             "paused_reason": m.paused_reason, "gold_answered": m.gold_answered or 0, "gold_correct": m.gold_correct or 0}
            for m in members]


def pause_if_below(session: Session, project_id: int, user_id: int) -> None:
    """After a gold answer: pause the labeler in the project when their smoothed gold
    accuracy is below the project's threshold (once they answered enough gold)."""
    project = session.get(Project, project_id)
    if not project.pause_below:
        return
    stats = session.execute(select(LabelerStats).where(LabelerStats.project_id == project.id, LabelerStats.user_id == user_id)).scalar()
    if stats is None or stats.gold_answered < max(project.qualification_size, MIN_GOLD_FOR_PAUSE):
        return
    accuracy = labeler_accuracy(stats)
    if accuracy < project.pause_below:
        reason = (f"gold accuracy {accuracy:.0%} (smoothed; {stats.gold_correct} of {stats.gold_answered} correct) "
                  f"is below the project's {project.pause_below:.0%}")
        session.execute(update(ProjectMember).where(ProjectMember.project_id == project.id, ProjectMember.user_id == user_id,
                                                    ProjectMember.paused_at.is_(None)).values(paused_at=utcnow(), paused_reason=reason))
        release_leases(session, project.id, user_id)
        record(session, None, "member.pause", "project", project.public_id, {"user_id": user_id, "reason": reason}, org_id=project.org_id)


def reinstate(session: Session, principal: Principal, project: Project, user_id: int) -> None:
    """A lead lifts a pause; the labeler's gold record in the project starts afresh."""
    done = session.execute(update(ProjectMember).where(ProjectMember.project_id == project.id, ProjectMember.user_id == user_id,
                                                       ProjectMember.org_id == principal.org_id)
                           .values(paused_at=None, paused_reason=None)).rowcount
    if not done:
        raise NotFound("That user is not a member of this project.", field="user_id")
    session.execute(update(LabelerStats).where(LabelerStats.project_id == project.id, LabelerStats.user_id == user_id)
                    .values(gold_answered=0, gold_correct=0))


def is_member(session: Session, project: Project, user_id: int) -> bool:
    return session.scalar(select(ProjectMember.user_id).where(ProjectMember.project_id == project.id,
                                                              ProjectMember.user_id == user_id)) is not None

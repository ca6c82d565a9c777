"""Who may be served what, beyond membership: a project's skill requirement (tasks carry
their own, checked inside the claim statement), flagged content — never for people
who opted out, and only up to their daily exposure budget — and, where the project routes
by accuracy, which tasks a person is offered first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from assay.config import get_settings
from assay.db import utcnow
from assay.orgs.models import User
from assay.people.models import UserSkill
from assay.projects.models import Project
from assay.queue.models import Assignment, AssignmentKind, ProjectMember
from assay.tasks.consolidation import accuracies_of
from assay.tasks.models import ActivityRollup

R = ActivityRollup.__table__
_SKILL = select(UserSkill.level).where(UserSkill.user_id == bindparam("u"), UserSkill.name == bindparam("n"))
# the person's flagged-content settings and today's exposure in one round trip (every `next`)
_PERSON = select(User.avoid_flagged, User.exposure_budget,
                 select(func.coalesce(func.sum(R.c.flagged), 0)).where(R.c.user_id == User.id, R.c.day == bindparam("d"))
                 .scalar_subquery().label("seen")).where(User.id == bindparam("u"))
_AVAILABLE = (select(Assignment.user_id).join(ProjectMember, (ProjectMember.project_id == Assignment.project_id)
                                              & (ProjectMember.user_id == Assignment.user_id) & ProjectMember.paused_at.is_(None))
              .where(Assignment.project_id == bindparam("p"), Assignment.kind == AssignmentKind.LABEL, Assignment.updated_at >= bindparam("since"))
              .distinct())


@dataclass(frozen=True)
class Routing:
    refused: str | None  # why nothing of this project is served to this person
    flagged_ok: bool  # tasks with a content warning may be served
    exposure: int  # flagged tasks answered today
    budget: int  # the person's daily budget of flagged tasks


def requirement(params: dict) -> tuple[str, int] | None:
    """A project's skill requirement from its params (`required_skill`, `required_skill_level`)."""
    name = params.get("required_skill")
    if not isinstance(name, str) or not name:
        return None
    level = params.get("required_skill_level")
    return name, level if isinstance(level, int) and level > 0 else 1


AVAILABLE_MINUTES = 30  # someone who took or submitted work this recently is available


def prefer(session: Session, project_id: int, user_id: int) -> str:
    """Routing by accuracy (projects.route_by_accuracy): "uncertain" when this person is in
    the more accurate half of the people available now (members who took or submitted a
    task of the project in the last AVAILABLE_MINUTES, and this person), else "certain".
    Accuracy is each person's record in the project (gold first, else agreement)."""
    conn = session.connection()
    since = utcnow() - timedelta(minutes=AVAILABLE_MINUTES)
    people = {user_id, *conn.execute(_AVAILABLE, {"p": project_id, "since": since}).scalars()}
    ordered = sorted(people)
    accuracy = dict(zip(ordered, accuracies_of(session, project_id, ordered)))
    ranked = sorted(accuracy.values(), reverse=True)
    return "uncertain" if accuracy[user_id] >= ranked[(len(ranked) - 1) // 2] else "certain"


def routing(session: Session, user_id: int, project) -> Routing:
    conn = session.connection()
    person = conn.execute(_PERSON, {"u": user_id, "d": utcnow().date()}).first()
    budget = person.exposure_budget if person and person.exposure_budget is not None else get_settings().exposure_budget
    seen = int(person.seen) if person else 0
    flagged_ok = not (person and person.avoid_flagged) and seen < budget
    need = requirement(Project.current_params.fget(project))
    refused = None
    if need is not None:
        level = conn.execute(_SKILL, {"u": user_id, "n": need[0]}).scalar()
        if level is None or level < need[1]:
            refused = f"this project needs the skill {need[0]!r} at level {need[1]}; ask a project lead"
    return Routing(refused=refused, flagged_ok=flagged_ok, exposure=seen, budget=budget)

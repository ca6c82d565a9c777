"""Who may be served what, beyond membership: a project's skill requirement (tasks carry
their own, checked inside the claim statement), and flagged content — never for people
who opted out, and only up to their daily exposure budget."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from assay.config import get_settings
from assay.db import utcnow
from assay.orgs.models import User
from assay.people.models import UserSkill
from assay.projects.models import Project
from assay.tasks.models import ActivityRollup

R = ActivityRollup.__table__
_SKILL = select(UserSkill.level).where(UserSkill.user_id == bindparam("u"), UserSkill.name == bindparam("n"))
_SEEN_TODAY = select(func.coalesce(func.sum(R.c.flagged), 0)).where(R.c.user_id == bindparam("u"), R.c.day == bindparam("d"))
_PERSON = select(User.avoid_flagged, User.exposure_budget).where(User.id == bindparam("u"))


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


def exposure_today(session: Session, user_id: int) -> int:
    return int(session.connection().execute(_SEEN_TODAY, {"u": user_id, "d": utcnow().date()}).scalar())


def routing(session: Session, user_id: int, project) -> Routing:
    conn = session.connection()
    person = conn.execute(_PERSON, {"u": user_id}).first()
    budget = person.exposure_budget if person and person.exposure_budget is not None else get_settings().exposure_budget
    seen = exposure_today(session, user_id)
    flagged_ok = not (person and person.avoid_flagged) and seen < budget
    need = requirement(Project.current_params.fget(project))
    refused = None
    if need is not None:
        level = conn.execute(_SKILL, {"u": user_id, "n": need[0]}).scalar()
        if level is None or level < need[1]:
            refused = f"this project needs the skill {need[0]!r} at level {need[1]}; ask a project lead"
    return Routing(refused=refused, flagged_ok=flagged_ok, exposure=seen, budget=budget)

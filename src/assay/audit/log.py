"""Writing the audit log: one row per administrative action or labeling decision, in the
same transaction as the change it records (so neither exists without the other).

The client address comes from the request being served (`web.RequestGuard` sets it), so
services deep in a call (an automatic pause) need not be handed the request."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from sqlalchemy.orm import Session

from assay.audit.models import AuditEvent
from assay.auth.principals import Principal
from assay.db import utcnow

# the client address of the request this code runs for ("" outside a request)
client_address: ContextVar[str] = ContextVar("client_address", default="")

# Every action the log knows, with what it means (docs/security.md lists them too).
ACTIONS = {
    "user.create": "an admin created an account",
    "user.update": "an admin changed an account (role, active, name, password)",
    "user.password": "a password was set from the CLI",
    "key.create": "an API key was created (CLI)",
    "key.revoke": "an API key was revoked (CLI)",
    "session.sign_in": "someone signed in to the pages",
    "project.create": "a project was created",
    "project.params": "a project's params got a new version (setParams)",
    "project.settings": "a project's settings or quality policy changed",
    "member.add": "a person was added to a project",
    "member.remove": "a person was removed from a project",
    "member.pause": "a labeler was paused (gold accuracy below the project's threshold)",
    "member.reinstate": "a lead lifted a labeler's pause",
    "gold.create": "an evaluation or training item was added",
    "model.settings": "a project's model backend was attached, changed or detached",
    "model.run": "a model round was run on demand",
    "model.label_errors": "a label-error scan was run",
    "evaluation.create": "an evaluation run was created (its set and model endpoints)",
    "evaluation.run": "an evaluation run generated responses, judged them and made tasks",
    "truth.refit": "a project's truth model was refitted on demand",
    "export": "a project's tasks were exported (a download or a background export job)",
    "import": "tasks were imported into a project from a file (CSV, JSON, COCO, YOLO, CoNLL, media)",
    "review.verdict": "a reviewer accepted, fixed or rejected a task",
    "task.send_back": "a finished task was sent back for review or labeling",
    "task.bulk": "a lead acted on many tasks from the task browser (send back, cancel, priority, reserve, tags)",
    "task.flag": "a labeler or reviewer flagged a task's content with a warning",
    "skill.grant": "a person was granted a skill (or its level changed)",
    "skill.revoke": "a person's skill was taken away",
    "rate.set": "a pay rate was set for a person, a project or the organization",
    "rate.delete": "a pay rate was removed",
    "wellbeing.settings": "a person's flagged-content opt-out or exposure budget changed",
}


def record(session: Session, principal: Principal | None, action: str, target_type: str = "", target_id: Any = "",
           details: dict[str, Any] | None = None, *, org_id: int | None = None, user=None, address: str | None = None) -> None:
    """Append one event. `principal` None is either a user acting before they have a
    principal (`user`: signing in) or the system acting on its own (then `org_id` says
    whose log it goes to). `address` overrides the request's (work done off its thread)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if principal is not None:
        actor_id, actor, via, org_id = principal.user_id, principal.email, principal.via, principal.org_id
    elif user is not None:
        actor_id, actor, via, org_id = user.id, user.email, "session", user.org_id
    else:
        actor_id, actor, via = None, "system", "system"
    where = client_address.get() if address is None else address
    session.add(AuditEvent(org_id=org_id, at=utcnow(), actor_id=actor_id, actor=actor, via=via, address=where[:64],
                           action=action, target_type=target_type, target_id=str(target_id)[:64], details=details or {}))

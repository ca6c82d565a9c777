"""What the workbench shows: one assignment's task as its tool sees it (params with signed
file links, the pre-label, instructions as safe HTML, the answers so far for rework and
review), and each project's backlog on the caller's home page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.orm import Session

from assay import markdown
from assay.auth.principals import Principal
from assay.backends.prelabels import prelabel
from assay.config import get_settings
from assay.files.references import signed_path_for_scaledata, signed_url_for_scaledata
from assay.orgs.models import REVIEWER_ROLES, Organization, Role, User
from assay.projects.models import Project
from assay.queue.models import Assignment, AssignmentKind, ProjectMember
from assay.tasks.answers import active_answers
from assay.tasks.consolidation import consensus_of
from assay.tasks.models import ReviewState, Task, TaskAnswer, TaskKind, TaskStatus
from assay.tasktypes import get_plugin
from assay.timeutil import iso

A = Assignment.__table__
T = Task.__table__
P = Project.__table__
ORG = Organization.__table__
TOOLS = Path(__file__).resolve().parents[2] / "pages" / "static" / "js" / "tools"

_VIEW = select(
    T.c.public_id, T.c.type, T.c.status, T.c.kind, T.c.params, T.c.instruction, T.c.metadata, T.c.project_id, T.c.content_warning,
    P.c.public_id.label("project_public_id"),
    P.c.name.label("project_name"), P.c.param_history, ORG.c.public_id.label("org_public_id"),
).join(P, P.c.id == T.c.project_id).join(ORG, ORG.c.id == T.c.org_id).where(T.c.id == bindparam("t"))
_ANSWER_RESPONSE = select(TaskAnswer.__table__.c.response).where(TaskAnswer.__table__.c.id == bindparam("a"))


def tool_available(task_type: str) -> bool:
    """Whether the workbench has a labeling tool for this task type."""
    return (TOOLS / f"{task_type}.js").exists()


def view(session: Session, assignment) -> dict[str, Any]:
    """What the labeling page needs for one assignment (a mapping of its row): the task
    as the tool sees it, the instructions as safe HTML, and for rework/going back/review
    the answers so far. One joined Core read."""
    conn = session.connection()
    row = conn.execute(_VIEW, {"t": assignment["task_id"]}).mappings().one()
    params = row["params"] or {}
    history = row["param_history"] or []
    hypothesis = params.get("hypothesis")
    if hypothesis is None and row["kind"] == TaskKind.TASK:
        hypothesis = prelabel(conn, assignment["task_id"], row["project_id"])
    out: dict[str, Any] = {
        "assignment": {
            "id": assignment["public_id"], "kind": assignment["kind"], "status": assignment["status"],
            "expires_at": iso(assignment["expires_at"]), "review_comment": assignment["review_comment"],
        },
        "task": {**_tool_task(row), "hypothesis": hypothesis},
        "project": {"id": row["project_public_id"], "name": row["project_name"], "guidelines_html": markdown.render(_guidelines(history))},
        "previous_response": None,
    }
    if assignment["answer_id"]:
        out["previous_response"] = conn.execute(_ANSWER_RESPONSE, {"a": assignment["answer_id"]}).scalar()
    if assignment["kind"] == AssignmentKind.REVIEW:
        out.update(_review_view(session, assignment["task_id"]))
    # answers that name uploaded files (segmentation masks) open through signed links too
    out["previous_response"] = _signed_files(out["previous_response"], row["org_public_id"])
    for answer in out.get("answers") or []:
        answer["response"] = _signed_files(answer["response"], row["org_public_id"])
    return out


def _tool_task(row) -> dict[str, Any]:
    """The task as its tool sees it (one row of _VIEW)."""
    params = row["params"] or {}
    return {
        "task_id": row["public_id"], "type": row["type"], "status": row["status"], "practice": row["kind"] == TaskKind.TRAINING,
        "params": _signed_files(get_plugin(row["type"]).workbench_params(params), row["org_public_id"]),
        "instruction_html": markdown.render(_own_instruction(row["instruction"], row["param_history"] or [])), "metadata": row["metadata"] or {},
        "content_warning": row["content_warning"], "flagged_content": get_plugin(row["type"]).flags_content(params),
    }


def read_only_view(session: Session, task_id: int, responses: dict[str, Any]) -> dict[str, Any]:
    """The task page's tool, read-only: the task as its tool sees it, the project's
    instructions, and the given answers (name → response) with their files signed."""
    row = session.connection().execute(_VIEW, {"t": task_id}).mappings().one()
    return {
        "task": {**_tool_task(row), "hypothesis": None}, "has_tool": tool_available(row["type"]),
        "guidelines_html": markdown.render(_guidelines(row["param_history"] or [])),
        "responses": {name: _signed_files(response, row["org_public_id"]) for name, response in responses.items()},
    }


def _review_view(session: Session, task_id: int) -> dict[str, Any]:
    """For a reviewer: each labeler's answer and the consolidated proposal with its quality."""
    task = session.get(Task, task_id)
    answers = active_answers(session, task)
    emails = dict(session.execute(select(User.id, User.email).where(User.id.in_([a.user_id for a in answers if a.user_id]))).all())
    out: dict[str, Any] = {"answers": [
        {"labeler": emails.get(a.user_id), "response": a.response, "active_seconds": a.active_seconds,
         "hypothesis_status": a.hypothesis_status, "submitted_at": iso(a.created_at)}
        for a in answers
    ]}
    if answers:
        proposal, quality, _ = consensus_of(session, task, [(a.user_id, a.response) for a in answers])
        out["previous_response"], out["quality"] = proposal, quality
    return out


def _guidelines(param_history: list) -> str:
    """The project's current instructions (latest params version)."""
    instruction = param_history[-1].get("instruction") if param_history else None
    return instruction if isinstance(instruction, str) else ""


def _own_instruction(instruction: str | None, param_history: list) -> str:
    """The task's own instruction: what its creator sent, without the project
    instruction appended at creation (the page shows the project's current one)."""
    own = instruction or ""
    for version in reversed(param_history):
        appended = version.get("instruction")
        if isinstance(appended, str) and appended and own.endswith(appended):
            return own[: -len(appended)].rstrip()
    return own


def _signed_files(value: Any, org_public_id: str) -> Any:
    """scaledata:// attachments of the task's own organization become signed links the
    browser can load; a reference to any other organization's file is never signed."""
    if isinstance(value, str):
        if not value.startswith("scaledata://"):
            return value
        if get_settings().files_origin:
            return signed_url_for_scaledata(value, org_public_id) or value
        # same-origin path: the page may be served under another host name than public_url
        return signed_path_for_scaledata(value, org_public_id) or value
    if isinstance(value, list):
        return [_signed_files(v, org_public_id) for v in value]
    if isinstance(value, dict):
        return {k: _signed_files(v, org_public_id) for k, v in value.items()}
    return value


# The tasks a person could still take are counted up to this many, and shown as "1000+": a full
# count reads the project's whole backlog on every `next` (at 20,000 pending tasks it was ~60 % of
# the server's time in the assignment benchmark, and it grows with the backlog).
AVAILABLE_COUNT_CAP = 1000
_AVAILABLE = """SELECT COUNT(*) FROM (SELECT 1 FROM tasks t WHERE t.project_id = :p AND t.status = 'pending' AND t.open_slots > 0
 AND t.is_test = {false} AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.task_id = t.id AND a.user_id = :u AND a.kind = 'label')
 LIMIT :cap) AS available"""
# built once per dialect (the claim path asks for it on every `next`)
_AVAILABLE_SQL = {dialect: text(_AVAILABLE.format(false=false)) for dialect, false in (("postgresql", "false"), ("sqlite", "0"))}


def _available(conn, project_id: int, user_id: int) -> tuple[int, bool]:
    """(tasks the person could take now, at most AVAILABLE_COUNT_CAP; whether there are more)."""
    n = int(conn.execute(_AVAILABLE_SQL[conn.dialect.name], {"p": project_id, "u": user_id, "cap": AVAILABLE_COUNT_CAP + 1}).scalar())
    return min(n, AVAILABLE_COUNT_CAP), n > AVAILABLE_COUNT_CAP


def project_summaries(session: Session, principal: Principal) -> list[dict[str, Any]]:
    """The projects on the caller's home page with their backlog: tasks the caller could
    label now, their own submissions, and (for reviewers) tasks waiting for review."""
    stmt = select(Project).where(Project.org_id == principal.org_id, Project.archived.is_(False))
    if principal.role != Role.ADMIN:
        stmt = stmt.join(ProjectMember, ProjectMember.project_id == Project.id).where(ProjectMember.user_id == principal.user_id)
    projects = list(session.scalars(stmt.order_by(Project.name)))
    conn = session.connection()
    out = []
    for project in projects:
        available, more = _available(conn, project.id, principal.user_id)
        mine = _mine(conn, project.id, principal.user_id)
        summary = {
            "id": project.public_id, "name": project.name, "type": project.type, "type_title": get_plugin(project.type).title,
            "available": available, "available_capped": more,
            "rework": int(mine.get("rework", 0)), "submitted": int(mine.get("submitted", 0)), "skipped": int(mine.get("skipped", 0)),
            "review_waiting": None, "workbench_tool": tool_available(project.type),
        }
        if principal.role in REVIEWER_ROLES:
            summary["review_waiting"] = _review_waiting(conn, project.id)
        out.append(summary)
    return out


# built once: building them cost more CPU than running them, once per `next`
_MINE = (select(A.c.status, func.count()).where(A.c.project_id == bindparam("p"), A.c.user_id == bindparam("u"),
                                               A.c.kind == AssignmentKind.LABEL).group_by(A.c.status))
_REVIEW_WAITING = select(func.count()).select_from(T).where(T.c.project_id == bindparam("p"), T.c.status == TaskStatus.PENDING,
                                                            T.c.review_state == ReviewState.WAITING)


def _mine(conn, project_id: int, user_id: int) -> dict[str, int]:
    return dict(conn.execute(_MINE, {"p": project_id, "u": user_id}).all())


def _review_waiting(conn, project_id: int) -> int:
    return int(conn.execute(_REVIEW_WAITING, {"p": project_id}).scalar())


def progress(session: Session, principal: Principal, project_id: int, kind: str) -> dict[str, Any]:
    """The workbench's "x done · y left" for the caller, from the database (so a reload
    keeps it): labeling: their submissions and the tasks they could still take (counted up to
    AVAILABLE_COUNT_CAP; ``left_capped`` when there are more); review: the tasks waiting for a
    reviewer."""
    conn = session.connection()
    if kind == AssignmentKind.REVIEW:
        return {"waiting": _review_waiting(conn, project_id)}
    left, more = _available(conn, project_id, principal.user_id)
    return {"done": int(_mine(conn, project_id, principal.user_id).get("submitted", 0)), "left": left, "left_capped": more}

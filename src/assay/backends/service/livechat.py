"""Live chat (multichat): a labeler's turn sent to the project's chat model (an `openai`
backend), its replies stored in order, and the submitted transcript checked against what
was stored. Three steps so no database transaction waits on the model: `plan_turn` (read:
what to ask), `generate` (the calls, `replies_per_turn` at once), `store_turn` (write)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assay.backends.models import ChatTurn, ProjectModel
from assay.backends.schemas import ChatTurnBody
from assay.backends.service.openai import ChatError, complete
from assay.errors import ApiError, Conflict, InvalidRequest, field_error
from assay.queue.models import AssignmentStatus

DEFAULT_SYSTEM = "You are a helpful assistant."
CT = ChatTurn.__table__


@dataclass
class TurnPlan:
    org_id: int
    task_id: int
    assignment_id: int
    user_id: int | None
    turn: int
    prompt: str
    messages: list[dict[str, str]]
    replies: int
    model: ProjectModel
    stored: dict[str, Any] | None = None  # the same turn already stored (a retried request)


def stored_turns(session: Session, assignment_id: int) -> list[dict[str, Any]]:
    rows = session.execute(select(CT.c.turn, CT.c.prompt, CT.c.replies).where(CT.c.assignment_id == assignment_id).order_by(CT.c.turn)).all()
    return [{"turn": r.turn, "prompt": r.prompt, "replies": r.replies} for r in rows]


def plan_turn(session: Session, model: ProjectModel | None, task, assignment, body: ChatTurnBody) -> TurnPlan:
    """What to ask the model for turn `body.turn` (400 naming the field when the turn is
    out of order, an earlier choice is not one of its replies, or there is no chat model)."""
    if assignment.status not in (AssignmentStatus.LEASED, AssignmentStatus.SUBMITTED, AssignmentStatus.REWORK):
        raise Conflict(f"This assignment is {assignment.status}; the chat is closed.", field="assignment_id")
    if task.type != "multichat":
        raise field_error("assignment_id", f"this is a {task.type} task; live chat is for multichat tasks")
    if model is None or model.backend != "openai":
        raise field_error("assignment_id", "the project has no chat model: attach an openai backend (docs/live-chat.md)")
    params = task.params or {}
    turns = stored_turns(session, assignment.id)
    plan = TurnPlan(task.org_id, task.id, assignment.id, assignment.user_id, body.turn, body.prompt, [], params.get("replies_per_turn", 2), model)
    if body.turn < len(turns):
        if turns[body.turn]["prompt"] != body.prompt:
            raise Conflict(f"turn {body.turn} was already sent with another prompt", field="turn")
        plan.stored = turns[body.turn]
        return plan
    if body.turn != len(turns):
        raise field_error("turn", f"the next turn is {len(turns)}")
    if body.turn >= params.get("max_turns", 10):
        raise field_error("turn", f"this chat allows {params.get('max_turns', 10)} turns")
    if len(body.previous) != len(turns):
        raise field_error("previous", f"must give the reply kept for each of the {len(turns)} earlier turns")
    system = (model.prompts or {}).get("multichat") or DEFAULT_SYSTEM
    messages = [{"role": "system", "content": system}]
    messages += [{"role": m.get("role"), "content": m.get("content")} for m in params.get("messages") or [] if isinstance(m, dict)]
    for i, (turn, kept) in enumerate(zip(turns, body.previous)):
        by_id = {r["id"]: r for r in turn["replies"]}
        if kept.chosen not in by_id:
            raise field_error(f"previous[{i}].chosen", f"{kept.chosen!r} is not a reply of turn {i}")
        messages += [{"role": "user", "content": turn["prompt"]}, {"role": "assistant", "content": kept.edited or by_id[kept.chosen]["content"]}]
    plan.messages = messages + [{"role": "user", "content": body.prompt}]
    return plan


def generate(plan: TurnPlan) -> list[dict[str, Any]]:
    """The model's replies for a planned turn (502 naming the failure; nothing stored)."""
    if plan.stored is not None:
        return plan.stored["replies"]
    with ThreadPoolExecutor(max_workers=plan.replies, thread_name_prefix="assay-chat") as pool:
        futures = [pool.submit(complete, plan.model, plan.messages) for _ in range(plan.replies)]
        try:
            texts = [f.result() for f in futures]
        except ChatError as exc:
            raise ApiError(f"the chat model failed: {exc}", field="assignment_id", status_code=502) from None
    return [{"id": f"t{plan.turn}r{k}", "content": text, "model": plan.model.model_name} for k, text in enumerate(texts)]


def store_turn(session: Session, plan: TurnPlan, replies: list[dict[str, Any]]) -> dict[str, Any]:
    """Store the turn (once: a concurrent duplicate is a 409) and return it."""
    if plan.stored is None:
        try:
            with session.begin_nested():
                session.execute(CT.insert().values(org_id=plan.org_id, task_id=plan.task_id, assignment_id=plan.assignment_id,
                                                   user_id=plan.user_id, turn=plan.turn, prompt=plan.prompt, replies=replies))
        except IntegrityError:
            raise Conflict(f"turn {plan.turn} was stored meanwhile; reload the chat", field="turn") from None
    return {"turn": plan.turn, "prompt": plan.prompt, "replies": replies}


def check_transcript(session: Session, assignment_id: int, response: Any) -> None:
    """A submitted transcript must be the chat as stored: every turn, in order, each with
    its prompt and replies exactly as the model gave them."""
    turns = stored_turns(session, assignment_id)
    given = response.get("turns") if isinstance(response, dict) else None
    if not isinstance(given, list):
        return  # the task type's own validation names what is missing
    if len(given) != len(turns):
        raise InvalidRequest(f"response.turns: the chat has {len(turns)} turns; the transcript gives {len(given)}", field="response.turns")
    for i, (mine, stored) in enumerate(zip(given, turns)):
        if not isinstance(mine, dict) or mine.get("prompt") != stored["prompt"]:
            raise InvalidRequest(f"response.turns[{i}].prompt: not the prompt sent in turn {i}", field=f"response.turns[{i}].prompt")
        replies = [{k: r.get(k) for k in ("id", "content", "model")} for r in mine.get("replies") or [] if isinstance(r, dict)]
        if replies != stored["replies"]:
            raise InvalidRequest(f"response.turns[{i}].replies: not the replies the model gave in turn {i}", field=f"response.turns[{i}].replies")

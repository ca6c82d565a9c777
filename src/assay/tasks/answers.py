"""Reading and judging answers: the answers that count for a task, and what a submission
did with the pre-label it was shown. Writing an answer is a transition (lifecycle.py)."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import bindparam, insert, select, true, update
from sqlalchemy.orm import Session

from assay.backends.prelabels import prelabel
from assay.errors import InvalidRequest
from assay.tasks.models import AnswerSource, Task, TaskAnswer
from assay.tasktypes import get_plugin

TA = TaskAnswer.__table__
INSERT_ANSWER = insert(TA).returning(TA.c.id)
DEACTIVATE_ANSWER = update(TA).where(TA.c.id == bindparam("answer_id")).values(active=False)
ACTIVE_RESPONSES = select(TA.c.user_id, TA.c.response).where(TA.c.task_id == bindparam("t"), TA.c.source == AnswerSource.HUMAN,
                                                            TA.c.active == true()).order_by(TA.c.id)
HAS_ANSWER = select(TA.c.id).where(TA.c.task_id == bindparam("t"), TA.c.user_id == bindparam("u"), TA.c.source == AnswerSource.HUMAN,
                                  TA.c.active == true()).limit(1)


def active_answers(session: Session, task: Task) -> list[TaskAnswer]:
    """The human answers that count: one per labeler, the latest version of each."""
    return list(session.scalars(
        select(TaskAnswer).where(TaskAnswer.task_id == task.id, TaskAnswer.source == AnswerSource.HUMAN, TaskAnswer.active.is_(True))
        .order_by(TaskAnswer.id)
    ))


def active_responses(session: Session, task: Task) -> list[tuple[int | None, dict[str, Any]]]:
    """(labeler, response) of the answers that count, oldest first (one Core read)."""
    return [tuple(r) for r in session.connection().execute(ACTIVE_RESPONSES, {"t": task.id})]


def hypothesis_status(session: Session, task: Task, clean: dict[str, Any]) -> str | None:
    """What a submission did with the pre-label shown (the customer's `hypothesis`, else
    the project model's prediction): accepted unchanged, edited (kept some of it), or
    rejected (a different category; none of its spans/shapes kept)."""
    hypothesis = (task.params or {}).get("hypothesis")
    if hypothesis is None:
        hypothesis = prelabel(session.connection(), task.id, task.project_id)
    if hypothesis is None:
        return None
    if orjson.dumps(hypothesis, option=orjson.OPT_SORT_KEYS) == orjson.dumps(clean, option=orjson.OPT_SORT_KEYS):
        return "accepted"
    plugin = get_plugin(task.type)
    if plugin.is_categorical(task.params or {}):
        return "accepted" if plugin.consensus_key(hypothesis, task.params) == plugin.consensus_key(clean, task.params) else "rejected"
    suggested = [orjson.dumps(a, option=orjson.OPT_SORT_KEYS) for a in hypothesis.get("annotations") or [] if isinstance(a, dict)]
    if suggested:
        given = [a for a in clean.get("annotations") or [] if isinstance(a, dict)]
        if {orjson.dumps(a, option=orjson.OPT_SORT_KEYS) for a in given}.intersection(suggested):
            return "edited"
        # a shape moved or relabelled in the tool keeps its uuid: still an edit of the pre-label
        uuids = {a.get("uuid") for a in hypothesis.get("annotations") or [] if isinstance(a, dict) and a.get("uuid")}
        return "edited" if any(a.get("uuid") in uuids for a in given) else "rejected"
    return "edited"


def check_active_seconds(active_seconds: Any) -> None:
    if active_seconds is not None and (not isinstance(active_seconds, (int, float)) or isinstance(active_seconds, bool) or active_seconds < 0):
        raise InvalidRequest("active_seconds: must be a non-negative number", field="active_seconds")

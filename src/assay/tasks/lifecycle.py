"""Task state transitions and their side effects, in one place: the only writer of a
task's `status`, `review_state` and `open_slots`.

Every transition that a customer hears about writes its callback to the outbox in the
same transaction. Services call these; consolidation (who agreed, with what confidence)
is tasks/consolidation.py's.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

import orjson
from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.orm import Session

from assay.backends.models import Prediction
from assay.batches.completion import after_task_transition
from assay.callbacks.outbox import enqueue_task_callback
from assay.db import utcnow
from assay.errors import InvalidRequest, field_error
from assay.projects.models import Project
from assay.queue.models import AssignmentKind
from assay.tasks import counts, queries, rollups
from assay.tasks.answers import (
    ACTIVE_RESPONSES,
    DEACTIVATE_ANSWER,
    HAS_ANSWER,
    INSERT_ANSWER,
    active_answers,
    active_responses,
    check_active_seconds,
    hypothesis_status,
)
from assay.tasks.consolidation import consensus_of, record_agreement, record_gold_result
from assay.tasks.models import AnswerReview, AnswerSource, ReviewState, Task, TaskAnswer, TaskKind, TaskStatus, queue_rank
from assay.tasks.serialize import task_json
from assay.tasktypes import get_plugin
from assay.timeutil import iso

T = Task.__table__
PT = Project.__table__
POLICY = select(PT.c.review_fraction, PT.c.max_labels, PT.c.target_confidence, PT.c.review_below, PT.c.aggregation).where(PT.c.id == bindparam("p"))


# ----------------------------------------------------------------------------- terminal transitions

def notify(session: Session, task: Task) -> None:
    """Queue the task callback (if the task has a callback URL)."""
    if not task.callback_url:
        return
    session.flush()
    enqueue_task_callback(session, task.org_id, task.id, task.callback_url, task_json(queries.task_row(session, task.id)))


def complete_task(session: Session, task: Task, response: dict[str, Any], quality: dict[str, Any] | None = None) -> None:
    now = utcnow()
    counts.move(session, task, task.status, TaskStatus.COMPLETED)
    task.status = TaskStatus.COMPLETED
    task.response = response
    task.quality = quality
    task.completed_at = now
    task.updated_at = now
    if task.kind == TaskKind.TASK:
        rollups.add(session, task, rollups.PROJECT, completed=1)
    session.flush()
    notify(session, task)
    _after_terminal(session, task)


def fail_task(session: Session, task: Task, message: str) -> None:
    """Attachment processing failed: status error, callback with the error."""
    if task.status != TaskStatus.PENDING:
        return
    counts.move(session, task, task.status, TaskStatus.ERROR)
    task.status = TaskStatus.ERROR
    task.response = {"error": message}
    task.updated_at = utcnow()
    if task.clear_unique_id_on_error:
        task.unique_id = None
    session.flush()
    notify(session, task)
    _after_terminal(session, task)


def cancel_task(session: Session, task: Task, clear_unique_id: bool) -> None:
    if task.kind != TaskKind.TASK:
        raise InvalidRequest(f"Task {task.public_id} is a {task.kind} item; gold items are not canceled.")
    if task.status != TaskStatus.PENDING:
        raise InvalidRequest(f"Task {task.public_id} cannot be canceled: its status is {task.status}; only pending tasks can be.")
    started = session.scalar(select(func.count()).select_from(TaskAnswer).where(TaskAnswer.task_id == task.id))
    if started:
        raise InvalidRequest(f"Task {task.public_id} cannot be canceled: work on it has started ({started} answer(s) recorded).")
    counts.move(session, task, task.status, TaskStatus.CANCELED)
    task.status = TaskStatus.CANCELED
    task.updated_at = utcnow()
    if clear_unique_id:
        task.unique_id = None
    session.flush()
    _after_terminal(session, task)


def send_back(session: Session, task: Task, comment: str | None) -> None:
    """Reopen a finished task for people: one a model auto-accepted goes back to labeling;
    one people finished goes to a reviewer with their answers. The customer hears about
    the new answer by callback when it completes again."""
    if task.kind != TaskKind.TASK or task.status != TaskStatus.COMPLETED:
        raise InvalidRequest(f"Task {task.public_id} is {task.status}; only completed tasks can be sent back for review.", field="task_id")
    if comment is not None and (not isinstance(comment, str) or len(comment) > 2000):
        raise field_error("comment", "must be text of at most 2000 characters")
    prediction = session.get(Prediction, task.id)
    auto = bool(prediction and prediction.auto_accepted)
    counts.move(session, task, TaskStatus.COMPLETED, TaskStatus.PENDING)
    task.status = TaskStatus.PENDING
    task.completed_at = None
    task.updated_at = utcnow()
    task.quality = {**(task.quality or {}), "sent_back": True, **({"sent_back_comment": comment} if comment else {})}
    if auto:
        prediction.auto_accepted = False
        task.open_slots = task.required_labels
    else:
        task.review_state = ReviewState.WAITING
    session.flush()


def _after_terminal(session: Session, task: Task) -> None:
    if task.batch_id is not None:
        after_task_transition(session, task.batch_id)


# ----------------------------------------------------------------------------- label slots and review leases

# The queue's claim: pick the first candidate and take its slot in one statement (one round
# trip). On PostgreSQL the candidate row is locked with SKIP LOCKED, so concurrent claimers
# take different tasks instead of queueing on one row.
_LABEL_CLAIM = """
UPDATE tasks SET open_slots = open_slots - 1 WHERE id = (
  SELECT t.id FROM tasks t
  WHERE t.project_id = :project_id AND t.status = 'pending' AND t.open_slots > 0 AND t.is_test = {false}
    AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.task_id = t.id AND a.user_id = :user_id AND a.kind = 'label')
    AND (t.reserved_for IS NULL OR t.reserved_for = :user_id) {flagged}
    AND (t.required_skill IS NULL OR EXISTS (SELECT 1 FROM user_skills s
         WHERE s.user_id = :user_id AND s.name = t.required_skill AND s.level >= t.required_level)) {uncertain}
  ORDER BY {order} LIMIT 1 {lock}
) AND open_slots > 0 RETURNING id
"""
# routing by accuracy (projects.route_by_accuracy): the least certain tasks (those with an
# interim consensus confidence, waiting for another label) first, lowest confidence first;
# or, for the less accurate people, tasks without one first
_PREFER = {
    None: ("", "t.queue_rank, t.id"),
    "uncertain": ("AND t.confidence IS NOT NULL", "t.confidence, t.queue_rank, t.id"),
    "certain": ("AND t.confidence IS NULL", "t.queue_rank, t.id"),
}
_REVIEW_CLAIM = """
UPDATE tasks SET review_state = 'leased' WHERE id = (
  SELECT t.id FROM tasks t
  WHERE t.project_id = :project_id AND t.status = 'pending' AND t.review_state = 'waiting'
    AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.task_id = t.id AND a.user_id = :user_id AND a.kind = 'label')
    {flagged}
  ORDER BY {order} LIMIT 1 {lock}
) AND review_state = 'waiting' RETURNING id
"""
_CLAIMS: dict[tuple[str, bool, bool, str | None], Any] = {}
_TAKE_SLOT = update(T).where(T.c.id == bindparam("t"), T.c.open_slots > 0).values(open_slots=T.c.open_slots - 1)
_RELEASE_SLOT = update(T).where(T.c.id == bindparam("t"), T.c.status == TaskStatus.PENDING, T.c.kind == TaskKind.TASK).values(
    open_slots=T.c.open_slots + 1)
_RELEASE_REVIEW = update(T).where(T.c.id == bindparam("t"), T.c.review_state == ReviewState.LEASED).values(review_state=ReviewState.WAITING)


def _claim_sql(template: str, session: Session, flagged: bool, prefer: str | None = None) -> Any:
    pg = session.get_bind().dialect.name == "postgresql"
    stmt = _CLAIMS.get((template, pg, flagged, prefer))
    if stmt is None:
        # literals, not parameters, so SQLite matches the partial queue index
        uncertain, order = _PREFER[prefer]
        stmt = _CLAIMS[(template, pg, flagged, prefer)] = text(template.format(
            false="false" if pg else "0", lock="FOR UPDATE OF t SKIP LOCKED" if pg else "",
            flagged="" if flagged else "AND t.content_warning IS NULL", uncertain=uncertain, order=order))
    return stmt


def claim_slot(session: Session, project_id: int, user_id: int, kind: str, *, flagged: bool = True, prefer: str | None = None) -> int | None:
    """Take one label slot (or the review) of the project's first task in queue order that
    this person has not labeled, may take (reserved for nobody else, their skills meet its
    requirement) and, with `flagged` False, carries no content warning; the task's id,
    or None when there is none. `prefer` ("uncertain" or "certain", labels only) looks
    first among the tasks with an interim confidence (least certain first) or among those
    without one, then anywhere in queue order."""
    template = _LABEL_CLAIM if kind == AssignmentKind.LABEL else _REVIEW_CLAIM
    args = {"project_id": project_id, "user_id": user_id}
    conn = session.connection()
    if prefer is not None and kind == AssignmentKind.LABEL:
        found = conn.execute(_claim_sql(template, session, flagged, prefer), args).scalar()
        if found is not None:
            return found
    return conn.execute(_claim_sql(template, session, flagged), args).scalar()


def take_slot(session: Session, task: Task) -> bool:
    """Take one open label slot of this task (an answer sent without a lease)."""
    return bool(session.connection().execute(_TAKE_SLOT, {"t": task.id}).rowcount)


def release(session: Session, task_id: int, kind: str) -> None:
    """A lease ends without an answer (expired, skipped, the person removed or paused):
    its label slot, or the review, goes back to the queue."""
    session.connection().execute(_RELEASE_SLOT if kind == AssignmentKind.LABEL else _RELEASE_REVIEW, {"t": task_id})


def reset_queue_ranks(session: Session, project_id: int) -> None:
    """Back to age order within each priority (the project's model was detached)."""
    conn = session.connection()
    rows = conn.execute(select(T.c.id, T.c.priority).where(T.c.project_id == project_id, T.c.status == TaskStatus.PENDING)).all()
    if rows:
        conn.execute(update(T).where(T.c.id == bindparam("tid")).values(queue_rank=bindparam("rank")),
                     [{"tid": r.id, "rank": queue_rank(r.priority)} for r in rows])


def apply_labels_per_task(session: Session, project_id: int, old: int, new: int) -> int:
    """A project's labels per task changed: pending tasks still asking for the old number
    (not yet in review, not grown by adaptive overlap) ask for the new one; those that now
    have enough answers are consolidated at once. Returns how many tasks changed."""
    changed = session.connection().execute(update(T).where(
        T.c.project_id == project_id, T.c.status == TaskStatus.PENDING, T.c.kind == TaskKind.TASK, T.c.review_state.is_(None),
        T.c.required_labels == old, T.c.is_test.is_(False)).values(
        required_labels=new, open_slots=func.max(0, T.c.open_slots + (new - old)) if session.get_bind().dialect.name == "sqlite"
        else func.greatest(0, T.c.open_slots + (new - old)))).rowcount
    if new < old:
        A = TaskAnswer.__table__
        ready = select(A.c.task_id).join(T, T.c.id == A.c.task_id).where(
            T.c.project_id == project_id, T.c.status == TaskStatus.PENDING, T.c.review_state.is_(None), T.c.required_labels == new,
            A.c.active.is_(True), A.c.source == AnswerSource.HUMAN).group_by(A.c.task_id).having(func.count() >= new)
        for task_id in session.scalars(ready).all():
            labels_in(session, session.get(Task, task_id))
    return changed


def set_priority(session: Session, task: Task, priority: int | None) -> None:
    """A lead changed a task's priority: its place in the queue moves with it."""
    task.priority = priority
    task.queue_rank = queue_rank(priority)
    task.updated_at = utcnow()


def set_queue_ranks(session: Session, ranks: dict[int, int]) -> None:
    """The active-learning order: {task id: rank}, for tasks still pending (a task
    completed meanwhile keeps its rank)."""
    if ranks:
        session.connection().execute(
            update(T).where(T.c.id == bindparam("tid"), T.c.status == TaskStatus.PENDING).values(queue_rank=bindparam("rank")),
            [{"tid": t, "rank": r} for t, r in ranks.items()])


def auto_accept(session: Session, task_id: int, threshold: float) -> bool:
    """Complete a task with its model prediction, if nobody has touched it: no answer, no
    lease (all its slots still open), no review. Whether it did."""
    conn = session.connection()
    answered = conn.execute(select(TaskAnswer.__table__.c.id).where(TaskAnswer.__table__.c.task_id == task_id).limit(1)).first()
    took = conn.execute(update(T).where(T.c.id == task_id, T.c.status == TaskStatus.PENDING, T.c.open_slots == T.c.required_labels,
                                        T.c.review_state.is_(None)).values(open_slots=0))
    if answered is not None or took.rowcount != 1:
        session.rollback()
        return False
    task = session.get(Task, task_id)
    prediction = session.get(Prediction, task_id)
    quality = {"confidence": round(float(prediction.score), 4), "labels": 0, "agreeing": 0, "method": "model",
               "auto_accepted": True, "model_version": prediction.model_version, "threshold": threshold}
    prediction.auto_accepted = True
    complete_task(session, task, prediction.response, quality)
    return True


# ----------------------------------------------------------------------------- answers

def record_answer(
    session: Session,
    task: Task,
    response: Any,
    *,
    user_id: int | None,
    source: str = AnswerSource.HUMAN,
    active_seconds: float | None = None,
    replaces: int | None = None,
    lease_held: bool = False,
    held_seconds: float | None = None,
) -> int:
    """Store one labeler's answer (or a new version of their answer `replaces`); once
    the task has the labels it needs, send it to review or complete it. Returns the
    answer id. `lease_held`: the caller holds this person's assignment for the task
    (unique per task and person), so no second answer can exist. Hot path: prebuilt
    Core statements (statement building costs more CPU here than the SQL)."""
    if task.status != TaskStatus.PENDING and replaces is None:
        raise InvalidRequest(f"Task {task.public_id} is {task.status}; only pending tasks take answers.", field="task_id")
    check_active_seconds(active_seconds)
    clean = get_plugin(task.type).validate_response(response, task.params)
    conn = session.connection()
    if user_id is not None and replaces is None and not lease_held:
        if conn.execute(HAS_ANSWER, {"t": task.id, "u": user_id}).first() is not None:
            raise InvalidRequest(f"Task {task.public_id} already has an answer from this user.", field="task_id")
    if replaces is not None:
        conn.execute(DEACTIVATE_ANSWER, {"answer_id": replaces})
    now = utcnow()
    answer_id = conn.execute(INSERT_ANSWER, {
        "org_id": task.org_id, "task_id": task.id, "user_id": user_id, "source": source, "response": clean, "active_seconds": active_seconds,
        "hypothesis_status": hypothesis_status(session, task, clean), "active": True, "created_at": now,
    }).scalar_one()
    task.updated_at = now
    if source == AnswerSource.HUMAN:
        rollups.answered(session, task, user_id, clean, active_seconds, held_seconds, edit=replaces is not None)
    if task.status == TaskStatus.COMPLETED:
        # an edit of a finished task (the labeler went back): the answer is re-consolidated
        task.response, task.quality, _ = consensus_of(session, task, [tuple(r) for r in conn.execute(ACTIVE_RESPONSES, {"t": task.id})])
        session.flush()
        notify(session, task)
    elif task.review_state is None:
        labels_in(session, task)
    return answer_id


def record_gold_answer(session: Session, task: Task, response: Any, *, user_id: int, active_seconds: float | None = None) -> tuple[int, bool]:
    """An answer to an evaluation or training item: compared with the expected response
    (same consensus key = correct) and stored; evaluation answers count in the labeler's
    gold record. The item itself never changes state. Returns (answer id, correct)."""
    check_active_seconds(active_seconds)
    plugin = get_plugin(task.type)
    clean = plugin.validate_response(response, task.params)
    correct = plugin.consensus_key(clean, task.params) == plugin.consensus_key(task.expected_response, task.params)
    answer_id = session.connection().execute(INSERT_ANSWER, {
        "org_id": task.org_id, "task_id": task.id, "user_id": user_id, "source": AnswerSource.GOLD, "response": clean,
        "active_seconds": active_seconds, "hypothesis_status": None, "active": True, "created_at": utcnow(), "correct": correct,
    }).scalar_one()
    record_gold_result(session, task, user_id, correct)
    rollups.add(session, task, user_id, gold_answered=1 if task.kind == TaskKind.EVALUATION else 0, gold_correct=int(correct and task.kind == TaskKind.EVALUATION),
                active_seconds=active_seconds)
    return answer_id, correct


def needs_review(task: Task, fraction: float) -> bool:
    """A stable share of tasks (by id hash), so a task's fate does not depend on timing."""
    if fraction <= 0:
        return False
    if fraction >= 1:
        return True
    return int(hashlib.sha256(task.public_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < fraction


def next_step(policy, task, labels: int, confidence: float) -> str:
    """A task with its labels in, under the project's POLICY row: "more" (one more label),
    "review" or "complete". Also decides tasks imported with their answers (tasks.settle)."""
    if policy.target_confidence and confidence < policy.target_confidence and labels < max(policy.max_labels or 0, task.required_labels):
        return "more"
    if (policy.review_below is not None and confidence < policy.review_below) or needs_review(task, policy.review_fraction or 0.0):
        return "review"
    return "complete"


def labels_in(session: Session, task: Task) -> None:
    """Called after an answer. With the labels the task asks for, consolidate; if the
    project sets a target confidence and the consensus is below it, ask for one more label
    (up to the project's maximum); otherwise send the task to review or complete it."""
    conn = session.connection()
    answers = active_responses(session, task)
    if len(answers) < task.required_labels:
        return
    policy = conn.execute(POLICY, {"p": task.project_id}).first()
    response, quality, agreed = consensus_of(session, task, answers, policy.aggregation)
    step = next_step(policy, task, len(answers), quality["confidence"])
    if step == "more":
        task.required_labels += 1
        task.quality = quality
        conn.execute(update(T).where(T.c.id == task.id).values(open_slots=T.c.open_slots + 1))
        return
    if step == "review":
        task.quality = quality
        task.review_state = ReviewState.WAITING
        session.flush()
        return
    complete_task(session, task, response, quality)
    record_agreement(session, task, [u for u, _ in answers], agreed)
    rollups.agreement(session, task, [u for u, _ in answers], agreed)


def answers_resubmitted(task: Task) -> None:
    """Every labeler sent back for rework has answered again: back to the reviewers."""
    task.review_state = ReviewState.WAITING


def auto_complete_test_task(session: Session, task: Task) -> None:
    """Test-mode keys: a bot answers at once with a well-formed synthetic response."""
    plugin = get_plugin(task.type)
    rng = random.Random(task.public_id)
    response = plugin.validate_response(plugin.synthetic_response(task.params, rng), task.params)
    session.add(TaskAnswer(org_id=task.org_id, task_id=task.id, user_id=None, source=AnswerSource.TEST_BOT, response=response))
    complete_task(session, task, response)


# ----------------------------------------------------------------------------- review and audits

def _review_audit(task: Task, reviewer_email: str, result: str, seconds: float | None, comment: str | None) -> None:
    audit = {"audited_by": reviewer_email, "audited_at": iso(utcnow()), "audit_time_secs": round(seconds or 0), "audit_result": result,
             "audit_source": "reviewer"}
    if comment:
        audit["comments"] = comment
    task.audits = [*(task.audits or []), audit]
    task.updated_at = utcnow()


def review_task(
    session: Session, task: Task, reviewer_id: int, reviewer_email: str, action: str, *, response: Any = None,
    comment: str | None = None, active_seconds: float | None = None,
) -> list[TaskAnswer]:
    """A reviewer's verdict on a task whose labels are in. accept: the consolidated
    answer completes the task; fix: the reviewer's answer does, and each labeler's answer
    is marked accepted or fixed against it; reject: the labelers must rework (returns the
    rejected answers). Each verdict is an audit the customer sees on the task."""
    if task.status != TaskStatus.PENDING or task.review_state not in (ReviewState.WAITING, ReviewState.LEASED):
        raise InvalidRequest(f"Task {task.public_id} is not waiting for review.", field="task_id")
    check_active_seconds(active_seconds)
    answers = active_answers(session, task)
    if not answers:
        raise InvalidRequest(f"Task {task.public_id} has no answers to review.", field="task_id")
    for answer in answers:
        answer.reviewed_by = reviewer_id
    rollups.add(session, task, reviewer_id, reviewed=1, rejected=int(action == "reject"), active_seconds=active_seconds)
    if action == "reject":
        return _reject(session, task, answers, reviewer_email, comment, active_seconds)
    if action == "accept":
        final, quality, agreed = _accept(session, task, answers)
    elif action == "fix":
        final, quality, agreed = _fix(session, task, answers, reviewer_id, response, comment, active_seconds)
    else:
        raise InvalidRequest("action: must be one of accept, fix, reject", field="action")
    _review_audit(task, reviewer_email, "accepted" if action == "accept" else "fixed", active_seconds, comment)
    task.review_state = ReviewState.DONE
    complete_task(session, task, final, quality)
    record_agreement(session, task, [a.user_id for a in answers], agreed)
    rollups.agreement(session, task, [a.user_id for a in answers], agreed)
    return []


def _accept(session: Session, task: Task, answers: list[TaskAnswer]):
    for answer in answers:
        answer.review_status = AnswerReview.ACCEPTED
    final, quality, agreed = consensus_of(session, task, [(a.user_id, a.response) for a in answers])
    quality["method"] += "+review"
    return final, quality, agreed


def _fix(session: Session, task: Task, answers: list[TaskAnswer], reviewer_id: int, response: Any, comment: str | None,
         active_seconds: float | None):
    plugin = get_plugin(task.type)
    clean = plugin.validate_response(response, task.params)
    key = orjson.dumps(clean, option=orjson.OPT_SORT_KEYS)
    for answer in answers:
        same = orjson.dumps(answer.response, option=orjson.OPT_SORT_KEYS) == key
        answer.review_status = AnswerReview.ACCEPTED if same else AnswerReview.FIXED
        answer.review_comment = comment
    corrected = [a.user_id for a in answers if a.review_status == AnswerReview.FIXED]
    session.add(TaskAnswer(org_id=task.org_id, task_id=task.id, user_id=reviewer_id, source=AnswerSource.REVIEW_FIX, response=clean,
                           active_seconds=active_seconds, corrects_user_id=corrected[0] if len(corrected) == 1 else None))
    truth = plugin.consensus_key(clean, task.params)
    # the reviewer's answer is taken as the truth
    agreed = [plugin.consensus_key(a.response, task.params) == truth for a in answers]
    quality = {"confidence": 1.0, "labels": len(answers), "agreeing": sum(agreed), "method": "review_fix"}
    return clean, quality, agreed


def _reject(session: Session, task: Task, answers: list[TaskAnswer], reviewer_email: str, comment: str | None,
            active_seconds: float | None) -> list[TaskAnswer]:
    if not isinstance(comment, str) or not comment.strip():
        raise InvalidRequest("comment: required when rejecting: tell the labeler what to change", field="comment")
    for answer in answers:
        answer.review_status = AnswerReview.REJECTED
        answer.review_comment = comment
    _review_audit(task, reviewer_email, "rejected", active_seconds, comment)
    task.review_state = ReviewState.REWORK
    session.flush()
    return answers


def audit_task(session: Session, task: Task, auditor: str, accepted: Any, comments: Any) -> None:
    """The customer's own audit of a completed task (Scale's /audit)."""
    if not isinstance(accepted, bool):
        raise InvalidRequest("accepted: must be true or false", field="accepted")
    if comments is not None and not isinstance(comments, str):
        raise InvalidRequest("comments: must be a string", field="comments")
    if task.status != TaskStatus.COMPLETED:
        raise InvalidRequest(f"Task {task.public_id} is {task.status}; only completed tasks can be audited.")
    result = "accepted" if accepted else "rejected"
    audit = {"audited_by": auditor, "audited_at": iso(utcnow()), "audit_time_secs": 0, "audit_result": result, "audit_source": "customer"}
    if comments:
        audit["comments"] = comments
    task.audits = [*(task.audits or []), audit]
    task.customer_review_status = result
    task.updated_at = utcnow()
    session.flush()
    notify(session, task)

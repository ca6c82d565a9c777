"""Task state transitions and their side effects, in one place.

Every transition that a customer hears about writes its callback to the outbox in the
same transaction. Services call these; nothing else writes `Task.status`.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

import orjson
from sqlalchemy import bindparam, func, insert, select, true, update
from sqlalchemy.orm import Session

from assay.batches.models import Batch
from assay.callbacks.service import enqueue_batch_callback, enqueue_task_callback
from assay.db import utcnow, written_at_commit
from assay.errors import InvalidRequest
from assay.projects.models import Project
from assay.tasks import counts, queries
from assay.tasks.models import LabelerStats, Task, TaskAnswer
from assay.tasks.serialize import task_json
from assay.tasktypes import get_plugin
from assay.timeutil import iso


def notify(session: Session, task: Task) -> None:
    """Queue the task callback (if the task has a callback URL)."""
    if not task.callback_url:
        return
    session.flush()
    enqueue_task_callback(session, task.org_id, task.id, task.callback_url, task_json(queries.task_row(session, task.id)))


def complete_task(session: Session, task: Task, response: dict[str, Any], quality: dict[str, Any] | None = None) -> None:
    now = utcnow()
    counts.move(session, task, task.status, "completed")
    task.status = "completed"
    task.response = response
    task.quality = quality
    task.completed_at = now
    task.updated_at = now
    session.flush()
    notify(session, task)
    _after_terminal(session, task)


def fail_task(session: Session, task: Task, message: str) -> None:
    """Attachment processing failed: status error, callback with the error."""
    if task.status != "pending":
        return
    counts.move(session, task, task.status, "error")
    task.status = "error"
    task.response = {"error": message}
    task.updated_at = utcnow()
    if task.clear_unique_id_on_error:
        task.unique_id = None
    session.flush()
    notify(session, task)
    _after_terminal(session, task)


def cancel_task(session: Session, task: Task, clear_unique_id: bool) -> None:
    if task.kind != "task":
        raise InvalidRequest(f"Task {task.public_id} is a {task.kind} item; gold items are not canceled.")
    if task.status != "pending":
        raise InvalidRequest(f"Task {task.public_id} cannot be canceled: its status is {task.status}; only pending tasks can be.")
    started = session.scalar(select(func.count()).select_from(TaskAnswer).where(TaskAnswer.task_id == task.id))
    if started:
        raise InvalidRequest(f"Task {task.public_id} cannot be canceled: work on it has started ({started} answer(s) recorded).")
    counts.move(session, task, task.status, "canceled")
    task.status = "canceled"
    task.updated_at = utcnow()
    if clear_unique_id:
        task.unique_id = None
    session.flush()
    _after_terminal(session, task)


def consensus_of(session: Session, task: Task, answers: list[tuple[int | None, dict[str, Any]]], aggregation: str | None = None):
    """Consolidate (labeler, response) pairs, each labeler weighted by their accuracy
    estimate in this project: the type's own aggregator when it has one (spans, boxes,
    free text), else the project's method over whole answers — `auto`: the one-coin
    posterior (assay.quality.online); `majority_vote` / `weighted_majority_vote`: vote
    shares; a named model (`dawid_skene`, …): the project's fitted model (assay.truth).
    Returns (response, quality, agreed) where agreed[i] says whether answer i agrees;
    quality["contributors"] lists the agreeing labelers (native API only)."""
    from assay.quality.online import consensus  # numpy loads on first use

    plugin = get_plugin(task.type)
    users = [u for u, _ in answers]
    known = [u for u in users if u is not None]
    stats = {}
    if known:
        stats = {row.user_id: row for row in session.connection().execute(
            select(LS.c.user_id, LS.c.answered, LS.c.agreed, LS.c.gold_answered, LS.c.gold_correct)
            .where(LS.c.project_id == task.project_id, LS.c.user_id.in_(known)))}
    accuracies = [labeler_accuracy(stats.get(u)) for u in users]
    if aggregation is None:
        aggregation = session.connection().execute(_AGGREGATION, {"p": task.project_id}).scalar()
    if aggregation == "majority_vote":
        accuracies = [labeler_accuracy(None)] * len(answers)  # everyone counts the same
    responses = [r for _, r in answers]
    aggregate = plugin.aggregate(responses, accuracies, task.params) if len(answers) > 1 else None
    if aggregate is not None:
        agreed = [i in set(aggregate.contributors) for i in range(len(answers))]
        quality = {"confidence": round(float(aggregate.confidence), 4), "labels": len(answers), "agreeing": sum(agreed),
                   "method": aggregate.method}
        if aggregate.details:
            quality.update(aggregate.details)
        return aggregate.response, _with_contributors(quality, users, agreed), agreed
    keys = [plugin.consensus_key(response, task.params) for response in responses]
    posterior, method = None, "one_coin"
    if aggregation in ("majority_vote", "weighted_majority_vote"):
        posterior, method = _vote_shares(keys, None if aggregation == "majority_vote" else accuracies), aggregation
    elif aggregation in _NAMED_METHODS and plugin.is_categorical(task.params):
        from assay.truth.service import fitted_posterior

        posterior = fitted_posterior(session, task.project_id, aggregation, users, keys)
        method = aggregation if posterior is not None else method
    if posterior is None:
        posterior = consensus(keys, accuracies, plugin.answer_space(task.params)).posterior
    # ties go to the answer given first
    winner_key = max(posterior, key=lambda k: (posterior[k], -keys.index(k)))
    agreed = [k == winner_key for k in keys]
    quality = {"confidence": round(posterior[winner_key], 4), "labels": len(answers), "agreeing": sum(agreed), "method": method}
    return responses[keys.index(winner_key)], _with_contributors(quality, users, agreed), agreed


_NAMED_METHODS = ("dawid_skene", "one_coin_dawid_skene", "glad")


def _vote_shares(keys: list, weights: list[float] | None) -> dict:
    shares: dict = {}
    for i, key in enumerate(keys):
        shares[key] = shares.get(key, 0.0) + (1.0 if weights is None else weights[i])
    total = sum(shares.values()) or 1.0
    return {k: v / total for k, v in shares.items()}


def _with_contributors(quality: dict[str, Any], users: list[int | None], agreed: list[bool]) -> dict[str, Any]:
    quality["contributors"] = [u for u, ok in zip(users, agreed) if ok and u is not None]
    return quality


def labeler_accuracy(stats) -> float:
    """A labeler's accuracy estimate: from gold answers when they have any, else from
    agreement with consolidated answers (both smoothed by the same Beta prior)."""
    from assay.quality.online import smoothed_accuracy

    if stats is None:
        return smoothed_accuracy(0, 0)
    if stats.gold_answered:
        return smoothed_accuracy(stats.gold_correct, stats.gold_answered)
    return smoothed_accuracy(stats.agreed, stats.answered)


def record_gold_answer(session: Session, task: Task, response: Any, *, user_id: int, active_seconds: float | None = None) -> tuple[int, bool]:
    """An answer to an evaluation or training item: compared with the expected response
    (same consensus key = correct) and stored; evaluation answers count in the labeler's
    gold record. The item itself never changes state. Returns (answer id, correct)."""
    _check_active_seconds(active_seconds)
    plugin = get_plugin(task.type)
    clean = plugin.validate_response(response, task.params)
    correct = plugin.consensus_key(clean, task.params) == plugin.consensus_key(task.expected_response, task.params)
    conn = session.connection()
    answer_id = conn.execute(_INSERT_ANSWER, {
        "org_id": task.org_id, "task_id": task.id, "user_id": user_id, "source": "gold", "response": clean, "active_seconds": active_seconds,
        "hypothesis_status": None, "active": True, "created_at": utcnow(), "correct": correct,
    }).scalar_one()
    if task.kind == "evaluation":
        conn.execute(_gold_upsert(conn.dialect.name), {"p": task.project_id, "u": user_id, "o": task.org_id, "correct": int(correct)})
    return answer_id, correct


def _gold_upsert(dialect: str):
    key = ("gold", dialect)
    stmt = _STATS_UPSERTS.get(key)
    if stmt is None:
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(LS).values(
            project_id=bindparam("p"), user_id=bindparam("u"), org_id=bindparam("o"), answered=0, agreed=0, gold_answered=1,
            gold_correct=bindparam("correct"))
        stmt = _STATS_UPSERTS[key] = ins.on_conflict_do_update(
            index_elements=[LS.c.project_id, LS.c.user_id],
            set_={"gold_answered": LS.c.gold_answered + 1, "gold_correct": LS.c.gold_correct + ins.excluded.gold_correct})
    return stmt


def _record_agreement(session: Session, task: Task, users: list[int | None], agreed: list[bool]) -> None:
    """Each labeler's answer joins their record: agreed when it matches the final answer.
    Collected here and written just before the commit, in user order: completions by the
    same people on different tasks touch the same rows, so on PostgreSQL the row locks are
    held only at the very end and always taken in the same order (no deadlock)."""
    deltas = session.info.setdefault(_STATS_DELTAS, {})
    for user_id, ok in zip(users, agreed):
        if user_id is not None:
            key = (task.project_id, user_id, task.org_id)
            answered, agreed_n = deltas.get(key, (0, 0))
            deltas[key] = (answered + 1, agreed_n + int(ok))


_STATS_DELTAS = "labeler_stats_deltas"


@written_at_commit(_STATS_DELTAS)
def _write_stats(session, deltas) -> None:
    conn = session.connection()
    stmt = _stats_upsert(conn.dialect.name)
    for (project_id, user_id, org_id), (answered, agreed) in sorted(deltas.items()):
        conn.execute(stmt, {"p": project_id, "u": user_id, "o": org_id, "n": answered, "agreed": agreed})


_STATS_UPSERTS: dict[str, Any] = {}


def _stats_upsert(dialect: str):
    stmt = _STATS_UPSERTS.get(dialect)
    if stmt is None:
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(LS).values(
            project_id=bindparam("p"), user_id=bindparam("u"), org_id=bindparam("o"), answered=bindparam("n"), agreed=bindparam("agreed"))
        stmt = _STATS_UPSERTS[dialect] = ins.on_conflict_do_update(
            index_elements=[LS.c.project_id, LS.c.user_id],
            set_={"answered": LS.c.answered + ins.excluded.answered, "agreed": LS.c.agreed + ins.excluded.agreed})
    return stmt


def active_answers(session: Session, task: Task) -> list[TaskAnswer]:
    """The human answers that count: one per labeler, the latest version of each."""
    return list(session.scalars(
        select(TaskAnswer).where(TaskAnswer.task_id == task.id, TaskAnswer.source == "human", TaskAnswer.active.is_(True)).order_by(TaskAnswer.id)
    ))


def hypothesis_status(session: Session, task: Task, clean: dict[str, Any]) -> str | None:
    """What a submission did with the pre-label shown (the customer's `hypothesis`, else
    the project model's prediction): accepted unchanged, edited (kept some of it), or
    rejected (a different category; none of its spans/shapes kept)."""
    hypothesis = (task.params or {}).get("hypothesis")
    if hypothesis is None:
        from assay.backends.service import prelabel

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
        given = {orjson.dumps(a, option=orjson.OPT_SORT_KEYS) for a in clean.get("annotations") or [] if isinstance(a, dict)}
        return "edited" if given.intersection(suggested) else "rejected"
    return "edited"


def _check_active_seconds(active_seconds: Any) -> None:
    if active_seconds is not None and (not isinstance(active_seconds, (int, float)) or isinstance(active_seconds, bool) or active_seconds < 0):
        raise InvalidRequest("active_seconds: must be a non-negative number", field="active_seconds")


TA = TaskAnswer.__table__
T = Task.__table__
LS = LabelerStats.__table__
_INSERT_ANSWER = insert(TA).returning(TA.c.id)
_DEACTIVATE_ANSWER = update(TA).where(TA.c.id == bindparam("answer_id")).values(active=False)
_ACTIVE_RESPONSES = select(TA.c.user_id, TA.c.response).where(TA.c.task_id == bindparam("t"), TA.c.source == "human",
                                                             TA.c.active == true()).order_by(TA.c.id)
_HAS_ANSWER = select(TA.c.id).where(TA.c.task_id == bindparam("t"), TA.c.user_id == bindparam("u"), TA.c.source == "human",
                                   TA.c.active == true()).limit(1)
PT = Project.__table__
_POLICY = select(PT.c.review_fraction, PT.c.max_labels, PT.c.target_confidence, PT.c.review_below, PT.c.aggregation).where(PT.c.id == bindparam("p"))
_AGGREGATION = select(PT.c.aggregation).where(PT.c.id == bindparam("p"))


def record_answer(
    session: Session,
    task: Task,
    response: Any,
    *,
    user_id: int | None,
    source: str = "human",
    active_seconds: float | None = None,
    replaces: int | None = None,
    lease_held: bool = False,
) -> int:
    """Store one labeler's answer (or a new version of their answer `replaces`); once
    the task has the labels it needs, send it to review or complete it. Returns the
    answer id. `lease_held`: the caller holds this person's assignment for the task
    (unique per task and person), so no second answer can exist. Hot path: prebuilt
    Core statements (statement building costs more CPU here than the SQL)."""
    if task.status != "pending" and replaces is None:
        raise InvalidRequest(f"Task {task.public_id} is {task.status}; only pending tasks take answers.", field="task_id")
    _check_active_seconds(active_seconds)
    clean = get_plugin(task.type).validate_response(response, task.params)
    conn = session.connection()
    if user_id is not None and replaces is None and not lease_held:
        if conn.execute(_HAS_ANSWER, {"t": task.id, "u": user_id}).first() is not None:
            raise InvalidRequest(f"Task {task.public_id} already has an answer from this user.", field="task_id")
    if replaces is not None:
        conn.execute(_DEACTIVATE_ANSWER, {"answer_id": replaces})
    now = utcnow()
    answer_id = conn.execute(_INSERT_ANSWER, {
        "org_id": task.org_id, "task_id": task.id, "user_id": user_id, "source": source, "response": clean, "active_seconds": active_seconds,
        "hypothesis_status": hypothesis_status(session, task, clean), "active": True, "created_at": now,
    }).scalar_one()
    task.updated_at = now
    if task.status == "completed":
        # an edit of a finished task (the labeler went back): the answer is re-consolidated
        task.response, task.quality, _ = consensus_of(session, task, [tuple(r) for r in conn.execute(_ACTIVE_RESPONSES, {"t": task.id})])
        session.flush()
        notify(session, task)
    elif task.review_state is None:
        labels_in(session, task)
    return answer_id


def needs_review(task: Task, fraction: float) -> bool:
    """A stable share of tasks (by id hash), so a task's fate does not depend on timing."""
    if fraction <= 0:
        return False
    if fraction >= 1:
        return True
    return int(hashlib.sha256(task.public_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < fraction


def labels_in(session: Session, task: Task) -> None:
    """Called after an answer. With the labels the task asks for, consolidate; if the
    project sets a target confidence and the consensus is below it, ask for one more label
    (up to the project's maximum); otherwise send the task to review or complete it."""
    conn = session.connection()
    answers = [tuple(r) for r in conn.execute(_ACTIVE_RESPONSES, {"t": task.id})]
    if len(answers) < task.required_labels:
        return
    policy = conn.execute(_POLICY, {"p": task.project_id}).first()
    response, quality, agreed = consensus_of(session, task, answers, policy.aggregation)
    ceiling = max(policy.max_labels or 0, task.required_labels)
    if policy.target_confidence and quality["confidence"] < policy.target_confidence and len(answers) < ceiling:
        task.required_labels += 1
        task.quality = quality
        conn.execute(update(T).where(T.c.id == task.id).values(open_slots=T.c.open_slots + 1))
        return
    low = policy.review_below is not None and quality["confidence"] < policy.review_below
    if low or needs_review(task, policy.review_fraction or 0.0):
        task.quality = quality
        task.review_state = "waiting"
        session.flush()
        return
    complete_task(session, task, response, quality)
    _record_agreement(session, task, [u for u, _ in answers], agreed)


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
    if task.status != "pending" or task.review_state not in ("waiting", "leased"):
        raise InvalidRequest(f"Task {task.public_id} is not waiting for review.", field="task_id")
    _check_active_seconds(active_seconds)
    answers = active_answers(session, task)
    if not answers:
        raise InvalidRequest(f"Task {task.public_id} has no answers to review.", field="task_id")
    for answer in answers:
        answer.reviewed_by = reviewer_id
    pairs = [(a.user_id, a.response) for a in answers]
    if action == "accept":
        for answer in answers:
            answer.review_status = "accepted"
        final, quality, agreed = consensus_of(session, task, pairs)
        quality["method"] += "+review"
    elif action == "fix":
        clean = get_plugin(task.type).validate_response(response, task.params)
        key = orjson.dumps(clean, option=orjson.OPT_SORT_KEYS)
        for answer in answers:
            answer.review_status = "accepted" if orjson.dumps(answer.response, option=orjson.OPT_SORT_KEYS) == key else "fixed"
            answer.review_comment = comment
        corrected = [a.user_id for a in answers if a.review_status == "fixed"]
        session.add(TaskAnswer(org_id=task.org_id, task_id=task.id, user_id=reviewer_id, source="review_fix", response=clean,
                               active_seconds=active_seconds, corrects_user_id=corrected[0] if len(corrected) == 1 else None))
        final = clean
        plugin = get_plugin(task.type)
        truth = plugin.consensus_key(clean, task.params)
        # the reviewer's answer is taken as the truth
        agreed = [plugin.consensus_key(r, task.params) == truth for _, r in pairs]
        quality = {"confidence": 1.0, "labels": len(answers), "agreeing": sum(agreed), "method": "review_fix"}
    elif action == "reject":
        if not isinstance(comment, str) or not comment.strip():
            raise InvalidRequest("comment: required when rejecting: tell the labeler what to change", field="comment")
        for answer in answers:
            answer.review_status = "rejected"
            answer.review_comment = comment
        _review_audit(task, reviewer_email, "rejected", active_seconds, comment)
        task.review_state = "rework"
        session.flush()
        return answers
    else:
        raise InvalidRequest("action: must be one of accept, fix, reject", field="action")
    _review_audit(task, reviewer_email, "accepted" if action == "accept" else "fixed", active_seconds, comment)
    task.review_state = "done"
    complete_task(session, task, final, quality)
    _record_agreement(session, task, [u for u, _ in pairs], agreed)
    return []


def auto_complete_test_task(session: Session, task: Task) -> None:
    """Test-mode keys: a bot answers at once with a well-formed synthetic response."""
    plugin = get_plugin(task.type)
    rng = random.Random(task.public_id)
    response = plugin.validate_response(plugin.synthetic_response(task.params, rng), task.params)
    session.add(TaskAnswer(org_id=task.org_id, task_id=task.id, user_id=None, source="test_bot", response=response))
    complete_task(session, task, response)


def audit_task(session: Session, task: Task, auditor: str, accepted: Any, comments: Any) -> None:
    if not isinstance(accepted, bool):
        raise InvalidRequest("accepted: must be true or false", field="accepted")
    if comments is not None and not isinstance(comments, str):
        raise InvalidRequest("comments: must be a string", field="comments")
    if task.status != "completed":
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


def _after_terminal(session: Session, task: Task) -> None:
    if task.batch_id is None:
        return
    # Lock the batch row so two transactions finishing its last two tasks cannot both
    # see the other's task as still pending.
    batch = session.get(Batch, task.batch_id, with_for_update=True)
    if batch is not None:
        check_batch_completion(session, batch)


def check_batch_completion(session: Session, batch: Batch) -> None:
    """A finalized batch completes when none of its tasks is pending."""
    if batch.finalized_at is None or batch.status == "completed":
        return
    counts = dict(session.execute(select(Task.status, func.count()).where(Task.batch_id == batch.id).group_by(Task.status)).all())
    if not counts or counts.get("pending"):
        return
    batch.status = "completed"
    batch.completed_at = utcnow()
    session.flush()
    if batch.callback:
        from assay.batches.service import batch_json

        project_name = session.scalar(select(Project.name).where(Project.id == batch.project_id))
        enqueue_batch_callback(session, batch.org_id, batch.id, batch.callback, batch_json(batch, project_name))

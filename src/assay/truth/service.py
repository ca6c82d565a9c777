"""Named truth-inference methods per project, kept current without refitting per label.

A project whose `aggregation` names a truth model (`dawid_skene`, `one_coin_dawid_skene`,
`glad`, `bayesian_dawid_skene`, `community_dawid_skene`, `mace`) or is `auto` gets a fitted
model (`TruthModel`) over all its single-choice answers. The background jobs refit it once
the project has `refit_step()` more labels than at the last fit: `ASSAY_TRUTH_REFIT_LABELS`,
or a tenth of the labels of the last fit when that is more (or on demand:
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

import math
import time
from typing import Any

from sqlalchemy import bindparam, func, select, text, true
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
# held by the process fitting a project until its fit is stored (PostgreSQL; on SQLite two
# processes may fit at once, and the fit over more labels is kept): the background jobs pass
# a project another process is fitting, a refit asked for by hand waits for it
_FIT_LOCK = "SELECT {}(hashtextextended('assay.truth.fit.' || :p, 0))"
_TRY_FIT_LOCK, _WAIT_FIT_LOCK = text(_FIT_LOCK.format("pg_try_advisory_xact_lock")), text(_FIT_LOCK.format("pg_advisory_xact_lock"))
_LABELS_SEEN = select(func.coalesce(func.sum(LS.c.answered), 0)).where(LS.c.project_id == bindparam("p"))
_STORED_FIT = select(TM.c.method, TM.c.labels_seen, TM.c.fitted_at, TM.c.seconds).where(TM.c.project_id == bindparam("p"))


# A fit costs time in proportion to the project's labels: a fixed step between refits would
# make a project's refit work grow with the square of its size (at 70 labels/s and 4,000
# labels, `auto` refitted every 0.7 s and took a fifth of the app's CPU). A tenth more labels
# barely moves a fit over many, and the tasks in between are scored with the last one.
REFIT_GROWTH = 0.1
# ... and a project labeled fast enough to reach that step within seconds (32 annotators on a
# 2,500-label project: every 2 s) waits 20 times its last fit's length, so that its refits
# take at most about a twentieth of the time of the process that runs them.
REFIT_SPACING = 20


def refit_step(labels_at_last_fit: int) -> int:
    """New labels after which a fitted project is refitted."""
    return max(get_settings().truth_refit_labels, math.ceil(labels_at_last_fit * REFIT_GROWTH))


def _refit_due(method: str, fitted_method: str | None, labels_seen: int, fitted_at, fit_seconds: float, labels: int) -> bool:
    """Whether a project of `method` with `labels` labels needs a refit, given its stored fit."""
    if fitted_method != method:
        return True
    return (labels - labels_seen >= refit_step(labels_seen)
            and (utcnow() - fitted_at).total_seconds() >= fit_seconds * REFIT_SPACING)


def fit_project(db, project: Project, *, only_if_due: bool = False) -> TruthModel | None:
    """Fit the project's named method over its single-choice answers and store it. The
    answers are read and fitted in a read transaction — a fit takes up to seconds, and no
    writer waits for it (on SQLite a write transaction holds the one write lock) — and stored
    in a short write, under a per-project lock so that the app processes and workers, which
    all run the jobs, do not fit the same project twice at once.
    only_if_due (the background jobs): None, fitting nothing, when another process is fitting
    the project, when the stored fit is no longer due (`_refit_due`: another process has just
    stored one), or when a fit over more labels was stored while this one ran."""
    method = project.aggregation
    if method not in NAMED_METHODS:
        raise ValueError(f"project aggregation {method!r} has no model to fit")
    with db.read() as session:
        conn = session.connection()
        if conn.dialect.name == "postgresql":
            if not only_if_due:
                conn.execute(_WAIT_FIT_LOCK, {"p": project.id})
            elif not conn.execute(_TRY_FIT_LOCK, {"p": project.id}).scalar():
                return None  # another process is fitting it now
        labels_seen = int(conn.execute(_LABELS_SEEN, {"p": project.id}).scalar_one())
        if only_if_due:
            stored = conn.execute(_STORED_FIT, {"p": project.id}).first()  # (a committed row always holds a fit)
            if stored and not _refit_due(method, stored.method, stored.labels_seen, stored.fitted_at, stored.seconds, labels_seen):
                return None
        values = _fit(session, project, method)
        with db.write() as write:
            # one row per project, made or locked in one statement (two INSERTs collided on
            # PostgreSQL); a fit over more labels than this one, stored meanwhile, is kept
            wconn = write.connection()
            wconn.execute(upsert(wconn, "truth_model_row", TM, ["project_id"],
                                 {"org_id": bindparam("o"), "project_id": bindparam("p"), "method": bindparam("m"), "state": bindparam("s")},
                                 lambda excluded: {"project_id": excluded.project_id}),
                          {"o": project.org_id, "p": project.id, "m": method, "s": {}})
            model = write.scalar(select(TruthModel).where(TruthModel.project_id == project.id).execution_options(populate_existing=True))
            if only_if_due and model.method == method and model.labels_seen > labels_seen:  # (a row just made has 0)
                return None
            for name, value in values.items():
                setattr(model, name, value)
            model.method, model.labels_seen, model.fitted_at = method, labels_seen, utcnow()
            write.flush()
            write.expunge(model)
            return model


def _fit(session: Session, project: Project, method: str) -> dict[str, Any]:
    """The stored fields of a fit of `method` over the project's single-choice answers."""
    import numpy as np  # noqa: PLC0415 - numpy and the fits load on the first refit, not at start-up

    from assay.quality.aggregation import aggregate  # noqa: PLC0415 - as numpy
    from assay.quality.online import fitted_parameters  # noqa: PLC0415 - as numpy

    started = time.perf_counter()  # reading the answers included: it is part of what a refit costs
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
    values: dict[str, Any] = {"answers": len(t_idx), "tasks": len(task_index), "workers": len(worker_index)}
    if len(class_index) < 2:  # nothing to learn yet (one class, no single-choice answers): the next try waits
        return {**values, "seconds": round(time.perf_counter() - started, 4), "state": {"classes": list(class_index), "class_prior": [], "workers": {}, "population": []}}
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
    return {**values, "seconds": round(seconds, 4), "state": state}


def refit_due(db) -> list[int]:
    """Background job: refit every project whose named method has no fit yet, a fit of
    another method, or `refit_step()` more labels than at its last fit and REFIT_SPACING times
    that fit's length since (`auto`: its first fit waits for `ASSAY_TRUTH_REFIT_LABELS`
    labels). Returns the projects refitted."""
    every = get_settings().truth_refit_labels
    labels_by_project = (select(LS.c.project_id, func.sum(LS.c.answered).label("labels"))
                         .group_by(LS.c.project_id).subquery())
    with db.read() as session:
        candidates = session.execute(
            select(Project.id, Project.aggregation, TM.c.method, TM.c.labels_seen, TM.c.fitted_at, TM.c.seconds, labels_by_project.c.labels)
            .outerjoin(TM, TM.c.project_id == Project.id)
            .join(labels_by_project, labels_by_project.c.project_id == Project.id)
            .where(Project.aggregation.in_(NAMED_METHODS), Project.archived.is_(False))).all()
        due = []
        for project_id, project_method, fitted_method, seen, fitted_at, fit_seconds, labels in candidates:
            labels = int(labels or 0)
            if labels == 0 or (project_method == "auto" and fitted_method is None and labels < every):
                continue
            if _refit_due(project_method, fitted_method, seen or 0, fitted_at, fit_seconds or 0.0, labels):
                due.append(project_id)
    refitted = []
    for project_id in due:
        with db.read() as session:
            project = session.get(Project, project_id)
        if project is not None and project.aggregation in NAMED_METHODS and fit_project(db, project, only_if_due=True):
            refitted.append(project_id)
    return refitted


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

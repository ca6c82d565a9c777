"""A judge's part of the background round: pending chat tasks the current judge version has
not judged are sent to the judge a batch at a time; each verdict is stored
(`judge_verdicts`, inconsistent ones too) and each usable one becomes the task's prediction
(the pre-label). Failed calls are reported together after the batch is stored."""

from __future__ import annotations

from sqlalchemy import false, select, update

from assay.backends.models import JudgeVerdict, Prediction, ProjectModel
from assay.backends.service import judges
from assay.backends.service.http import BackendError
from assay.db import utcnow
from assay.projects.models import Project
from assay.tasks.models import Task, TaskKind, TaskStatus

T = Task.__table__
PR = Prediction.__table__
PM = ProjectModel.__table__
JV = JudgeVerdict.__table__


def judge_batch(db, model: ProjectModel, project: Project, after: int) -> int | None:
    """Judge one batch of pending tasks with ids above `after` (those without a verdict of
    this judge version); returns the last id, None when none was left."""
    size = max(1, model.concurrency) * 8  # a round stops between batches when its time is up
    with db.read() as session:
        rows = session.execute(
            select(T.c.id, T.c.type, T.c.params).select_from(T.outerjoin(JV, JV.c.task_id == T.c.id))
            .where(T.c.project_id == project.id, T.c.org_id == project.org_id, T.c.status == TaskStatus.PENDING, T.c.kind == TaskKind.TASK,
                   T.c.is_test.is_(False), T.c.id > after, (JV.c.task_id.is_(None)) | (JV.c.model_version < model.version))
            .order_by(T.c.id).limit(size)).all()
    if not rows:
        return None
    result = judges.judge_batch(model, [(r.type, r.params or {}) for r in rows])
    now = utcnow()
    verdicts, predictions = [], []
    for r, judged in zip(rows, result.judged):
        if judged.verdict is not None:
            verdicts.append({"task_id": r.id, "org_id": project.org_id, "project_id": project.id, "model_version": model.version,
                             "judge": model.model_name or "", "created_at": now, **judged.verdict})
        if judged.prediction is not None:
            predictions.append({"task_id": r.id, "org_id": project.org_id, "project_id": project.id, "model_version": model.version,
                                "created_at": now, "auto_accepted": False, "probabilities": None, **judged.prediction})
    judged_ids = [v["task_id"] for v in verdicts]
    with db.write() as session:
        conn = session.connection()
        if judged_ids:
            conn.execute(JV.delete().where(JV.c.task_id.in_(judged_ids)))
            conn.execute(JV.insert(), verdicts)
            # an inconsistent verdict leaves no older pre-label behind either
            conn.execute(PR.delete().where(PR.c.task_id.in_(judged_ids)))
        if predictions:
            conn.execute(PR.insert(), predictions)
        conn.execute(update(PM).where(PM.c.id == model.id).values(order_stale=True))
    if result.errors:
        raise BackendError(f"{len(result.errors)} of {len(rows)} judge calls failed (those tasks are judged again next round): "
                           f"{result.errors[0]}")
    return rows[-1].id


def _same_verdict(judge: dict, people: dict) -> bool:
    """The judge and the consolidated answer agree: the same winner (strength aside), or
    the same ranking."""
    if "preference" in judge:
        return (judge.get("preference") or {}).get("winner") == (people.get("preference") or {}).get("winner")
    return judge.get("ranking") == people.get("ranking")


def update_judge_accuracy(db, model: ProjectModel, project: Project) -> float | None:
    """The judge's accuracy against finished tasks' answers, smoothed like a labeler's
    record ((agreeing + 4) / (judged + 5)): the weight of its vote when it votes. Where its
    own vote helped consolidate a task this flatters it somewhat (docs/judges.md)."""
    with db.read() as session:
        rows = session.execute(
            select(JV.c.response, T.c.response.label("final")).select_from(JV.join(T, T.c.id == JV.c.task_id))
            .where(JV.c.project_id == project.id, JV.c.org_id == project.org_id, JV.c.model_version == model.version,
                   JV.c.response.is_not(None), (JV.c.consistent.is_(None)) | (JV.c.consistent != false()),
                   T.c.status == TaskStatus.COMPLETED, T.c.response.is_not(None))).all()
    if not rows:
        return None
    agreeing = sum(_same_verdict(r.response, r.final) for r in rows)
    accuracy = (agreeing + 4) / (len(rows) + 5)  # Beta(4, 1): 0.8 with no record, as prelabels.JUDGE_PRIOR_ACCURACY
    with db.write() as session:
        session.execute(update(PM).where(PM.c.id == model.id).values(judge_accuracy=accuracy))
    return accuracy

"""Label-error checks over finished data: the project's finished single-choice text tasks
ranked by how likely their label is wrong (confident learning over out-of-fold
probabilities of the built-in text model); the top suspects are kept on the model row."""

from __future__ import annotations

import time
from typing import Any

from assay.backends import builtin
from assay.backends.models import ProjectModel
from assay.backends.service.rounds import TRAIN_CAP, finished_tasks
from assay.backends.service.settings import get_model
from assay.db import utcnow
from assay.errors import InvalidRequest
from assay.projects.models import Project
from assay.tasktypes import get_plugin
from assay.timeutil import iso

MIN_SCAN = 20


def scan_label_errors(db, project: Project, top: int = 50) -> dict[str, Any]:
    """Rank the project's finished single-choice text tasks by how likely their label is
    wrong (confident learning over out-of-fold probabilities of the built-in text model)
    and store the top suspects on the project's model row."""
    with db.read() as session:
        rows = finished_tasks(session, project, limit=TRAIN_CAP)
    items = [(r, builtin.task_text(r.type, r.params or {})) for r in rows
             if get_plugin(r.type).is_categorical(r.params or {}) and isinstance((r.response or {}).get("category"), str)]
    items = [(r, text) for r, text in items if text]
    if len(items) < MIN_SCAN:
        raise InvalidRequest(f"label-error checks need at least {MIN_SCAN} finished single-choice tasks with text; this project has {len(items)}",
                             field="project_id")
    labels = [r.response["category"] for r, _ in items]
    if len(set(labels)) < 2:
        raise InvalidRequest("label-error checks need finished tasks of at least two categories", field="project_id")
    from assay.learning.label_errors import out_of_fold_probabilities, rank_label_issues  # noqa: PLC0415 - sklearn and cleanlab load only for a scan

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

"""A project model's pre-label for one task: the suggestion the workbench starts from and
that a submission is compared with (accepted / edited / rejected); and an LLM judge's
vote, when the project counts its judge as one more labeler in consolidation. Indexed
reads shared by the queue and the lifecycle; the model itself is backends/service's."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, false, select, true

from assay.backends.models import JudgeVerdict, Prediction, ProjectModel

PR = Prediction.__table__
PM = ProjectModel.__table__
_PRELABEL = (select(PR.c.response).join(PM, PM.c.project_id == PR.c.project_id)
             .where(PR.c.task_id == bindparam("t"), PM.c.project_id == bindparam("p"), PM.c.prelabels == true()))


def prelabel(conn, task_id: int, project_id: int) -> dict[str, Any] | None:
    """The model's suggestion for a task when the project shows pre-labels (the customer's
    own `hypothesis` param wins over it; callers check that first)."""
    return conn.execute(_PRELABEL, {"t": task_id, "p": project_id}).scalar()


JV = JudgeVerdict.__table__
JUDGE_PRIOR_ACCURACY = 0.8  # a judge with no record yet weighs like a new labeler (Beta(4, 1))
_JUDGE_VOTE = (select(JV.c.response, PM.c.judge_accuracy).join(PM, PM.c.project_id == JV.c.project_id)
               .where(JV.c.task_id == bindparam("t"), PM.c.project_id == bindparam("p"), PM.c.backend == "openai",
                      PM.c.judge_votes == true(), JV.c.model_version == PM.c.version, JV.c.response.is_not(None),
                      (JV.c.consistent.is_(None)) | (JV.c.consistent != false())))


def judge_vote(conn, task_id: int, project_id: int) -> tuple[dict[str, Any], float] | None:
    """The project's judge verdict on a task and its weight (the judge's estimated
    accuracy), when the project counts its judge as a labeler and the current judge gave
    a usable (consistent) verdict; None otherwise."""
    row = conn.execute(_JUDGE_VOTE, {"t": task_id, "p": project_id}).first()
    if row is None:
        return None
    return row.response, JUDGE_PRIOR_ACCURACY if row.judge_accuracy is None else float(row.judge_accuracy)

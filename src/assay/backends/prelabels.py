"""A project model's pre-label for one task: the suggestion the workbench starts from and
that a submission is compared with (accepted / edited / rejected). One indexed read,
shared by the queue and the lifecycle; the model itself is backends/service's."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select, true

from assay.backends.models import Prediction, ProjectModel

PR = Prediction.__table__
PM = ProjectModel.__table__
_PRELABEL = (select(PR.c.response).join(PM, PM.c.project_id == PR.c.project_id)
             .where(PR.c.task_id == bindparam("t"), PM.c.project_id == bindparam("p"), PM.c.prelabels == true()))


def prelabel(conn, task_id: int, project_id: int) -> dict[str, Any] | None:
    """The model's suggestion for a task when the project shows pre-labels (the customer's
    own `hypothesis` param wins over it; callers check that first)."""
    return conn.execute(_PRELABEL, {"t": task_id, "p": project_id}).scalar()

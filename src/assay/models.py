"""Imports every model so Alembic and `Base.metadata` see the whole schema."""

from assay.audit.models import AuditEvent  # noqa: F401
from assay.backends.models import ChatTurn, EvaluationRun, JudgeVerdict, Prediction, ProjectModel  # noqa: F401
from assay.batches.models import Batch  # noqa: F401
from assay.callbacks.models import OutboxEntry  # noqa: F401
from assay.db import Base  # noqa: F401
from assay.exports.models import ExportJob  # noqa: F401
from assay.files.models import StoredFile  # noqa: F401
from assay.orgs.models import ApiKey, Organization, User  # noqa: F401
from assay.projects.models import Project  # noqa: F401
from assay.queue.models import Assignment, ProjectMember  # noqa: F401
from assay.tasks.models import LabelerStats, Task, TaskAnswer  # noqa: F401
from assay.truth.models import TruthModel  # noqa: F401

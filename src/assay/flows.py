"""Steps that span two domains, called by views and pages (after Netflix Dispatch's
`flows`): kept here, small, so no domain service ever imports another."""

from __future__ import annotations

import io
import posixpath
from typing import Any

from sqlalchemy.orm import Session

from assay.auth.principals import Principal
from assay.authz import authorize
from assay.files import service as files
from assay.projects.models import Project
from assay.projects.service import settings_json, staffing_json
from assay.queue.policies import QueuePolicy
from assay.queue.schemas import AnswerBody
from assay.queue.service.access import task_project_access
from assay.queue.service.membership import members_json
from assay.queue.service.submit import answer_directly
from assay.tasks.service import imports as task_imports
from assay.tasks.service import listing


def project_settings(session: Session, project: Project) -> dict[str, Any]:
    """A project's settings (projects) with its members and their gold records (queue)."""
    return {**settings_json(project), "members": members_json(session, project), **staffing_json(session, project)}


def answer_task(session: Session, principal: Principal, task_id: str, body: AnswerBody) -> dict[str, Any]:
    """One answer without a lease: the task (tasks) under the queue's rules and slots
    (queue), rendered as Scale JSON."""
    task = listing.get_task(session, principal, task_id, for_update=True)
    authorize(principal, QueuePolicy.answer(task_project_access(session, principal, task)))
    answer_directly(session, principal, task, body)
    session.flush()
    return listing.render(session, task)


def import_tasks(session: Session, principal: Principal, project: Project, parsed: Any, mode: str, batch: str | None) -> list[str]:
    """An import's media stored as uploaded files (their scaledata:// URLs become the
    attachments), then its tasks, in the caller's transaction."""
    attachments: dict[str, str] = {}
    for name, data in parsed.media.items():
        file_id, path, size, sha = files.store_stream(principal, io.BytesIO(data))
        files.record_file(session, principal, file_id, path, size, sha, posixpath.basename(name), None, {"project_name": project.name})
        attachments[name] = f"scaledata://{principal.org_public_id}/{file_id}"
    return task_imports.store(session, principal, project, parsed.rows, mode, batch, attachments)

"""Task → Scale v1 JSON."""

from __future__ import annotations

from typing import Any

from assay.tasks.models import Task
from assay.timeutil import iso


def task_json(task: Task, project_name: str | None, batch_name: str | None, attachment_url: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "task_id": task.public_id,
        "created_at": iso(task.created_at),
        "updated_at": iso(task.updated_at),
        "type": task.type,
        "status": task.status,
        "instruction": task.instruction,
        "params": task.params,
        "callback_url": task.callback_url or "",
        "is_test": task.is_test,
        "urgency": "standard",
        "metadata": task.metadata_ if task.metadata_ is not None else {},
        "processed_attachments": [],
        "audits": task.audits or [],
        "project": project_name,
    }
    if batch_name is not None:
        out["batch"] = batch_name
    if task.completed_at is not None:
        out["completed_at"] = iso(task.completed_at)
    if task.response is not None:
        out["response"] = task.response
    if task.callback_succeeded is not None:
        out["callback_succeeded"] = task.callback_succeeded
    if task.unique_id is not None:
        out["unique_id"] = task.unique_id
    if task.tags is not None:
        out["tags"] = task.tags
    if task.priority is not None:
        out["priority"] = task.priority
    if task.customer_review_status is not None:
        out["customer_review_status"] = task.customer_review_status
    if attachment_url is not None:
        out["attachment_url"] = attachment_url
    return out


def limited_task_json(task: Task, project_name: str | None) -> dict[str, Any]:
    return {"task_id": task.public_id, "status": task.status, "metadata": task.metadata_ or {}, "project": project_name}

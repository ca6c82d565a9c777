"""Writing outbox rows. Called only from the transaction that changes the state the row
reports on (tasks/lifecycle.py), so the change and its side effect commit together."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy.orm import Session

from assay.callbacks.models import ATTACHMENT_CHECK, BATCH_CALLBACK, TASK_CALLBACK, OutboxEntry
from assay.db import utcnow


def enqueue_task_callback(session: Session, org_id: int, task_id: int, url: str, task_payload: dict[str, Any]) -> OutboxEntry:
    body = {"task_id": task_payload["task_id"], "response": task_payload.get("response"), "task": task_payload}
    row = OutboxEntry(org_id=org_id, kind=TASK_CALLBACK, task_id=task_id, url=url, payload=orjson.dumps(body).decode(), next_attempt_at=utcnow())
    session.add(row)
    return row


def enqueue_batch_callback(session: Session, org_id: int, batch_id: int, url: str, batch_payload: dict[str, Any]) -> OutboxEntry:
    row = OutboxEntry(
        org_id=org_id, kind=BATCH_CALLBACK, batch_id=batch_id, url=url, payload=orjson.dumps({"batch": batch_payload}).decode(), next_attempt_at=utcnow()
    )
    session.add(row)
    return row


def enqueue_attachment_check(session: Session, org_id: int, task_id: int, url: str) -> OutboxEntry:
    row = OutboxEntry(org_id=org_id, kind=ATTACHMENT_CHECK, task_id=task_id, url=url, payload="", next_attempt_at=utcnow())
    session.add(row)
    return row

"""The outbox delivery loop: callbacks (task and batch) and attachment checks.

Rows are claimed with a lease (`locked_until`), so a worker that dies mid-delivery
only delays its rows until the lease ends; on PostgreSQL claims use
FOR UPDATE SKIP LOCKED so several workers never take the same row. A 2xx marks the row
delivered at once, in its own transaction: after a restart nothing acknowledged is sent
again, and nothing unacknowledged is lost.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

import httpx
from sqlalchemy import or_, select

from assay import __version__
from assay.callbacks.models import ATTACHMENT_CHECK, BATCH_CALLBACK, TASK_CALLBACK, OutboxEntry
from assay.config import Settings, get_settings
from assay.db import Database, get_db, utcnow
from assay.netguard import UrlRefused, post, probe
from assay.orgs.models import Organization
from assay.tasks.models import Task

log = logging.getLogger("assay.worker")

ATTACHMENT_CHECK_ATTEMPTS = 3
ATTACHMENT_CHECK_DELAYS = (2.0, 10.0)
SIGNATURE_HEADER = "X-Assay-Signature"


def retry_delays(max_attempts: int, window_seconds: float) -> list[float]:
    """Exponential backoff (doubling, capped at 512 units) scaled so that all attempts
    fit in the window: with 20 attempts over 24 h the first retry waits ~15 s and the
    later ones ~2.1 h."""
    raw = [float(min(2**i, 2**9)) for i in range(max(max_attempts - 1, 0))]
    total = sum(raw)
    if total == 0:
        return []
    return [r * window_seconds / total for r in raw]


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


@dataclass
class Claimed:
    id: int
    kind: str
    url: str
    payload: str
    attempts: int
    task_id: int | None
    secret: str


class OutboxWorker:
    def __init__(self, db: Database | None = None, settings: Settings | None = None, concurrency: int = 8, batch_size: int = 32):
        self.db = db or get_db()
        self.settings = settings or get_settings()
        self.batch_size = batch_size
        self.pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="assay-outbox")
        self.client = httpx.Client(timeout=self.settings.callback_timeout_seconds, headers={"User-Agent": f"assay-callbacks/{__version__}"})
        self.delays = retry_delays(self.settings.callback_max_attempts, self.settings.callback_retry_window_seconds)
        self.lease = timedelta(seconds=self.settings.callback_timeout_seconds * 2 + 5)
        self.stop_event = threading.Event()

    # -- claiming -----------------------------------------------------------------
    def claim(self) -> list[Claimed]:
        now = utcnow()
        with self.db.write() as session:
            stmt = (
                select(OutboxEntry, Organization.callback_auth_key)
                .join(Organization, Organization.id == OutboxEntry.org_id)
                .where(
                    OutboxEntry.status == "pending",
                    OutboxEntry.next_attempt_at <= now,
                    or_(OutboxEntry.locked_until.is_(None), OutboxEntry.locked_until < now),
                )
                .order_by(OutboxEntry.next_attempt_at, OutboxEntry.id)
                .limit(self.batch_size)
            )
            if not self.db.is_sqlite:
                stmt = stmt.with_for_update(of=OutboxEntry, skip_locked=True)
            claimed = []
            for row, secret in session.execute(stmt).all():
                row.locked_until = now + self.lease
                claimed.append(Claimed(row.id, row.kind, row.url, row.payload, row.attempts, row.task_id, secret))
            return claimed

    # -- performing -----------------------------------------------------------------
    def perform(self, item: Claimed) -> None:
        try:
            if item.kind in (TASK_CALLBACK, BATCH_CALLBACK):
                self._deliver(item)
            elif item.kind == ATTACHMENT_CHECK:
                self._check_attachment(item)
            else:
                self._finish(item, ok=False, error=f"unknown outbox kind {item.kind}", final=True)
        except Exception:  # never let one row kill the loop
            log.exception("outbox row %s failed unexpectedly", item.id)

    def _deliver(self, item: Claimed) -> None:
        body = item.payload.encode()
        headers = {
            "Content-Type": "application/json",
            "scale-callback-auth": item.secret,
            SIGNATURE_HEADER: sign(item.secret, int(time.time()), body),
            "X-Assay-Delivery": str(item.id),
        }
        try:
            status = post(self.client, item.url, body, headers)
        except UrlRefused as exc:
            self._finish(item, ok=False, error=f"refused: {exc}")
            return
        except httpx.HTTPError as exc:
            self._finish(item, ok=False, error=f"{exc.__class__.__name__}: {exc}")
            return
        self._finish(item, ok=200 <= status < 300, status_code=status, error=None if 200 <= status < 300 else f"HTTP {status}")

    def _check_attachment(self, item: Claimed) -> None:
        try:
            probe(item.url, timeout=self.settings.callback_timeout_seconds)
        except UrlRefused as exc:
            self._attachment_failed(item, str(exc), final=True)
            return
        except httpx.HTTPError as exc:
            self._attachment_failed(item, f"{exc.__class__.__name__}: {exc}", final=False)
            return
        self._finish(item, ok=True)

    def _attachment_failed(self, item: Claimed, error: str, final: bool) -> None:
        attempts = item.attempts + 1
        final = final or attempts >= ATTACHMENT_CHECK_ATTEMPTS
        from assay.tasks.lifecycle import fail_task

        with self.db.write() as session:
            row = session.get(OutboxEntry, item.id)
            row.attempts = attempts
            row.last_error = error
            row.locked_until = None
            if final:
                row.status = "failed"
                task = session.get(Task, item.task_id, with_for_update=True) if item.task_id else None
                if task is not None:
                    fail_task(session, task, f"Attachment {item.url} could not be downloaded: {error}")
            else:
                row.next_attempt_at = utcnow() + timedelta(seconds=ATTACHMENT_CHECK_DELAYS[min(attempts - 1, len(ATTACHMENT_CHECK_DELAYS) - 1)])

    def _finish(self, item: Claimed, ok: bool, status_code: int | None = None, error: str | None = None, final: bool = False) -> None:
        now = utcnow()
        with self.db.write() as session:
            row = session.get(OutboxEntry, item.id)
            row.attempts = item.attempts + 1
            row.last_status_code = status_code
            row.last_error = error
            row.locked_until = None
            give_up = final or row.attempts >= self.settings.callback_max_attempts
            if ok:
                row.status = "delivered"
                row.delivered_at = now
            elif give_up:
                row.status = "failed"
            else:
                row.next_attempt_at = now + timedelta(seconds=self.delays[min(row.attempts - 1, len(self.delays) - 1)])
            if item.kind == TASK_CALLBACK and item.task_id and (ok or give_up):
                task = session.get(Task, item.task_id)
                if task is not None:
                    task.callback_succeeded = ok
        if not ok:
            log.info("outbox row %s (%s to %s) attempt %s failed: %s", item.id, item.kind, item.url, item.attempts + 1, error)

    # -- loop -----------------------------------------------------------------------
    def run_once(self) -> int:
        claimed = self.claim()
        if claimed:
            list(self.pool.map(self.perform, claimed))
        return len(claimed)

    def run_forever(self) -> None:
        while not self.stop_event.is_set():
            try:
                processed = self.run_once()
            except Exception:
                log.exception("outbox loop error")
                processed = 0
            if processed == 0:
                self.stop_event.wait(self.settings.worker_poll_seconds)

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run_forever, name="assay-outbox-loop", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.stop_event.set()
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.client.close()

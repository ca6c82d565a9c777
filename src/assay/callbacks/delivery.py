"""The outbox delivery loop: callbacks (task and batch) and attachment checks.

Rows are claimed with a lease (`locked_until`), so a worker that dies mid-delivery
only delays its rows until the lease ends; on PostgreSQL claims use
FOR UPDATE SKIP LOCKED so several workers never take the same row. A 2xx marks the row
delivered at once, in its own transaction: after a restart nothing acknowledged is sent
again, and nothing unacknowledged is lost.

Deliveries run independently on one asyncio loop: each attempt has one overall deadline
(ASSAY_CALLBACK_TIMEOUT_SECONDS: resolve, connect, send, read the status and headers), at
most ASSAY_CALLBACK_PER_DESTINATION run at once against one destination (scheme, host,
port) and ASSAY_CALLBACK_CONCURRENCY in all. A row is claimed only when it can start at
once, so the lease always covers a running attempt, a slow receiver occupies only its own
slots, and rows of a busy destination stay unclaimed for another worker or for later.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

import httpx
from sqlalchemy import func, or_, select

from assay import __version__
from assay.callbacks.models import ATTACHMENT_CHECK, BATCH_CALLBACK, TASK_CALLBACK, OutboxEntry
from assay.config import Settings, get_settings
from assay.db import Database, get_db, utcnow
from assay.netguard import UrlRefused, async_client, post_async, probe_async
from assay.orgs.models import Organization
from assay.tasks.lifecycle import fail_task
from assay.tasks.models import Task

log = logging.getLogger("assay.worker")

ATTACHMENT_CHECK_ATTEMPTS = 3
ATTACHMENT_CHECK_BACKOFF = (1.0, 5.0)  # times settings.attachment_check_retry_seconds: 2 s, then 10 s by default
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


def destination(url: str) -> str:
    """scheme://host:port, the unit the per-destination bound counts (receivers may share
    a host on different ports)."""
    try:
        parsed = httpx.URL(url)
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        return f"{parsed.scheme}://{parsed.raw_host.decode('ascii').lower()}:{port}"
    except (httpx.InvalidURL, TypeError, UnicodeError):
        return url  # refused when performed; counted on its own meanwhile


@dataclass
class Claimed:
    id: int
    kind: str
    url: str
    payload: str
    attempts: int
    task_id: int | None
    secret: str

    @property
    def destination(self) -> str:
        return destination(self.url)


class OutboxWorker:
    def __init__(self, db: Database | None = None, settings: Settings | None = None):
        self.db = db or get_db()
        self.settings = settings or get_settings()
        self.deadline = self.settings.callback_timeout_seconds
        self.per_destination = self.settings.callback_per_destination
        self.concurrency = self.settings.callback_concurrency
        # candidate rows read per claim: enough to find startable rows past busy destinations
        self.window = max(4 * self.concurrency, 64)
        self.delays = retry_delays(self.settings.callback_max_attempts, self.settings.callback_retry_window_seconds)
        # covers the attempt (at most the deadline) and recording its outcome
        self.lease = timedelta(seconds=self.deadline * 2 + 5)
        self.stop_event = threading.Event()
        self.in_flight: Counter[str] = Counter()  # per destination; touched only on the loop
        self.running = 0
        self._db_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="assay-outbox-db")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    # -- claiming -----------------------------------------------------------------
    def claim(self, busy: Mapping[str, int], free: int) -> list[Claimed]:
        """Lease up to `free` due rows whose destination has a slot left, given the
        deliveries `busy` per destination already running here."""
        if free <= 0:
            return []
        now = utcnow()
        due = (
            OutboxEntry.status == "pending",
            OutboxEntry.next_attempt_at <= now,
            or_(OutboxEntry.locked_until.is_(None), OutboxEntry.locked_until < now),
        )
        order = (OutboxEntry.next_attempt_at, OutboxEntry.id)
        # Oldest first, but interleaved across organizations and with at most
        # per_destination rows of one URL, so a backlog for one receiver cannot fill the
        # window and hide other receivers' rows.
        ranked = (
            select(
                OutboxEntry.id,
                OutboxEntry.url,
                OutboxEntry.next_attempt_at,
                func.row_number().over(partition_by=OutboxEntry.url, order_by=order).label("url_rank"),
                func.row_number().over(partition_by=OutboxEntry.org_id, order_by=order).label("org_rank"),
            )
            .where(*due)
            .subquery()
        )
        candidates = (
            select(ranked.c.id, ranked.c.url)
            .where(ranked.c.url_rank <= self.per_destination)
            .order_by(ranked.c.org_rank, ranked.c.next_attempt_at, ranked.c.id)
            .limit(self.window)
        )
        # read outside the write transaction: most polls find nothing to start, and on
        # SQLite a write transaction holds the lock every API write waits for
        with self.db.read() as session:
            rows = session.execute(candidates).all()
        taken = Counter(busy)
        chosen: list[int] = []
        for row_id, url in rows:
            where = destination(url)
            if taken[where] >= self.per_destination:
                continue
            taken[where] += 1
            chosen.append(row_id)
            if len(chosen) >= free:
                break
        if not chosen:
            return []
        with self.db.write() as session:
            # lock and re-check: another worker may have taken some since the read above
            stmt = (
                select(OutboxEntry, Organization.callback_auth_key)
                .join(Organization, Organization.id == OutboxEntry.org_id)
                .where(OutboxEntry.id.in_(chosen), *due)
            )
            if not self.db.is_sqlite:
                stmt = stmt.with_for_update(of=OutboxEntry, skip_locked=True)
            claimed = []
            for row, secret in session.execute(stmt).all():
                row.locked_until = now + self.lease
                claimed.append(Claimed(row.id, row.kind, row.url, row.payload, row.attempts, row.task_id, secret))
        position = {row_id: i for i, row_id in enumerate(chosen)}
        return sorted(claimed, key=lambda item: position[item.id])

    # -- performing -----------------------------------------------------------------
    async def attempt(self, client: httpx.AsyncClient, item: Claimed) -> Callable[[], None]:
        """One delivery attempt; returns how to record its outcome."""
        if item.kind in (TASK_CALLBACK, BATCH_CALLBACK):
            return await self._deliver(client, item)
        if item.kind == ATTACHMENT_CHECK:
            return await self._check_attachment(client, item)
        return partial(self._finish, item, ok=False, error=f"unknown outbox kind {item.kind}", final=True)

    async def _deliver(self, client: httpx.AsyncClient, item: Claimed) -> Callable[[], None]:
        body = item.payload.encode()
        headers = {
            "Content-Type": "application/json",
            "scale-callback-auth": item.secret,
            SIGNATURE_HEADER: sign(item.secret, int(time.time()), body),
            "X-Assay-Delivery": str(item.id),
        }
        try:
            status = await post_async(client, item.url, body, headers)
        except UrlRefused as exc:
            return partial(self._finish, item, ok=False, error=f"refused: {exc}")
        except httpx.HTTPError as exc:
            return partial(self._finish, item, ok=False, error=f"{exc.__class__.__name__}: {exc}")
        ok = 200 <= status < 300
        return partial(self._finish, item, ok=ok, status_code=status, error=None if ok else f"HTTP {status}")

    async def _check_attachment(self, client: httpx.AsyncClient, item: Claimed) -> Callable[[], None]:
        try:
            await probe_async(client, item.url)
        except UrlRefused as exc:
            return partial(self._attachment_failed, item, str(exc), final=True)
        except httpx.HTTPError as exc:
            return partial(self._attachment_failed, item, f"{exc.__class__.__name__}: {exc}", final=False)
        return partial(self._finish, item, ok=True)

    def _failed(self, item: Claimed, error: str) -> Callable[[], None]:
        """A failed attempt that may be retried."""
        if item.kind == ATTACHMENT_CHECK:
            return partial(self._attachment_failed, item, error, final=False)
        return partial(self._finish, item, ok=False, error=error)

    def _attachment_failed(self, item: Claimed, error: str, final: bool) -> None:
        attempts = item.attempts + 1
        final = final or attempts >= ATTACHMENT_CHECK_ATTEMPTS
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
                factor = ATTACHMENT_CHECK_BACKOFF[min(attempts - 1, len(ATTACHMENT_CHECK_BACKOFF) - 1)]
                row.next_attempt_at = utcnow() + timedelta(seconds=factor * self.settings.attachment_check_retry_seconds)

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

    async def _perform(self, client: httpx.AsyncClient, item: Claimed) -> None:
        loop = asyncio.get_running_loop()
        try:
            try:
                async with asyncio.timeout(self.deadline):
                    record = await self.attempt(client, item)
            except TimeoutError:
                record = self._failed(item, f"no answer within the {self.deadline:g} s deadline (ASSAY_CALLBACK_TIMEOUT_SECONDS)")
            except Exception as exc:  # a bug, not the receiver's doing: still one failed attempt
                log.exception("outbox row %s failed unexpectedly", item.id)
                record = self._failed(item, f"internal error: {exc.__class__.__name__}")
            await loop.run_in_executor(self._db_pool, record)
        except Exception:  # never let one row kill the loop; its lease runs out and it is retried
            log.exception("outbox row %s: recording the outcome failed", item.id)
        finally:
            self.in_flight[item.destination] -= 1
            if self.in_flight[item.destination] <= 0:
                del self.in_flight[item.destination]
            self.running -= 1
            self._wake.set()

    # -- loop -----------------------------------------------------------------------
    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        # Host names are resolved in the default executor: one thread per delivery in flight
        # (and as many spare for lookups abandoned at their deadline), so a slow DNS server
        # delays only the deliveries that need it.
        loop.set_default_executor(ThreadPoolExecutor(max_workers=2 * self.concurrency, thread_name_prefix="assay-outbox-dns"))
        self._wake = asyncio.Event()
        self._loop = loop
        running: set[asyncio.Task] = set()
        async with async_client(timeout=self.deadline + 1, headers={"User-Agent": f"assay-callbacks/{__version__}"}) as client:
            try:
                while not self.stop_event.is_set():
                    self._wake.clear()
                    claimed: list[Claimed] = []
                    if self.running < self.concurrency:
                        try:
                            claimed = await loop.run_in_executor(self._db_pool, self.claim, dict(self.in_flight), self.concurrency - self.running)
                        except Exception:
                            log.exception("outbox claim failed")
                    for item in claimed:
                        self.in_flight[item.destination] += 1
                        self.running += 1
                        task = asyncio.create_task(self._perform(client, item))
                        running.add(task)
                        task.add_done_callback(running.discard)
                    if not claimed:
                        # until a slot frees, a stop, or the next poll for new or due rows
                        try:
                            async with asyncio.timeout(self.settings.worker_poll_seconds):
                                await self._wake.wait()
                        except TimeoutError:
                            pass
            finally:
                # attempts end by their deadline; let them record their outcome
                if running:
                    await asyncio.gather(*running, return_exceptions=True)

    def run_forever(self) -> None:
        """Deliver until stop() (or request_stop()) is called; blocks."""
        if not self.stop_event.is_set():
            asyncio.run(self._serve())

    def start_thread(self) -> threading.Thread:
        self._thread = threading.Thread(target=self.run_forever, name="assay-outbox-loop", daemon=True)
        self._thread.start()
        return self._thread

    def request_stop(self) -> None:
        """Ask the loop to stop (safe from any thread and from signal handlers)."""
        self.stop_event.set()
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            try:
                loop.call_soon_threadsafe(wake.set)
            except RuntimeError:  # the loop has already closed
                pass

    def stop(self) -> None:
        self.request_stop()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=self.deadline + 30)
        self._db_pool.shutdown(wait=True)

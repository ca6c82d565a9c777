"""Background jobs: periodic work that must never run inside a request (refitting a
project's truth model, training built-in models, predicting pre-labels, export jobs). One daemon thread
runs each registered job every `ASSAY_JOBS_POLL_SECONDS`; a failing job is logged and
retried on the next tick, never stopping the others. Jobs are idempotent, so several
processes (`assay serve` plus `assay worker`s) running them at once only repeat work."""

from __future__ import annotations

import logging
import threading
from typing import Callable

from assay.backends.service.rounds import tick as model_tick
from assay.config import get_settings
from assay.db import get_db
from assay.exports.service.jobs import run_queued as run_exports
from assay.tasks import counts, rollups
from assay.truth.service import refit_due

log = logging.getLogger("assay.jobs")


def _jobs() -> list[tuple[str, Callable]]:
    return [("truth-refit", refit_due), ("models", model_tick), ("exports", run_exports), ("fold-counts", counts.fold_shards),
            ("fold-rollups", rollups.fold_shards)]


class BackgroundJobs:
    def __init__(self, poll_seconds: float | None = None):
        self.poll_seconds = poll_seconds or get_settings().jobs_poll_seconds
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None

    def run_once(self) -> dict[str, object]:
        db = get_db()
        done: dict[str, object] = {}
        for name, job in _jobs():
            if self.stop_event.is_set():
                break
            try:
                done[name] = job(db)
            except Exception:  # one broken project or backend must not stop the loop
                log.exception("background job %s failed", name)
        return done

    def run_forever(self) -> None:
        while not self.stop_event.wait(self.poll_seconds):
            self.run_once()

    def start_thread(self) -> threading.Thread:
        self.thread = threading.Thread(target=self.run_forever, name="assay-jobs", daemon=True)
        self.thread.start()
        return self.thread

    def stop(self) -> None:
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout=10)

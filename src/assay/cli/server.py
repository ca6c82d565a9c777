"""`assay serve`, `assay worker`, `assay migrate`, `assay demo`."""

from __future__ import annotations

import logging
import os
import signal
import sys

import typer

from assay.bootstrap import bootstrap, principal_for, print_first_run, share_secret_key
from assay.callbacks.delivery import OutboxWorker
from assay.cli.common import err, fail, ready, settings
from assay.config import reset_settings
from assay.db import get_db
from assay.demo import create_demo
from assay.jobs import BackgroundJobs
from assay.migrate import upgrade
from assay.orgs import service as orgs

# The server stack, chosen rather than left to uvicorn's "auto": bench/server_stack.py
# measured ~55 µs of server CPU per request for uvloop + httptools against ~230 µs for
# asyncio + h11 (both are dependencies; the rest of a request's ~1 ms is the app's own).
SERVER_STACK = {"loop": "uvloop", "http": "httptools"}


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, min=1, help="API processes (PostgreSQL only; SQLite needs 1)."),
) -> None:
    """Start the server (creates the database, runs migrations and the admin account on first start)."""
    import uvicorn  # noqa: PLC0415 - the server stack loads only for `serve`

    current = settings()
    if workers > 1 and not current.database_url.startswith("postgresql"):
        fail("--workers > 1 needs PostgreSQL (ASSAY_DATABASE_URL); SQLite is served by one process")
    logging.basicConfig(level=current.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not os.environ.get("ASSAY_PUBLIC_URL"):
        # signed attachment links must point at this server
        os.environ["ASSAY_PUBLIC_URL"] = f"http://{host}:{port}"
        reset_settings()
    first = bootstrap()
    print_first_run(first, f"http://{host}:{port}")
    sys.stdout.flush()
    uvicorn.run("assay.app:create_app", factory=True, host=host, port=port, workers=workers, log_level=current.log_level.lower(),
                access_log=False, lifespan="on", **SERVER_STACK)


def worker() -> None:
    """Run the outbox delivery loop (callbacks, attachment checks) and the background jobs
    (truth-model refits, model training and pre-labels) in the foreground."""
    current = settings()
    logging.basicConfig(level=current.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    upgrade()
    share_secret_key()
    loop = OutboxWorker()
    jobs = BackgroundJobs()
    signal.signal(signal.SIGTERM, lambda *_: loop.request_stop())
    err.print("assay worker: delivering outbox rows and running background jobs (Ctrl+C to stop)")
    jobs.start_thread()
    try:
        loop.run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        loop.stop()
        jobs.stop()


def migrate() -> None:
    """Apply database migrations."""
    ready()
    err.print("database is up to date")


def demo(org: str = typer.Option("demo", help="Organization to put the demo projects in (created if missing).")) -> None:
    """Create the demo projects and tasks."""
    ready()
    with get_db().write() as session:
        organization = orgs.get_or_create_org(session, org)
        user = orgs.service_user(session, organization)
        principal = principal_for(user, organization)
    counts = create_demo(principal)
    if not counts:
        fail(f"organization {org!r} already has the demo projects", code=1)
    err.print(f"demo created in organization {org!r}: " + ", ".join(f"{n} {t}" for t, n in counts.items()))


def register(app: typer.Typer) -> None:
    for command in (serve, worker, migrate, demo):
        app.command()(command)

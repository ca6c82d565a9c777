"""The `assay` command line."""

from __future__ import annotations

import logging
import os
import signal
import sys

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="assay: self-hostable data engine for training data.", no_args_is_help=True, add_completion=False)
keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
users_app = typer.Typer(help="Create users (admins, customers, reviewers, annotators).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(users_app, name="users")
projects_app = typer.Typer(help="Project settings: quality policy, review, gold.", no_args_is_help=True)
app.add_typer(projects_app, name="projects")
from assay.quality.cli import quality_app  # noqa: E402  (typer-only import; the math loads lazily)

app.add_typer(quality_app, name="quality")
err = Console(stderr=True)


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[red]error:[/] {message}")
    raise typer.Exit(code)


def _settings():
    from pydantic import ValidationError

    from assay.config import get_settings

    try:
        return get_settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        _fail(f"bad setting {'.'.join(str(p) for p in first['loc'])}: {first['msg']}")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, help="API processes (PostgreSQL only; SQLite needs 1)."),
) -> None:
    """Start the server (creates the database, runs migrations and the admin account on first start)."""
    import uvicorn

    from assay.bootstrap import bootstrap, print_first_run

    settings = _settings()
    if workers > 1 and not settings.database_url.startswith("postgresql"):
        _fail("--workers > 1 needs PostgreSQL (ASSAY_DATABASE_URL); SQLite is served by one process")
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not os.environ.get("ASSAY_PUBLIC_URL"):
        # signed attachment links must point at this server
        os.environ["ASSAY_PUBLIC_URL"] = f"http://{host}:{port}"
        from assay.config import reset_settings

        reset_settings()
    first = bootstrap()
    print_first_run(first, f"http://{host}:{port}")
    sys.stdout.flush()
    uvicorn.run(
        "assay.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level.lower(),
        access_log=False,
        lifespan="on",
    )


@app.command()
def worker() -> None:
    """Run the outbox delivery loop (callbacks, attachment checks) and the background jobs
    (truth-model refits, model training and pre-labels) in the foreground."""
    from assay.callbacks.delivery import OutboxWorker
    from assay.jobs import BackgroundJobs
    from assay.migrate import upgrade

    settings = _settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    upgrade()
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


@app.command()
def migrate() -> None:
    """Apply database migrations."""
    from assay.migrate import upgrade

    _settings()
    upgrade()
    err.print("database is up to date")


@app.command()
def demo(org: str = typer.Option("demo", help="Organization to put the demo projects in (created if missing).")) -> None:
    """Create the demo projects and tasks."""
    from assay.bootstrap import principal_for
    from assay.db import get_db
    from assay.demo import create_demo
    from assay.migrate import upgrade
    from assay.orgs import service as orgs

    _settings()
    upgrade()
    with get_db().write() as session:
        organization = orgs.get_or_create_org(session, org)
        user = orgs.service_user(session, organization)
        principal = principal_for(user, organization)
    counts = create_demo(principal)
    if not counts:
        _fail(f"organization {org!r} already has the demo projects", code=1)
    err.print(f"demo created in organization {org!r}: " + ", ".join(f"{n} {t}" for t, n in counts.items()))


@keys_app.command("create")
def keys_create(
    org: str = typer.Option("demo", "--org", help="Organization name (created if it does not exist)."),
    test: bool = typer.Option(False, "--test", help="Make a test-mode key (tasks auto-complete)."),
    email: str = typer.Option("", help="User the key belongs to (default: the organization's admin)."),
) -> None:
    """Create an API key and print it on stdout (it is shown only once)."""
    from sqlalchemy import select

    from assay.db import get_db
    from assay.errors import ApiError
    from assay.migrate import upgrade
    from assay.orgs import service as orgs
    from assay.orgs.models import User

    _settings()
    upgrade()
    try:
        with get_db().write() as session:
            organization = orgs.get_or_create_org(session, org)
            if email:
                user = session.scalar(select(User).where(User.email == email.lower(), User.org_id == organization.id))
                if user is None:
                    _fail(f"--email: no user {email!r} in organization {org!r}")
            else:
                user = orgs.service_user(session, organization)
            key = orgs.create_key(session, user, is_test=test).key
    except ApiError as exc:
        _fail(exc.message)
    print(key)


@keys_app.command("list")
def keys_list(org: str = typer.Option("demo", "--org")) -> None:
    """List the keys of an organization (prefixes only; keys are stored hashed)."""
    from sqlalchemy import select

    from assay.db import get_db
    from assay.migrate import upgrade
    from assay.orgs import service as orgs
    from assay.orgs.models import ApiKey, User

    _settings()
    upgrade()
    with get_db().read() as session:
        organization = orgs.get_org_by_name(session, org)
        if organization is None:
            _fail(f"--org: no organization named {org!r}")
        rows = session.execute(select(ApiKey, User.email).join(User, User.id == ApiKey.user_id).where(ApiKey.org_id == organization.id)).all()
    table = Table("prefix", "user", "mode", "created", "revoked")
    for key, user_email in rows:
        table.add_row(key.prefix + "…", user_email, "test" if key.is_test else "live", str(key.created_at)[:19], str(key.revoked_at or "")[:19])
    Console().print(table)


@keys_app.command("revoke")
def keys_revoke(prefix: str, org: str = typer.Option("demo", "--org")) -> None:
    """Revoke the key(s) starting with PREFIX (as shown by `keys list`)."""
    from assay.db import get_db
    from assay.migrate import upgrade
    from assay.orgs import service as orgs

    _settings()
    upgrade()
    with get_db().write() as session:
        organization = orgs.get_org_by_name(session, org)
        if organization is None:
            _fail(f"--org: no organization named {org!r}")
        count = orgs.revoke_key(session, organization.id, prefix.rstrip("…")[:12])
    if not count:
        _fail(f"no active key with prefix {prefix!r} in {org!r}", code=1)
    err.print(f"revoked {count} key(s)")


@users_app.command("create")
def users_create(
    email: str,
    role: str = typer.Option(..., help="admin, customer, reviewer or annotator."),
    org: str = typer.Option("demo", "--org"),
    password: str = typer.Option("", help="Password for signing in to pages (empty: none)."),
    name: str = typer.Option("", help="Display name."),
) -> None:
    """Create a user in an organization."""
    from assay.db import get_db
    from assay.errors import ApiError
    from assay.migrate import upgrade
    from assay.orgs import service as orgs

    _settings()
    upgrade()
    try:
        with get_db().write() as session:
            organization = orgs.get_or_create_org(session, org)
            user = orgs.create_user(session, organization, email, role, password=password or None, name=name)
    except ApiError as exc:
        _fail(exc.message)
    err.print(f"created {user.role} {user.email} in {org!r}")


@projects_app.command("policy")
def projects_policy(
    project: str = typer.Argument(..., help="Project name."),
    org: str = typer.Option("demo", "--org"),
    labels: int = typer.Option(None, "--labels", help="Labels per task (the minimum)."),
    max_labels: int = typer.Option(None, "--max-labels", help="At most this many labels (adaptive overlap); 0 clears."),
    target_confidence: float = typer.Option(None, "--target-confidence", help="Ask for another label while the consensus is below this; 0 clears."),
    review_fraction: float = typer.Option(None, "--review-fraction", help="Share of tasks a reviewer checks (0-1)."),
    review_below: float = typer.Option(None, "--review-below", help="Review every task whose confidence is below this; 0 clears."),
    gold_rate: float = typer.Option(None, "--gold-rate", help="Share of claims that serve a gold item (0-1)."),
    qualification: int = typer.Option(None, "--qualification", help="Gold items a labeler answers before real work."),
    pause_below: float = typer.Option(None, "--pause-below", help="Pause labelers whose gold accuracy is below this; 0 clears."),
    aggregation: str = typer.Option(None, "--aggregation", help="auto, majority_vote, weighted_majority_vote, dawid_skene, one_coin_dawid_skene or glad."),
) -> None:
    """Show or change a project's quality policy; prints the settings as JSON."""
    import orjson

    from assay.db import get_db
    from assay.errors import ApiError
    from assay.migrate import upgrade
    from assay.orgs import service as orgs
    from assay.projects import service as projects
    from assay.security import Principal

    _settings()
    upgrade()
    cleared = {"max_labels": max_labels, "target_confidence": target_confidence, "review_below": review_below, "pause_below": pause_below}
    changes = {k: (None if v == 0 else v) for k, v in cleared.items() if v is not None}
    changes.update({k: v for k, v in {"labels_per_task": labels, "review_fraction": review_fraction, "gold_rate": gold_rate,
                                      "qualification_size": qualification, "aggregation": aggregation}.items() if v is not None})
    try:
        with get_db().write() as session:
            organization = orgs.get_org_by_name(session, org)
            if organization is None:
                _fail(f"--org: no organization named {org!r}")
            admin = orgs.service_user(session, organization)
            principal = Principal(organization.id, organization.public_id, organization.name, admin.id, admin.email, "admin", False,
                                  organization.callback_auth_key)
            row = projects.get_project(session, principal, project)
            if changes:
                projects.update_settings(session, principal, row, changes)
            settings = projects.settings_json(session, row)
    except ApiError as exc:
        _fail(exc.message)
    keys = ("labels_per_task", "max_labels", "target_confidence", "review_fraction", "review_below", "gold_rate", "qualification_size",
            "pause_below", "aggregation")
    print(orjson.dumps({"project": settings["name"], **{k: settings[k] for k in keys}}).decode())


if __name__ == "__main__":
    app()

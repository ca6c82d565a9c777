"""First start: migrations, the admin account and its keys, the demo organization."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass

from rich.console import Console
from sqlalchemy import func, select, text

from assay.auth.principals import Principal
from assay.config import get_settings, reset_settings
from assay.db import get_db
from assay.demo import create_demo
from assay.migrate import upgrade
from assay.orgs import service as orgs
from assay.orgs.models import Organization, Role, User
from assay.projects.models import Project
from assay.queue.models import ProjectMember

ADMIN_EMAIL = "admin@assay.local"


@dataclass
class FirstRun:
    org_name: str
    email: str
    password: str
    live_key: str
    test_key: str
    # demo labelers (annotator, reviewer) who share one printed password
    labelers: tuple[str, ...] = ()
    labeler_password: str = ""


def principal_for(user: User, org: Organization, is_test: bool = False) -> Principal:
    return Principal(org.id, org.public_id, org.name, user.id, user.email, user.role, is_test, org.callback_auth_key)


_SHARE_KEY = text("INSERT INTO instance_secrets (name, value) VALUES ('secret_key', :v) ON CONFLICT (name) DO NOTHING")
_SHARED_KEY = text("SELECT value FROM instance_secrets WHERE name = 'secret_key'")


def share_secret_key() -> None:
    """On PostgreSQL without ASSAY_SECRET_KEY: every process (app processes, workers, other
    machines) signs with one key kept in the database — the first process creates it. Set
    in this process's environment, so the app processes uvicorn starts inherit it. SQLite
    (one process) keeps DATA_DIR/secret_key."""
    if get_settings().secret_key or get_db().is_sqlite:
        return
    with get_db().write() as session:
        session.execute(_SHARE_KEY, {"v": secrets.token_hex(32)})
        key = session.execute(_SHARED_KEY).scalar_one()
    os.environ["ASSAY_SECRET_KEY"] = key
    reset_settings()


def bootstrap() -> FirstRun | None:
    """Idempotent. Returns the credentials when this call created the admin (first start)."""
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade()
    share_secret_key()
    get_settings().effective_secret_key  # create the key file (SQLite) before any worker needs it
    db = get_db()
    with db.write() as session:
        if session.scalar(select(func.count()).select_from(User)):
            return None
        org = orgs.create_org(session, "demo" if settings.demo else "default")
        password = secrets.token_urlsafe(12)
        admin = orgs.create_user(session, org, ADMIN_EMAIL, "admin", password=password, name="Admin")
        live = orgs.create_key(session, admin, is_test=False)
        test = orgs.create_key(session, admin, is_test=True)
        first = FirstRun(org.name, admin.email, password, live.key, test.key)
        principal = principal_for(admin, org)
    if settings.demo:
        first.labeler_password = secrets.token_urlsafe(9)
        create_demo(principal, first.labeler_password)
        first.labelers = _demo_labelers(principal, first.labeler_password)
    return first


def _demo_labelers(principal: Principal, password: str) -> tuple[str, ...]:
    """An annotator and a reviewer in every demo project, so the workbench can be tried
    at once (the admin can label too)."""
    with get_db().write() as session:
        org = session.get(Organization, principal.org_id)
        people = [orgs.create_user(session, org, f"{role}@assay.local", role, password=password, name=role.title())
                  for role in (Role.ANNOTATOR, Role.REVIEWER)]
        for project_id in session.scalars(select(Project.id).where(Project.org_id == org.id)):
            for person in people:
                session.add(ProjectMember(project_id=project_id, user_id=person.id, org_id=org.id))
        return tuple(p.email for p in people)


def print_first_run(first: FirstRun | None, url: str) -> None:
    console = Console(stderr=False, soft_wrap=True, highlight=False)
    if first is None:
        console.print(f"[bold]assay[/] serving at {url}  (admin account exists; `assay keys create` makes a new API key)")
        return
    console.print(f"[bold green]assay is ready[/] at {url}")
    console.print(f"  organization : {first.org_name}")
    console.print(f"  admin login  : {first.email}  password: [bold]{first.password}[/]  → sign in at {url}/")
    if first.labelers:
        console.print(f"  labelers     : {', '.join(first.labelers)}  password: [bold]{first.labeler_password}[/]")
    console.print(f"  live API key : [bold]{first.live_key}[/]")
    console.print(f"  test API key : [bold]{first.test_key}[/]  (test keys auto-complete tasks)")
    console.print("  These are shown once. Try:")
    console.print(f'    python -c "import scaleapi; c = scaleapi.ScaleClient(\'{first.live_key}\', api_instance_url=\'{url}/v1\'); print([p.name for p in c.get_projects()])"', markup=False)

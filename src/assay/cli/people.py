"""`assay users create | password`."""

from __future__ import annotations

import typer
from sqlalchemy import select

from assay.audit.log import record
from assay.auth.passwords import hash_password
from assay.cli.common import cli_principal, err, fail, organization_named, ready
from assay.db import get_db
from assay.errors import ApiError
from assay.orgs import service as orgs
from assay.orgs.models import User

app = typer.Typer(help="Create users (admins, customers, reviewers, annotators) and set their passwords.", no_args_is_help=True)


@app.command("create")
def users_create(
    email: str,
    role: str = typer.Option(..., help="admin, customer, reviewer or annotator."),
    org: str = typer.Option("demo", "--org"),
    password: str = typer.Option("", help="Password for signing in to pages (empty: none)."),
    name: str = typer.Option("", help="Display name."),
) -> None:
    """Create a user in an organization."""
    ready()
    try:
        with get_db().write() as session:
            organization = orgs.get_or_create_org(session, org)
            user = orgs.create_user(session, organization, email, role, password=password or None, name=name)
            record(session, cli_principal(session, organization), "user.create", "user", user.id, {"email": user.email, "role": user.role})
    except ApiError as exc:
        fail(exc.message)
    err.print(f"created {user.role} {user.email} in {org!r}")


@app.command("password")
def users_password(
    email: str,
    org: str = typer.Option("demo", "--org"),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True,
                                 help="The new password (at least 8 characters; prompted for when omitted)."),
) -> None:
    """Set a user's password. Every browser session of the user ends (running servers
    stop accepting them within a few seconds)."""
    ready()
    try:
        password_hash = hash_password(orgs.check_password(password))
        with get_db().write() as session:
            organization = organization_named(session, org)
            user = session.scalar(select(User).where(User.org_id == organization.id, User.email == email.strip().lower()))
            if user is None:
                fail(f"email: no user {email!r} in organization {org!r}")
            orgs.set_password(session, user, password_hash)
            record(session, cli_principal(session, organization), "user.password", "user", user.id, {"email": user.email})
    except ApiError as exc:
        fail(exc.message)
    err.print(f"password of {user.email} in {org!r} changed; their sessions are ended")

"""`assay users create | list | set-password | deactivate | reactivate`."""

from __future__ import annotations

import typer
from sqlalchemy import select

from assay.audit.log import record
from assay.auth import sessions
from assay.auth.passwords import hash_password
from assay.cli.common import cli_principal, err, fail, organization_named, ready
from assay.db import get_db
from assay.errors import ApiError
from assay.orgs import service as orgs
from assay.orgs.models import User

app = typer.Typer(help="People: create, list, set passwords, deactivate and reactivate (admins, customers, reviewers, annotators).",
                  no_args_is_help=True)


@app.command("create")
def users_create(
    email: str,
    role: str = typer.Option(..., help="admin, customer, reviewer or annotator."),
    org: str = typer.Option("demo", "--org", help="Organization name (it must exist unless --create-org)."),
    create_org: bool = typer.Option(False, "--create-org", help="Create the organization when there is none of that name."),
    password: str = typer.Option("", help="Password for signing in to pages (empty: none)."),
    name: str = typer.Option("", help="Display name."),
) -> None:
    """Create a user in an organization."""
    ready()
    try:
        with get_db().write() as session:
            organization = organization_named(session, org, create=create_org)
            user = orgs.create_user(session, organization, email, role, password=password or None, name=name)
            record(session, cli_principal(session, organization), "user.create", "user", user.id, {"email": user.email, "role": user.role})
    except ApiError as exc:
        fail(exc.message)
    err.print(f"created {user.role} {user.email} in {org!r}")


@app.command("list")
def users_list(org: str = typer.Option("demo", "--org"), everyone: bool = typer.Option(False, "--all", help="Include deactivated people.")) -> None:
    """List the people of an organization, one a line, tab-separated: id, e-mail, name,
    role, active (yes/no)."""
    ready()
    with get_db().read() as session:
        organization = organization_named(session, org)
        users = [u for u in orgs.list_users(session, organization.id) if everyone or u.active]
    print("id\temail\tname\trole\tactive")
    for u in users:
        print("\t".join((str(u.id), u.email, (u.name or "").replace("\t", " "), u.role, "yes" if u.active else "no")))


def _user(session, organization, email: str, org: str) -> User:
    user = session.scalar(select(User).where(User.org_id == organization.id, User.email == email.strip().lower()))
    if user is None:
        fail(f"email: no user {email!r} in organization {org!r}")
    return user


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
            user = _user(session, organization, email, org)
            orgs.set_password(session, user, password_hash)
            record(session, cli_principal(session, organization), "user.password", "user", user.id, {"email": user.email})
    except ApiError as exc:
        fail(exc.message)
    err.print(f"password of {user.email} in {org!r} changed; their sessions are ended")


app.command("set-password")(users_password)
app.command("password", hidden=True)(users_password)  # the earlier name


def _set_active(email: str, org: str, active: bool) -> None:
    ready()
    with get_db().write() as session:
        organization = organization_named(session, org)
        user = _user(session, organization, email, org)
        if user.active == active:
            fail(f"{user.email} is already {'active' if active else 'deactivated'}", code=1)
        user.active = active
        if not active:
            sessions.revoke_user(session, user.id)
        record(session, cli_principal(session, organization), "user.update", "user", user.id,
               {"email": user.email, "active": active})
    err.print(f"{user.email} in {org!r} {'reactivated' if active else 'deactivated; their sessions are ended'}")


@app.command("deactivate")
def users_deactivate(email: str, org: str = typer.Option("demo", "--org")) -> None:
    """Deactivate a person: they can no longer sign in, their sessions end and their API
    keys stop working; their answers stay."""
    _set_active(email, org, False)


@app.command("reactivate")
def users_reactivate(email: str, org: str = typer.Option("demo", "--org")) -> None:
    """Let a deactivated person sign in again."""
    _set_active(email, org, True)

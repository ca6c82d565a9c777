"""`assay keys create | list | revoke`."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from assay.audit.log import record
from assay.cli.common import cli_principal, err, fail, organization_named, ready
from assay.db import get_db
from assay.errors import ApiError
from assay.orgs import service as orgs
from assay.orgs.models import ApiKey, User

app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)


@app.command("create")
def keys_create(
    org: str = typer.Option("demo", "--org", help="Organization name (it must exist unless --create-org)."),
    create_org: bool = typer.Option(False, "--create-org", help="Create the organization when there is none of that name."),
    test: bool = typer.Option(False, "--test", help="Make a test-mode key (tasks auto-complete)."),
    email: str = typer.Option("", help="User the key belongs to (default: the organization's admin)."),
) -> None:
    """Create an API key and print it on stdout (it is shown only once)."""
    ready()
    try:
        with get_db().write() as session:
            organization = organization_named(session, org, create=create_org)
            if email:
                user = session.scalar(select(User).where(User.email == email.lower(), User.org_id == organization.id))
                if user is None:
                    fail(f"--email: no user {email!r} in organization {org!r}")
            else:
                user = orgs.service_user(session, organization)
            new = orgs.create_key(session, user, is_test=test)
            record(session, cli_principal(session, organization), "key.create", "key", new.row.prefix,
                   {"user": user.email, "mode": "test" if test else "live"})
            key = new.key
    except ApiError as exc:
        fail(exc.message)
    print(key)


@app.command("list")
def keys_list(org: str = typer.Option("demo", "--org")) -> None:
    """List the keys of an organization (prefixes only; keys are stored hashed)."""
    ready()
    with get_db().read() as session:
        organization = organization_named(session, org)
        rows = session.execute(select(ApiKey, User.email).join(User, User.id == ApiKey.user_id).where(ApiKey.org_id == organization.id)).all()
    table = Table("prefix", "user", "mode", "created", "revoked")
    for key, user_email in rows:
        table.add_row(key.prefix + "…", user_email, "test" if key.is_test else "live", str(key.created_at)[:19], str(key.revoked_at or "")[:19])
    Console().print(table)


@app.command("revoke")
def keys_revoke(prefix: str, org: str = typer.Option("demo", "--org")) -> None:
    """Revoke the key(s) starting with PREFIX (as shown by `keys list`)."""
    ready()
    with get_db().write() as session:
        organization = organization_named(session, org)
        count = orgs.revoke_key(session, organization.id, prefix.rstrip("…")[:12])
        if count:
            record(session, cli_principal(session, organization), "key.revoke", "key", prefix.rstrip("…")[:12], {"keys": count})
    if not count:
        fail(f"no active key with prefix {prefix!r} in {org!r}", code=1)
    err.print(f"revoked {count} key(s)")

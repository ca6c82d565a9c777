"""What every command shares: the root app, errors on stderr with a non-zero exit, the
settings (a bad one is a clear message), and an organization's admin principal."""

from __future__ import annotations

import typer
from pydantic import ValidationError
from rich.console import Console
from typer.core import TyperOption

from assay import __version__
from assay.auth.principals import Principal
from assay.config import Settings, get_settings
from assay.migrate import upgrade
from assay.orgs import service as orgs
from assay.orgs.models import Organization, Role

app = typer.Typer(help="assay: self-hostable data engine for training data.", no_args_is_help=True, add_completion=False)
err = Console(stderr=True)



def _flag_type(self, ctx):
    """Typer's help shows `<bool>` beside a flag (--help too) as if it took a value: a
    flag's type column is left empty, every other option keeps its type."""
    return None if self.is_flag else _option_type(self, ctx)


_option_type = TyperOption.display_type_rich
TyperOption.display_type_rich = _flag_type


def _version(value: bool) -> None:
    if value:
        print(f"assay {__version__}")
        raise typer.Exit()


@app.callback()
def main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit.")) -> None:
    """assay: self-hostable data engine for training data."""


def fail(message: str, code: int = 2) -> None:
    err.print(f"[red]error:[/] {message}")
    raise typer.Exit(code)


def settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        fail(f"bad setting {'.'.join(str(p) for p in first['loc'])}: {first['msg']}")


def ready() -> None:
    """Settings checked and the database migrated: every command that touches data."""
    settings()
    upgrade()


def organization_named(session, name: str, create: bool | None = None) -> Organization:
    """The organization of that name; made when `create` (--create-org), else a typo
    stops the command instead of silently making a new, empty organization."""
    organization = orgs.get_org_by_name(session, name)
    if organization is None and create:
        return orgs.create_org(session, name)
    if organization is None:
        fail(f"--org: no organization named {name!r}" + ("" if create is None else " (add --create-org to create it)"))
    return organization


def cli_principal(session, organization: Organization) -> Principal:
    """Who the audit log says acted for a CLI command: the operator at the console, in
    the organization's admin's name (the CLI has no login)."""
    return admin_principal(session, organization)


def admin_principal(session, organization: Organization) -> Principal:
    """The organization's admin, as the CLI acts (live mode)."""
    admin = orgs.service_user(session, organization)
    return Principal(organization.id, organization.public_id, organization.name, admin.id, admin.email, Role.ADMIN, False,
                     organization.callback_auth_key, via="cli")

"""The `assay` command line: one Typer app with a module per command group."""

from __future__ import annotations

import typer

from assay.cli import audit, backup, data, keys, people, projects, quality, server
from assay.cli.common import app

app.add_typer(keys.app, name="keys")
app.add_typer(people.app, name="users")
app.add_typer(projects.app, name="projects")
app.add_typer(quality.quality_app, name="quality")
server.register(app)
app.command()(audit.audit)
app.command("export")(data.export_command)
app.command("import")(data.import_command)
app.command()(backup.backup)
app.command()(backup.restore)

__all__ = ["app", "typer"]

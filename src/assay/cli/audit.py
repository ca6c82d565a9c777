"""`assay audit`: export an organization's audit log (JSON lines or CSV) to stdout."""

from __future__ import annotations

import csv
import sys

import orjson
import typer

from assay.audit.service import AuditFilter, all_events
from assay.cli.common import fail, organization_named, ready
from assay.db import get_db
from assay.errors import ApiError
from assay.timeutil import parse_filter_time

CSV_COLUMNS = ("id", "at", "actor", "via", "address", "action", "target_type", "target_id", "details")


def audit(
    org: str = typer.Option("demo", "--org", help="Organization whose log to export."),
    since: str = typer.Option("", help="Only events at or after this date or ISO-8601 time (UTC)."),
    until: str = typer.Option("", help="Only events before this date or time."),
    action: str = typer.Option("", help="Only this action, or a prefix such as 'member'."),
    actor: str = typer.Option("", help="Only events by this e-mail."),
    format: str = typer.Option("jsonl", "--format", help="jsonl or csv."),
) -> None:
    """Export the audit log, oldest first, to stdout."""
    if format not in ("jsonl", "csv"):
        fail("--format: must be jsonl or csv")
    ready()
    try:
        where = AuditFilter(action=action or None, actor=actor or None, since=parse_filter_time(since, "since") if since else None,
                            until=parse_filter_time(until, "until") if until else None).check()
    except ApiError as exc:
        fail(f"--{exc.field}: {exc.message.split(': ', 1)[-1]}")
    with get_db().read() as session:
        organization = organization_named(session, org)
        events = all_events(session, organization.id, where)
        if format == "jsonl":
            for event in events:
                sys.stdout.write(orjson.dumps(event).decode() + "\n")
        else:
            writer = csv.writer(sys.stdout)
            writer.writerow(CSV_COLUMNS)
            for event in events:
                writer.writerow([orjson.dumps(event["details"]).decode() if c == "details" else event[c] for c in CSV_COLUMNS])

"""`assay export` and `assay import`: a project's tasks to a file in any export format, and
a file of tasks into a project (checked row by row, stored all or nothing), each with a
progress bar on stderr. Both are recorded in the audit log as the organization's admin."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from assay import flows
from assay.audit.log import record
from assay.cli.common import cli_principal, err, fail, organization_named, ready
from assay.config import get_settings
from assay.db import get_db
from assay.errors import ApiError
from assay.exports.schemas import ExportRequest
from assay.exports.service import query, run
from assay.imports.media import parse
from assay.imports.rows import ImportError_
from assay.imports.schemas import BucketImport
from assay.projects import service as projects
from assay.schemas import validate
from assay.tasks.service import imports as task_imports
from assay.timeutil import parse_filter_time


def _bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err)


def export_command(
    project: str = typer.Argument(..., help="Project name."),
    output: Path = typer.Option(..., "--output", "-o", help="File to write ('-' for stdout)."),
    org: str = typer.Option("demo", "--org", help="Organization of the project."),
    format: str = typer.Option("jsonl", "--format", help="Export format (GET /api/export-formats lists them)."),
    status: str = typer.Option("completed", help="pending, completed, canceled, error or all."),
    batch: str = typer.Option("", help="Only this batch."),
    since: str = typer.Option("", help="Only tasks completed (or created, with --date-field created_at) at or after this date/time."),
    until: str = typer.Option("", help="… and before this one."),
    date_field: str = typer.Option("completed_at", help="completed_at or created_at."),
    min_confidence: float = typer.Option(None, help="Only tasks whose consolidated confidence is at least this."),
    include_gold: bool = typer.Option(False, help="Add gold items (evaluation and training) with their expected answer."),
    include_test: bool = typer.Option(False, help="Add the tasks made with test keys."),
    include_auto_accepted: bool = typer.Option(True, help="Keep the tasks a model completed on its own."),
    answers: bool = typer.Option(False, help="Every labeler's answer too (jsonl)."),
    media: bool = typer.Option(False, help="Put the uploaded images into a vision zip."),
) -> None:
    """Export a project's tasks to a file, with a progress bar."""
    ready()
    fields = {"format": format, "status": status, "batch": batch or None, "date_field": date_field, "min_confidence": min_confidence,
              "include_gold": include_gold, "include_test": include_test, "include_auto_accepted": include_auto_accepted,
              "answers": answers, "media": media}
    db = get_db()
    try:
        fields["since"] = parse_filter_time(since, "since") if since else None
        fields["until"] = parse_filter_time(until, "until") if until else None
        request = validate(ExportRequest, {k: v for k, v in fields.items() if v is not None})
        with db.write() as session:
            organization = organization_named(session, org)
            principal = cli_principal(session, organization)
            row = projects.get_project(session, principal, project)
            fmt = run.check_format(row, request)
            record(session, principal, "export", "project", row.public_id, {"format": fmt.name, "to": str(output)[:200], **request.filters()})
        with query.reading(db) as conn:
            scope = query.scope(conn, row, False, request)
            total = query.count(conn, scope)
            out = sys.stdout.buffer if str(output) == "-" else open(output, "wb")
            try:
                with _bar() as bar:
                    job = bar.add_task(f"export {fmt.name}", total=total)
                    pages = run.pages(conn, scope, fmt, lambda n: bar.advance(job, n))
                    for chunk in run.chunks(fmt, pages, run.context_for(row, organization.public_id, request)):
                        out.write(chunk)
            finally:
                if out is not sys.stdout.buffer:
                    out.close()
            note = run.empty_note(conn, row, False, request) if total == 0 else None
    except ApiError as exc:
        fail(exc.message)
    err.print(f"{total} tasks matched → {output}" + (f" ({note})" if note else ""))


def import_command(
    project: str = typer.Argument(..., help="Project name."),
    file: Path = typer.Argument(None, exists=True, dir_okay=False, help="CSV, JSON lines, JSON, COCO JSON, CoNLL, or a zip (COCO, YOLO, media)."),
    org: str = typer.Option("demo", "--org", help="Organization of the project."),
    format: str = typer.Option("", "--format", help="csv, jsonl, json, coco, yolo, conll or media (default: from the file name)."),
    mode: str = typer.Option("tasks", help="tasks, prelabels (annotations become pre-labels) or gold (evaluation items)."),
    mapping: str = typer.Option("", help='JSON object renaming columns to task params, e.g. \'{"review": "attachment"}\'.'),
    base_url: str = typer.Option("", help="Where COCO images that are not in the upload are served."),
    batch: str = typer.Option("", help="Batch the tasks go into."),
    from_bucket: str = typer.Option("", "--from-bucket", help="Instead of FILE: s3://bucket/prefix/ in the storage bucket, one task per media object under it."),
    manifest: bool = typer.Option(False, "--manifest", help="--from-bucket names one CSV / JSON lines / JSON object of task bodies."),
) -> None:
    """Import a file of tasks into a project, or objects of the storage bucket
    (--from-bucket): every row checked first (errors with their line), then all stored or
    none."""
    ready()
    if mode not in task_imports.MODES:
        fail(f"--mode: must be one of {', '.join(task_imports.MODES)}")
    try:
        renames = json.loads(mapping) if mapping else {}
    except json.JSONDecodeError:
        fail("--mapping: not a JSON object")
    if (file is None) == (not from_bucket):
        fail("give FILE or --from-bucket s3://bucket/prefix/ (not both)")
    if from_bucket:
        _import_from_bucket(project, org, from_bucket, manifest, format, mode, renames, batch)
        return
    db = get_db()
    try:
        with db.write() as session:
            principal = cli_principal(session, organization_named(session, org))
            row = projects.get_project(session, principal, project)
            parsed = parse(file.name, file.read_bytes(), format or None, row.type, renames, base_url or None, get_settings().max_upload_bytes)
            with _bar() as bar:
                job = bar.add_task(f"check {parsed.format}", total=len(parsed.rows))
                errors, _ = task_imports.check(session, principal, row, parsed.rows, mode, batch or None, lambda n: bar.advance(job, n))
            errors = sorted([e.json() for e in parsed.errors] + errors, key=lambda e: e["line"])
            if errors:
                _fail_rows(errors)
            ids = flows.import_tasks(session, principal, row, parsed, mode, batch or None)
            record(session, principal, "import", "project", row.public_id,
                   {"format": parsed.format, "mode": mode, "tasks": len(ids), "media": len(parsed.media), "file": file.name[:200]})
    except ImportError_ as exc:
        fail(str(exc))
    except ApiError as exc:
        fail(exc.message)
    err.print(f"imported {len(ids)} tasks ({parsed.format}, {mode}) into {project}")


def _fail_rows(errors: list[dict]) -> None:
    for e in errors[:50]:
        err.print(f"line {e['line']}: {e['field']}: {e['error']}")
    fail(f"{len(errors)} rows have errors; nothing was imported")


def _import_from_bucket(project: str, org: str, url: str, manifest: bool, format: str, mode: str, renames: dict, batch: str) -> None:
    db = get_db()
    try:
        with db.read() as session:
            principal = cli_principal(session, organization_named(session, org))
            project_id = projects.get_project(session, principal, project).public_id
        fields = {"manifest" if manifest else "prefix": url, "mode": mode, "mapping": renames, **({"format": format} if format else {}),
                  **({"batch": batch} if batch else {})}
        result = flows.import_from_bucket(db, principal, project_id, validate(BucketImport, fields))
    except ApiError as exc:
        fail(exc.message)
    if result.errors:
        _fail_rows(result.errors)
    notes = [f"{result.skipped} objects already had a task"] if result.skipped else []
    notes += [f"{result.ignored} objects are not media"] if result.ignored else []
    err.print(f"imported {len(result.task_ids)} tasks ({result.format}, {mode}) into {project}" + (f" ({'; '.join(notes)})" if notes else ""))

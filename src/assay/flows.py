"""Steps that span two domains, called by views and pages (after Netflix Dispatch's
`flows`): kept here, small, so no domain service ever imports another."""

from __future__ import annotations

import io
import posixpath
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.audit.log import record
from assay.audit.service import AuditFilter, page_of_events
from assay.auth.principals import Principal
from assay.authz import authorize
from assay.backends.schemas import ChatTurnBody
from assay.backends.service import livechat
from assay.backends.service.settings import get_model
from assay.config import get_settings
from assay.errors import ApiError, field_error
from assay.files import service as files
from assay.files.references import url_refs
from assay.imports.media import MEDIA_EXTENSIONS, guess_format, media_rows, parse
from assay.imports.rows import ImportError_, Parsed, Row, RowError
from assay.imports.schemas import BucketImport
from assay.imports.tabular import SETTINGS
from assay.insights.service import progress, slices, trends
from assay.orgs.models import Role
from assay.projects.models import Project
from assay.projects.service import get_project_by_id, list_projects, project_json, settings_json, staffing_json
from assay.queue.models import Assignment
from assay.queue.policies import QueuePolicy
from assay.queue.schemas import AnswerBody, SubmitBody
from assay.queue.service import submit
from assay.queue.service.access import task_project_access
from assay.queue.service.leases import own_assignment
from assay.queue.service.membership import members_json
from assay.queue.service.submit import answer_directly
from assay.queue.service.workbench import read_only_view
from assay.tasks.models import Task, TaskKind
from assay.tasks.service import detail, listing
from assay.tasks.service import imports as task_imports
from assay.tasks.service.create import create_tasks_bulk


def project_settings(session: Session, project: Project) -> dict[str, Any]:
    """A project's settings (projects) with its members and their gold records (queue)."""
    return {**settings_json(project), "members": members_json(session, project), **staffing_json(session, project)}


def answer_task(session: Session, principal: Principal, task_id: str, body: AnswerBody) -> dict[str, Any]:
    """One answer without a lease: the task (tasks) under the queue's rules and slots
    (queue), rendered as Scale JSON."""
    task = listing.get_task(session, principal, task_id, for_update=True)
    authorize(principal, QueuePolicy.answer(task_project_access(session, principal, task)))
    if task.type == "multichat" and task.kind == TaskKind.TASK:
        # a live chat's transcript is the one its turns stored, in the caller's assignment
        mine = session.scalar(select(Assignment.id).where(Assignment.task_id == task.id, Assignment.user_id == principal.user_id)
                              .order_by(Assignment.id.desc()).limit(1))
        livechat.check_transcript(session, mine or 0, body.response)
    answer_directly(session, principal, task, body)
    session.flush()
    return listing.render(session, task)


def projects_with_progress(session: Session, principal: Principal) -> list[dict[str, Any]]:
    """The organization's projects (projects) with their progress (insights)."""
    projects = [p for p in list_projects(session, principal) if not p.archived]
    done = progress.progress(session.connection(), principal.org_id, [p.id for p in projects])
    return [{**project_json(p), "review_fraction": p.review_fraction, "progress": done[p.id]} for p in projects]


def chart_data(session: Session, principal: Principal, project: Project | None, days: int) -> dict[str, Any]:
    """A project's (or the organization's) series over time (insights) with the project."""
    data = trends.trends(session.connection(), principal.org_id, project.id if project else None, days)
    return {"project": _brief(project) if project else None, **data}


def slice_data(session: Session, project: Project, query) -> dict[str, Any]:
    """Slices of a project's labels by a metadata key (`key`) or a labeler attribute
    (`labeler`); the first metadata key seen when neither is given."""
    conn = session.connection()
    keys = slices.metadata_keys(conn, project.id)
    if query.get("labeler"):
        report = slices.by_labeler(conn, project, query["labeler"])
    elif query.get("key") or keys:
        report = slices.by_metadata(conn, project, query.get("key") or keys[0])
    else:
        report = None
    return {"project": _brief(project), "metadata_keys": keys, "report": report}


def task_page(session: Session, principal: Principal, task: Task) -> dict[str, Any]:
    """One task for its page and JSON twin: everything people did on it (tasks), its
    audit-log entries in the history (audit), and the read-only tool's view with every
    answer the caller may see, the consolidated one first (queue)."""
    out = detail.task_detail(session, principal, task)
    responses: dict[str, Any] = {}
    if out.get("consolidated"):
        responses["consolidated"] = out["consolidated"]["response"]
    for answer in out["answers"]:
        responses[f"answer-{answer['id']}"] = answer["response"]
    out["tool"] = read_only_view(session, task.id, responses)
    events = [] if principal.role == Role.ANNOTATOR else page_of_events(session, principal.org_id, AuditFilter(target_id=task.public_id),
                                                                         limit=200)[0]
    out["history"] = sorted(out["history"] + [
        {"at": e["at"], "what": e["action"], "who": e["actor"], "detail": _audit_detail(e["details"])}
        for e in events if e["target_type"] == "task"], key=lambda e: (e["at"] or "", e["what"] == out["status"]))  # the end last
    return out


def _audit_detail(details: dict[str, Any]) -> str | None:
    return ", ".join(f"{k}: {v}" for k, v in details.items() if not isinstance(v, (list, dict))) or None


def _brief(project: Project) -> dict[str, Any]:
    return {"id": project.public_id, "name": project.name, "type": project.type}


def import_tasks(session: Session, principal: Principal, project: Project, parsed: Any, mode: str, batch: str | None) -> list[str]:
    """An import's media stored as uploaded files (their scaledata:// URLs become the
    attachments), then its tasks, in the caller's transaction."""
    attachments: dict[str, str] = {}
    for name, data in parsed.media.items():
        file_id, path, size, sha = files.store_stream(principal, io.BytesIO(data))
        files.record_file(session, principal, file_id, path, size, sha, posixpath.basename(name), None, {"project_name": project.name})
        attachments[name] = f"scaledata://{principal.org_public_id}/{file_id}"
    return task_imports.store(session, principal, project, parsed.rows, mode, batch, attachments)


def leaderboard_projects(session: Session, principal: Principal, raw: str | None) -> list[Project]:
    """The chat projects a leaderboard covers (projects) for the leaderboards: those named
    in `projects=` (comma-separated ids, the caller's organization only), else all."""
    if not raw:
        return [p for p in list_projects(session, principal) if p.type == "chat"]
    projects = []
    for public_id in dict.fromkeys(x.strip() for x in raw.split(",") if x.strip()):
        project = get_project_by_id(session, principal, public_id)
        if project.type != "chat":
            raise field_error("projects", f"project {project.name!r} is a {project.type} project; leaderboards rank the models of chat projects")
        projects.append(project)
    return projects


def submit_answer(session: Session, principal: Principal, assignment_id: str, body: SubmitBody) -> dict[str, Any]:
    """Submit through the queue (queue); a live chat's transcript is first checked against
    the turns stored for the assignment (backends)."""
    assignment = own_assignment(session, principal, assignment_id)
    task = session.get(Task, assignment.task_id)
    if task is not None and task.type == "multichat" and task.kind == TaskKind.TASK:
        livechat.check_transcript(session, assignment.id, body.response)
    return submit.submit(session, principal, assignment_id, body)


def live_chat_plan(session: Session, principal: Principal, assignment_id: str, body: ChatTurnBody) -> livechat.TurnPlan:
    """What a live-chat turn asks: the caller's assignment (queue), its task (tasks) and the
    project's chat model (backends)."""
    assignment = own_assignment(session, principal, assignment_id)
    task = session.get(Task, assignment.task_id)
    project = session.get(Project, assignment.project_id)
    return livechat.plan_turn(session, get_model(session, project), task, assignment, body)


def live_chat_turns(session: Session, principal: Principal, assignment_id: str) -> dict[str, Any]:
    """The turns stored for the caller's assignment (a reloaded page picks the chat up)."""
    assignment = own_assignment(session, principal, assignment_id)
    return {"assignment_id": assignment_id, "turns": livechat.stored_turns(session, assignment.id)}


def evaluation_tasks(session: Session, principal: Principal, project: Project, tasks: list[dict[str, Any]]) -> list[str]:
    """An evaluation run's items as chat tasks for people (tasks), made in one transaction."""
    if not tasks:
        return []
    return create_tasks_bulk(session, principal, {"type": "chat", "project": project.name, "tasks": tasks})


@dataclass
class BucketImportResult:
    format: str
    task_ids: list[str] = field(default_factory=list)
    skipped: int = 0  # objects that already have a task in the project (prefix imports)
    ignored: int = 0  # objects under the prefix that are not media
    errors: list[dict[str, Any]] = field(default_factory=list)


def import_from_bucket(db, principal: Principal, project_id: str, body: BucketImport) -> BucketImportResult:
    """Tasks from the storage bucket through the uploads' import path (the same checks, all
    or nothing): one task per media object under `prefix`, or the rows of a `manifest`
    whose s3:// strings name objects. The objects are copied into the organization's files
    inside the store, so a task's media never changes under it, before the one transaction
    that records them and creates the tasks; a failure deletes the copies."""
    if (body.prefix is None) == (body.manifest is None):
        raise field_error("prefix", "give prefix (one task per object under it) or manifest (a file of task bodies), not both")
    where = "manifest" if body.manifest else "prefix"
    key = files.bucket_key(body.manifest or body.prefix, where, principal.org_public_id)
    with db.read() as session:
        task_type = get_project_by_id(session, principal, project_id).type
    if body.manifest:
        parsed, listed = _manifest_rows(key, body, task_type), {}
    else:
        parsed, listed = _object_rows(key, task_type)
    ignored = len(listed) - len(parsed.rows) if body.prefix else 0
    sources, errors = _object_refs(parsed, principal, listed)
    with db.read() as session:
        project = get_project_by_id(session, principal, project_id)
        skipped = 0
        if body.prefix:
            done = task_imports.imported_sources(session, principal, project, [r.body["metadata"]["source_url"] for r in parsed.rows])
            skipped, parsed.rows = len(done), [r for r in parsed.rows if r.body["metadata"]["source_url"] not in done]
        # every s3:// string checked as a file would be (those it may not read have their own error)
        placeholders = {url: f"scaledata://{principal.org_public_id}/bucket{i}" for i, url in enumerate(sorted(_urls_in(parsed.rows)))}
        checked, _ = task_imports.check(session, principal, project, _with_urls(parsed.rows, placeholders), body.mode, body.batch)
    errors = sorted([e.json() for e in parsed.errors] + errors + checked, key=lambda e: e["line"])
    if not errors and not parsed.rows and not skipped:
        errors = [{"line": 0, "field": where, "error": "holds no task"}]
    if errors or not parsed.rows:
        return BucketImportResult(parsed.format, skipped=skipped, ignored=ignored, errors=errors)
    copies = files.copy_objects(principal, {sources[url]: where for url in _urls_in(parsed.rows) if url in sources})
    try:
        with db.write() as session:
            project = get_project_by_id(session, principal, project_id)
            urls = files.record_copies(session, principal, copies, project.name)
            rows = _with_urls(parsed.rows, {url: urls[object_key] for url, object_key in sources.items() if object_key in urls})
            ids = task_imports.store(session, principal, project, rows, body.mode, body.batch, {})
            record(session, principal, "import", "project", project.public_id,
                   {"format": parsed.format, "mode": body.mode, "tasks": len(ids), "media": len(copies), "source": (body.manifest or body.prefix)[:200]})
    except BaseException:
        files.forget_copies(principal, copies)
        raise
    return BucketImportResult(parsed.format, task_ids=ids, skipped=skipped, ignored=ignored)


def _object_rows(prefix: str, task_type: str) -> tuple[Parsed, dict[str, str]]:
    """One row per media object under the prefix: its s3:// URL the attachment and
    `metadata.source_url`, its key below the prefix `metadata.file_name`; with every
    listed object (its URL → its key)."""
    keys = files.bucket_objects(prefix, "prefix")
    below = {key[len(prefix):].lstrip("/") or key: key for key in keys}  # a prefix need not end in '/'
    parsed = media_rows(list(below), task_type)
    if not parsed.rows:
        other = f" ({len(keys)} other objects)" if keys else ""
        raise field_error("prefix", f"no media objects under {files.bucket_url(prefix)}{other}; one task is made per "
                                    f"{', '.join(MEDIA_EXTENSIONS)} object")
    for row in parsed.rows:
        url = files.bucket_url(below[row.media])
        row.body["attachment"] = url
        row.body["metadata"]["source_url"] = url
        row.media = None
    parsed.format = "objects"
    return parsed, {files.bucket_url(key): key for key in keys}


def _manifest_rows(key: str, body: BucketImport, task_type: str) -> Parsed:
    data = files.bucket_manifest(key, "manifest")
    try:
        fmt = body.format or guess_format(key, data)
        if fmt not in ("csv", "jsonl", "json"):
            raise field_error("manifest", "a manifest is a CSV, JSON lines or JSON file of task bodies (give format if its name does not say)")
        return parse(posixpath.basename(key), data, fmt, task_type, body.mapping, None, get_settings().max_upload_bytes)
    except ImportError_ as exc:
        raise field_error("format" if exc.field == "format" else "manifest", str(exc).split(": ", 1)[-1]) from None


def _object_refs(parsed: Parsed, principal: Principal, listed: dict[str, str]) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Every s3:// string in the rows' params (url → its key in the bucket; `listed` ones
    are known), and an error (line, field) for each that the import may not read."""
    sources: dict[str, str] = dict(listed)
    errors: list[dict[str, Any]] = []
    for row in parsed.rows:
        for path, url in _s3_strings({k: v for k, v in row.body.items() if k not in SETTINGS}, ""):
            if url in sources:
                continue
            try:
                sources[url] = files.bucket_key(url, path, principal.org_public_id)
            except ApiError as exc:
                errors.append(RowError(row.line, path, exc.message.split(": ", 1)[-1]).json())
    return sources, errors


def _s3_strings(value: Any, path: str) -> list[tuple[str, str]]:
    return url_refs(value, path, "s3://")


def _urls_in(rows: list[Row]) -> set[str]:
    return {url for row in rows for _, url in _s3_strings({k: v for k, v in row.body.items() if k not in SETTINGS}, "")}


def _with_urls(rows: list[Row], urls: dict[str, str]) -> list[Row]:
    """The rows with each s3:// string of their params replaced (metadata kept as given)."""

    def swap(value: Any) -> Any:
        if isinstance(value, str):
            return urls.get(value, value)
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        if isinstance(value, list):
            return [swap(v) for v in value]
        return value

    return [Row(r.line, {k: (v if k in SETTINGS else swap(v)) for k, v in r.body.items()}, r.label, r.media) for r in rows]

"""Uploaded and imported files, stored on local disk under DATA_DIR/files/<org>/<file>.

A file's `attachment_url` is `scaledata://<org id>/<file id>`; tasks accept it as an
attachment, and list/get with include_attachment_url turn it into a signed HTTP URL."""

from __future__ import annotations

import hashlib
import hmac
import io
import mimetypes
import os
import time
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.auth.principals import Principal
from assay.config import get_settings
from assay.db import new_public_id
from assay.errors import NotFound, PayloadTooLarge, field_error
from assay.files.models import StoredFile
from assay.files.references import link_signature
from assay.files.stored import ensure_local, file_key, scaledata_parts, stored_path
from assay.netguard import UrlRefused, fetch
from assay.orgs.models import Organization
from assay.storage import get_storage
from assay.timeutil import iso

FORM_FIELDS = ("display_name", "reference_id", "project_name")


def store_stream(principal: Principal, stream: BinaryIO) -> tuple[str, Path, int, str]:
    """Copy a stream to disk under a new file id, enforcing the size limit.
    Returns (file id, path, size, sha256)."""
    limit = get_settings().max_upload_bytes
    file_id = new_public_id()
    path = stored_path(principal.org_public_id, file_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    digest = hashlib.sha256()
    size = 0
    try:
        with open(tmp, "wb") as out:
            while chunk := stream.read(1 << 20):
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"file: larger than the {limit}-byte upload limit", field="file")
                digest.update(chunk)
                out.write(chunk)
        os.replace(tmp, path)
        storage = get_storage()
        if storage.remote:  # the bucket is the truth; this copy is this machine's cache
            storage.put_file(file_key(principal.org_public_id, file_id), path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return file_id, path, size, digest.hexdigest()


def _project_names(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise field_error("project_name", "must be a project name")


def record_file(session: Session, principal: Principal, file_id: str, path: Path, size: int, sha: str, filename: str,
                mime_type: str | None, fields: dict[str, Any], source_url: str | None = None) -> StoredFile:
    try:
        row = StoredFile(
            public_id=file_id,
            org_id=principal.org_id,
            filename=(filename or "file")[:500],
            display_name=fields.get("display_name"),
            reference_id=fields.get("reference_id"),
            project_names=_project_names(fields.get("project_name")),
            mime_type=mime_type or mimetypes.guess_type(filename or "")[0] or "application/octet-stream",
            size=size,
            sha256=sha,
            source_url=source_url,
        )
        session.add(row)
        session.flush()
    except BaseException:
        path.unlink(missing_ok=True)
        if get_storage().remote:
            get_storage().delete(file_key(principal.org_public_id, file_id))
        raise
    return row


def import_from_url(principal: Principal, body: Any) -> tuple[str, Path, int, str, str, str]:
    if not isinstance(body, dict):
        raise field_error("body", "must be a JSON object {\"file_url\": ...}")
    url = body.get("file_url")
    if not isinstance(url, str) or not url:
        raise field_error("file_url", "required: the URL to import")
    try:
        data, content_type = fetch(url, get_settings().max_upload_bytes)
    except UrlRefused as exc:
        raise field_error("file_url", str(exc)) from None
    except Exception as exc:  # network errors
        raise field_error("file_url", f"could not be downloaded: {exc.__class__.__name__}: {exc}") from None
    file_id, path, size, sha = store_stream(principal, io.BytesIO(data))
    filename = os.path.basename(urlsplit(url).path) or "file"
    return file_id, path, size, sha, filename, content_type


def file_json(row: StoredFile, org_public_id: str) -> dict[str, Any]:
    return {
        "id": row.public_id,
        "attachment_url": f"scaledata://{org_public_id}/{row.public_id}",
        "created_at": iso(row.created_at),
        "updated_at": iso(row.created_at),
        "mime_type": row.mime_type,
        "project_names": row.project_names or [],
        "size": row.size,
        "filename": row.filename,
        "display_name": row.display_name,
        "reference_id": row.reference_id,
    }


def signed_file(session: Session, org_public_id: str, file_public_id: str, expires: str | None, signature: str | None) -> tuple[Path, StoredFile]:
    """Path and row of a file whose signed URL checks out; NotFound otherwise (no oracle)."""
    try:
        exp = int(expires or "")
    except ValueError:
        raise NotFound("File not found or link expired.") from None
    if exp < time.time() or not signature or not hmac.compare_digest(signature, link_signature(org_public_id, file_public_id, exp)):
        raise NotFound("File not found or link expired.")
    if not file_public_id.isalnum() or not org_public_id.isalnum():
        raise NotFound("File not found or link expired.")
    row = session.scalar(select(StoredFile).join(Organization, Organization.id == StoredFile.org_id)
                         .where(Organization.public_id == org_public_id, StoredFile.public_id == file_public_id))
    path = ensure_local(org_public_id, file_public_id) if row is not None else None
    if row is None or path is None:
        raise NotFound("File not found or link expired.")
    return path, row


def store_link(org_public_id: str, file_public_id: str, expires: str, filename: str, content_type: str | None) -> str | None:
    """With object storage: a presigned link to the file in the store (valid no longer than
    the app's own signed link), where the download goes instead of through the app."""
    storage = get_storage()
    if not storage.remote:
        return None
    seconds = min(get_settings().presign_seconds, max(1, int(expires) - int(time.time())))
    return storage.url(file_key(org_public_id, file_public_id), seconds, filename=filename, content_type=content_type)


def own_file_path(session: Session, principal: Principal, url: Any, field: str = "attachment") -> Path:
    """The stored path of a scaledata:// URL naming a file of the caller's organization;
    400 naming `field` for anything else (another organization's file, an outside URL)."""
    parts = scaledata_parts(url) if isinstance(url, str) else None
    if parts is None or parts[0] != principal.org_public_id:
        raise field_error(field, "this assist works on files uploaded to this server by the task's organization")
    row = session.scalar(select(StoredFile).where(StoredFile.org_id == principal.org_id, StoredFile.public_id == parts[1]))
    path = ensure_local(principal.org_public_id, parts[1]) if row is not None else None
    if row is None or path is None:
        raise field_error(field, "no such uploaded file")
    return path


def store_bytes(session: Session, principal: Principal, data: bytes, filename: str, mime_type: str) -> str:
    """Keeps `data` as a file of the caller's organization; returns its scaledata:// URL."""
    file_id, path, size, sha = store_stream(principal, io.BytesIO(data))
    row = record_file(session, principal, file_id, path, size, sha, filename, mime_type, {})
    return f"scaledata://{principal.org_public_id}/{row.public_id}"

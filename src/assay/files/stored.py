"""Where a file's bytes lie (DATA_DIR/files/<organization>/<file>) and the files the server
itself makes (consolidated masks), written there like an upload and recorded as a file of
the organization in the caller's transaction. Core code below consolidation, so it can read
and keep masks without the files service."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from assay.config import get_settings
from assay.db import new_public_id
from assay.files.models import StoredFile
from assay.storage import MissingObject, get_storage


def keep_bytes(session: Session, org_id: int, org_public_id: str, data: bytes, filename: str, mime_type: str) -> str:
    """Stores `data` as a file of the organization; returns its scaledata:// URL. The bytes
    go to disk first (atomically), the row in the session's transaction: a rollback leaves
    an unreferenced file, never a row without bytes."""
    file_id = new_public_id()
    path = stored_path(org_public_id, file_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    storage = get_storage()
    if storage.remote:  # the bucket is the truth, as for uploads
        storage.put_file(file_key(org_public_id, file_id), path)
    session.add(StoredFile(public_id=file_id, org_id=org_id, filename=filename[:500], project_names=[], mime_type=mime_type,
                           size=len(data), sha256=hashlib.sha256(data).hexdigest()))
    return f"scaledata://{org_public_id}/{file_id}"


def scaledata_parts(url: str) -> tuple[str, str] | None:
    """(organization id, file id) of a well-formed scaledata:// URL, else None."""
    parts = urlsplit(url)
    org_public_id, file_public_id = parts.netloc, parts.path.strip("/")
    if parts.scheme != "scaledata" or not org_public_id.isalnum() or not file_public_id.isalnum():
        return None
    return org_public_id, file_public_id


def stored_path(org_public_id: str, file_public_id: str) -> Path:
    """Where an uploaded file's bytes lie: DATA_DIR/files/<organization>/<file>."""
    return get_settings().files_dir / org_public_id / file_public_id


def file_key(org_public_id: str, file_public_id: str) -> str:
    """The file's key in `storage` (its path under the data directory)."""
    return f"files/{org_public_id}/{file_public_id}"


def ensure_local(org_public_id: str, file_public_id: str, limit: int | None = None) -> Path | None:
    """The file's bytes on this machine: from the data directory, or fetched once from the
    object store into it (ASSAY_STORAGE_URL; with `limit`, an object over that many bytes is
    refused with ObjectTooLarge). None when the file is nowhere."""
    path = stored_path(org_public_id, file_public_id)
    if path.is_file():
        return path
    storage = get_storage()
    if not storage.remote:
        return None
    try:
        storage.download(file_key(org_public_id, file_public_id), path, limit)
    except MissingObject:
        return None
    return path


def local_path(url: str, org_public_id: str) -> Path | None:
    """The stored bytes of a scaledata:// URL naming a file of `org_public_id` (exports
    read their images from here); None for another organization's file, a missing file or
    any other URL."""
    parts = scaledata_parts(url)
    if parts is None or parts[0] != org_public_id:
        return None
    return ensure_local(*parts)

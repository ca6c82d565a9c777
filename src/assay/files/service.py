"""Uploaded and imported files, stored on local disk under DATA_DIR/files/<org>/<file>.

A file's `attachment_url` is `scaledata://<org id>/<file id>`; tasks accept it as an
attachment, and list/get with include_attachment_url turn it into a signed HTTP URL."""

from __future__ import annotations

import hashlib
import hmac
import io
import mimetypes
import os
import posixpath
import time
from concurrent.futures import ThreadPoolExecutor
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
from assay.files.sniff import HEAD_BYTES
from assay.files.stored import ensure_local, file_key, scaledata_parts, stored_path
from assay.netguard import UrlRefused, fetch
from assay.orgs.models import Organization
from assay.storage import MissingObject, ObjectTooLarge, get_storage
from assay.timeutil import iso

FORM_FIELDS = ("display_name", "reference_id", "project_name")
MAX_BUCKET_OBJECTS = 20_000  # per bucket import, as per zip


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


def signed_row(session: Session, org_public_id: str, file_public_id: str, expires: str | None, signature: str | None) -> StoredFile:
    """The row of a file of `org_public_id` whose signed URL checks out, without reading its
    bytes (the media made from it may be all the caller needs); NotFound otherwise."""
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
    if row is None:
        raise NotFound("File not found or link expired.")
    return row


def first_bytes(org_public_id: str, file_public_id: str) -> bytes:
    """The first bytes of a stored file (what `sniff` reads): from this machine's copy, or
    one ranged read of the store, so a download by presigned link never fetches the whole
    file onto the app's machine. NotFound when the file is nowhere."""
    try:
        with open(stored_path(org_public_id, file_public_id), "rb") as handle:
            return handle.read(HEAD_BYTES)
    except FileNotFoundError:
        pass
    storage = get_storage()
    if storage.remote:
        try:
            return storage.head_bytes(file_key(org_public_id, file_public_id), HEAD_BYTES)
        except MissingObject:
            pass
    raise NotFound("File not found or link expired.")


def link_seconds(expires: str) -> int:
    """How long a presigned link may live: ASSAY_PRESIGN_SECONDS, and never past the app's
    own signed link (`expires`, checked by `signed_row`)."""
    return min(get_settings().presign_seconds, max(1, int(expires) - int(time.time())))


def store_link(org_public_id: str, file_public_id: str, expires: str, filename: str, content_type: str | None) -> str | None:
    """With object storage: a presigned link to the file in the store (valid no longer than
    the app's own signed link), where the download goes instead of through the app."""
    storage = get_storage()
    if not storage.remote:
        return None
    return storage.url(file_key(org_public_id, file_public_id), link_seconds(expires), filename=filename, content_type=content_type)


def own_file_id(session: Session, principal: Principal, url: Any, field: str = "attachment") -> str:
    """The id of the file a scaledata:// URL names when it is a file of the caller's
    organization (its bytes not read); 400 naming `field` for anything else (another
    organization's file, an outside URL)."""
    parts = scaledata_parts(url) if isinstance(url, str) else None
    if parts is None or parts[0] != principal.org_public_id:
        raise field_error(field, "this assist works on files uploaded to this server by the task's organization")
    row = session.scalar(select(StoredFile).where(StoredFile.org_id == principal.org_id, StoredFile.public_id == parts[1]))
    if row is None:
        raise field_error(field, "no such uploaded file")
    return row.public_id


def own_file_path(session: Session, principal: Principal, url: Any, field: str = "attachment") -> Path:
    """The stored path of a scaledata:// URL naming a file of the caller's organization;
    400 naming `field` for anything else (another organization's file, an outside URL)."""
    path = ensure_local(principal.org_public_id, own_file_id(session, principal, url, field))
    if path is None:
        raise field_error(field, "no such uploaded file")
    return path


def store_bytes(session: Session, principal: Principal, data: bytes, filename: str, mime_type: str) -> str:
    """Keeps `data` as a file of the caller's organization; returns its scaledata:// URL."""
    file_id, path, size, sha = store_stream(principal, io.BytesIO(data))
    row = record_file(session, principal, file_id, path, size, sha, filename, mime_type, {})
    return f"scaledata://{principal.org_public_id}/{row.public_id}"


# -- objects of the storage bucket imported as files ---------------------------------------

def bucket_key(url: Any, field: str, org_public_id: str) -> str:
    """The key an `s3://bucket/key` URL names in this server's storage bucket, when bucket
    imports may read it; 400 naming `field` otherwise. The server's credentials never read
    another bucket, this server's own files, exports and media, or (with
    ASSAY_BUCKET_IMPORT_PREFIX) outside the organization's folder."""
    storage = get_storage()
    if not storage.remote:
        raise field_error(field, "importing from a bucket needs object storage on this server (ASSAY_STORAGE_URL=s3://…)")
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
        raise field_error(field, f"{str(url)[:200]!r} is not an s3://bucket/key URL")
    if parts.netloc != storage.bucket:
        raise field_error(field, f"bucket {parts.netloc!r} is not this server's storage bucket: imports read only s3://{storage.bucket}/")
    key = parts.path.lstrip("/")
    if any(part in (".", "..") for part in key.split("/")):
        raise field_error(field, "a key with '.' or '..' segments")
    allowed = get_settings().bucket_import_prefix.replace("{org}", org_public_id)
    if not key.startswith(allowed):
        raise field_error(field, f"imports read only keys under s3://{storage.bucket}/{allowed} (ASSAY_BUCKET_IMPORT_PREFIX)")
    for private in [f"{storage.prefix}/"] if storage.prefix else ["files/", "exports/", "media/"]:
        if key.startswith(private) or private.startswith(key):
            raise field_error(field, f"s3://{storage.bucket}/{key} holds this server's own files (s3://{storage.bucket}/{private}); "
                                     "import from another prefix")
    return key


def bucket_url(key: str) -> str:
    return f"s3://{get_storage().bucket}/{key}"


def bucket_objects(prefix: str, field: str) -> list[str]:
    """The keys of the objects under a checked prefix; 400 when there are too many."""
    found = get_storage().objects_under(prefix, MAX_BUCKET_OBJECTS)
    if len(found) > MAX_BUCKET_OBJECTS:
        raise field_error(field, f"more than {MAX_BUCKET_OBJECTS} objects under it: import a narrower prefix")
    return [key for key, _ in found]


def bucket_manifest(key: str, field: str) -> bytes:
    """A manifest object's bytes (at most the upload limit)."""
    limit = get_settings().max_upload_bytes
    try:
        return get_storage().object_bytes(key, limit)
    except MissingObject:
        raise field_error(field, f"no object {bucket_url(key)}") from None
    except ObjectTooLarge:
        raise field_error(field, f"larger than the {limit}-byte upload limit") from None


def copy_objects(principal: Principal, fields: dict[str, str]) -> dict[str, tuple[str, int, str]]:
    """Each object (key → the field that named it) copied to a new file of the caller's
    organization, inside the store (hashed on the way): key → (file id, size, sha256). On
    any failure the copies made are deleted and 400 names the first object that failed."""
    storage, limit = get_storage(), get_settings().max_upload_bytes

    def copy(key: str) -> tuple[str, int, str]:
        size, sha, etag = storage.read_object(key, limit)
        file_id = new_public_id()
        storage.copy_object(key, file_key(principal.org_public_id, file_id), etag)
        return file_id, size, sha

    with ThreadPoolExecutor(8) as pool:
        futures = {key: pool.submit(copy, key) for key in fields}
        copies, failed = {}, None
        for key, future in futures.items():
            try:
                copies[key] = future.result()
            except (MissingObject, ObjectTooLarge) as exc:
                failed = failed or (key, exc)
    if failed is not None:
        forget_copies(principal, copies)
        key, exc = failed
        reason = f"larger than the {limit}-byte upload limit" if isinstance(exc, ObjectTooLarge) else "no such object (or it changed while it was read)"
        raise field_error(fields[key], f"{bucket_url(key)}: {reason}")
    return copies


def record_copies(session: Session, principal: Principal, copies: dict[str, tuple[str, int, str]], project_name: str) -> dict[str, str]:
    """The copied objects as files of the organization (rows in the caller's transaction):
    key → its scaledata:// URL. Each file remembers the object it came from."""
    for key, (file_id, size, sha) in copies.items():
        session.add(StoredFile(public_id=file_id, org_id=principal.org_id, filename=(posixpath.basename(key) or "file")[:500],
                               project_names=[project_name], mime_type=mimetypes.guess_type(key)[0] or "application/octet-stream",
                               size=size, sha256=sha, source_url=bucket_url(key)[:2000]))
    session.flush()
    return {key: f"scaledata://{principal.org_public_id}/{file_id}" for key, (file_id, _, _) in copies.items()}


def forget_copies(principal: Principal, copies: dict[str, tuple[str, int, str]]) -> None:
    """Deletes copies whose import did not commit (best effort: a leftover is unreferenced)."""
    storage = get_storage()
    for file_id, _, _ in copies.values():
        try:
            storage.delete(file_key(principal.org_public_id, file_id))
        except Exception:  # noqa: BLE001 - an orphan object is harmless; the import's own error matters
            pass

"""`scaledata://<organization>/<file>` references to uploaded files: checked against the
caller's organization wherever a task carries them, and turned into signed download
links — only ever for a file of the task's own organization."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.auth.principals import Principal
from assay.config import get_settings
from assay.errors import field_error
from assay.files.models import StoredFile
from assay.files.stored import scaledata_parts

SIGNED_URL_SECONDS = 3600


def link_signature(org_public_id: str, file_public_id: str, expires: int) -> str:
    key = get_settings().effective_secret_key.encode()
    return hmac.new(key, f"{org_public_id}/{file_public_id}:{expires}".encode(), hashlib.sha256).hexdigest()


def files_base_url() -> str:
    """Where signed links point: the separate files origin when one is configured."""
    settings = get_settings()
    return (settings.files_origin or settings.public_url).rstrip("/")


def signed_path_for_scaledata(url: str, org_public_id: str) -> str | None:
    """`/api/files/...?expires&signature` for a file of `org_public_id`; None for a file
    of any other organization (the server never signs those) or a malformed URL."""
    parts = scaledata_parts(url)
    if parts is None or parts[0] != org_public_id:
        return None
    file_public_id = parts[1]
    expires = int(time.time()) + SIGNED_URL_SECONDS
    return f"/api/files/{org_public_id}/{file_public_id}?expires={expires}&signature={link_signature(org_public_id, file_public_id, expires)}"


def signed_url_for_scaledata(url: str, org_public_id: str) -> str | None:
    path = signed_path_for_scaledata(url, org_public_id)
    return None if path is None else files_base_url() + path


def check_scaledata_refs(session: Session, principal: Principal, refs: list[tuple[str, str]]) -> None:
    """Every (field, scaledata:// URL) must name an uploaded file of the caller's own
    organization; 400 naming the field otherwise. One query for all of them."""
    if not refs:
        return
    wanted: dict[str, str] = {}
    for field, url in refs:
        parts = scaledata_parts(url)
        if parts is None or parts[0] != principal.org_public_id:
            raise field_error(field, f"{url[:200]!r} is not a file of this organization")
        wanted.setdefault(parts[1], field)
    found: set[str] = set()
    ids = list(wanted)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        found.update(session.scalars(select(StoredFile.public_id).where(StoredFile.org_id == principal.org_id,
                                                                        StoredFile.public_id.in_(chunk))))
    for file_id, field in wanted.items():
        if file_id not in found:
            raise field_error(field, f"scaledata://{principal.org_public_id}/{file_id}: no such uploaded file")


def scaledata_refs(value: Any, path: str) -> list[tuple[str, str]]:
    """Every string in a JSON value that is a scaledata:// reference, with its field path."""
    return url_refs(value, path, "scaledata://")


def url_refs(value: Any, path: str, scheme: str) -> list[tuple[str, str]]:
    """Every string in a JSON value that starts with `scheme` (any case), with its field path."""
    if isinstance(value, str):
        return [(path, value)] if value[:len(scheme)].lower() == scheme else []
    if isinstance(value, dict):
        return [ref for key, item in value.items() for ref in url_refs(item, f"{path}.{key}" if path else str(key), scheme)]
    if isinstance(value, list):
        return [ref for i, item in enumerate(value) for ref in url_refs(item, f"{path}[{i}]", scheme)]
    return []

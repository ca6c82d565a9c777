"""Where the media made from a file lie (image facts and preview, tiles, video frames):
`media/<org>/<file>/…`, in the data directory (the embedded default) and, with object
storage (ASSAY_STORAGE_URL=s3://…), in the bucket under the same key. There they are made
once, by whichever process is asked first, and every process serves them by presigned
links to the store; the data directory is only a machine's cache (the assists read frames
from it). The original is read, at most the upload limit, only when something is missing.

A set of files is published in order, its index last (`image.json`, `tiles/complete`,
`frames/index.json`): an index in the store means every file it covers is there. Two
processes making the same set at once each write the same bytes to the same keys (a PUT
replaces an object whole, and readers wait for the index), so the race costs work, never a
wrong answer. The caller has checked the organization and file (a signed link of the
file's own organization, or the caller's own file); nothing here looks a file up."""

from __future__ import annotations

import json
import os
import threading
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from assay.config import get_settings
from assay.errors import InvalidRequest, NotFound
from assay.files.stored import ensure_local
from assay.storage import MissingObject, ObjectTooLarge, get_storage

KNOWN_MAX = 50_000  # store keys this process remembers as published
CONTENT_TYPES = {".jpg": "image/jpeg", ".png": "image/png", ".json": "application/json"}
_known: OrderedDict[str, Any] = OrderedDict()  # key → its JSON document, or True
_guard = threading.Lock()
# a lock lives while a maker holds it (one per tile otherwise: a dict that only grows)
_locks: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()


def _recall(key: str) -> Any:
    with _guard:
        if key in _known:
            _known.move_to_end(key)
        return _known.get(key)


def _remember(key: str, value: Any) -> None:
    """Objects are never rewritten with other bytes, so what was seen stays true."""
    with _guard:
        _known[key] = value
        _known.move_to_end(key)
        while len(_known) > KNOWN_MAX:
            _known.popitem(last=False)


def write_atomic(target: Path, write: Callable[[Path], None]) -> None:
    """`write(tmp)` then a rename: a reader of `target` never sees half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{uuid.uuid4().hex}.part")
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


class Media:
    """The media made from one file, named relative to its folder (`preview.jpg`,
    `tiles/0_0.jpg`, `frames/index.json`)."""

    def __init__(self, org_public_id: str, file_public_id: str):
        self.org, self.file = org_public_id, file_public_id
        self.storage = get_storage()
        self.remote = self.storage.remote
        self.folder = get_settings().data_dir / "media" / org_public_id / file_public_id

    def key(self, name: str) -> str:
        return f"media/{self.org}/{self.file}/{name}"

    def path(self, name: str) -> Path:
        return self.folder / name

    def lock(self, name: str) -> threading.Lock:
        """One maker per file and name in this process (other processes may race: harmless)."""
        with _guard:
            return _locks.setdefault(self.key(name), threading.Lock())

    def original(self) -> Path:
        """The original's bytes on this machine (fetched from the store once, at most the
        upload limit); 404 naming the file when they are gone."""
        limit = get_settings().max_upload_bytes
        try:
            path = ensure_local(self.org, self.file, limit)
        except ObjectTooLarge:
            raise InvalidRequest(f"file_id: the original is larger than the {limit}-byte upload limit (ASSAY_MAX_UPLOAD_BYTES); "
                                 "no previews, tiles or frames are made of it", field="file_id") from None
        if path is None:
            raise NotFound("file_id: the file's original is missing from storage, and what is asked for has not been made from it yet",
                           field="file_id")
        return path

    def has(self, name: str) -> bool:
        """Whether `name` is published: in the store (object storage), else in the folder."""
        if not self.remote:
            return self.path(name).is_file()
        key = self.key(name)
        if _recall(key) is not None:
            return True
        if self.storage.exists(key):
            _remember(key, True)
            return True
        return False

    def read_json(self, name: str) -> Any:
        """A published index, or None. With object storage the store's copy counts (a
        local one may be left by a process that stopped before publishing it)."""
        if not self.remote:
            return _read_json(self.path(name))
        key = self.key(name)
        known = _recall(key)
        if known is not None and known is not True:
            return known
        try:
            document = json.loads(self.storage.get_bytes(key))
        except MissingObject:
            return None
        _remember(key, document)
        return document

    def publish(self, names: list[str]) -> None:
        """Copies files made in the folder to the store (object storage; else nothing)."""
        if not self.remote or not names:
            return

        def put(name: str) -> None:
            self.storage.put_file(self.key(name), self.path(name), CONTENT_TYPES.get(Path(name).suffix))

        with ThreadPoolExecutor(min(8, len(names))) as pool:
            list(pool.map(put, names))
        for name in names:
            _remember(self.key(name), True)

    def ensure(self, index: str, make: Callable[[], Any], parts: Callable[[Any], list[str]]) -> Any:
        """The published index `index` (a JSON document). When there is none, `make()`
        writes the files into the folder and returns the index (or, with object storage,
        a complete set this machine made before is reused); the files `parts(index)` names
        are published, then the index."""
        found = self.read_json(index)
        if found is not None:
            return found
        with self.lock(index):
            found = self.read_json(index)
            if found is not None:
                return found
            document = _read_json(self.path(index)) if self.remote else None
            if document is None:
                document = make()
            self.publish(parts(document))
            write_atomic(self.path(index), lambda tmp: tmp.write_text(json.dumps(document)))
            self.publish([index])
            if self.remote:
                _remember(self.key(index), document)
            return document

    def ensure_file(self, name: str, make: Callable[[Path], None]) -> str:
        """`name`, made by `make(path)` into the folder and published when it is not yet."""
        if self.has(name):
            return name
        with self.lock(name):
            if not self.has(name):
                if not self.path(name).is_file():
                    make(self.path(name))
                self.publish([name])
        return name

    def local(self, name: str) -> Path:
        """A published file on this machine (fetched from the store when not here yet)."""
        path = self.path(name)
        if self.remote and not path.is_file():
            try:
                self.storage.download(self.key(name), path)
            except MissingObject:
                raise NotFound(f"{name} is missing from storage") from None
        return path

    def link(self, name: str, seconds: int) -> str:
        """A presigned link to a published file in the store, shown inline as the image it
        is (made here by Pillow, never an uploader's bytes), on the store's origin."""
        return self.storage.url(self.key(name), seconds, filename=f"{self.file}-{name.replace('/', '-')}",
                                content_type=CONTENT_TYPES[Path(name).suffix])


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return None

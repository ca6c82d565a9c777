"""`assay backup` and `assay restore` for the embedded default (SQLite and the data
directory): one `.tar.gz` whose members mirror the data directory (`assay.db`,
`secret_key`, `files/`, `exports/`, `models/`) plus `backup-manifest.json` (assay version,
migration revision, row counts, the size and SHA-256 of every member).

The database is copied with SQLite's online backup API (one consistent snapshot while the
server keeps writing), before the files: a file's bytes are written before its row
commits, so every file the snapshot names is already on disk. Restore extracts into a
hidden directory inside the target, checks every checksum, the manifest and the database,
and only then swaps the entries in; any error leaves the target as it was.

PostgreSQL deployments back up with `pg_dump` and the bucket's own tools (docs/deploy.md)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
import zlib
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from assay import __version__
from assay.config import Settings
from assay.migrate import alembic_config

FORMAT = "assay-backup"
FORMAT_VERSION = 1
MANIFEST = "backup-manifest.json"
DATABASE = "assay.db"
SECRET_KEY = "secret_key"
FILE_DIRS = ("files", "exports")  # in the bucket instead when ASSAY_STORAGE_URL is set
LOCAL_DIRS = ("models",)  # the built-in models' fits: on this machine's disk in both layouts
MEMBERS = {MANIFEST, DATABASE, SECRET_KEY, *FILE_DIRS, *LOCAL_DIRS}
COUNTED = ("organizations", "users", "api_keys", "projects", "batches", "tasks", "task_answers", "files", "export_jobs")
POSTGRES_HINT = ("assay backup and assay restore cover the embedded default (SQLite in ASSAY_DATA_DIR). This server uses "
                 "PostgreSQL (ASSAY_DATABASE_URL): back it up with pg_dump and the bucket with its own tools, as "
                 "docs/deploy.md#backups describes")


class BackupError(Exception):
    """Why a backup or restore stopped; nothing was written or replaced."""


def embedded_database(settings: Settings) -> Path:
    """The SQLite file of the embedded default; BackupError for any other database."""
    if not settings.database_url:
        return settings.data_dir / DATABASE
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupError(POSTGRES_HINT)
    if not url.database or Path(url.database).resolve() != (settings.data_dir / DATABASE).resolve():
        raise BackupError(f"ASSAY_DATABASE_URL names a SQLite file outside the data directory ({url.database}); "
                          f"assay backup covers {settings.data_dir / DATABASE}")
    return settings.data_dir / DATABASE


# -- backup -------------------------------------------------------------------------------

def backup_name() -> str:
    return f"assay-backup-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.tar.gz"


def create_backup(settings: Settings, dest: Path) -> tuple[Path, dict[str, Any]]:
    """Writes the archive (to `dest`, or a dated name inside `dest` when it is a directory)
    and returns its path and manifest. The archive appears only once complete."""
    source = embedded_database(settings)
    if not source.is_file():
        raise BackupError(f"no database at {source}: nothing to back up (is ASSAY_DATA_DIR right?)")
    target = dest / backup_name() if dest.is_dir() else dest
    if target.exists():
        raise BackupError(f"{target} already exists; give a new file name")
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent}: no such directory")
    remote = bool(settings.storage_url)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".assay-backup-") as staging:
        snapshot = Path(staging) / DATABASE
        _snapshot(source, snapshot)
        facts = database_facts(snapshot)
        part = Path(staging) / "archive.tar.gz"
        entries: list[dict[str, Any]] = []
        with tarfile.open(part, "w:gz", compresslevel=6) as tar:
            entries.append(_add(tar, snapshot, DATABASE))
            secret = settings.data_dir / SECRET_KEY
            if secret.is_file():
                entries.append(_add(tar, secret, SECRET_KEY))
            for folder in LOCAL_DIRS + (() if remote else FILE_DIRS):
                for path in _files_under(settings.data_dir / folder):
                    entries.append(_add(tar, path, path.relative_to(settings.data_dir).as_posix()))
            manifest = _manifest(settings, facts, entries, remote, secret.is_file())
            _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=2).encode())
        os.replace(part, target)
    return target, manifest


def _snapshot(source: Path, target: Path) -> None:
    """One consistent copy of a live WAL database (a reader: the server's writers carry on),
    left as one self-contained file (no -wal beside it)."""
    live = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    copy = sqlite3.connect(target)
    try:
        live.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")
    finally:
        copy.close()
        live.close()


def database_facts(path: Path) -> dict[str, Any]:
    """The migration revision, row counts and the files rows (organization, file) of a
    database copy."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "alembic_version" not in tables:
            raise BackupError(f"{path.name}: not an assay database (no migration revision)")
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in COUNTED if t in tables}  # noqa: S608 - fixed names
        stored = conn.execute("SELECT o.public_id, f.public_id FROM files f JOIN organizations o ON o.id = f.org_id").fetchall()
    finally:
        conn.close()
    return {"revision": revision[0] if revision else None, "counts": counts, "stored": stored}


def _files_under(folder: Path) -> list[Path]:
    """Every finished file under `folder` (a `.part` is a write in progress: its file is
    not yet named by any row)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink() and not p.name.endswith(".part"))


class _Hashing:
    """A reader that hashes what passes through it."""

    def __init__(self, inner: BinaryIO):
        self.inner, self.digest, self.size = inner, hashlib.sha256(), 0

    def read(self, n: int = -1) -> bytes:
        data = self.inner.read(n)
        self.digest.update(data)
        self.size += len(data)
        return data


def _add(tar: tarfile.TarFile, path: Path, name: str) -> dict[str, Any]:
    with open(path, "rb") as handle:
        info = tar.gettarinfo(arcname=name, fileobj=handle)
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        reader = _Hashing(handle)
        tar.addfile(info, reader)
    return {"path": name, "size": info.size, "sha256": reader.digest.hexdigest()}


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(datetime.now(UTC).timestamp()), 0o644
    tar.addfile(info, _BytesReader(data))


class _BytesReader:
    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def read(self, n: int = -1) -> bytes:
        end = len(self.data) if n < 0 else self.at + n
        chunk, self.at = self.data[self.at:end], min(end, len(self.data))
        return chunk


def _manifest(settings: Settings, facts: dict[str, Any], entries: list[dict[str, Any]], remote: bool, secret_file: bool) -> dict[str, Any]:
    names = {e["path"] for e in entries}
    missing = sorted(f"files/{org}/{file}" for org, file in facts["stored"] if f"files/{org}/{file}" not in names)
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "assay_version": __version__,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "migration_revision": facts["revision"],
        "counts": facts["counts"],
        "files_in_archive": sum(1 for n in names if n.startswith("files/")),
        # with object storage the bucket holds the files: back it up with its own tools
        "storage": {"url": settings.storage_url, "files_included": not remote},
        "files_missing": [] if remote else missing,
        "secret_key": "included" if secret_file else ("not included: it is set by ASSAY_SECRET_KEY" if settings.secret_key
                                                      else "none yet: no server has started on this data directory"),
        "entries": entries,
    }


# -- restore ------------------------------------------------------------------------------

def restore_backup(settings: Settings, source: Path, force: bool) -> dict[str, Any]:
    """Restores `source` into the data directory and returns its manifest. Refuses a
    non-empty directory without `force` and one a running server holds open."""
    embedded_database(settings)
    if not source.is_file():
        raise BackupError(f"{source}: no such file")
    target = settings.data_dir
    if target.exists() and not target.is_dir():
        raise BackupError(f"ASSAY_DATA_DIR {target} is not a directory")
    existing = sorted(p.name for p in target.iterdir()) if target.exists() else []
    if existing and not force:
        raise BackupError(f"{target} is not empty ({', '.join(existing[:5])}{', …' if len(existing) > 5 else ''}): "
                          "restoring replaces it; add --force to do so")
    if (target / DATABASE).exists():
        _refuse_if_open(target / DATABASE)
    created = not target.exists()
    target.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target, prefix=".restore-"))
    try:
        manifest = _extract_verified(source, staging)
        _check_database(staging / DATABASE, manifest)
        _swap(target, staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if created:
            shutil.rmtree(target, ignore_errors=True)
        raise
    return manifest


def _refuse_if_open(database: Path) -> None:
    """A WAL database another process has open cannot be locked exclusively: a server (or
    worker) still runs on this data directory."""
    conn = sqlite3.connect(database, timeout=0)
    try:
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
        conn.rollback()
    except sqlite3.OperationalError:
        raise BackupError(f"{database} is in use (an assay server or worker runs on this data directory): stop it first") from None
    except sqlite3.DatabaseError:
        pass  # not a database at all: nothing holds it, and it is being replaced
    finally:
        conn.close()


def _member_name(member: tarfile.TarInfo) -> str:
    path = PurePosixPath(member.name)
    if path.is_absolute() or ".." in path.parts or not path.parts or path.parts[0] not in MEMBERS:
        raise BackupError(f"unexpected member {member.name!r}: not an assay backup")
    if not (member.isfile() or member.isdir()):
        raise BackupError(f"member {member.name!r} is not a regular file: not an assay backup")
    return path.as_posix()


def _extract_verified(source: Path, staging: Path) -> dict[str, Any]:
    seen: dict[str, tuple[int, str]] = {}
    manifest_bytes = None
    try:
        with tarfile.open(source, "r:gz") as tar:
            for member in tar:
                name = _member_name(member)
                if member.isdir():
                    continue
                if name in seen or (name == MANIFEST and manifest_bytes is not None):
                    raise BackupError(f"member {name!r} appears twice: not an assay backup")
                reader = tar.extractfile(member)
                if name == MANIFEST:
                    manifest_bytes = reader.read(16 << 20)
                    continue
                out_path = staging / name
                out_path.parent.mkdir(parents=True, exist_ok=True)
                hashing = _Hashing(reader)
                with open(out_path, "wb") as out:
                    shutil.copyfileobj(hashing, out, 1 << 20)
                seen[name] = (hashing.size, hashing.digest.hexdigest())
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise BackupError(f"{source}: cannot be read as a .tar.gz ({exc.__class__.__name__}: {exc}); nothing was restored") from None
    if manifest_bytes is None:
        raise BackupError(f"{source}: no {MANIFEST}: not an assay backup")
    manifest = _parse_manifest(manifest_bytes)
    listed = {e["path"]: (e["size"], e["sha256"]) for e in manifest["entries"]}
    for name in sorted(set(listed) | set(seen)):
        if name not in seen:
            raise BackupError(f"{name}: listed in the manifest but missing from the archive; nothing was restored")
        if name not in listed:
            raise BackupError(f"{name}: in the archive but not in the manifest; nothing was restored")
        if seen[name] != listed[name]:
            raise BackupError(f"{name}: checksum mismatch (the archive is damaged or was altered); nothing was restored")
    if DATABASE not in seen:
        raise BackupError(f"{source}: no {DATABASE}: not an assay backup")
    return manifest


def _parse_manifest(data: bytes) -> dict[str, Any]:
    try:
        manifest = json.loads(data)
        entries = manifest["entries"]
        ok = manifest.get("format") == FORMAT and all(isinstance(e["path"], str) and isinstance(e["sha256"], str) for e in entries)
    except (ValueError, KeyError, TypeError):
        ok = False
    if not ok:
        raise BackupError(f"{MANIFEST}: not an assay backup manifest")
    if not isinstance(manifest.get("format_version"), int) or manifest["format_version"] > FORMAT_VERSION:
        raise BackupError(f"{MANIFEST}: format version {manifest.get('format_version')!r} is newer than this assay "
                          f"({__version__}) reads; upgrade assay first")
    return manifest


def _check_database(path: Path, manifest: dict[str, Any]) -> None:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        check = conn.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{DATABASE}: not a SQLite database ({exc})") from None
    finally:
        conn.close()
    if check != "ok":
        raise BackupError(f"{DATABASE}: SQLite's check failed ({check})")
    facts = database_facts(path)
    if facts["revision"] != manifest.get("migration_revision"):
        raise BackupError(f"{DATABASE}: migration revision {facts['revision']} differs from the manifest's {manifest.get('migration_revision')}")
    known = {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if facts["revision"] not in known:
        raise BackupError(f"{DATABASE}: migration revision {facts['revision']} is unknown to assay {__version__} "
                          f"(the backup was made by assay {manifest.get('assay_version')}); upgrade assay first")
    if facts["counts"] != manifest.get("counts"):
        raise BackupError(f"{DATABASE}: row counts {facts['counts']} differ from the manifest's {manifest.get('counts')}")


def _swap(target: Path, staging: Path) -> None:
    """Old entries aside, restored ones in (renames within one file system); on failure
    every rename is undone."""
    aside = Path(tempfile.mkdtemp(dir=target, prefix=".replaced-"))
    moved_old: list[str] = []
    moved_new: list[str] = []
    try:
        for entry in sorted(target.iterdir()):
            if entry not in (staging, aside):
                os.rename(entry, aside / entry.name)
                moved_old.append(entry.name)
        for entry in sorted(staging.iterdir()):
            os.rename(entry, target / entry.name)
            moved_new.append(entry.name)
    except OSError as exc:
        for name in moved_new:
            os.rename(target / name, staging / name)
        for name in moved_old:
            os.rename(aside / name, target / name)
        aside.rmdir()
        raise BackupError(f"could not move the restored files into place ({exc}); {target} is as it was") from None
    shutil.rmtree(aside)
    staging.rmdir()

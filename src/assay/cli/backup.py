"""`assay backup DEST` and `assay restore SRC`: the embedded default (SQLite and the data
directory) to one .tar.gz with a manifest, and back (src/assay/backup.py)."""

from __future__ import annotations

from pathlib import Path

import typer

from assay.backup import BackupError, create_backup, restore_backup
from assay.cli.common import err, fail, settings


def backup(dest: Path = typer.Argument(..., help="The archive to write (.tar.gz), or a directory to write a dated one into.")) -> None:
    """Back up the embedded default while the server runs: the SQLite database (a consistent
    snapshot), uploaded files, export files, model fits and the secret key, in one .tar.gz
    with a manifest of checksums."""
    current = settings()
    try:
        path, manifest = create_backup(current, dest)
    except BackupError as exc:
        fail(str(exc), code=1)
    counts = manifest["counts"]
    err.print(f"backup written: {path} ({path.stat().st_size} bytes; {counts.get('tasks', 0)} tasks, "
              f"{manifest['files_in_archive']} files, migration {manifest['migration_revision']})")
    if not manifest["storage"]["files_included"]:
        err.print(f"[yellow]note:[/] uploaded and export files live in the bucket ({current.storage_url}) and are not in this "
                  "archive: back the bucket up with its own versioning or a copy (docs/deploy.md#backups)")
    if manifest["files_missing"]:
        err.print(f"[yellow]note:[/] {len(manifest['files_missing'])} file rows have no bytes in the data directory "
                  f"(first: {manifest['files_missing'][0]}); their downloads were already 404")
    if manifest["secret_key"].startswith("not included"):
        err.print("[yellow]note:[/] the secret key comes from ASSAY_SECRET_KEY and is not in the archive: keep it with the backup")
    print(path)


def restore(
    src: Path = typer.Argument(..., help="An archive written by `assay backup`."),
    force: bool = typer.Option(False, "--force", help="Replace a data directory that is not empty."),
) -> None:
    """Restore a backup into ASSAY_DATA_DIR (stop the server first). Every checksum and the
    database are checked before anything in the directory is touched."""
    current = settings()
    try:
        manifest = restore_backup(current, src, force)
    except BackupError as exc:
        fail(str(exc), code=1)
    err.print(f"restored {src} into {current.data_dir}: {manifest['counts'].get('tasks', 0)} tasks, "
              f"{manifest['files_in_archive']} files, made by assay {manifest['assay_version']} at {manifest['created_at']}")
    if not manifest["storage"]["files_included"]:
        err.print(f"[yellow]note:[/] the files of this backup live in the bucket it was made with ({manifest['storage']['url']}); "
                  "start the server with the same ASSAY_STORAGE_URL")
    if manifest["secret_key"].startswith("not included") and not current.secret_key:
        err.print("[yellow]note:[/] the backup has no secret key (it came from ASSAY_SECRET_KEY): set the same value, "
                  "or signed links handed out before stop working")

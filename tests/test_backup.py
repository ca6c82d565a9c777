"""`assay backup` / `assay restore` of the embedded default: a round trip through a real
server (backup taken while it runs and takes writes, restored into a fresh data directory,
served again with the old key), and the bad paths: a non-empty target, a damaged archive,
missing paths, PostgreSQL, a server still running on the target. Commands that need no
separate process run in this one through typer's CliRunner."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import sqlite3
import tarfile
import threading
from pathlib import Path

import pytest
from scaleapi.tasks import TaskType
from typer.testing import CliRunner

from assay.backup import MANIFEST, BackupError, create_backup
from assay.cli import app
from assay.config import Settings, reset_settings
from assay.db import reset_db
from tests import local_http
from tests.browser import Org
from tests.db_access import query
from tests.queue_support import Admin, Annotator
from tests.support import Server

runner = CliRunner()
PICTURE = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40  # bytes a checksum notices, not a real image


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture()
def environment(monkeypatch):
    """Set ASSAY_* for commands run in this process (settings are cached per process)."""

    def use(**values: str) -> None:
        for name in ("ASSAY_DATABASE_URL", "ASSAY_STORAGE_URL", "ASSAY_SECRET_KEY"):
            monkeypatch.delenv(name, raising=False)
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        reset_settings()
        reset_db()

    yield use
    reset_settings()
    reset_db()


def invoke(*args: str):
    return runner.invoke(app, list(args))


def tree(folder: Path) -> dict[str, str]:
    """Every file under `folder` with its SHA-256: what 'untouched' is checked against."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


class World:
    """A server's data directory with a project, labeled tasks, a file, and a backup of it
    taken while the server ran and took new tasks."""

    def __init__(self, root: Path):
        self.server = Server(data_dir=root / "data", database_url="").start()
        self.archive = root / "backup.tar.gz"


def _label_everything(server: Server, admin: Admin, project_id: str, n: int) -> list[str]:
    """Two annotators answer every task the same way: each task completes with a
    consolidated response. Returns their e-mails."""
    emails = [admin.annotator(project_id) for _ in range(2)]
    people = [Annotator(server.url, email) for email in emails]
    for person in people:
        for i in range(n):
            reply = person.next(project_id)
            assert reply.status == 200 and reply.body.get("assignment"), reply.body
            task = reply.body["task"]
            category = ["positive", "negative", "neutral"][len(task["task_id"]) % 3]
            assert person.submit(reply.body["assignment"]["id"], category).status == 200
        person.close()
    return emails


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("backup")
    made = World(root)
    server = made.server
    admin = Admin(server)
    project_id = admin.project("reviews", labels_per_task=2)
    client = server.client()
    uploaded = client.upload_file(io.BytesIO(PICTURE), project_name="reviews")
    made.ids = admin.bulk("reviews", 5)
    made.ids.append(client.create_task(TaskType.Categorization, project="reviews", attachment=uploaded.attachment_url,
                                       attachment_type="image", categories=["positive", "negative", "neutral"]).id)
    made.annotators = _label_everything(server, admin, project_id, len(made.ids))
    made.tasks = {i: client.get_task(i).as_dict() for i in made.ids}
    assert all(t["status"] == "completed" and t["response"] for t in made.tasks.values())
    made.answers = {i: Org(server).task(i)["answers"] for i in made.ids}
    made.live_key = server.live_key

    # the backup runs in its own process while another thread keeps creating tasks
    stop = threading.Event()
    created: list[str] = []

    def keep_writing() -> None:
        writer = server.client()
        while not stop.is_set():
            created.append(writer.create_task(TaskType.Categorization, project="reviews", attachment="more", attachment_type="text",
                                              categories=["positive", "negative"]).id)

    thread = threading.Thread(target=keep_writing)
    thread.start()
    try:
        result = server.cli("backup", str(made.archive))
    finally:
        stop.set()
        thread.join(30)
    made.backup_output = result.stderr
    made.written_during = len(created)
    server.stop()
    admin.close()
    yield made
    server.stop()


def test_round_trip_restores_tasks_answers_files_and_keys(world, tmp_path):
    assert world.archive.is_file() and "backup written" in flat(world.backup_output)
    restored = Server(data_dir=tmp_path / "restored", database_url="", live_key=world.live_key)
    result = restored.cli("restore", str(world.archive))
    assert "restored" in flat(result.stderr)
    restored.start()
    try:
        client = restored.client()  # the old API key
        for task_id, before in world.tasks.items():
            assert client.get_task(task_id).as_dict() == before
            assert Org(restored).task(task_id)["answers"] == world.answers[task_id]
        # the file's bytes, through a signed link of the restored server
        picture = [t for t in world.tasks.values() if str(t["params"]["attachment"]).startswith("scaledata://")][0]
        link = [t.as_dict()["attachment_url"] for t in client.get_tasks(project_name="reviews") if t.id == picture["task_id"]][0]
        assert local_http.get(link).content == PICTURE
        # the snapshot is consistent: exactly the rows the manifest counted, writes during it included or not
        manifest = _manifest(world.archive)
        total = query(restored, "SELECT count(*) FROM tasks")[0][0]
        assert total == manifest["counts"]["tasks"] >= len(world.ids)
        assert total <= len(world.ids) + world.written_during
        # a running server holds its database: restoring over it is refused, nothing changes
        before = query(restored, "SELECT count(*) FROM tasks")
        refused = restored.cli("restore", str(world.archive), "--force", check=False)
        assert refused.returncode != 0 and "in use" in flat(refused.stderr)
        assert query(restored, "SELECT count(*) FROM tasks") == before
        # people sign in with their old password
        Annotator(restored.url, world.annotators[0]).close()
    finally:
        restored.stop()


def _manifest(archive: Path) -> dict:
    with tarfile.open(archive, "r:gz") as tar:
        return json.loads(tar.extractfile(MANIFEST).read())


def test_manifest_lists_every_member_with_its_checksum(world):
    manifest = _manifest(world.archive)
    assert manifest["format"] == "assay-backup" and manifest["format_version"] == 1
    head = sorted(p.name for p in (Path(__file__).parents[1] / "src/assay/migrations/versions").glob("0*.py"))[-1]
    assert head.startswith(manifest["migration_revision"].split("_")[0])
    assert manifest["counts"]["files"] == 1 and manifest["files_in_archive"] == 1 and manifest["files_missing"] == []
    assert manifest["secret_key"] == "included" and manifest["storage"]["files_included"] is True
    with tarfile.open(world.archive, "r:gz") as tar:
        members = {m.name: hashlib.sha256(tar.extractfile(m).read()).hexdigest() for m in tar if m.isfile() and m.name != MANIFEST}
    assert members == {e["path"]: e["sha256"] for e in manifest["entries"]}
    assert {"assay.db", "secret_key"} <= set(members) and any(n.startswith("files/") for n in members)


# ----------------------------------------------------------------------------- bad paths

def test_restore_refuses_a_non_empty_directory_without_force(world, tmp_path, environment):
    target = tmp_path / "busy"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    environment(ASSAY_DATA_DIR=str(target))
    result = invoke("restore", str(world.archive))
    assert result.exit_code != 0 and "--force" in flat(result.output) and "not empty" in flat(result.output)
    assert tree(target) == {"notes.txt": hashlib.sha256(b"mine").hexdigest()}
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]


def test_restore_with_force_replaces_the_directory_stale_wal_included(world, tmp_path, environment):
    target = tmp_path / "old"
    target.mkdir()
    (target / "assay.db-wal").write_bytes(b"stale log that must not be replayed")
    (target / "media").mkdir()
    (target / "media" / "cache.png").write_bytes(b"x")
    environment(ASSAY_DATA_DIR=str(target))
    result = invoke("restore", str(world.archive), "--force")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in target.iterdir()) == ["assay.db", "files", "secret_key"]
    assert tree(target)["assay.db"] == {e["path"]: e["sha256"] for e in _manifest(world.archive)["entries"]}["assay.db"]


def _rewrite(archive: Path, out: Path, change) -> Path:
    """A copy of the archive with members changed by `change(name, data) -> data`."""
    with tarfile.open(archive, "r:gz") as src, tarfile.open(out, "w:gz") as dst:
        for member in src:
            data = src.extractfile(member).read()
            data = change(member.name, data)
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    return out


def test_a_damaged_member_is_a_checksum_mismatch_and_the_target_stays(world, tmp_path, environment):
    bad = _rewrite(world.archive, tmp_path / "bad.tar.gz",
                   lambda name, data: data[:-1] + bytes([data[-1] ^ 1]) if name.startswith("files/") else data)
    target = tmp_path / "target"
    target.mkdir()
    (target / "assay.db").write_bytes(b"the current database")
    before = tree(target)
    environment(ASSAY_DATA_DIR=str(target))
    result = invoke("restore", str(bad), "--force")
    assert result.exit_code != 0
    assert "checksum mismatch" in flat(result.output) and "nothing was restored" in flat(result.output)
    assert tree(target) == before and sorted(p.name for p in target.iterdir()) == ["assay.db"]


def test_a_truncated_archive_is_refused_and_a_new_target_is_not_created(world, tmp_path, environment):
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(world.archive.read_bytes()[: world.archive.stat().st_size // 2])
    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(gzip.compress(b"not a tar at all" * 100))
    environment(ASSAY_DATA_DIR=str(tmp_path / "fresh"))
    for archive in (cut, garbage):
        result = invoke("restore", str(archive))
        assert result.exit_code != 0 and "nothing was restored" in flat(result.output), result.output
        assert not (tmp_path / "fresh").exists()


def test_members_outside_the_data_directory_are_refused(world, tmp_path, environment):
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        data = b"owned"
        info = tarfile.TarInfo("files/../../escape.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    environment(ASSAY_DATA_DIR=str(tmp_path / "fresh"))
    result = invoke("restore", str(evil))
    assert result.exit_code != 0 and "not an assay backup" in flat(result.output)
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "fresh").exists()


def test_a_manifest_that_lies_about_counts_is_refused(world, tmp_path, environment):
    def inflate(name: str, data: bytes) -> bytes:
        if name != MANIFEST:
            return data
        manifest = json.loads(data)
        manifest["counts"]["tasks"] += 1
        return json.dumps(manifest).encode()

    bad = _rewrite(world.archive, tmp_path / "lies.tar.gz", inflate)
    environment(ASSAY_DATA_DIR=str(tmp_path / "fresh"))
    result = invoke("restore", str(bad))
    assert result.exit_code != 0 and "row counts" in flat(result.output)
    assert not (tmp_path / "fresh").exists()


def test_missing_paths(world, tmp_path, environment):
    environment(ASSAY_DATA_DIR=str(tmp_path / "fresh"))
    result = invoke("restore", str(tmp_path / "nope.tar.gz"))
    assert result.exit_code != 0 and "no such file" in flat(result.output)
    result = invoke("backup", str(tmp_path / "fresh.tar.gz"))  # an empty data directory: no database
    assert result.exit_code != 0 and "no database" in flat(result.output)
    environment(ASSAY_DATA_DIR=str(world.server.data_dir))
    result = invoke("backup", str(tmp_path / "no" / "such" / "dir" / "b.tar.gz"))
    assert result.exit_code != 0 and "no such directory" in flat(result.output)
    result = invoke("backup", str(world.archive))  # never overwrites an earlier backup
    assert result.exit_code != 0 and "already exists" in flat(result.output)


def test_backup_into_a_directory_picks_a_dated_name(world, tmp_path, environment):
    environment(ASSAY_DATA_DIR=str(world.server.data_dir))
    result = invoke("backup", str(tmp_path))
    assert result.exit_code == 0, result.output
    written = Path(result.stdout.strip())
    assert written.parent == tmp_path and written.name.startswith("assay-backup-") and written.name.endswith(".tar.gz")
    assert [p.name for p in tmp_path.iterdir()] == [written.name]  # no staging left behind


def test_a_data_directory_no_server_started_on_says_it_has_no_secret_key_yet(tmp_path, environment):
    """`assay migrate` / `assay demo` make the database but no secret key: the backup says
    so, and neither command blames ASSAY_SECRET_KEY."""
    environment(ASSAY_DATA_DIR=str(tmp_path / "data"))
    assert invoke("migrate").exit_code == 0
    made = invoke("backup", str(tmp_path / "b.tar.gz"))
    assert made.exit_code == 0, made.output
    with tarfile.open(tmp_path / "b.tar.gz") as tar:
        manifest = json.loads(tar.extractfile("backup-manifest.json").read())
    assert manifest["secret_key"].startswith("none yet")
    environment(ASSAY_DATA_DIR=str(tmp_path / "restored"))
    restored = invoke("restore", str(tmp_path / "b.tar.gz"))
    assert restored.exit_code == 0, restored.output
    assert "ASSAY_SECRET_KEY" not in made.output + restored.output


def test_postgres_is_pointed_at_pg_dump(tmp_path, environment):
    environment(ASSAY_DATA_DIR=str(tmp_path), ASSAY_DATABASE_URL="postgresql+psycopg://assay@db.internal/assay")
    for args in (("backup", str(tmp_path / "b.tar.gz")), ("restore", str(tmp_path / "b.tar.gz"))):
        result = invoke(*args)
        assert result.exit_code != 0
        assert "embedded default" in flat(result.output) and "pg_dump" in flat(result.output)
        assert "docs/deploy.md#backups" in flat(result.output)
    assert list(tmp_path.iterdir()) == []


def test_with_object_storage_the_archive_says_the_files_are_in_the_bucket(world, tmp_path, environment):
    environment(ASSAY_DATA_DIR=str(world.server.data_dir), ASSAY_STORAGE_URL="s3://team-bucket/prod")
    result = invoke("backup", str(tmp_path / "b.tar.gz"))
    assert result.exit_code == 0, result.output
    assert "s3://team-bucket/prod" in flat(result.output) and "not in this archive" in flat(result.output)
    manifest = _manifest(tmp_path / "b.tar.gz")
    assert manifest["storage"] == {"url": "s3://team-bucket/prod", "files_included": False}
    assert not any(e["path"].startswith(("files/", "exports/")) for e in manifest["entries"])


def test_a_backup_from_a_newer_assay_asks_for_an_upgrade(world, tmp_path, environment):
    """A database at a migration this assay does not know is refused before anything moves."""
    newer = tmp_path / "newer"
    shutil.copytree(world.server.data_dir, newer, ignore=shutil.ignore_patterns("*.log"))
    conn = sqlite3.connect(newer / "assay.db")
    conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.commit()
    conn.close()
    archive, manifest = create_backup(Settings(data_dir=newer), tmp_path / "newer.tar.gz")
    assert manifest["migration_revision"] == "9999"
    environment(ASSAY_DATA_DIR=str(tmp_path / "fresh"))
    result = invoke("restore", str(archive))
    assert result.exit_code != 0 and "upgrade assay first" in flat(result.output)
    assert not (tmp_path / "fresh").exists()


def test_the_service_refuses_what_the_cli_refuses(tmp_path):
    settings = Settings(data_dir=tmp_path, database_url="sqlite:////elsewhere/other.db")
    with pytest.raises(BackupError, match="outside the data directory"):
        create_backup(settings, tmp_path / "b.tar.gz")

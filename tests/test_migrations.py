"""Migrations that move data: 0002 backfills task_counts from the tasks already stored."""

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from assay.migrate import alembic_config


def test_task_counts_backfill_from_existing_tasks(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(text("INSERT INTO organizations (id, public_id, name, callback_auth_key, created_at) VALUES (1, 'o', 'org', 'k', '2026-01-01')"))
        conn.execute(text("INSERT INTO projects (id, public_id, org_id, name, type, rapid, studio, param_history, labels_per_task, archived, created_at) "
                          "VALUES (1, 'p', 1, 'p', 'categorization', 0, 0, '[]', 1, 0, '2026-01-01')"))
        conn.execute(text("INSERT INTO batches (id, public_id, org_id, project_id, name, status, calibration_batch, self_label_batch, metadata, archived, created_at) "
                          "VALUES (1, 'b', 1, 1, 'b', 'in_progress', 0, 0, '{}', 0, '2026-01-01')"))
        rows = [(None, "pending", 0), (None, "pending", 0), (1, "pending", 0), (1, "completed", 0), (None, "canceled", 1)]
        for i, (batch, status, is_test) in enumerate(rows):
            conn.execute(text(
                "INSERT INTO tasks (public_id, org_id, project_id, batch_id, is_test, type, status, instruction, params, metadata, audits, "
                "clear_unique_id_on_error, required_labels, created_at, updated_at) "
                "VALUES (:pid, 1, 1, :batch, :test, 'categorization', :status, '', '{}', '{}', '[]', 0, 1, '2026-01-01', '2026-01-01')"),
                {"pid": f"t{i}", "batch": batch, "test": is_test, "status": status})
        command.upgrade(cfg, "head")
        counts = {tuple(r[:4]): r[4] for r in conn.execute(text("SELECT is_test, batch_id, status, project_id, n FROM task_counts"))}
    assert counts == {(0, 0, "pending", 1): 2, (0, 1, "pending", 1): 1, (0, 1, "completed", 1): 1, (1, 0, "canceled", 1): 1}


def test_queue_columns_backfilled_from_existing_tasks(tmp_path):
    """0004: a pending task's open slots are the labels it still lacks; finished tasks
    have none; queue_rank is -priority. 0008 then bands the rank by priority: -priority ×
    1,000,000 + 999,999 (the last position within the priority, behind tasks a model orders)."""
    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003")
        conn.execute(text("INSERT INTO organizations (id, public_id, name, callback_auth_key, created_at) VALUES (1, 'o', 'org', 'k', '2026-01-01')"))
        conn.execute(text("INSERT INTO projects (id, public_id, org_id, name, type, rapid, studio, param_history, labels_per_task, archived, created_at) "
                          "VALUES (1, 'p', 1, 'p', 'categorization', 0, 0, '[]', 3, 0, '2026-01-01')"))
        rows = [("pending", 3, None, 0), ("pending", 3, 20, 2), ("pending", 2, None, 3), ("completed", 1, 10, 1)]
        for i, (status, required, priority, answers) in enumerate(rows):
            conn.execute(text(
                "INSERT INTO tasks (id, public_id, org_id, project_id, is_test, type, status, instruction, params, metadata, audits, "
                "clear_unique_id_on_error, required_labels, priority, created_at, updated_at) "
                "VALUES (:id, :pid, 1, 1, 0, 'categorization', :status, '', '{}', '{}', '[]', 0, :req, :prio, '2026-01-01', '2026-01-01')"),
                {"id": i + 1, "pid": f"t{i}", "status": status, "req": required, "prio": priority})
            for _ in range(answers):
                conn.execute(text("INSERT INTO task_answers (org_id, task_id, source, response, created_at) VALUES (1, :t, 'human', '{}', '2026-01-01')"),
                             {"t": i + 1})
        command.upgrade(cfg, "head")
        got = [tuple(r) for r in conn.execute(text("SELECT open_slots, queue_rank FROM tasks ORDER BY id"))]
        active = conn.execute(text("SELECT COUNT(*) FROM task_answers WHERE active")).scalar()
    assert got == [(3, 999_999), (1, -20_000_000 + 999_999), (0, 999_999), (0, -10_000_000 + 999_999)]
    assert active == 6


def _dangling_project_at(tmp_path, revision: str) -> str:
    """A SQLite database at `revision` holding a project whose organization does not exist
    (written with foreign keys off, as a broken table rebuild would leave it)."""
    url = f"sqlite:///{tmp_path / 'fk.db'}"
    engine = create_engine(url)
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        conn.execute(text("INSERT INTO projects (id, public_id, org_id, name, type, rapid, studio, param_history, labels_per_task, archived, created_at) "
                          "VALUES (1, 'p', 404, 'p', 'categorization', 0, 0, '[]', 1, 0, '2026-01-01')"))
    engine.dispose()
    return url


def _upgrade_at(url: str, tmp_path, monkeypatch) -> None:
    from assay.config import reset_settings
    from assay.db import reset_db
    from assay.migrate import upgrade

    monkeypatch.setenv("ASSAY_DATABASE_URL", url)
    monkeypatch.setenv("ASSAY_DATA_DIR", str(tmp_path / "data"))
    reset_settings()
    reset_db()
    try:
        upgrade()
    finally:
        reset_db()
        monkeypatch.undo()
        reset_settings()


def _revision(url: str) -> str:
    engine = create_engine(url)
    with engine.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()
    return version


def test_a_migration_that_leaves_dangling_foreign_keys_is_refused(tmp_path, monkeypatch):
    """SQLite migrates with foreign keys off (table rebuilds would cascade-delete otherwise),
    so the keys are checked after a migration ran, before its commit: a dangling row stops
    the start and the database stays at the revision it had."""
    url = _dangling_project_at(tmp_path, "0016")
    with pytest.raises(RuntimeError, match="foreign keys point nowhere"):
        _upgrade_at(url, tmp_path, monkeypatch)
    assert _revision(url) == "0016"


def test_a_start_with_nothing_to_migrate_does_not_scan_foreign_keys(tmp_path, monkeypatch):
    """The check reads every row with a foreign key: a start at head skips it (the same
    dangling row that stops a migration does not stop this start)."""
    url = _dangling_project_at(tmp_path, "head")
    _upgrade_at(url, tmp_path, monkeypatch)
    assert _revision(url) == ScriptDirectory.from_config(alembic_config()).get_current_head()

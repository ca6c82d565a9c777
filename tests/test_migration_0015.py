"""Migration 0015 (LLM judges and live chat) upgrades and downgrades on SQLite and
PostgreSQL, keeping an attached model's settings and giving it the judge defaults."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text

from assay.migrate import alembic_config
from tests.conftest import require_postgres
from tests.support import create_pg_database, drop_pg_database


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.db'}"
        return
    require_postgres()
    url = create_pg_database()
    yield url
    drop_pg_database(url)


def test_0015_up_and_down(database_url):
    engine = create_engine(database_url)
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0013")
        conn.execute(text("INSERT INTO organizations (id, public_id, name, callback_auth_key, created_at) VALUES (1, 'o', 'org', 'k', '2026-01-01')"))
        conn.execute(text("INSERT INTO projects (id, public_id, org_id, name, type, rapid, studio, param_history, labels_per_task, archived, created_at) "
                          "VALUES (1, 'p', 1, 'p', 'chat', false, false, '[]', 1, false, '2026-01-01')"))
        conn.execute(text("INSERT INTO project_models (org_id, project_id, backend, url, timeout_seconds, features, retrain_every, min_train_labels, "
                          "prelabels, queue_strategy, autoaccept_confidence, audit_fraction, version, trained_labels, order_stale, created_at, updated_at) "
                          "VALUES (1, 1, 'http', 'https://m.example', 5, 'tfidf', 50, 10, true, 'as_submitted', 0.95, 0.05, 2, 0, true, "
                          "'2026-01-01', '2026-01-01')"))
        command.upgrade(cfg, "0015")
        row = conn.execute(text("SELECT backend, url, version, temperature, concurrency, swap_positions, api_key FROM project_models")).one()
        assert tuple(row) == ("http", "https://m.example", 2, 0.0, 4, True, None)
        tables = set(inspect(conn).get_table_names())
        assert {"judge_verdicts", "chat_turns", "evaluation_runs"} <= tables
        command.downgrade(cfg, "0013")
        assert not {"judge_verdicts", "chat_turns", "evaluation_runs"} & set(inspect(conn).get_table_names())
        assert "api_key" not in {c["name"] for c in inspect(conn).get_columns("project_models")}
        assert conn.execute(text("SELECT url FROM project_models")).scalar() == "https://m.example"
    engine.dispose()

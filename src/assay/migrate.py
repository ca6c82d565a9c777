"""Apply Alembic migrations (run on every start; a no-op when up to date)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect

from assay.db import get_db

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


_UPGRADED: set[str] = set()  # databases this process has migrated (serve: first start, then the app's startup)


def _revisions(conn) -> list[str]:
    """The revisions the database is at, read from Alembic's table (Alembic's own reader
    logs its set-up lines each time, and they belong once in a start's log)."""
    if not inspect(conn).has_table("alembic_version"):
        return []
    return sorted(row[0] for row in conn.exec_driver_sql("SELECT version_num FROM alembic_version"))


def upgrade() -> None:
    db = get_db()
    url = db.engine.url.render_as_string(hide_password=False)
    if url in _UPGRADED:
        return  # already at head in this process: Alembic's log is printed once
    cfg = alembic_config()
    with db.engine.connect() as conn:
        if db.is_sqlite:
            # SQLite changes a table's constraints by rebuilding it (Alembic batch mode). With
            # foreign keys on, dropping the old table would cascade-delete the rows that
            # reference it, so keys are off while migrating (SQLite's own procedure: the pragma
            # only works outside a transaction) and checked before the commit.
            conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                before = _revisions(conn)
                command.upgrade(cfg, "head")
                # the check reads every row that has a foreign key (the whole database, and
                # 64 MB of page cache kept after it): only after a migration changed something
                if db.is_sqlite and _revisions(conn) != before:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration left rows whose foreign keys point nowhere: {broken[:5]}")
        finally:
            if db.is_sqlite:
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
    _UPGRADED.add(url)

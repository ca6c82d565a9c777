"""Apply Alembic migrations (run on every start; a no-op when up to date)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from assay.db import get_db

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade() -> None:
    db = get_db()
    cfg = alembic_config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")

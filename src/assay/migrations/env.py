"""Alembic environment: the engine comes from assay's settings (or the connection passed
in by assay.migrate)."""

from alembic import context

import assay.models  # noqa: F401  (registers every table)
from assay.db import Base, get_db

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    with get_db().engine.connect() as conn:
        _run(conn)
        conn.commit()


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()

"""The database handle's two kinds of connection on a real database: Core reads
(`Database.connect`) and write transactions (`Database.write`)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from assay.db import Database
from tests.conftest import require_postgres
from tests.support import create_pg_database, drop_pg_database


@pytest.fixture()
def pg_database():
    require_postgres()
    url = create_pg_database()
    db = Database(url)
    yield db
    db.dispose()
    drop_pg_database(url)


def _transaction_status(conn) -> str:
    return conn.connection.dbapi_connection.info.transaction_status.name


def test_reads_on_postgres_leave_no_transaction_open(pg_database):
    with pg_database.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
        # autocommit: no BEGIN was sent, so the server holds no snapshot between statements
        assert _transaction_status(conn) == "IDLE"


def test_a_write_after_a_read_on_the_same_pooled_connection_still_rolls_back(pg_database):
    with pg_database.write() as session:
        session.execute(text("CREATE TABLE notes (body text)"))
    for _ in range(3):  # the pool hands back the connection the reads used
        with pg_database.connect() as conn:
            conn.execute(text("SELECT count(*) FROM notes")).scalar()
    with pytest.raises(RuntimeError):
        with pg_database.write() as session:
            session.execute(text("INSERT INTO notes VALUES ('half-written')"))
            assert _transaction_status(session.connection()) == "INTRANS"
            raise RuntimeError("the request failed after its first statement")
    with pg_database.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM notes")).scalar() == 0

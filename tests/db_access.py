"""Read-only access to a test server's database, to check what the server stored
(hashed keys, callback secrets, files) independently of the API."""

from __future__ import annotations

import sqlite3
from typing import Any

from tests.support import Server


def query(server: Server, sql: str, params: tuple = ()) -> list[tuple[Any, ...]]:
    """Run one SELECT on the server's database. `?` placeholders on both backends."""
    if not server.database_url:
        conn = sqlite3.connect(server.data_dir / "assay.db", timeout=10)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(server.database_url.replace("+psycopg", ""), connect_timeout=5) as conn:
        return conn.execute(sql.replace("?", "%s"), params).fetchall()


def org_row(server: Server, org_public_id: str) -> tuple[int, str, str]:
    """(id, name, callback_auth_key) of an organization by its public id."""
    rows = query(server, "SELECT id, name, callback_auth_key FROM organizations WHERE public_id = ?", (org_public_id,))
    assert len(rows) == 1, rows
    return rows[0]

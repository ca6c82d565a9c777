"""Engine, sessions and transactions, the same code for SQLite and PostgreSQL.

SQLite is the embedded default. Its writers are serialised by one process-wide lock and
`BEGIN IMMEDIATE`, because a deferred transaction that later upgrades to a write fails
at once with SQLITE_BUSY under WAL instead of waiting; readers never take the lock.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Callable, Iterator

import orjson
from psycopg import errors as psycopg_errors
from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Integer, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from assay.config import get_settings

# JSON everywhere; JSONB on PostgreSQL so tag filters can use `?|`.
JSONType = JSON().with_variant(JSONB(), "postgresql")
# Integer primary keys: BIGINT on PostgreSQL, INTEGER (rowid alias) on SQLite.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


def _json_dumps(value) -> str:
    return orjson.dumps(value).decode()


class Base(DeclarativeBase):
    pass


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def new_public_id() -> str:
    """24 hex characters like Scale's ObjectIds: 4 bytes of time, then 8 random bytes."""
    return f"{int(time.time()) & 0xFFFFFFFF:08x}{secrets.token_hex(8)}"


class Database:
    def __init__(self, url: str):
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self._write_lock = threading.Lock()
        if self.is_sqlite:
            path = url.split("///", 1)[1] if "///" in url else ""
            if path and path != ":memory:":
                os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
            self.engine: Engine = create_engine(
                url,
                json_serializer=_json_dumps,
                json_deserializer=orjson.loads,
                connect_args={"check_same_thread": False, "timeout": 30},
                pool_size=20,
                max_overflow=40,
            )
            _configure_sqlite(self.engine)
        else:
            self.engine = create_engine(
                url, pool_size=20, max_overflow=20, pool_pre_ping=True, json_serializer=_json_dumps, json_deserializer=orjson.loads
            )
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        # Reads on PostgreSQL run in autocommit: under READ COMMITTED every statement takes its
        # own snapshot inside a transaction too, so only the BEGIN and ROLLBACK round trips go
        # (a third of a GET's database time) and no read leaves a transaction open. The setting
        # lasts for the checkout; the pool hands the next user a transactional connection.
        self._reader = self.engine if self.is_sqlite else self.engine.execution_options(isolation_level="AUTOCOMMIT")

    @contextmanager
    def read(self) -> Iterator[Session]:
        session = self.sessions()
        try:
            yield session
        finally:
            session.close()  # ends the transaction; loaded objects stay readable

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A Core connection for hot read paths (several times cheaper than an ORM session);
        reads only (on PostgreSQL each statement commits on its own)."""
        with self._reader.connect() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: committed on success, rolled back on any exception."""
        if self.is_sqlite:
            self._write_lock.acquire()
        session = self.sessions()
        try:
            if self.is_sqlite:
                session.connection(execution_options={"sqlite_immediate": True})
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
            if self.is_sqlite:
                self._write_lock.release()

    def dispose(self) -> None:
        self.engine.dispose()


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # pragma: no cover - exercised by every test
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA cache_size=-65536")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        immediate = conn.get_execution_options().get("sqlite_immediate")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def written_at_commit(name: str):
    """Decorator for `write(session, deltas)`: deltas a transaction collects in
    `session.info[name]` (hot counter rows) are written just before its commit, and
    dropped on rollback. Writing them last keeps their row locks short on PostgreSQL."""

    def register(write):
        @event.listens_for(Session, "before_commit")
        def _write(session) -> None:
            deltas = session.info.pop(name, None)
            if deltas:
                write(session, deltas)

        @event.listens_for(Session, "after_rollback")
        def _drop(session) -> None:
            session.info.pop(name, None)

        return write

    return register


COUNTER_SHARDS = 16
_SHARD = "counter_shard"


def counter_shard(session: Session) -> int:
    """The shard of the counter rows (task counts, a project's activity row) this
    transaction adds its deltas to: 0 on SQLite (one writer at a time, nothing to spread),
    one of COUNTER_SHARDS picked at random per session on PostgreSQL, so concurrent
    transactions seldom wait on each other's counter row lock. Readers sum the shards."""
    shard = session.info.get(_SHARD)
    if shard is None:
        shard = session.info[_SHARD] = 0 if session.get_bind().dialect.name == "sqlite" else secrets.randbelow(COUNTER_SHARDS)
    return shard


_UPSERTS: dict[tuple[str, str], Any] = {}


def upsert(conn: Connection, name: str, table, index_elements: list, values: dict[str, Any], update: Callable[[Any], dict]):
    """INSERT … ON CONFLICT (index_elements) DO UPDATE SET update(excluded): one statement on
    SQLite and PostgreSQL, built once per (name, dialect) and cached, because building it
    costs more CPU than running it on the hot paths. `values` are bind parameters or
    literals; the caller executes the statement with its parameters."""
    dialect = conn.dialect.name
    stmt = _UPSERTS.get((name, dialect))
    if stmt is None:
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        ins = insert(table).values(**values)
        stmt = _UPSERTS[(name, dialect)] = ins.on_conflict_do_update(index_elements=index_elements, set_=update(ins.excluded))
    return stmt


def insert_unless_taken(conn: Connection, table, index_elements: list[str], returning):
    """INSERT … ON CONFLICT (index_elements) DO NOTHING RETURNING returning: no row back when
    the key is taken (on PostgreSQL after waiting for a concurrent inserter's commit). Built once
    per (table, dialect) like `upsert`; the caller executes it with the row's values."""
    dialect = conn.dialect.name
    key = (f"{table.name}:{','.join(index_elements)}", dialect)
    stmt = _UPSERTS.get(key)
    if stmt is None:
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        stmt = _UPSERTS[key] = insert(table).on_conflict_do_nothing(index_elements=index_elements).returning(returning)
    return stmt


def fast_insert(session: Session, table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows of one shape (the same keys) in the session's transaction, storing
    exactly what `session.execute(insert(table), rows)` stores (Python column defaults for
    the keys left out, JSON columns as JSON text: None is JSON null) at a fraction of its
    CPU: `COPY … FROM STDIN` on PostgreSQL, one raw `executemany` on SQLite. A constraint
    violation is raised as SQLAlchemy's IntegrityError, like the ORM path."""
    if not rows:
        return
    conn = session.connection()
    sqlite = conn.dialect.name == "sqlite"
    names = list(rows[0])
    defaults = {c.name: c.default.arg for c in table.columns
                if c.name not in rows[0] and c.default is not None and not c.default.is_sequence and not c.default.is_clause_element}
    columns = [*names, *defaults]
    convert = [_to_db(table.c[name].type, sqlite) for name in columns]
    fixed = [d(None) if callable(d) else d for d in defaults.values()]  # dict/list/utcnow take a context argument
    values = ([f(v) if f else v for f, v in zip(convert, [*(row[n] for n in names), *fixed])] for row in rows)
    if sqlite:
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        conn.exec_driver_sql(sql, [tuple(v) for v in values])
        return
    raw = conn.connection.dbapi_connection
    try:
        with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in values:
                copy.write_row(row)
    except psycopg_errors.IntegrityError as exc:
        raise IntegrityError(f"COPY {table.name}", None, exc) from None


SQL_NULL = object()
"""A JSON column's value for fast_insert meaning SQL NULL (None is stored as JSON null)."""


def _json_or_null(value: Any) -> str | None:
    return None if value is SQL_NULL else _json_dumps(value)


@lru_cache(maxsize=64)  # the rows of one import share their timestamps
def _sqlite_datetime(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%d %H:%M:%S.%f")


def _to_db(column_type, sqlite: bool) -> Callable[[Any], Any] | None:
    """How a Python value of this column type is written by fast_insert (None: as is)."""
    if isinstance(column_type, JSON):
        return _json_or_null
    if sqlite and isinstance(column_type, DateTime):
        return _sqlite_datetime
    if sqlite and isinstance(column_type, Boolean):
        return lambda v: None if v is None else int(v)
    return None


_db: Database | None = None
_db_lock = threading.Lock()


def get_db() -> Database:
    global _db
    if _db is None:
        with _db_lock:
            if _db is None:
                _db = Database(get_settings().effective_database_url)
    return _db


def reset_db() -> None:
    global _db
    if _db is not None:
        _db.dispose()
    _db = None

"""Upgrading to 0009 (server-side sessions, e-mails unique per organization) keeps every
user, what references them, and their sign-in. The database is built at 0008 with rows
in it, then a real `assay serve` upgrades it on start (on SQLite with foreign keys on, as
the server runs: rebuilding `users` must not cascade-delete the rows that point at it)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from assay.auth.passwords import hash_password
from assay.migrate import alembic_config
from tests.db_access import query
from tests.security.support import Browser
from tests.support import Server

KEY = "live_" + "ab" * 16
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()
WHEN = datetime(2026, 1, 1)


def build_0008(url: str) -> None:
    engine = create_engine(url)
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0008")
        run = lambda sql, **p: conn.execute(text(sql), p)  # noqa: E731
        for oid, name in ((1, "old org"), (2, "other org")):
            run("INSERT INTO organizations (id, public_id, name, callback_auth_key, created_at) VALUES (:id, :pid, :name, 'cb', :t)",
                id=oid, pid=f"{oid:024d}", name=name, t=WHEN)
        users = [(1, 1, "admin@old.example", "admin", hash_password("admin password")),
                 (2, 1, "ann@old.example", "annotator", hash_password("annotator password")),
                 (3, 2, "api@other.example", "admin", None)]
        for uid, org, email, role, pw in users:
            run("INSERT INTO users (id, org_id, email, name, role, password_hash, active, created_at) "
                "VALUES (:id, :org, :email, '', :role, :pw, :active, :t)", id=uid, org=org, email=email, role=role, pw=pw, active=True, t=WHEN)
        run("INSERT INTO api_keys (org_id, user_id, prefix, key_hash, is_test, created_at) VALUES (1, 1, :prefix, :hash, :test, :t)",
            prefix=KEY[:12], hash=hashlib.sha256(KEY.encode()).hexdigest(), test=False, t=WHEN)
        run("INSERT INTO projects (id, public_id, org_id, name, type, rapid, studio, param_history, labels_per_task, archived, created_at, "
            "review_fraction) VALUES (1, 'p1', 1, 'old project', 'categorization', :f, :f, '[]', 1, :f, :t, 0)", f=False, t=WHEN)
        run("INSERT INTO project_members (project_id, user_id, org_id, created_at) VALUES (1, 2, 1, :t)", t=WHEN)
        if conn.dialect.name == "postgresql":  # rows with explicit ids: move the sequences past them
            for table in ("organizations", "users", "projects"):
                run(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    engine.dispose()


def test_upgrade_keeps_users_their_keys_memberships_and_sign_in(backend, database_factory, tmp_path):
    url = database_factory(backend)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    build_0008(url or f"sqlite:///{data_dir / 'assay.db'}")
    srv = Server(data_dir=data_dir, database_url=url).start()
    try:
        assert query(srv, "SELECT version_num FROM alembic_version") == [(HEAD,)]
        assert sorted(query(srv, "SELECT id, org_id, email, role FROM users")) == [
            (1, 1, "admin@old.example", "admin"), (2, 1, "ann@old.example", "annotator"), (3, 2, "api@other.example", "admin")]
        assert query(srv, "SELECT count(*) FROM api_keys") == [(1,)]
        assert query(srv, "SELECT user_id FROM project_members") == [(2,)]
        # the old passwords and the old key still work
        annotator = Browser(srv).login("ann@old.example", "annotator password")
        assert annotator.http.get("/api/me").json()["organization"]["name"] == "old org"
        assert Browser(srv).try_login("admin@old.example", "wrong password").status_code == 401
        api = Browser(srv).http
        api.headers["Authorization"] = f"Bearer {KEY}"
        me = api.get("/api/me").json()
        assert (me["email"], me["organization"]["name"]) == ("admin@old.example", "old org")
        # and the new rules hold: a session row per sign-in, e-mails unique per organization only
        assert len(query(srv, "SELECT id FROM user_sessions WHERE user_id = 2")) == 1
        r = api.post("/api/users", json={"email": "api@other.example", "role": "annotator", "password": "a good password"})
        assert r.status_code == 201, r.text
        assert api.post("/api/users", json={"email": "ann@old.example", "role": "annotator", "password": "a good password"}).status_code == 409
    finally:
        srv.stop()

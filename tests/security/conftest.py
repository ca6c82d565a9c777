"""Fixtures of the security tests: extra SQLite servers (for what does not depend on the
database), and one `assay serve` app run by uvicorn inside the test process, for checks
that must see into the process (which thread runs scrypt, how often)."""

from __future__ import annotations

import threading

import pytest

from tests.support import BASE_ENV, Server, free_port, wait_until


@pytest.fixture()
def sqlite_server(tmp_path):
    """sqlite_server(**env) → a started server on its own SQLite database (stopped after
    the test); its first-run admin key is `live_key`."""
    started: list[Server] = []

    def start(**env) -> Server:
        srv = Server(data_dir=tmp_path / f"sq{len(started)}", database_url="", env_overrides=env).start()
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.stop()


@pytest.fixture()
def inprocess(tmp_path, monkeypatch):
    """The app served by uvicorn on 127.0.0.1 in a thread of this process, on SQLite.
    Yields its base URL; `assay.db.get_db()` here is the server's own database."""
    import uvicorn

    from assay.app import create_app
    from assay.auth.principals import forget_all as clear_key_cache
    from assay.config import reset_settings
    from assay.db import reset_db

    port = free_port()
    env = dict(BASE_ENV, ASSAY_DATA_DIR=str(tmp_path / "data"), ASSAY_DATABASE_URL="", ASSAY_WORKER_IN_PROCESS="false",
               ASSAY_PUBLIC_URL=f"http://127.0.0.1:{port}")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    reset_settings()
    reset_db()
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, lifespan="on", log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        assert wait_until(lambda: server.started or not thread.is_alive(), timeout=60) and server.started, "in-process server did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
        reset_db()
        clear_key_cache()
        monkeypatch.undo()
        reset_settings()

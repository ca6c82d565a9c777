"""Test support: real `assay serve` processes, real PostgreSQL databases, and a real
HTTP callback receiver, all on 127.0.0.1."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from tests import local_http

PG_ADMIN_URL = os.environ.get("ASSAY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_available() -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL.replace("+psycopg", ""), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not available"
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc.__class__.__name__}: {exc}"


def create_pg_database() -> str:
    import psycopg

    name = f"assay_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{name}"


def drop_pg_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class PostgresDatabases:
    """Fresh PostgreSQL databases for one test process. DROP DATABASE waits for a checkpoint
    (0.2 to 0.5 s each), so a database a test is done with is dropped by a thread while the
    next tests run, instead of dozens at once at the end of the session."""

    def __init__(self):
        self.live: set[str] = set()
        self.done: queue.Queue = queue.Queue()
        self.dropper = threading.Thread(target=self._drop_done, daemon=True)
        self.dropper.start()

    def create(self) -> str:
        url = create_pg_database()
        self.live.add(url)
        return url

    def discard(self, url: str) -> None:
        """Drop `url` soon (in the background); nothing may use it any more."""
        if url in self.live:
            self.live.discard(url)
            self.done.put(url)

    def _drop_done(self) -> None:
        while (url := self.done.get()) is not None:
            try:
                drop_pg_database(url)
            except Exception:  # noqa: BLE001 - a throwaway database; the next run does not need it gone
                pass

    def close(self) -> None:
        for url in list(self.live):
            self.discard(url)
        self.done.put(None)
        self.dropper.join(120)


BASE_ENV = {
    "ASSAY_DEMO": "false",
    "ASSAY_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8",
    "ASSAY_CHECK_ATTACHMENTS": "false",
    "ASSAY_CALLBACK_RETRY_WINDOW_SECONDS": "4",
    "ASSAY_CALLBACK_MAX_ATTEMPTS": "5",
    "ASSAY_CALLBACK_TIMEOUT_SECONDS": "2",
    # An idle server polls the outbox this often: at 0.05 s each idle server (two shared per
    # test process, all suite long) burned ~4 % of a core and its PostgreSQL backend more;
    # at 0.2 s ~1 %, and a callback waits at most 0.2 s to be picked up.
    "ASSAY_WORKER_POLL_SECONDS": "0.2",
    "ASSAY_LOG_LEVEL": "warning",
    # A revocation made by another process (the CLI) reaches a server's cached principals
    # within this bound: the tests of it wait 1 s instead of the default 5 s.
    "ASSAY_AUTH_CACHE_SECONDS": "1",
    # Every test signs in from 127.0.0.1, many times a minute on the shared servers; the
    # per-address limit is tested on its own servers (tests/security/).
    "ASSAY_LOGIN_ADDRESS_LIMIT": "100000/minute",
    # scrypt at 2**10 instead of 2**14: ~2 ms instead of ~40 ms of CPU for each of the
    # suite's thousands of people made and signed in (tests/security/test_password_hashes.py
    # checks the default cost)
    "ASSAY_PASSWORD_HASH_COST": "10",
}
# the same for what the tests do in this process (people made through the services)
os.environ.setdefault("ASSAY_PASSWORD_HASH_COST", BASE_ENV["ASSAY_PASSWORD_HASH_COST"])


def run_cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    """The `assay` command with these arguments and environment, in this process: settings and
    the database handle are read afresh for the command and dropped after it, so the next
    command (or an in-process service test) never sees this one's."""
    from typer.testing import CliRunner

    from assay.cli import app
    from assay.config import reset_settings
    from assay.db import reset_db

    reset_settings()
    reset_db()
    try:
        result = CliRunner().invoke(app, list(args), env={k: v for k, v in env.items() if k.startswith("ASSAY_")}, catch_exceptions=False)
    finally:
        reset_db()
        reset_settings()
    return subprocess.CompletedProcess(["assay", *args], result.exit_code, result.stdout, result.stderr)


@dataclass
class Server:
    data_dir: Path
    database_url: str
    env_overrides: dict = field(default_factory=dict)
    port: int = 0
    proc: subprocess.Popen | None = None
    live_key: str = ""
    test_key: str = ""
    password: str = ""
    log_path: Path | None = None
    _database: object = None
    extra_args: list = field(default_factory=list)  # more `assay serve` options (--workers 2)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict:
        env = dict(os.environ)
        env.update(BASE_ENV)
        env["ASSAY_DATA_DIR"] = str(self.data_dir)
        env["ASSAY_DATABASE_URL"] = self.database_url
        env.update(self.env_overrides)
        return env

    def start(self, timeout: float = 60.0) -> "Server":
        self.port = self.port or free_port()
        self.log_path = self.data_dir.parent / f"server-{self.data_dir.name}-{self.port}.log"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "assay", "serve", "--host", "127.0.0.1", "--port", str(self.port), *self.extra_args],
            env=self.env(), stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log_path.read_text()[-3000:]}")
            try:
                if local_http.get(f"{self.url}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError(f"server did not start:\n{self.log_path.read_text()[-3000:]}")
        text = self.log_path.read_text(errors="replace")
        live = re.search(r"live API key : (live_[0-9a-f]+)", text)
        if live and not self.live_key:
            self.live_key = live.group(1)
            self.test_key = re.search(r"test API key : (test_[0-9a-f]+)", text).group(1)
            self.password = re.search(r"password: (\S+)", text).group(1)
        return self

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM, then SIGKILL if the process has not exited within ``grace`` seconds."""
        if self._database is not None:
            self._database.dispose()
            self._database = None
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.kill()

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """`assay ARGS` against this server's database and data directory, run in this
        process by typer's runner with the server's environment (a process per command costs
        two seconds of imports; tests/test_cli.py runs the real entry point too)."""
        result = run_cli(self.env(), *args)
        if check and result.returncode != 0:
            raise AssertionError(f"assay {' '.join(args)} failed ({result.returncode}): {result.stderr}")
        return result

    def new_key(self, org: str, test: bool = False, email: str = "") -> str:
        """An API key in `org` (created if missing), for its admin or the user `email` —
        what `assay keys create` does, through the same service functions in this process
        (a process per key costs a second; tests/test_cli.py covers the command)."""
        from sqlalchemy import select

        from assay.orgs import service as orgs
        from assay.orgs.models import User

        with self.database().write() as session:
            organization = orgs.get_or_create_org(session, org)
            if email:
                user = session.scalar(select(User).where(User.email == email.lower(), User.org_id == organization.id))
            else:
                user = orgs.service_user(session, organization)
            return orgs.create_key(session, user, is_test=test).key

    def new_user(self, org: str, email: str, role: str, password: str | None = None) -> None:
        """A user in `org`, as `assay users create` makes one (in this process)."""
        from assay.orgs import service as orgs

        with self.database().write() as session:
            orgs.create_user(session, orgs.get_or_create_org(session, org), email, role, password=password)

    def database(self):
        """The server's database, opened from this process (never its secret key or files)."""
        from assay.db import Database

        if self._database is None:
            self._database = Database(self.database_url or f"sqlite:///{(self.data_dir / 'assay.db').resolve()}")
        return self._database

    def client(self, key: str | None = None):
        import scaleapi

        return scaleapi.ScaleClient(key or self.live_key, api_instance_url=f"{self.url}/v1")


@dataclass
class Received:
    path: str
    headers: dict
    body: dict
    raw: bytes


class CallbackReceiver:
    """A real HTTP server recording every POST; answers `status` (settable)."""

    def __init__(self):
        self.received: list[Received] = []
        self.status = 200
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"null")
                except ValueError:
                    body = None
                with receiver.lock:
                    status = receiver.status
                    if 200 <= status < 300:
                        receiver.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body, raw))
                    else:
                        receiver.failed_attempts += 1
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.failed_attempts = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        serve_in_thread(self.server)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_for(self, predicate, timeout: float = 15.0) -> list[Received]:
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                items = [r for r in self.received if predicate(r)]
            if items:
                return items
            time.sleep(0.05)
        return []

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve_in_thread(httpd) -> None:
    """Serve `httpd` from a daemon thread. It looks at its shutdown flag every 0.05 s (the
    default 0.5 s made every `shutdown()` wait up to half a second, at each test's teardown)."""
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()


def wait_until(predicate, timeout: float = 15.0, interval: float = 0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def flat_routes(routes):
    """(path, methods, endpoint) of every route, through included routers (FastAPI keeps
    an included router as one entry whose effective candidates are its routes)."""
    for route in routes:
        candidates = getattr(route, "effective_candidates", None)
        if candidates is not None:
            yield from flat_routes(candidates())
        elif getattr(route, "endpoint", None) is not None:
            yield route.path, set(getattr(route, "methods", None) or ()), route.endpoint


class JSONHandler(BaseHTTPRequestHandler):
    """The base of the small HTTP servers the tests own (model backends, OpenAI-compatible
    endpoints): a JSON answer, and no request log on stderr."""

    def _answer(self, status: int, body) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


"""Browser-test support: Debian's Chromium driven by Playwright (never a downloaded
browser), people with passwords, and screenshots for docs/screenshots/.

Browser tests run against one SQLite server per session (`web_server`): the pages are
the same on both databases, and the API tests already cover PostgreSQL. Without
Playwright or /usr/bin/chromium they are skipped with the reason — except in CI, where
that is a failure."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests import local_http
from tests.support import IN_CI

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
PASSWORD = "correct horse battery"


def browser_missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} not found (apt-get install -y chromium)"
    return None


def require_browser() -> None:
    reason = browser_missing()
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true but browser tests need a browser: {reason}")
        pytest.skip(reason)


@dataclass
class Person:
    email: str
    role: str
    id: int
    password: str = PASSWORD


class Org:
    """Admin-side helpers over the native API with the server's admin key."""

    def __init__(self, server, key: str | None = None):
        self.server = server
        self.key = key or server.live_key
        self.http = local_http.Client(base_url=server.url, headers={"Authorization": f"Bearer {self.key}"}, timeout=30)

    def person(self, role: str, prefix: str | None = None) -> Person:
        email = f"{prefix or role}-{uuid.uuid4().hex[:8]}@example.com"
        r = self.http.post("/api/users", json={"email": email, "role": role, "password": PASSWORD})
        assert r.status_code == 201, r.text
        return Person(email=email, role=role, id=r.json()["id"])

    def project_id(self, name: str) -> str:
        r = self.http.get(f"/v1/projects/{name}")
        assert r.status_code == 200, r.text
        return r.json()["id"]

    def add_member(self, project_id: str, person: Person) -> None:
        r = self.http.post(f"/api/projects/{project_id}/members", json={"email": person.email})
        assert r.status_code == 200, r.text

    def settings(self, project_id: str, **values) -> dict:
        r = self.http.patch(f"/api/projects/{project_id}", json=values)
        assert r.status_code == 200, r.text
        return r.json()

    def login(self, person: Person) -> httpx.Client:
        """An HTTP client signed in as the person the way a browser is: session cookie,
        and the page's CSRF token sent in X-CSRF-Token on every request."""
        http = local_http.Client(base_url=self.server.url, timeout=30)
        page = http.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        r = http.post("/login", data={"csrf_token": token, "email": person.email, "password": person.password, "next": "/"})
        assert r.status_code == 303, r.text
        home = http.get("/")
        csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', home.text).group(1)
        http.headers["X-CSRF-Token"] = csrf
        return http

    def task(self, task_id: str) -> dict:
        r = self.http.get(f"/api/tasks/{task_id}")
        assert r.status_code == 200, r.text
        return r.json()


def login(page, server, person: Person) -> None:
    page.goto(f"{server.url}/login")
    page.fill("input[name=email]", person.email)
    page.fill("input[name=password]", person.password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(re.escape(server.url) + r"/(\?.*)?$"))


def open_workbench(page, server, project_id: str, mode: str = "label") -> None:
    page.goto(f"{server.url}/{mode}/{project_id}")
    wait_ready(page)


def wait_ready(page, previous_assignment: str | None = None) -> str:
    """Wait until the workbench shows a task (a different one than `previous_assignment`)
    or says it is empty; returns the assignment id on screen ('' when empty)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        if previous_assignment:
            page.wait_for_function(
                "prev => { const r = document.getElementById('workbench'); return r.dataset.state === 'empty' || "
                "(r.dataset.state === 'ready' && r.dataset.assignment !== prev && !r.dataset.busy); }",
                arg=previous_assignment)
        else:
            page.wait_for_function("() => ['ready', 'empty'].includes(document.getElementById('workbench').dataset.state)")
    except PlaywrightTimeout:
        # say what the page showed instead (its state, and the error or notice it gave)
        seen = page.evaluate("() => { const r = document.getElementById('workbench'); return {...r.dataset, "
                             "error: document.getElementById('wb-error')?.textContent, notice: document.getElementById('wb-notice')?.textContent}; }")
        raise AssertionError(f"the workbench did not become ready (after {previous_assignment!r}): {seen}") from None
    return page.get_attribute("#workbench", "data-assignment") or ""


def screenshot(page, name: str) -> Path:
    """Save docs/screenshots/<name>.png (kept current by the browser tests)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path

"""The critical finding in a real browser: organization B uploads an HTML page and an SVG
whose scripts read the CSRF token and create an admin; organization A's admin opens the
signed links. The files must open inertly (downloaded, or sandboxed) and nothing may be
created in organization A."""

from __future__ import annotations

import uuid

import pytest

from tests.browser import login
from tests.security.hostile import Tenant

pytestmark = pytest.mark.browser


def _exploit(email: str) -> str:
    """A script that, run on the app's origin with the victim's session, creates an admin."""
    return ("fetch('/').then(r => r.text()).then(t => { const m = t.match(/name=\"csrf-token\" content=\"([^\"]+)\"/);"
            " return fetch('/api/users', {method: 'POST', headers: {'Content-Type': 'application/json', 'X-CSRF-Token': m[1]},"
            f" body: JSON.stringify({{email: '{email}', role: 'admin', password: 'pwned-password-1'}})}}); }})"
            ".then(() => { document.title = 'pwned'; });")


def _payloads(email: str) -> list[tuple[str, bytes, str]]:
    script = _exploit(email)
    html = f"<!doctype html><title>Invoice</title><h1>Invoice</h1><script>{script}</script>".encode()
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>{script}</script>'
           '<rect width="10" height="10"/></svg>').encode()
    return [("invoice.html", html, "text/html"), ("chart.svg", svg, "image/svg+xml"), ("photo.png", html, "image/png")]


def _signed_link(attacker: Tenant, filename: str, content: bytes, content_type: str) -> str:
    uploaded = attacker.upload(filename, content, content_type)
    project = attacker.project()
    r = attacker.http().post("/v1/task/categorization", json={"project": project, "attachment": uploaded["attachment_url"],
                                                              "attachment_type": "image", "categories": ["a", "b"]})
    assert r.status_code == 200, r.text
    return attacker.signed_link(r.json()["task_id"])


def test_hostile_uploads_open_inertly_for_another_orgs_admin(web_server, web_org, new_page):
    attacker = Tenant.new(web_server, "org B")
    admin = web_org.person("admin")
    page = new_page()
    login(page, web_server, admin)
    downloads: list[str] = []
    page.on("download", lambda d: downloads.append(d.suggested_filename))
    payloads = _payloads(f"pwned-{uuid.uuid4().hex[:8]}@evil.test")
    for filename, content, declared in payloads:
        link = _signed_link(attacker, filename, content, declared)
        try:
            page.goto(link)
        except Exception:  # noqa: BLE001 - Chromium aborts a navigation that became a download
            pass
        page.wait_for_timeout(1500)  # time for a script, had one run, to do its work
        assert page.title() != "pwned"
    emails = [u["email"] for u in web_org.http.get("/api/users").json()["users"]]
    assert not [e for e in emails if e.startswith("pwned-")], f"an uploaded file's script created an admin: {emails}"
    assert sorted(downloads) == sorted(name for name, _, _ in payloads)

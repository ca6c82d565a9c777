"""The low findings: `javascript:` URLs as website attachments, CSV formula injection in
exports, non-Latin-1 project names in download names, a CDN page at /api/docs, and an
unexpected error closing the keep-alive connection."""

from __future__ import annotations

import csv
import io
import re

import pytest
from starlette.routing import Route, Router
from starlette.testclient import TestClient

from assay.web import CatchAll
from tests import local_http
from tests.security.hostile import Tenant


@pytest.fixture()
def tenant(server) -> Tenant:
    return Tenant.new(server, "small")


@pytest.mark.parametrize("attachment_type, url", [
    ("website", "javascript:alert(document.cookie)"),
    ("website", "  JavaScript:alert(1)"),
    ("website", "data:text/html,<script>alert(1)</script>"),
    ("website", "not a url"),
    ("image", "javascript:alert(1)"),
    ("pdf", "file:///etc/passwd"),
])
def test_script_urls_are_refused_as_attachments(tenant, attachment_type, url):
    project = tenant.project()
    r = tenant.http().post("/v1/task/categorization", json={"project": project, "attachment": url, "attachment_type": attachment_type,
                                                            "categories": ["a", "b"]})
    assert r.status_code == 400, r.text
    assert r.json()["field"] == "attachment"


def test_csv_export_cells_are_never_formulas(tenant):
    project = tenant.project()
    http = tenant.http()
    payloads = ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tcmd"]
    for i, payload in enumerate(payloads):
        r = http.post("/v1/task/categorization", json={"project": project, "attachment": "t", "attachment_type": "text",
                                                       "categories": ["a", "b"], "unique_id": payload + str(i)})
        assert r.status_code == 200, r.text
    done = http.get("/v1/tasks", params={"project": project}).json()["docs"]
    for task in done:
        assert http.post(f"/api/tasks/{task['task_id']}/answers", json={"response": {"category": "a"}}).status_code == 200
    r = http.get(f"/api/projects/{tenant.project_id(project)}/export", params={"format": "csv"})
    assert r.status_code == 200
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert sorted(row["unique_id"] for row in rows) == sorted("'" + p + str(i) for i, p in enumerate(payloads))
    for row in rows:
        assert not any(str(cell).startswith(("=", "+", "-", "@", "\t")) for cell in row.values()), row


def test_non_latin1_project_names_download(tenant):
    name = "Café ☕ reviews"
    r = tenant.http().post("/v1/projects", json={"type": "categorization", "name": name, "params": {}})
    assert r.status_code == 200, r.text
    export = tenant.http().get(f"/api/projects/{r.json()['id']}/export")
    assert export.status_code == 200, export.text
    disposition = export.headers["content-disposition"]
    assert "filename*=UTF-8''Caf%C3%A9%20%E2%98%95%20reviews.jsonl" in disposition


def test_no_page_loads_scripts_from_elsewhere(server):
    assert local_http.get(f"{server.url}/api/docs").status_code == 404
    login = local_http.get(f"{server.url}/login")
    # every script, stylesheet and icon comes from this server (a random CSRF token may
    # spell "cdn", so look at the references, not the whole page)
    references = re.findall(r'(?:src|href)="([^"]*)"', login.text)
    assert references and all(ref.startswith("/") for ref in references), references
    assert "https://" not in login.text


def test_an_unexpected_error_keeps_the_connection():
    """CatchAll answers a JSON 500 and swallows the exception (uvicorn closes the
    connection when an exception reaches it)."""
    async def broken(_request):
        raise RuntimeError("bug")

    app = CatchAll(Router(routes=[Route("/broken", broken)]))
    with TestClient(app, raise_server_exceptions=True) as http:  # an exception reaching the server would raise here
        r = http.get("/broken")
    assert r.status_code == 500
    assert r.json() == {"status_code": 500, "error": "Internal server error"}

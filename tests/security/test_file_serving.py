"""Uploaded files never run on the app's origin (critical finding: an organization B
customer's invoice.html, opened by an organization A admin through a signed link, read
the CSRF token and created an admin in organization A).

Every file response says nosniff and carries a sandbox CSP; a file is shown inline only
when its bytes are a raster image, audio, video or PDF — whatever the uploader declared."""

from __future__ import annotations

import httpx
import pytest

from tests import local_http
from tests.security.hostile import Tenant

HTML = b"<!doctype html><script>fetch('/api/users',{method:'POST'})</script><h1>Invoice</h1>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.cookie)"><script>alert(1)</script></svg>'
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82")
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF"


@pytest.fixture()
def attacker(server) -> Tenant:
    return Tenant.new(server, "attacker")


def _served(tenant: Tenant, filename: str, content: bytes, content_type: str, attachment_type: str = "image") -> httpx.Response:
    """Upload a file, put it on a task, and fetch it through the signed link the server
    made — as anyone holding the link would (no credentials)."""
    uploaded = tenant.upload(filename, content, content_type)
    project = tenant.project()
    r = tenant.http().post("/v1/task/categorization", json={"project": project, "attachment": uploaded["attachment_url"],
                                                            "attachment_type": attachment_type, "categories": ["a", "b"]})
    assert r.status_code == 200, r.text
    link = tenant.signed_link(r.json()["task_id"])
    assert link and "/api/files/" in link
    return local_http.get(link)


def _assert_hardened(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    csp = response.headers["content-security-policy"]
    assert csp.startswith("sandbox") and "default-src 'none'" in csp


@pytest.mark.parametrize("filename, content, declared", [
    ("invoice.html", HTML, "text/html"),
    ("logo.svg", SVG, "image/svg+xml"),
    ("photo.png", HTML, "image/png"),  # HTML that claims to be an image
    ("notes.txt", b"plain words", "text/plain"),
], ids=["html", "svg", "html-as-png", "text"])
def test_active_or_unknown_content_is_downloaded_never_rendered(server, attacker, filename, content, declared):
    r = _served(attacker, filename, content, declared)
    assert r.status_code == 200
    assert r.content == content
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["content-disposition"].startswith("attachment;")
    assert filename in r.headers["content-disposition"]
    _assert_hardened(r)


@pytest.mark.parametrize("content, declared, sniffed, attachment_type", [
    (PNG, "image/png", "image/png", "image"),
    (PNG, "text/html", "image/png", "image"),  # a real PNG is shown as one, whatever was declared
    (PDF, "application/pdf", "application/pdf", "pdf"),
    (b"ID3\x03\x00\x00\x00\x00\x00\x00" + bytes(40), "audio/mpeg", "audio/mpeg", "audio"),
    (b"\x00\x00\x00\x18ftypmp42" + bytes(40), "video/mp4", "video/mp4", "video"),
], ids=["png", "png-declared-html", "pdf", "mp3", "mp4"])
def test_media_is_inline_with_the_type_its_bytes_have(server, attacker, content, declared, sniffed, attachment_type):
    r = _served(attacker, "file.bin", content, declared, attachment_type)
    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0] == sniffed
    assert r.headers["content-disposition"].startswith("inline")
    _assert_hardened(r)


def test_signed_link_of_a_missing_or_foreign_file_is_404(server, attacker):
    link = str(_served(attacker, "a.png", PNG, "image/png").url)
    victim = Tenant.new(server, "victim")
    other_org = victim.me()["organization"]["id"]
    mine = attacker.me()["organization"]["id"]
    # same signature, another organization's path: no file there (and the signature breaks)
    assert local_http.get(link.replace(f"/api/files/{mine}/", f"/api/files/{other_org}/")).status_code == 404

"""Files: upload, import from a URL, `scaledata://` attachments, signed download links,
size limits and the private-network guard of server-side fetches."""

from __future__ import annotations

import hashlib
import hmac
import io
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from scaleapi.exceptions import ScaleException, ScaleInvalidRequest
from scaleapi.tasks import TaskType

from tests import local_http
from tests.db_access import query
from tests.support import serve_in_thread

DATA = b"assay file bytes \x00\x01\x02\xff" + bytes(range(256))


class FileHost:
    """A real HTTP server on 127.0.0.1 serving fixed bytes per path; records requests."""

    def __init__(self):
        self.routes: dict[str, tuple[int, bytes, str, bool]] = {}
        self.requests: list[str] = []
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                host.requests.append(self.path)
                status, body, ctype, send_length = host.routes.get(self.path, (404, b"not here", "text/plain", True))
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                if send_length:
                    self.send_header("Content-Length", str(len(body)))
                else:
                    self.close_connection = True
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        serve_in_thread(self.server)

    def serve(self, path: str, body: bytes, ctype: str = "application/octet-stream", status: int = 200, send_length: bool = True) -> str:
        self.routes[path] = (status, body, ctype, send_length)
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def file_host():
    host = FileHost()
    yield host
    host.close()


def org_public_id(server, key: str) -> str:
    r = local_http.get(f"{server.url}/api/me", auth=(key, ""), timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["organization"]["id"]


def file_count(server, org_pid: str) -> int:
    return query(server, "SELECT count(*) FROM files f JOIN organizations o ON o.id = f.org_id WHERE o.public_id = ?", (org_pid,))[0][0]


def disk_files(server, org_pid: str) -> list[Path]:
    root = server.data_dir / "files" / org_pid
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def attachment_task(client, project: str, url: str):
    return client.create_task(TaskType.Categorization, project=project, attachment=url, attachment_type="image", categories=["a", "b"])


def signed_url(client, project: str, task_id: str) -> str:
    docs = [t for t in client.tasks(project=project, include_attachment_url=True).docs if t.id == task_id]
    assert len(docs) == 1
    return docs[0].as_dict()["attachment_url"]


# --------------------------------------------------------------------------- upload

def test_upload_returns_a_scaledata_file_usable_as_attachment(server, client, project):
    org = org_public_id(server, server.live_key)
    uploaded = client.upload_file(io.BytesIO(DATA), project_name=project, display_name="raw bytes", reference_id="ref-1")
    body = uploaded.as_dict()
    assert uploaded.id and body["id"] == uploaded.id
    assert uploaded.attachment_url == f"scaledata://{org}/{uploaded.id}"
    assert body["size"] == len(DATA)
    assert body["mime_type"] == "application/octet-stream"
    assert body["project_names"] == [project]
    assert body["display_name"] == "raw bytes" and body["reference_id"] == "ref-1"
    stored = query(server, "SELECT size, sha256 FROM files WHERE public_id = ?", (uploaded.id,))
    assert stored == [(len(DATA), hashlib.sha256(DATA).hexdigest())]

    task = attachment_task(client, project, uploaded.attachment_url)
    assert task.params["attachment"] == uploaded.attachment_url
    assert client.get_task(task.id).params["attachment"] == uploaded.attachment_url


def test_upload_keeps_the_declared_content_type(server, client):
    r = local_http.post(f"{server.url}/v1/files/upload", auth=(server.live_key, ""), files={"file": ("pic.png", b"\x89PNG fake", "image/png")})
    assert r.status_code == 200, r.text
    assert r.json()["mime_type"] == "image/png"
    assert r.json()["size"] == len(b"\x89PNG fake")


def test_signed_attachment_url_downloads_the_exact_bytes(server, client, project):
    uploaded = client.upload_file(io.BytesIO(DATA), project_name=project)
    task = attachment_task(client, project, uploaded.attachment_url)

    # one page with include_attachment_url=True (the client sends a capitalised True)
    url = signed_url(client, project, task.id)
    assert url.startswith(f"{server.url}/api/files/")
    r = local_http.get(url)  # no API key: the signature is the credential
    assert r.status_code == 200
    assert r.content == DATA

    # the generator (include_attachment_url defaults to True) and the raw endpoint
    via_generator = [t.as_dict()["attachment_url"] for t in client.get_tasks(project_name=project)]
    assert len(via_generator) == 1 and local_http.get(via_generator[0]).content == DATA
    raw = local_http.get(f"{server.url}/v1/tasks?project={project.replace(' ', '+')}&include_attachment_url=True", auth=(server.live_key, ""))
    assert raw.status_code == 200
    assert local_http.get(raw.json()["docs"][0]["attachment_url"]).content == DATA

    # not asked for: not given
    assert "attachment_url" not in client.tasks(project=project).docs[0].as_dict()
    assert "attachment_url" not in client.tasks(project=project, include_attachment_url=False).docs[0].as_dict()


def _with_query(url: str, **changes) -> str:
    parts = urlsplit(url)
    query_args = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query_args.update(changes)
    query_args = {k: v for k, v in query_args.items() if v is not None}
    return urlunsplit(parts._replace(query=urlencode(query_args)))


def assert_404(r: httpx.Response) -> None:
    assert r.status_code == 404, r.text
    assert r.json()["status_code"] == 404
    assert DATA not in r.content


def test_tampered_or_expired_signature_is_404(server, client, project):
    uploaded = client.upload_file(io.BytesIO(DATA), project_name=project)
    other = client.upload_file(io.BytesIO(b"another file"), project_name=project)
    task = attachment_task(client, project, uploaded.attachment_url)
    url = signed_url(client, project, task.id)
    parts = urlsplit(url)
    sig = parse_qs(parts.query)["signature"][0]
    expires = int(parse_qs(parts.query)["expires"][0])
    flipped = sig[:-1] + ("0" if sig[-1] != "0" else "1")

    assert_404(local_http.get(_with_query(url, signature=flipped)))
    assert_404(local_http.get(_with_query(url, signature=None)))
    assert_404(local_http.get(_with_query(url, signature="")))
    assert_404(local_http.get(_with_query(url, expires=str(expires + 1))))
    assert_404(local_http.get(_with_query(url, expires="soon")))
    assert_404(local_http.get(_with_query(url, expires=None)))
    # the signature of one file does not open another
    assert_404(local_http.get(url.replace(uploaded.id, other.id)))
    # a correctly signed link whose time has passed (signed here with the server's key)
    # (PostgreSQL keeps the key in the database for every process; SQLite in the data dir)
    secret = (query(server, "SELECT value FROM instance_secrets WHERE name = 'secret_key'")[0][0] if server.database_url
              else (server.data_dir / "secret_key").read_text().strip())
    org, file_id = parts.path.split("/")[-2:]
    past = expires - 7200
    good_but_old = hmac.new(secret.encode(), f"{org}/{file_id}:{past}".encode(), hashlib.sha256).hexdigest()
    assert_404(local_http.get(_with_query(url, expires=str(past), signature=good_but_old)))
    # the untouched link still works
    assert local_http.get(url).content == DATA


def test_unknown_scaledata_url_is_400(server, client, project):
    org = org_public_id(server, server.live_key)
    for bad in (f"scaledata://{org}/{'0' * 24}", f"scaledata://{org}/", f"scaledata://{'f' * 24}/{'0' * 24}"):
        with pytest.raises(ScaleInvalidRequest) as exc:
            attachment_task(client, project, bad)
        assert "attachment" in exc.value.message
    assert client.get_tasks_count(project_name=project) == 0


def test_upload_without_a_file_part_is_400(server):
    url = f"{server.url}/v1/files/upload"
    auth = (server.live_key, "")
    cases = [
        local_http.post(url, auth=auth, data={"display_name": "x"}, files={"other": ("a.txt", b"abc")}),
        local_http.post(url, auth=auth, data={"file": "just a string field"}, files={"other": ("a.txt", b"abc")}),
        local_http.post(url, auth=auth, json={"file": "abc"}),
        local_http.post(url, auth=auth, content=b"abc", headers={"Content-Type": "application/octet-stream"}),
        local_http.post(url, auth=auth),
    ]
    for r in cases:
        assert r.status_code == 400, r.text
        assert r.json()["status_code"] == 400
        assert "file" in r.json()["error"]


def test_size_limits_refuse_and_store_nothing(server_factory, file_host):
    srv = server_factory(ASSAY_MAX_UPLOAD_BYTES="1000")
    client = srv.client()
    org = org_public_id(srv, srv.live_key)
    client.create_project(project_name="limits", task_type=TaskType.Categorization, params={"instruction": "Pick."})

    # uploads: one byte over the limit is 413, nothing on disk or in the database
    with pytest.raises(ScaleException) as exc:
        client.upload_file(io.BytesIO(b"x" * 1001), project_name="limits")
    assert exc.value.code == 413
    assert "file" in exc.value.message
    r = local_http.post(f"{srv.url}/v1/files/upload", auth=(srv.live_key, ""), files={"file": ("big", b"y" * (2 * 1024 * 1024))})
    assert r.status_code == 413 and r.json()["status_code"] == 413
    assert file_count(srv, org) == 0 and disk_files(srv, org) == []

    # imports: declared too large, or streamed without a length
    for url in (file_host.serve("/big", b"z" * 5000), file_host.serve("/chunked", b"w" * 5000, send_length=False)):
        with pytest.raises(ScaleException) as exc:
            client.import_file(url)
        assert exc.value.code in (400, 413)
        assert "file_url" in exc.value.message or "limit" in exc.value.message
    assert file_count(srv, org) == 0 and disk_files(srv, org) == []

    # exactly at the limit is fine, and the server keeps working
    ok = client.upload_file(io.BytesIO(b"a" * 1000), project_name="limits")
    assert ok.as_dict()["size"] == 1000
    imported = client.import_file(file_host.serve("/small", b"b" * 900))
    assert imported.as_dict()["size"] == 900
    assert file_count(srv, org) == 2 and len(disk_files(srv, org)) == 2
    assert sorted(p.name for p in disk_files(srv, org)) == sorted([ok.id, imported.id])
    # a task can use the stored ones and still not a made-up id
    assert attachment_task(client, "limits", ok.attachment_url).params["attachment"] == ok.attachment_url
    with pytest.raises(ScaleInvalidRequest):
        attachment_task(client, "limits", f"scaledata://{org}/{'1' * 24}")
    assert client.get_tasks_count(project_name="limits") == 1


# --------------------------------------------------------------------------- import

def test_import_file_stores_the_fetched_bytes(server, client, project, file_host):
    org = org_public_id(server, server.live_key)
    url = file_host.serve("/docs/report.txt", DATA, ctype="text/plain; charset=utf-8")
    imported = client.import_file(url, project_name=project, reference_id="imp-1")
    body = imported.as_dict()
    assert imported.attachment_url == f"scaledata://{org}/{imported.id}"
    assert body["size"] == len(DATA)
    assert body["mime_type"] == "text/plain"
    assert body["reference_id"] == "imp-1"
    assert file_host.requests == ["/docs/report.txt"]
    task = attachment_task(client, project, imported.attachment_url)
    assert local_http.get(signed_url(client, project, task.id)).content == DATA


def test_import_failures_are_400_naming_file_url(server, client, file_host):
    org = org_public_id(server, server.live_key)
    before = file_count(server, org)
    for url in (file_host.serve("/gone", b"nope", status=404), file_host.serve("/boom", b"err", status=500), "file:///etc/passwd",
                "ftp://127.0.0.1/x", "not a url"):
        with pytest.raises(ScaleInvalidRequest) as exc:
            client.import_file(url)
        assert "file_url" in exc.value.message
    for body in ({}, {"file_url": ""}, {"file_url": 5}, ["http://x"]):
        r = local_http.post(f"{server.url}/v1/files/import", auth=(server.live_key, ""), json=body)
        assert r.status_code == 400, r.text
    assert file_count(server, org) == before


def test_import_from_private_address_is_refused(private_refusing_server, file_host):
    srv = private_refusing_server
    client = srv.client()
    org = org_public_id(srv, srv.live_key)
    stored, on_disk = file_count(srv, org), disk_files(srv, org)  # the server is shared
    for url in (file_host.serve("/x", DATA), f"http://localhost:{file_host.port}/x"):
        with pytest.raises(ScaleInvalidRequest) as exc:
            client.import_file(url)
        message = exc.value.message
        assert "file_url" in message
        assert "private or loopback" in message
    # a host name's internal DNS answer is not revealed
    assert "localhost resolves to" in message and "127.0.0.1" not in message and "::1" not in message
    assert file_host.requests == []  # refused before connecting
    assert file_count(srv, org) == stored and disk_files(srv, org) == on_disk

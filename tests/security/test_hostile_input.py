"""Valid-looking but hostile input gets a 400 naming the field, never a 500 (low finding:
integers ≥ 2^64, JSON nested ~255 deep, lone surrogates in metadata or params, a NUL byte
anywhere on PostgreSQL, priority -10^18 — 27 distinct 500s — and NaN/Infinity accepted).
After any error the keep-alive connection keeps working."""

from __future__ import annotations

import socket

import httpx
import pytest

from tests.security.hostile import Tenant

BIG = str(2**64)


def _task_body(project: str, extra: str) -> bytes:
    return ('{"project": "%s", "attachment": "t", "attachment_type": "text", "categories": ["a", "b"], %s}' % (project, extra)).encode()


CASES = [
    # (raw fragment added to a task body, field named in the 400)
    ('"metadata": {"n": %s}' % BIG, "metadata.n"),
    ('"metadata": {"n": -%s}' % BIG, "metadata.n"),
    ('"priority": %s' % BIG, "priority"),
    ('"priority": -1000000000000000000', "priority"),
    ('"metadata": %s1%s' % ('{"a": ' * 255, "}" * 255), "metadata.a"),
    ('"metadata": {"note": "\\ud800"}', "metadata.note"),
    ('"metadata": {"\\udfff": 1}', "metadata.\udfff"),
    ('"metadata": {"note": "a\\u0000b"}', "metadata.note"),
    ('"categories": ["a", "\\ud800"]', "categories[1]"),
    ('"metadata": {"x": NaN}', "body"),
    ('"metadata": {"x": Infinity}', "body"),
    ('"metadata": {"x": 1e999}', "body"),
]


@pytest.fixture()
def tenant(server) -> Tenant:
    return Tenant.new(server, "fuzz")


@pytest.mark.parametrize("fragment, field", CASES, ids=[f for _, f in CASES])
def test_hostile_task_bodies_are_400_naming_the_field(server, tenant, fragment, field):
    project = tenant.project()
    r = tenant.http().post("/v1/task/categorization", content=_task_body(project, fragment), headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.json()["field"].startswith(field.replace("\udfff", "\\udfff")), r.text
    assert tenant.http().get("/v1/tasks", params={"project": project}).json()["total"] == 0


@pytest.mark.parametrize("fragment, field", CASES[:9], ids=[f for _, f in CASES[:9]])
def test_hostile_bulk_bodies_are_400(server, tenant, fragment, field):
    project = tenant.project()
    body = ('{"type": "categorization", "project": "%s", "tasks": [{"attachment": "t", "attachment_type": "text", '
            '"categories": ["a", "b"]}, {"attachment": "t", "attachment_type": "text", "categories": ["a", "b"], %s}]}' % (project, fragment))
    r = tenant.http().post("/api/tasks/bulk", content=body.encode(), headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text
    assert "tasks[1]" in r.json()["field"] or r.json()["field"] == "body", r.text


@pytest.mark.parametrize("method, path, raw, field", [
    ("POST", "/v1/projects", '{"type": "categorization", "name": "x", "params": {"labels_per_task": %s}}' % BIG, "params.labels_per_task"),
    ("POST", "/v1/projects", '{"type": "categorization", "name": "a\\u0000b"}', "name"),
    ("POST", "/v1/batches", '{"project": "nope", "name": "\\ud800"}', "name"),
    ("POST", "/api/users", '{"email": "x@y.z", "role": "annotator", "password": "\\ud800\\ud800\\ud800\\ud800"}', "password"),
])
def test_hostile_bodies_elsewhere(server, tenant, method, path, raw, field):
    r = tenant.http().request(method, path, content=raw.encode(), headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.json()["field"] == field, r.text


@pytest.mark.parametrize("path, field", [
    ("/v1/task/%00", "task_id"),
    ("/v1/task/abc%00def", "task_id"),
    ("/v1/tasks?project=%00", "project"),
    ("/v1/projects/a%00b", "name"),
    ("/v1/batches/a%00b", "name"),
    ("/api/tasks/%00", "task_id"),
])
def test_nul_in_path_or_query_is_400(server, tenant, path, field):
    r = tenant.http().get(path)
    assert r.status_code == 400, r.text
    assert r.json()["field"] == field


def test_huge_integer_path_parameter_is_400(server, tenant):
    r = tenant.http().patch("/api/users/99999999999999999999999", json={"name": "x"})
    assert r.status_code == 400, r.text
    assert r.json()["field"] == "user_id"


def test_keep_alive_survives_errors(server, tenant):
    """Each hostile request, then a normal one, on the same connection."""
    project = tenant.project()
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    reader = sock.makefile("rb")
    auth = httpx.BasicAuth(tenant.key, "")._auth_header

    def exchange(method: str, path: str, body: bytes = b"") -> int:
        sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        status = int(reader.readline().split()[1])
        length = 0
        while (line := reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        reader.read(length)
        return status

    try:
        for fragment, _ in CASES:
            assert exchange("POST", "/v1/task/categorization", _task_body(project, fragment)) == 400
            assert exchange("GET", "/v1/task/%00") == 400
            assert exchange("GET", "/api/me") == 200
    finally:
        reader.close()
        sock.close()

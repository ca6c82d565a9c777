"""Bodies are never read before the caller is known, and never past the size limit
(medium finding: a 120 MB chunked POST with no credentials was parsed before the 401,
RSS 147 → 461 MB). Raw sockets, so the test controls when each byte is sent: the server
must answer while most of the body is still unsent."""

from __future__ import annotations

import socket

import pytest

from tests.support import Server

CHUNK = b"x" * 65536


def _open(server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    return sock


def _read_response(sock: socket.socket) -> bytes:
    """Status line, headers and (by Content-Length) the body of one response."""
    data = b""
    while b"\r\n\r\n" not in data:
        part = sock.recv(65536)
        if not part:
            return data
        data += part
    head, _, body = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length:
        part = sock.recv(65536)
        if not part:
            break
        body += part
    return head + b"\r\n\r\n" + body


def _chunked_post(sock: socket.socket, path: str, headers: dict[str, str], chunks: int, content_type: str = "application/json") -> None:
    head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Type: {content_type}", "Transfer-Encoding: chunked",
            *[f"{k}: {v}" for k, v in headers.items()]]
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    for _ in range(chunks):
        sock.sendall(f"{len(CHUNK):x}\r\n".encode() + CHUNK + b"\r\n")


@pytest.mark.parametrize("path", ["/v1/task/categorization", "/api/tasks/bulk", "/v1/files/upload", "/api/users"])
def test_no_credentials_is_401_before_the_body(server, path):
    sock = _open(server)
    try:
        _chunked_post(sock, path, {}, chunks=2)  # 128 KB of a body that never ends
        head = _read_response(sock)
    finally:
        sock.close()
    assert head.startswith(b"HTTP/1.1 401"), head[:200]


def test_a_wrong_key_is_401_before_the_body(server):
    sock = _open(server)
    try:
        _chunked_post(sock, "/api/tasks/bulk", {"Authorization": "Bearer live_0000"}, chunks=2)
        head = _read_response(sock)
    finally:
        sock.close()
    assert head.startswith(b"HTTP/1.1 401"), head[:200]


LIMIT = 256 * 1024


@pytest.fixture(scope="module")
def limited_server(backend, database_factory, pg_databases, tmp_path_factory) -> Server:
    """A server taking JSON bodies of at most LIMIT bytes, shared by the module's limit tests."""
    srv = Server(data_dir=tmp_path_factory.mktemp("limited"), database_url=database_factory(backend),
                 env_overrides={"ASSAY_MAX_REQUEST_BYTES": str(LIMIT)}).start()
    yield srv
    srv.stop(grace=2)  # a throwaway database, like the shared servers'
    pg_databases.discard(srv.database_url)


def test_chunked_body_over_the_limit_is_413_while_streaming(limited_server):
    server = limited_server
    sock = _open(server)
    try:
        # 512 KB sent, then the client waits: the server must already have said 413
        _chunked_post(sock, "/api/tasks/bulk", {"Authorization": f"Bearer {server.live_key}"}, chunks=8)
        head = _read_response(sock)
    finally:
        sock.close()
    assert head.startswith(b"HTTP/1.1 413"), head[:200]
    assert f"{LIMIT}-byte limit".encode() in _body_of(server, head)


def _body_of(server, head: bytes) -> bytes:
    return head.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in head else head


def test_declared_length_over_the_limit_is_413_at_once(limited_server):
    server = limited_server
    sock = _open(server)
    try:
        sock.sendall(f"POST /v1/projects HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 999999\r\n"
                     f"Authorization: Bearer {server.live_key}\r\n\r\n".encode())
        head = _read_response(sock)
    finally:
        sock.close()
    assert head.startswith(b"HTTP/1.1 413"), head[:200]


def test_the_login_form_body_is_small(server):
    sock = _open(server)
    try:
        # 256 KB of form, over the 64 KB for anonymous forms
        _chunked_post(sock, "/login", {}, chunks=4, content_type="application/x-www-form-urlencoded")
        head = _read_response(sock)
    finally:
        sock.close()
    assert head.startswith(b"HTTP/1.1 413"), head[:200]

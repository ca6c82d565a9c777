"""Misbehaving HTTP receivers on 127.0.0.1 for the delivery tests: one that holds every
request open until the test releases it, one that trickles its response headers."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.support import serve_in_thread, wait_until


class BlockingReceiver:
    """Reads each POST, then holds it open until `release` is set and answers 200.
    Counts the requests held at once (`in_flight`, and the most ever: `max_in_flight`).
    With a shared `log`, appends (name, "arrived" or "answered", task_id) in the order
    things happened across receivers."""

    def __init__(self, host: str = "127.0.0.1", name: str = "", log: list | None = None):
        self.name = name
        self.log = log if log is not None else []
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.arrived: list[str] = []  # task ids, as each request came in
        self.answered: list[str] = []  # task ids whose 200 was written
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                task_id = (json.loads(raw or b"{}") or {}).get("task_id")
                with receiver.lock:
                    receiver.in_flight += 1
                    receiver.max_in_flight = max(receiver.max_in_flight, receiver.in_flight)
                    receiver.arrived.append(task_id)
                    receiver.log.append((receiver.name, "arrived", task_id))
                receiver.release.wait(300)
                with receiver.lock:
                    receiver.in_flight -= 1
                try:
                    self.send_response(200)
                    self.send_header("content-length", "0")
                    self.end_headers()
                except OSError:  # the sender gave up meanwhile
                    return
                with receiver.lock:
                    receiver.answered.append(task_id)
                    receiver.log.append((receiver.name, "answered", task_id))

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.port = self.server.server_address[1]
        serve_in_thread(self.server)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_in_flight(self, n: int, timeout: float = 30.0) -> bool:
        return bool(wait_until(lambda: self.in_flight >= n, timeout=timeout))

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class TricklingReceiver:
    """Answers every request with a status line and then one header byte every
    `interval` seconds, never finishing the headers (until closed). A per-read timeout
    never fires against it; only an overall deadline ends the request."""

    def __init__(self, interval: float = 0.2):
        self.interval = interval
        self.closed = threading.Event()
        self.lock = threading.Lock()
        self.connections = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.settimeout(5)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                while not self.closed.wait(self.interval):
                    conn.sendall(b"a")
            except OSError:  # the client hung up
                return

    def close(self) -> None:
        self.closed.set()
        self.sock.close()

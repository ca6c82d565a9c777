"""Callbacks: body shape, `scale-callback-auth` and the HMAC signature, retries, giving
up, the private-network guard, batch completion callbacks, and delivery surviving a
SIGKILL of the server (the outbox)."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scaleapi.tasks import TaskType

from assay.callbacks.delivery import retry_delays, sign
from tests import local_http
from tests.db_access import org_row, query
from tests.support import serve_in_thread, wait_until

SIG_RE = re.compile(r"^t=(\d+),v1=([0-9a-f]{64})$")


def make_task(client, project: str, callback_url: str | None = None, **kw):
    if callback_url:
        kw["callback_url"] = callback_url
    return client.create_task(
        TaskType.Categorization, project=project, attachment="a short text", attachment_type="text", categories=["cat", "dog"], **kw
    )


def answer(server, task_id: str, key: str | None = None, category: str = "cat") -> dict:
    r = local_http.post(f"{server.url}/api/tasks/{task_id}/answers", json={"response": {"category": category}}, auth=(key or server.live_key, ""), timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def callback_key(server, key: str) -> str:
    me = local_http.get(f"{server.url}/api/me", auth=(key, ""), timeout=10).json()
    return org_row(server, me["organization"]["id"])[2]


def verify_signature(secret: str, headers: dict, raw: bytes) -> int:
    match = SIG_RE.match(headers["x-assay-signature"])
    assert match, headers["x-assay-signature"]
    t, mac = int(match.group(1)), match.group(2)
    expected = hmac.new(secret.encode(), f"{t}.".encode() + raw, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(mac, expected), "signature does not verify"
    return t


def callback_succeeded(client, task_id: str):
    return client.get_task(task_id).as_dict().get("callback_succeeded")


class ScriptedReceiver:
    """Answers the given statuses in order (then 200) and records every attempt."""

    def __init__(self, statuses: list[int]):
        self.statuses = list(statuses)
        self.attempts: list[tuple[int, dict, bytes]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                with receiver.lock:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver.attempts.append((status, {k.lower(): v for k, v in self.headers.items()}, raw))
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        serve_in_thread(self.server)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# --------------------------------------------------------------------------- pure functions

@given(st.integers(min_value=1, max_value=60), st.floats(min_value=0.001, max_value=1e7, allow_nan=False, allow_infinity=False))
def test_retry_delays_fit_the_window(max_attempts, window):
    delays = retry_delays(max_attempts, window)
    assert len(delays) == max_attempts - 1
    assert all(d > 0 for d in delays)
    assert all(a <= b for a, b in zip(delays, delays[1:]))
    if delays:
        assert math.isclose(sum(delays), window, rel_tol=1e-9)


def test_retry_delays_examples():
    assert retry_delays(1, 100.0) == []
    assert retry_delays(2, 10.0) == [10.0]
    assert retry_delays(3, 3.0) == pytest.approx([1.0, 2.0])
    # Scale's 20 attempts over 24 h: first retry after seconds, not hours; the cap keeps the tail flat
    day = retry_delays(20, 86400.0)
    assert day[0] < 60 and day[-1] == day[-2]


def test_sign_matches_a_hand_computed_hmac():
    body = b'{"task_id":"abc","response":{"category":"cat"}}'
    # printf '1700000000.%s' "$body" | openssl dgst -sha256 -hmac cb_secret
    assert sign("cb_secret", 1700000000, body) == "t=1700000000,v1=" + "6b346a1181af8561fd9233e83026641f851775e471cfc04250211858de3b5f96"
    assert sign("cb_secret", 1700000000, body) == "t=1700000000,v1=" + hmac.new(
        b"cb_secret", b"1700000000." + body, hashlib.sha256
    ).hexdigest()
    assert sign("cb_secret", 1700000001, body) != sign("cb_secret", 1700000000, body)
    assert sign("other", 1700000000, body) != sign("cb_secret", 1700000000, body)


# --------------------------------------------------------------------------- delivery

def test_completed_task_callback_shape_auth_and_signature(server, client, project, receiver):
    secret = callback_key(server, server.live_key)
    task = make_task(client, project, receiver.url("/task"), metadata={"m": 1})
    assert "callback_succeeded" not in task.as_dict()
    done = answer(server, task.id)
    assert done["status"] == "completed"

    hooks = receiver.wait_for(lambda r: r.body and r.body.get("task_id") == task.id)
    assert len(hooks) == 1
    hook = hooks[0]
    assert hook.path == "/task"
    assert set(hook.body) == {"task_id", "response", "task"}
    assert hook.body["response"] == {"category": "cat"}
    assert hook.body["task"]["task_id"] == task.id
    assert hook.body["task"]["status"] == "completed"
    assert hook.body["task"]["metadata"] == {"m": 1}
    assert hook.body["task"]["project"] == project
    assert hook.headers["content-type"].startswith("application/json")
    assert hook.headers["scale-callback-auth"] == secret
    t = verify_signature(secret, hook.headers, hook.raw)
    assert abs(t - time.time()) < 3600
    # a changed body no longer verifies
    with pytest.raises(AssertionError):
        verify_signature(secret, hook.headers, hook.raw + b" ")
    assert wait_until(lambda: callback_succeeded(client, task.id) is True)

    # every callback of the organization carries the same secret
    second = make_task(client, project, receiver.url("/task"))
    answer(server, second.id, category="dog")
    hooks2 = receiver.wait_for(lambda r: r.body and r.body.get("task_id") == second.id)
    assert hooks2 and hooks2[0].headers["scale-callback-auth"] == secret
    assert hooks2[0].body["response"] == {"category": "dog"}
    verify_signature(secret, hooks2[0].headers, hooks2[0].raw)


def test_callbacks_of_other_orgs_use_their_own_key(server, uniq, receiver):
    key = server.new_key(f"cb-{uniq}")
    other = server.client(key)
    other.create_project(project_name="p", task_type=TaskType.Categorization, params={"instruction": "Pick."})
    task = make_task(other, "p", receiver.url("/other"))
    answer(server, task.id, key=key)
    hooks = receiver.wait_for(lambda r: r.body and r.body.get("task_id") == task.id)
    assert len(hooks) == 1
    own_secret = callback_key(server, key)
    assert hooks[0].headers["scale-callback-auth"] == own_secret
    assert own_secret != callback_key(server, server.live_key)
    verify_signature(own_secret, hooks[0].headers, hooks[0].raw)


def test_callback_retried_until_accepted_then_delivered_once(server, client, project):
    flaky = ScriptedReceiver([500, 503])
    try:
        task = make_task(client, project, flaky.url)
        answer(server, task.id)
        assert wait_until(lambda: callback_succeeded(client, task.id) is True, timeout=30)
        with flaky.lock:
            attempts = list(flaky.attempts)
        assert [status for status, _, _ in attempts] == [500, 503, 200]
        secret = callback_key(server, server.live_key)
        bodies = {raw for _, _, raw in attempts}
        assert len(bodies) == 1, "a retry must resend the same bytes"
        for _, headers, raw in attempts:
            assert headers["scale-callback-auth"] == secret
            verify_signature(secret, headers, raw)
        assert json.loads(attempts[-1][2])["task_id"] == task.id
    finally:
        flaky.close()


def test_callback_given_up_after_the_configured_attempts(server, client, project, receiver):
    receiver.status = 500
    task = make_task(client, project, receiver.url("/fail"))
    answer(server, task.id)
    assert wait_until(lambda: callback_succeeded(client, task.id) is False, timeout=40)
    assert receiver.failed_attempts == 5  # ASSAY_CALLBACK_MAX_ATTEMPTS in the test servers
    assert receiver.received == []
    rows = query(server, "SELECT o.status, o.attempts, o.last_status_code FROM outbox o JOIN tasks t ON t.id = o.task_id WHERE t.public_id = ?", (task.id,))
    assert rows == [("failed", 5, 500)]
    # the task itself stays completed with its response
    got = client.get_task(task.id)
    assert got.status == "completed" and got.response == {"category": "cat"}


def test_callback_to_private_address_is_never_delivered(private_refusing_server, receiver, uniq):
    srv = private_refusing_server
    client = srv.client()
    client.create_project(project_name=f"p {uniq}", task_type=TaskType.Categorization, params={"instruction": "Pick."})
    task = make_task(client, f"p {uniq}", receiver.url("/private"))
    answer(srv, task.id)
    assert wait_until(lambda: callback_succeeded(client, task.id) is False, timeout=40)
    assert receiver.received == [] and receiver.failed_attempts == 0
    rows = query(srv, "SELECT o.status, o.last_error FROM outbox o JOIN tasks t ON t.id = o.task_id WHERE t.public_id = ?", (task.id,))
    assert len(rows) == 1 and rows[0][0] == "failed"
    assert "private or loopback" in rows[0][1]


def test_batch_completion_callback(server, client, project, receiver, uniq):
    secret = callback_key(server, server.live_key)
    batch = f"cb-batch {uniq}"
    client.create_batch(project=project, batch_name=batch, callback=receiver.url("/batch"))
    first = make_task(client, project, batch=batch)
    second = make_task(client, project, batch=batch)
    client.finalize_batch(batch)
    answer(server, first.id)
    assert client.get_batch(batch).status == "in_progress"  # one task still pending: no callback
    answer(server, second.id, category="dog")
    assert client.get_batch(batch).status == "completed"
    hooks = receiver.wait_for(lambda r: r.path == "/batch" and r.body["batch"]["name"] == batch)
    assert len(hooks) == 1
    body = hooks[0].body
    assert set(body) == {"batch"}
    assert body["batch"]["status"] == "completed"
    assert body["batch"]["project"] == project
    assert hooks[0].headers["scale-callback-auth"] == secret
    verify_signature(secret, hooks[0].headers, hooks[0].raw)
    assert client.batch_status(batch)["completed"] == 2


def test_batch_callback_waits_for_finalize(server, client, project, receiver, uniq):
    batch = f"cb-late {uniq}"
    client.create_batch(project=project, batch_name=batch, callback=receiver.url("/late"))
    task = make_task(client, project, batch=batch)
    answer(server, task.id)
    assert client.get_batch(batch).status == "in_progress"  # not finalized: more tasks may come
    assert client.finalize_batch(batch).status == "completed"
    hooks = receiver.wait_for(lambda r: r.path == "/late")
    assert len(hooks) == 1 and hooks[0].body["batch"]["name"] == batch and hooks[0].body["batch"]["status"] == "completed"


# --------------------------------------------------------------------------- crash

def test_pending_callbacks_survive_sigkill_and_arrive_exactly_once(server_factory, receiver):
    # a long retry window, so no callback is given up while the server is down
    srv = server_factory(ASSAY_CALLBACK_RETRY_WINDOW_SECONDS="20", ASSAY_CALLBACK_MAX_ATTEMPTS="20")
    client = srv.client()
    client.create_project(project_name="crash", task_type=TaskType.Categorization, params={"instruction": "Pick."})
    receiver.status = 503
    tasks = [{"attachment": f"text {i}", "attachment_type": "text", "categories": ["cat", "dog"], "callback_url": receiver.url("/crash")} for i in range(20)]
    r = local_http.post(f"{srv.url}/api/tasks/bulk", json={"type": "categorization", "project": "crash", "tasks": tasks}, auth=(srv.live_key, ""), timeout=30)
    assert r.status_code == 200, r.text
    task_ids = r.json()["task_ids"]
    assert len(task_ids) == 20
    for task_id in task_ids:
        answer(srv, task_id)
    assert wait_until(lambda: receiver.failed_attempts >= 20, timeout=30)
    pending = query(srv, "SELECT count(*) FROM outbox WHERE kind = 'task_callback' AND status = 'pending'")
    assert pending == [(20,)]
    assert receiver.received == []

    srv.kill()
    receiver.status = 200
    srv.port = 0
    srv.start()
    client = srv.client()

    def all_arrived():
        with receiver.lock:
            return {r.body["task_id"] for r in receiver.received} >= set(task_ids)

    assert wait_until(all_arrived, timeout=60)
    assert wait_until(lambda: all(t.as_dict().get("callback_succeeded") is True for t in client.get_tasks(project_name="crash")), timeout=30)
    with receiver.lock:
        counts = Counter(r.body["task_id"] for r in receiver.received)
    assert set(counts) == set(task_ids)
    assert all(n == 1 for n in counts.values()), {k: n for k, n in counts.items() if n != 1}
    assert query(srv, "SELECT status, count(*) FROM outbox WHERE kind = 'task_callback' GROUP BY status") == [("delivered", 20)]

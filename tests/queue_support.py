"""Shared by tests/test_queue_concurrency.py and bench/assignment_queue.py: annotators that sign in
the way the browser does (session cookie + CSRF header), project setup through the admin
API, and the assignment invariants checked straight from the server's database."""

from __future__ import annotations

import re
import socket
import uuid
from dataclasses import dataclass

import httpx
import orjson

from tests import local_http
from tests.db_access import query
from tests.support import Server

PASSWORD = "correct horse battery"
CATEGORIES = ["positive", "negative", "neutral"]
_CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class Admin:
    """The organization's admin, through the native API with the server's live key."""

    def __init__(self, server: Server):
        self.server = server
        self.http = local_http.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.live_key}"}, timeout=120)

    def _ok(self, r: httpx.Response, *codes: int) -> dict:
        assert r.status_code in (codes or (200,)), f"{r.request.method} {r.request.url}: {r.status_code} {r.text[:500]}"
        return r.json()

    def project(self, name: str, labels_per_task: int) -> str:
        """A categorization project; returns its id (for /api/projects/{id}/...)."""
        self._ok(self.http.post("/v1/projects", json={"type": "categorization", "name": name, "params": {"instruction": "Pick one."}}))
        pid = self._ok(self.http.get(f"/v1/projects/{name}"))["id"]
        self._ok(self.http.patch(f"/api/projects/{pid}", json={"labels_per_task": labels_per_task}))
        return pid

    def annotator(self, project_id: str, prefix: str = "annotator") -> str:
        """A new annotator, member of the project; returns the e-mail."""
        email = f"{prefix}-{uuid.uuid4().hex[:8]}@example.com"
        self._ok(self.http.post("/api/users", json={"email": email, "role": "annotator", "password": PASSWORD}), 201)
        self._ok(self.http.post(f"/api/projects/{project_id}/members", json={"email": email}))
        return email

    def batch(self, project: str, name: str, callback: str | None = None) -> None:
        body = {"project": project, "name": name, **({"callback": callback} if callback else {})}
        self._ok(self.http.post("/v1/batches", json=body))

    def finalize(self, batch: str) -> None:
        self._ok(self.http.post(f"/v1/batches/{batch}/finalize"))

    def bulk(self, project: str, n: int, *, batch: str | None = None, callback_url: str | None = None, chunk: int = 10_000) -> list[str]:
        """Import n categorization tasks with POST /api/tasks/bulk; returns their ids."""
        ids: list[str] = []
        for start in range(0, n, chunk):
            tasks = []
            for i in range(start, min(n, start + chunk)):
                task = {"attachment": f"item {i}: the quick brown fox jumps over the lazy dog", "attachment_type": "text",
                        "categories": CATEGORIES, "metadata": {"i": i}}
                if callback_url:
                    task["callback_url"] = callback_url
                tasks.append(task)
            body = {"type": "categorization", "project": project, "tasks": tasks, **({"batch": batch} if batch else {})}
            r = self.http.post("/api/tasks/bulk", content=orjson.dumps(body), headers={"content-type": "application/json"})
            ids += self._ok(r)["task_ids"]
        return ids

    def close(self) -> None:
        self.http.close()


@dataclass
class Reply:
    status: int
    body: dict


class Annotator:
    """One person at the labeling page: a browser session (cookie + X-CSRF-Token)."""

    def __init__(self, url: str, email: str, password: str = PASSWORD, timeout: float = 60):
        self.email = email
        # TCP_NODELAY as browsers do: httpx writes headers and body in two sends, and with
        # Nagle the body can wait for a delayed ACK (~40 ms on Linux)
        transport = httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
        self.http = local_http.Client(base_url=url, timeout=timeout, follow_redirects=False, transport=transport)
        page = self.http.get("/login")
        assert page.status_code == 200, page.text[:300]
        form = {"email": email, "password": password, "csrf_token": _CSRF_INPUT.search(page.text).group(1), "next": "/"}
        r = self.http.post("/login", data=form)
        assert r.status_code == 303 and "assay_session" in self.http.cookies, f"login of {email} failed: {r.status_code} {r.text[:300]}"
        home = self.http.get("/")
        assert home.status_code == 200, home.text[:300]
        self.http.headers["X-CSRF-Token"] = _CSRF_META.search(home.text).group(1)

    def _post(self, path: str, body: dict | None = None) -> Reply:
        r = self.http.post(path, content=orjson.dumps(body) if body is not None else b"", headers={"content-type": "application/json"})
        try:
            data = r.json()
        except ValueError:
            data = {"raw": r.text[:500]}
        return Reply(r.status_code, data)

    def next(self, project_id: str, holding: list[str] = ()) -> Reply:
        return self._post(f"/api/projects/{project_id}/next", {"holding": list(holding)})

    def submit(self, assignment_id: str, category: str, active_seconds: float = 1.5) -> Reply:
        return self._post(f"/api/assignments/{assignment_id}/submit", {"response": {"category": category}, "active_seconds": active_seconds})

    def skip(self, assignment_id: str, reason: str = "not sure") -> Reply:
        return self._post(f"/api/assignments/{assignment_id}/skip", {"reason": reason})

    def heartbeat(self, assignment_id: str) -> Reply:
        return self._post(f"/api/assignments/{assignment_id}/heartbeat")

    def close(self) -> None:
        self.http.close()


# ----------------------------------------------------------------------------- invariants

def _project_pk(server: Server, project_id: str) -> int:
    rows = query(server, "SELECT id FROM projects WHERE public_id = ?", (project_id,))
    assert len(rows) == 1, rows
    return rows[0][0]


def queue_violations(server: Server, project_id: str) -> dict[str, list]:
    """Every breach of the assignment invariants in one project, read from the database
    (empty lists when all hold). Holds at any moment, finished or not:
      over_answered: tasks with more active human answers than required_labels;
      answered_twice: (task, user) pairs with more than one active human answer (a labeler
        going back replaces theirs: the old version stays, inactive);
      over_assigned: tasks whose live leases + active answers exceed required_labels;
      slot_accounting: pending tasks whose open_slots != required - leases - answers;
      completed_open_slots: completed tasks with open_slots != 0;
      completed_short: completed tasks without exactly required_labels active answers;
      completed_leased: live leases on completed tasks;
      submitted_without_answer: submitted label assignments whose answer is not the
        labeler's active answer of that task."""
    pk = _project_pk(server, project_id)
    p = (pk,)
    answers = ("SELECT a.task_id, COUNT(*) AS n FROM task_answers a JOIN tasks t ON t.id = a.task_id "
               "WHERE t.project_id = ? AND a.source = 'human' AND a.active = {true} GROUP BY a.task_id")
    true = "true" if server.database_url else "1"
    answers = answers.format(true=true)
    leases = ("SELECT s.task_id, COUNT(*) AS n FROM assignments s WHERE s.project_id = ? AND s.kind = 'label' "
              "AND s.status = 'leased' GROUP BY s.task_id")
    per_task = (f"SELECT t.public_id, t.status, t.required_labels, t.open_slots, COALESCE(an.n, 0), COALESCE(le.n, 0) FROM tasks t "
                f"LEFT JOIN ({answers}) an ON an.task_id = t.id LEFT JOIN ({leases}) le ON le.task_id = t.id WHERE t.project_id = ?")
    rows = query(server, per_task, (pk, pk, pk))
    out: dict[str, list] = {
        "over_answered": [r for r in rows if r[4] > r[2]],
        "over_assigned": [r for r in rows if r[4] + r[5] > r[2]],
        "slot_accounting": [r for r in rows if r[1] == "pending" and r[3] != r[2] - r[4] - r[5]],
        "completed_open_slots": [r for r in rows if r[1] == "completed" and r[3] != 0],
        "completed_short": [r for r in rows if r[1] == "completed" and r[4] != r[2]],
        "completed_leased": [r for r in rows if r[1] == "completed" and r[5] != 0],
    }
    out["answered_twice"] = query(server, (
        "SELECT a.task_id, a.user_id, COUNT(*) FROM task_answers a JOIN tasks t ON t.id = a.task_id "
        f"WHERE t.project_id = ? AND a.source = 'human' AND a.active = {true} GROUP BY a.task_id, a.user_id HAVING COUNT(*) > 1"), p)
    out["submitted_without_answer"] = query(server, (
        "SELECT s.public_id FROM assignments s LEFT JOIN task_answers a ON a.id = s.answer_id "
        "WHERE s.project_id = ? AND s.kind = 'label' AND s.status = 'submitted' "
        f"AND (a.id IS NULL OR a.task_id != s.task_id OR a.user_id != s.user_id OR a.active != {true})"), p)
    return out


def double_assignments(violations: dict[str, list]) -> int:
    """Slots given twice: answers beyond required, a person answering a task twice,
    leases + answers beyond required."""
    return len(violations["over_answered"]) + len(violations["answered_twice"]) + len(violations["over_assigned"])


def status_counts(server: Server, project_id: str) -> dict[str, int]:
    pk = _project_pk(server, project_id)
    return dict(query(server, "SELECT status, COUNT(*) FROM tasks WHERE project_id = ? GROUP BY status", (pk,)))

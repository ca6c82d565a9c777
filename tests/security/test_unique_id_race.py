"""Concurrent creates with one unique_id: exactly one wins, every loser gets 409 naming
the winner (medium-low finding: PostgreSQL answered 500 to 51 of 150 losers)."""

from __future__ import annotations

import threading
import uuid

import httpx

from tests import local_http
from tests.security.hostile import Tenant

RACERS = 60


def _race(server, tenant: Tenant, path: str, body_for) -> list[httpx.Response]:
    barrier = threading.Barrier(RACERS)
    results: list[httpx.Response] = [None] * RACERS  # type: ignore[list-item]

    def run(i: int) -> None:
        with local_http.Client(base_url=server.url, auth=(tenant.key, ""), timeout=60) as http:
            barrier.wait()
            results[i] = http.post(path, json=body_for(i))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_single_creates_with_one_unique_id(server):
    tenant = Tenant.new(server, "race")
    project = tenant.project()
    uid = f"dup-{uuid.uuid4().hex[:8]}"
    results = _race(server, tenant, "/v1/task/categorization",
                    lambda i: {"project": project, "attachment": f"text {i}", "attachment_type": "text", "categories": ["a", "b"], "unique_id": uid})
    codes = sorted(r.status_code for r in results)
    assert codes.count(200) == 1 and codes.count(409) == RACERS - 1, codes
    winner = next(r.json()["task_id"] for r in results if r.status_code == 200)
    for r in results:
        if r.status_code == 409:
            assert r.json()["field"] == "unique_id" and r.json()["task_id"] == winner, r.text


def test_bulk_creates_with_one_unique_id(server):
    tenant = Tenant.new(server, "race")
    project = tenant.project()
    uid = f"dup-{uuid.uuid4().hex[:8]}"

    def body(i: int) -> dict:
        return {"type": "categorization", "project": project,
                "tasks": [{"attachment": f"text {i}", "attachment_type": "text", "categories": ["a", "b"], "unique_id": f"own-{uid}-{i}"},
                          {"attachment": "shared", "attachment_type": "text", "categories": ["a", "b"], "unique_id": uid}]}

    results = _race(server, tenant, "/api/tasks/bulk", body)
    codes = sorted(r.status_code for r in results)
    assert codes.count(200) == 1 and codes.count(409) == RACERS - 1, codes
    for r in results:
        if r.status_code == 409:
            assert r.json()["field"] == "tasks[1].unique_id", r.text
    listed = tenant.http().get("/v1/tasks", params={"project": project}).json()
    assert listed["total"] == 2  # the winner's two tasks, nothing of the losers

"""Test keys see test data only, on every endpoint (medium finding: a test key read live
data through GET /api/tasks/{id}, the export with status=all, and label errors).

One test walks every route of the OpenAPI schema with a test key, its path parameters
filled with the ids of real live objects, and checks that no answer carries live data
and that no live object changed."""

from __future__ import annotations

import re
import uuid

import pytest

from tests import local_http
from tests.security.hostile import Tenant

SECRET = "LIVE-SECRET"


@pytest.fixture()
def live_world(server):
    """An organization with live work: tasks whose content and metadata carry SECRET,
    one answered and completed, one leased, a gold item, a batch."""
    tenant = Tenant.new(server, "keys")
    http = tenant.http()
    project = tenant.project(instruction="Label it.")
    pid = tenant.project_id(project)
    batch = f"b {uuid.uuid4().hex[:6]}"
    assert http.post("/v1/batches", json={"project": project, "name": batch}).status_code == 200
    tasks = []
    for i in range(3):
        r = http.post("/v1/task/categorization", json={"project": project, "batch": batch, "attachment": f"{SECRET} text {i}",
                                                       "attachment_type": "text", "categories": ["a", "b"],
                                                       "metadata": {"secret": SECRET}, "unique_id": f"{SECRET}-{i}"})
        assert r.status_code == 200, r.text
        tasks.append(r.json()["task_id"])
    assert http.post(f"/api/tasks/{tasks[0]}/answers", json={"response": {"category": "a"}}).status_code == 200
    leased = http.post(f"/api/projects/{pid}/next", json={}).json()
    r = http.post("/v1/evaluation_tasks/categorization", json={"project": project, "attachment": f"{SECRET} gold", "attachment_type": "text",
                                                               "categories": ["a", "b"], "expected_response": {"category": "a"}})
    assert r.status_code == 200, r.text
    users = http.get("/api/users").json()["users"]
    export = http.post(f"/api/projects/{pid}/exports", json={"status": "all"})  # a live export job and its file
    assert export.status_code == 202, export.text
    chat = f"chat {uuid.uuid4().hex[:6]}"
    assert http.post("/v1/projects", json={"name": chat, "type": "chat", "params": {}}).status_code == 200
    r = http.post(f"/api/projects/{tenant.project_id(chat)}/evaluations",
                  json={"name": SECRET, "items": [{"prompt": SECRET}], "judge": False, "people": True,
                        "models": [{"name": "m", "url": "https://models.example.com/v1", "model_name": "m"}]})
    assert r.status_code == 200, r.text
    return {"tenant": tenant, "project": project, "project_id": pid, "batch": batch, "tasks": tasks,
            "assignment_id": leased["assignment"]["id"], "user_id": users[0]["id"], "export_id": export.json()["id"],
            "run_id": r.json()["id"]}


def _fill(path: str, world: dict) -> str | None:
    values = {"task_id": world["tasks"][0], "project_id": world["project_id"], "assignment_id": world["assignment_id"],
              "user_id": str(world["user_id"]), "task_type": "categorization", "export_id": world["export_id"],
              "run_id": world["run_id"]}
    if path.startswith("/v1/batches/"):
        values["name"] = world["batch"]
    elif path.startswith("/v1/projects/"):
        values["name"] = world["project"]
    else:
        values["name"] = "skill"
    if "{org_id}" in path:
        return None  # signed file links need no key at all
    # any other parameter (a skill's name, a rate's id): a plausible value
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "1"), path)


def _live_state(tenant: Tenant, tasks: list[str]) -> list:
    http = tenant.http()
    return [{k: v for k, v in http.get(f"/v1/task/{t}").json().items() if k != "updated_at"} for t in tasks]


def test_a_test_key_sees_no_live_data_on_any_route(server, live_world):
    tenant = live_world["tenant"]
    before = _live_state(tenant, live_world["tasks"])
    schema = local_http.get(f"{server.url}/api/openapi.json").json()
    test_http = tenant.http(test=True)
    walked = 0
    for template, methods in schema["paths"].items():
        path = _fill(template, live_world)
        if path is None:
            continue
        for method in methods:
            body = {} if method in ("post", "put", "patch") else None
            for query in ({}, {"status": "all"}, {"include_attachment_url": "true", "project": live_world["project"]}):
                if method != "get" and query:
                    continue
                r = test_http.request(method.upper(), path, params=query, json=body)
                walked += 1
                assert r.status_code < 500, f"{method.upper()} {path}: {r.status_code} {r.text[:300]}"
                # an id the caller sent may be echoed in a 404; any other live id or content is a leak
                live = [SECRET, *live_world["tasks"], live_world["assignment_id"], live_world["export_id"], live_world["run_id"]]
                leaked = [s for s in live if s in r.text and s not in path]
                assert not leaked, f"{method.upper()} {path} {query} with a test key answered live data {leaked}: {r.text[:300]}"
    assert walked > 60
    assert _live_state(tenant, live_world["tasks"]) == before


def test_test_keys_still_work_on_test_data(server, live_world):
    tenant = live_world["tenant"]
    test_http = tenant.http(test=True)
    r = test_http.post("/v1/task/categorization", json={"project": live_world["project"], "attachment": "test words",
                                                        "attachment_type": "text", "categories": ["a", "b"]})
    assert r.status_code == 200 and r.json()["status"] == "completed"  # test mode completes at once
    task_id = r.json()["task_id"]
    detail = test_http.get(f"/api/tasks/{task_id}")
    assert detail.status_code == 200 and detail.json()["task_id"] == task_id
    exported = test_http.get(f"/api/projects/{live_world['project_id']}/export", params={"status": "all"})
    assert exported.status_code == 200
    assert [line for line in exported.text.splitlines() if line] and task_id in exported.text and SECRET not in exported.text
    # and a live key sees none of it
    assert tenant.http().get(f"/api/tasks/{task_id}").status_code == 404

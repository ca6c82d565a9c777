"""Authentication (Basic and Bearer on every kind of route, unknown and revoked keys,
keys stored hashed), organization isolation, test/live separation, and the
`api_instance_url` / name-encoding tolerances of spec §1.1, §1.6 and §10.7."""

from __future__ import annotations

import base64
import hashlib
import io
from urllib.parse import quote

import httpx
import pytest
import scaleapi
from scaleapi.exceptions import ScaleDuplicateResource, ScaleInvalidRequest, ScaleResourceNotFound, ScaleUnauthorized
from scaleapi.tasks import TaskType

from tests import local_http
from tests.db_access import query
from tests.support import wait_until


def make_task(client, project: str, **kw):
    return client.create_task(
        TaskType.Categorization, project=project, attachment="a short text", attachment_type="text", categories=["cat", "dog"], **kw
    )


def basic(key: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def assert_401(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["status_code"] == 401
    assert isinstance(body["error"], str) and body["error"]


def me(server, key: str) -> httpx.Response:
    return local_http.get(f"{server.url}/api/me", headers=bearer(key), timeout=10)


@pytest.fixture(scope="module")
def other_org(server):
    """(org name, live key) of a second organization."""
    import uuid

    name = f"other-{uuid.uuid4().hex[:8]}"
    return name, server.new_key(name)


# --------------------------------------------------------------------------- auth schemes

@pytest.mark.parametrize("scheme", ["basic", "bearer"])
def test_both_auth_schemes_work_on_every_route_kind(server, client, uniq, scheme):
    auth = basic(server.live_key) if scheme == "basic" else bearer(server.live_key)
    base = server.url
    project = f"auth {scheme} {uniq}"

    # v1 JSON create, refused without a key: nothing is created
    body = {"type": "categorization", "name": project, "params": {"instruction": "Pick."}, "rapid": False, "studio": False, "datasetId": None}
    assert_401(local_http.post(f"{base}/v1/projects", json=body))
    assert_401(local_http.post(f"{base}/v1/projects", json=body, headers=bearer("live_" + "0" * 32)))
    with pytest.raises(ScaleResourceNotFound):
        client.get_project(project)
    r = local_http.post(f"{base}/v1/projects", json=body, headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["name"] == project

    # v1 GET list, GET by (encoded) name
    assert_401(local_http.get(f"{base}/v1/projects"))
    r = local_http.get(f"{base}/v1/projects", headers=auth)
    assert r.status_code == 200 and project in [p["name"] for p in r.json()]
    path_name = f"{base}/v1/projects/{quote(project, safe='')}"
    assert_401(local_http.get(path_name))
    r = local_http.get(path_name, headers=auth)
    assert r.status_code == 200 and r.json()["name"] == project

    # v1 task create and get
    task_body = {"project": project, "attachment": "hi", "attachment_type": "text", "categories": ["cat", "dog"]}
    assert_401(local_http.post(f"{base}/v1/task/categorization", json=task_body))
    r = local_http.post(f"{base}/v1/task/categorization", json=task_body, headers=auth)
    assert r.status_code == 200, r.text
    task_id = r.json()["task_id"]
    assert_401(local_http.get(f"{base}/v1/task/{task_id}"))
    r = local_http.get(f"{base}/v1/task/{task_id}", headers=auth)
    assert r.status_code == 200 and r.json()["task_id"] == task_id

    # v1 list with query string
    r = local_http.get(f"{base}/v1/tasks", params={"project": project}, headers=auth)
    assert r.status_code == 200 and [d["task_id"] for d in r.json()["docs"]] == [task_id]

    # multipart upload
    assert_401(local_http.post(f"{base}/v1/files/upload", files={"file": ("a.txt", b"abc")}))
    r = local_http.post(f"{base}/v1/files/upload", files={"file": ("a.txt", b"abc")}, headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["size"] == 3

    # native endpoints
    assert_401(local_http.get(f"{base}/api/me"))
    r = local_http.get(f"{base}/api/me", headers=auth)
    assert r.status_code == 200 and r.json()["test_mode"] is False
    assert_401(local_http.post(f"{base}/api/tasks/bulk", json={"type": "categorization", "project": project, "tasks": [task_body]}))
    assert_401(local_http.post(f"{base}/api/tasks/{task_id}/answers", json={"response": {"category": "cat"}}))
    assert client.get_task(task_id).status == "pending"  # the refused answer changed nothing
    r = local_http.post(f"{base}/api/tasks/bulk", json={"type": "categorization", "project": project, "tasks": [task_body]}, headers=auth)
    assert r.status_code == 200 and r.json()["created"] == 1
    r = local_http.post(f"{base}/api/tasks/{task_id}/answers", json={"response": {"category": "cat"}}, headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "completed"
    assert client.get_tasks_count(project_name=project) == 2


def test_missing_and_malformed_authorization_is_401_json(server):
    for headers in ({}, {"Authorization": ""}, {"Authorization": "Bearer"}, {"Authorization": "Basic !!!not-base64"},
                    {"Authorization": "Digest abc"}, {"Authorization": "Basic " + base64.b64encode(b":").decode()}):
        assert_401(local_http.get(f"{server.url}/v1/projects", headers=headers))
        assert_401(local_http.get(f"{server.url}/v1/tasks", headers=headers))


def test_unknown_key_raises_scale_unauthorized(server):
    for key in ("live_bogus", "test_bogus", server.live_key + "0", server.live_key[:-1]):
        bogus = scaleapi.ScaleClient(key, api_instance_url=f"{server.url}/v1")
        with pytest.raises(ScaleUnauthorized):
            bogus.batches(limit=1)
        with pytest.raises(ScaleUnauthorized):
            bogus.get_projects()
    assert_401(local_http.get(f"{server.url}/v1/batches", headers=bearer("live_bogus")))


def test_revoked_key_stops_working(server, uniq):
    org = f"rev-{uniq}"
    key = server.new_key(org)
    keeper = server.new_key(org)
    doomed = server.client(key)
    assert doomed.get_projects() == []  # works, and is now in the server's key cache
    assert me(server, key).status_code == 200
    server.cli("keys", "revoke", key[:12], "--org", org)
    # the server caches keys for up to ASSAY_AUTH_CACHE_SECONDS (1 s in the suite)
    assert wait_until(lambda: me(server, key).status_code == 401, timeout=15)
    assert_401(me(server, key))
    assert_401(local_http.get(f"{server.url}/v1/projects", headers=basic(key)))
    with pytest.raises(ScaleUnauthorized):
        doomed.get_projects()
    # only that key: the other key of the organization still works
    assert me(server, keeper).status_code == 200
    assert server.client(keeper).get_projects() == []
    rows = query(server, "SELECT revoked_at FROM api_keys WHERE key_hash = ?", (hashlib.sha256(key.encode()).hexdigest(),))
    assert len(rows) == 1 and rows[0][0] is not None


def test_keys_are_stored_hashed(server, other_org):
    rows = query(server, "SELECT * FROM api_keys")
    for secret in (other_org[1], server.live_key, server.test_key):
        assert not any(secret in str(value) for row in rows for value in row), "a raw API key is stored"
        assert not any(secret[12:] in str(value) for row in rows for value in row), "the secret part of a key is stored"
        digest = hashlib.sha256(secret.encode()).hexdigest()
        found = query(server, "SELECT prefix, is_test FROM api_keys WHERE key_hash = ?", (digest,))
        assert len(found) == 1
        assert found[0][0] == secret[:12]
        assert bool(found[0][1]) is secret.startswith("test_")


# --------------------------------------------------------------------------- organizations

@pytest.fixture()
def first_org(client, uniq, receiver):
    """Objects of the admin organization that the other organization must not reach."""
    project = f"iso {uniq}"
    batch = f"iso-b {uniq}"
    client.create_project(project_name=project, task_type=TaskType.Categorization, params={"instruction": "Pick."})
    client.create_batch(project=project, batch_name=batch, callback=receiver.url("/batch"), metadata={"k": "v"})
    upload = client.upload_file(io.BytesIO(b"first org bytes"), project_name=project)
    task = make_task(client, project, batch=batch, unique_id=f"iso-uid-{uniq}", metadata={"m": 1}, callback_url=receiver.url("/task"))
    return {"project": project, "batch": batch, "task_id": task.id, "unique_id": f"iso-uid-{uniq}", "file": upload.attachment_url}


def assert_first_org_unchanged(client, objs):
    task = client.get_task(objs["task_id"]).as_dict()
    assert task["status"] == "pending"
    assert task["metadata"] == {"m": 1}
    assert task["unique_id"] == objs["unique_id"]
    assert "tags" not in task or task["tags"] in (None, [])
    assert task.get("audits", []) == []
    batch = client.get_batch(objs["batch"]).as_dict()
    assert batch["status"] == "in_progress" and "finalized_at" not in batch
    assert batch["metadata"] == {"k": "v"}
    project = client.get_project(objs["project"]).as_dict()
    assert len(project["param_history"]) == 1
    assert client.get_tasks_count(project_name=objs["project"]) == 1


def test_other_org_cannot_touch_tasks(server, client, other_org, first_org):
    other = server.client(other_org[1])
    tid = first_org["task_id"]
    for call in (
        lambda: other.get_task(tid),
        lambda: other.cancel_task(tid),
        lambda: other.cancel_task(tid, clear_unique_id=True),
        lambda: other.set_task_metadata(tid, {"stolen": True}),
        lambda: other.set_task_tags(tid, ["x"]),
        lambda: other.add_task_tags(tid, ["x"]),
        lambda: other.delete_task_tags(tid, ["x"]),
        lambda: other.audit_task(tid, True),
        lambda: other.update_task_unique_id(tid, "stolen-uid"),
        lambda: other.clear_task_unique_id(tid),
    ):
        with pytest.raises(ScaleResourceNotFound):
            call()
    # the native answer endpoint cannot complete it either
    r = local_http.post(f"{server.url}/api/tasks/{tid}/answers", json={"response": {"category": "cat"}}, headers=bearer(other_org[1]))
    assert r.status_code == 404, r.text
    # not visible in lists, not even by unique_id
    assert other.tasks(unique_id=first_org["unique_id"]).total == 0
    assert tid not in [t.id for t in other.tasks().docs]
    r = local_http.get(f"{server.url}/v1/tasks", params={"unique_id": first_org["unique_id"]}, headers=bearer(other_org[1]))
    assert r.status_code == 200 and r.json()["docs"] == [] and r.json()["total"] == 0
    with pytest.raises(ScaleResourceNotFound):
        other.tasks(project=first_org["project"])
    with pytest.raises(ScaleResourceNotFound):
        other.tasks(batch=first_org["batch"])
    assert_first_org_unchanged(client, first_org)


def test_other_org_cannot_use_projects_and_batches(server, client, other_org, first_org):
    other = server.client(other_org[1])
    project, batch = first_org["project"], first_org["batch"]
    with pytest.raises(ScaleResourceNotFound):
        other.get_project(project)
    with pytest.raises(ScaleResourceNotFound):
        other.update_project(project, patch=True, instruction="stolen")
    with pytest.raises(ScaleInvalidRequest) as exc:
        make_task(other, project)
    assert "project" in exc.value.message
    with pytest.raises(ScaleInvalidRequest) as exc:
        other.create_task(TaskType.Categorization, batch=batch, attachment="x", attachment_type="text", categories=["a", "b"])
    assert "batch" in exc.value.message
    with pytest.raises(ScaleResourceNotFound):
        other.create_batch(project=project, batch_name="sneaky batch")
    for call in (
        lambda: other.get_batch(batch),
        lambda: other.finalize_batch(batch),
        lambda: other.batch_status(batch),
        lambda: other.set_batch_metadata(batch, {"stolen": True}),
    ):
        with pytest.raises(ScaleResourceNotFound):
            call()
    with pytest.raises(ScaleResourceNotFound):
        list(other.get_batches(project_name=project))
    assert project not in [p.name for p in other.get_projects()]
    r = local_http.get(f"{server.url}/v1/batches", params={"limit": 100}, headers=bearer(other_org[1]))
    assert r.status_code == 200 and batch not in [b["name"] for b in r.json()["docs"]]
    assert batch not in [b.name for b in other.get_batches()]
    assert_first_org_unchanged(client, first_org)


def test_other_org_cannot_attach_first_orgs_files(server, client, other_org, first_org, uniq):
    other = server.client(other_org[1])
    own = f"own {uniq}"
    other.create_project(project_name=own, task_type=TaskType.Categorization, params={"instruction": "Pick."})
    with pytest.raises(ScaleInvalidRequest) as exc:
        other.create_task(TaskType.Categorization, project=own, attachment=first_org["file"], attachment_type="image", categories=["a", "b"])
    assert "attachment" in exc.value.message
    assert other.get_tasks_count(project_name=own) == 0
    # the owner can use it
    task = client.create_task(
        TaskType.Categorization, project=first_org["project"], attachment=first_org["file"], attachment_type="image", categories=["a", "b"]
    )
    assert task.params["attachment"] == first_org["file"]


def test_same_names_in_two_orgs_do_not_conflict(server, client, other_org, first_org):
    other = server.client(other_org[1])
    project = other.create_project(project_name=first_org["project"], task_type=TaskType.Categorization, params={"instruction": "Other."})
    assert project.name == first_org["project"]
    batch = other.create_batch(project=first_org["project"], batch_name=first_org["batch"])
    assert batch.name == first_org["batch"]
    task = make_task(other, first_org["project"], batch=first_org["batch"], unique_id=first_org["unique_id"])
    assert task.unique_id == first_org["unique_id"]
    # the names are still unique inside one organization
    with pytest.raises(ScaleDuplicateResource):
        other.create_batch(project=first_org["project"], batch_name=first_org["batch"])
    with pytest.raises(ScaleDuplicateResource):
        client.create_batch(project=first_org["project"], batch_name=first_org["batch"])
    # each sees its own objects under the shared names
    assert [t.id for t in other.get_tasks(project_name=first_org["project"])] == [task.id]
    assert [t.id for t in client.get_tasks(project_name=first_org["project"])] == [first_org["task_id"]]
    assert other.get_project(first_org["project"]).as_dict()["param_history"][-1]["instruction"] == "Other."
    other.finalize_batch(first_org["batch"])
    assert_first_org_unchanged(client, first_org)


# --------------------------------------------------------------------------- test vs live

def test_test_and_live_keys_do_not_see_each_others_tasks(server, client, test_client, project, uniq):
    live = make_task(client, project, unique_id=f"mode-{uniq}")
    test = make_task(test_client, project, unique_id=f"mode-{uniq}")  # same unique_id: separate data
    assert live.status == "pending" and live.as_dict()["is_test"] is False
    assert test.status == "completed" and test.as_dict()["is_test"] is True
    with pytest.raises(ScaleResourceNotFound):
        test_client.get_task(live.id)
    with pytest.raises(ScaleResourceNotFound):
        client.get_task(test.id)
    with pytest.raises(ScaleResourceNotFound):
        test_client.cancel_task(live.id)
    with pytest.raises(ScaleResourceNotFound):
        client.set_task_metadata(test.id, {"x": 1})
    assert [t.id for t in client.get_tasks(project_name=project)] == [live.id]
    assert [t.id for t in test_client.get_tasks(project_name=project)] == [test.id]
    assert [t.id for t in client.tasks(unique_id=f"mode-{uniq}").docs] == [live.id]
    assert [t.id for t in test_client.tasks(unique_id=f"mode-{uniq}").docs] == [test.id]
    with pytest.raises(ScaleDuplicateResource):
        make_task(test_client, project, unique_id=f"mode-{uniq}")
    assert client.get_task(live.id).status == "pending"


# --------------------------------------------------------------------------- path tolerance

@pytest.mark.parametrize("suffix", ["", "/", "/v1/"])
def test_api_instance_url_variants(server, client, uniq, suffix):
    """The client joins base + '/' + endpoint: no /v1 gives /task/..., a trailing slash gives //."""
    odd = scaleapi.ScaleClient(server.live_key, api_instance_url=server.url + suffix)
    project = f"url {uniq}"
    batch = f"url-b {uniq}"
    odd.create_project(project_name=project, task_type=TaskType.Categorization, params={"instruction": "Pick."})
    assert odd.get_project(project).name == project
    odd.create_batch(project=project, batch_name=batch)
    task = make_task(odd, project, batch=batch, unique_id=f"url-{uniq}", metadata={"a": 1})
    assert odd.get_task(task.id).id == task.id
    assert client.get_task(task.id).metadata == {"a": 1}  # the normal client sees the same task
    assert [t.id for t in odd.get_tasks(project_name=project)] == [task.id]
    assert odd.tasks(unique_id=f"url-{uniq}").docs[0].id == task.id
    assert odd.set_task_metadata(task.id, {"b": 2}).metadata == {"b": 2}
    assert odd.finalize_batch(batch).name == batch
    assert odd.batch_status(batch)["pending"] == 1
    assert batch in [b.name for b in odd.get_batches(project_name=project)]
    assert odd.cancel_task(task.id).status == "canceled"
    assert client.get_task(task.id).status == "canceled"
    with pytest.raises(ScaleResourceNotFound):
        odd.get_task("0" * 24)
    with pytest.raises(ScaleUnauthorized):
        scaleapi.ScaleClient("live_bogus", api_instance_url=server.url + suffix).batches(limit=1)


def test_names_with_slash_space_plus_round_trip(client, uniq):
    project = f"p/1 x+y %2F {uniq}"
    batch = f"b/1 c+d %20 &?#{uniq}"
    created = client.create_project(project_name=project, task_type=TaskType.Categorization, params={"instruction": "Pick."})
    assert created.name == project
    assert client.get_project(project).name == project
    updated = client.update_project(project, patch=True, instruction="New.")
    assert updated.as_dict()["param_history"][-1]["instruction"] == "New."
    assert client.create_batch(project=project, batch_name=batch).name == batch
    assert client.get_batch(batch).name == batch
    assert client.get_batch(batch).project == project
    task = make_task(client, project, batch=batch)
    assert task.as_dict()["batch"] == batch and task.as_dict()["project"] == project
    assert client.set_batch_metadata(batch, {"n": 1}).metadata == {"n": 1}
    assert client.finalize_batch(batch).name == batch
    assert client.batch_status(batch)["pending"] == 1
    assert [t.id for t in client.get_tasks(batch_name=batch)] == [task.id]
    assert [t.id for t in client.get_tasks(project_name=project)] == [task.id]
    assert [b.name for b in client.get_batches(project_name=project)] == [batch]
    assert project in [p.name for p in client.get_projects()]
    # the prefix of such a name is a different (unknown) batch, not the same one
    with pytest.raises(ScaleResourceNotFound):
        client.get_batch(batch.split("/")[0])
    with pytest.raises(ScaleResourceNotFound):
        client.get_batch(f"b%2F1 c+d %20 &?#{uniq}")

"""Mutations of existing tasks through the official client: cancel, metadata, tags,
unique_id, audit — good paths, refusals, and the object read back afterwards."""

from __future__ import annotations

import pytest
import scaleapi
from scaleapi.exceptions import ScaleDuplicateResource, ScaleInvalidRequest, ScaleResourceNotFound
from scaleapi.tasks import TaskType

from tests import local_http

UNKNOWN_ID = "0123456789abcdef01234567"


def make_task(client, project, **extra):
    params = {"attachment": "some text", "attachment_type": "text", "categories": ["cat", "dog"]}
    params.update(extra)
    return client.create_task(TaskType.Categorization, project=project, **params)


def answer(server, task_id, response, key=None):
    return local_http.post(f"{server.url}/api/tasks/{task_id}/answers", json={"response": response}, auth=(key or server.live_key, ""))


def completed_task(server, client, project, **extra):
    task = make_task(client, project, **extra)
    r = answer(server, task.id, {"category": "cat"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "completed"
    return client.get_task(task.id)


# ----------------------------------------------------------------------------- cancel

def test_cancel_pending_task(client, project):
    task = make_task(client, project)
    canceled = client.cancel_task(task.id)
    assert canceled.id == task.id
    assert canceled.status == "canceled"
    assert client.get_task(task.id).status == "canceled"


def test_cancel_twice_is_400_not_409(client, project):
    task = make_task(client, project)
    client.cancel_task(task.id)
    with pytest.raises(ScaleInvalidRequest) as exc:
        client.cancel_task(task.id)
    assert exc.value.code == 400
    assert "cancel" in exc.value.message
    assert client.get_task(task.id).status == "canceled"


def test_cancel_completed_task_is_400(server, client, project):
    task = completed_task(server, client, project)
    with pytest.raises(ScaleInvalidRequest) as exc:
        client.cancel_task(task.id)
    assert exc.value.code == 400
    after = client.get_task(task.id)
    assert after.status == "completed"
    assert after.response == {"category": "cat"}


def test_cancel_with_clear_unique_id_frees_it(client, project, uniq):
    uid = f"uid-cancel-{uniq}"
    task = make_task(client, project, unique_id=uid)
    canceled = client.cancel_task(task.id, clear_unique_id=True)
    assert canceled.status == "canceled"
    assert "unique_id" not in canceled.as_dict()
    assert "unique_id" not in client.get_task(task.id).as_dict()
    again = make_task(client, project, unique_id=uid)
    assert again.id != task.id
    assert again.unique_id == uid
    assert [t.id for t in client.get_tasks(project_name=project, unique_id=uid)] == [again.id]


def test_cancel_without_clear_keeps_unique_id_taken(client, project, uniq):
    uid = f"uid-keep-{uniq}"
    task = make_task(client, project, unique_id=uid)
    canceled = client.cancel_task(task.id)
    assert canceled.unique_id == uid
    with pytest.raises(ScaleDuplicateResource) as exc:
        make_task(client, project, unique_id=uid)
    assert task.id in exc.value.message


def test_cannot_cancel_task_with_an_answer(server, client, uniq):
    name = f"two labels {uniq}"
    client.create_project(project_name=name, task_type=TaskType.Categorization, params={"instruction": "Pick.", "labels_per_task": 2})
    task = make_task(client, name)
    r = answer(server, task.id, {"category": "dog"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "pending"
    with pytest.raises(ScaleInvalidRequest) as exc:
        client.cancel_task(task.id)
    assert exc.value.code == 400
    assert client.get_task(task.id).status == "pending"


# ----------------------------------------------------------------------------- metadata

def test_set_metadata_replaces_whole_object(client, project):
    task = make_task(client, project, metadata={"a": 1, "b": {"c": [1, 2]}})
    assert task.metadata == {"a": 1, "b": {"c": [1, 2]}}
    updated = client.set_task_metadata(task.id, {"z": "new"})
    assert updated.metadata == {"z": "new"}
    assert client.get_task(task.id).metadata == {"z": "new"}
    emptied = client.set_task_metadata(task.id, {})
    assert emptied.metadata == {}
    assert client.get_task(task.id).metadata == {}


@pytest.mark.parametrize("bad", [[1, 2], "text", 5])
def test_set_metadata_not_an_object_is_400_and_unchanged(server, client, project, bad):
    task = make_task(client, project, metadata={"keep": True})
    r = local_http.post(f"{server.url}/v1/task/{task.id}/setMetadata", json=bad, auth=(server.live_key, ""))
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["status_code"] == 400
    assert "metadata" in body["error"]
    assert client.get_task(task.id).metadata == {"keep": True}


# ----------------------------------------------------------------------------- tags

def test_set_add_delete_tags(client, project):
    task = make_task(client, project)
    assert "tags" not in task.as_dict()
    t = client.set_task_tags(task.id, ["a", "b"])
    assert t.tags == ["a", "b"]
    t = client.add_task_tags(task.id, ["b", "c"])
    assert t.tags == ["a", "b", "c"]
    t = client.delete_task_tags(task.id, ["a", "not-there"])
    assert t.tags == ["b", "c"]
    assert client.get_task(task.id).tags == ["b", "c"]
    t = client.set_task_tags(task.id, ["x"])
    assert t.tags == ["x"]
    assert client.get_task(task.id).tags == ["x"]
    t = client.set_task_tags(task.id, [])
    assert t.tags == []


def test_tags_created_with_task_then_filtered(client, project):
    task = make_task(client, project, tags=["one", "two"])
    assert task.tags == ["one", "two"]
    assert [x.id for x in client.get_tasks(project_name=project, tags=["two"])] == [task.id]


def test_set_more_than_five_tags_is_400_and_unchanged(client, project):
    task = make_task(client, project, tags=["keep"])
    with pytest.raises(ScaleInvalidRequest) as exc:
        client.set_task_tags(task.id, ["1", "2", "3", "4", "5", "6"])
    assert "tags" in exc.value.message
    assert client.get_task(task.id).tags == ["keep"]


def test_add_tags_beyond_five_is_400_and_unchanged(client, project):
    task = make_task(client, project, tags=["1", "2", "3", "4"])
    # already-present tags do not count twice
    assert client.add_task_tags(task.id, ["4", "5"]).tags == ["1", "2", "3", "4", "5"]
    with pytest.raises(ScaleInvalidRequest) as exc:
        client.add_task_tags(task.id, ["6"])
    assert "tags" in exc.value.message
    assert client.get_task(task.id).tags == ["1", "2", "3", "4", "5"]


def test_tags_body_not_a_list_is_400(server, client, project):
    task = make_task(client, project, tags=["keep"])
    for method in ("POST", "PUT", "DELETE"):
        r = local_http.request(method, f"{server.url}/v1/task/{task.id}/tags", json={"tags": ["x"]}, auth=(server.live_key, ""))
        assert r.status_code == 400, (method, r.text)
        assert "tags" in r.json()["error"]
    assert client.get_task(task.id).tags == ["keep"]


# ----------------------------------------------------------------------------- unique_id

def test_update_unique_id(client, project, uniq):
    task = make_task(client, project, unique_id=f"first-{uniq}")
    updated = client.update_task_unique_id(task.id, f"second-{uniq}")
    assert updated.unique_id == f"second-{uniq}"
    assert client.get_task(task.id).unique_id == f"second-{uniq}"
    # the old value is free again
    other = make_task(client, project, unique_id=f"first-{uniq}")
    assert other.unique_id == f"first-{uniq}"
    # setting the same value again is fine
    assert client.update_task_unique_id(task.id, f"second-{uniq}").unique_id == f"second-{uniq}"


def test_update_unique_id_taken_is_409_and_unchanged(client, project, uniq):
    a = make_task(client, project, unique_id=f"a-{uniq}")
    b = make_task(client, project, unique_id=f"b-{uniq}")
    with pytest.raises(ScaleDuplicateResource) as exc:
        client.update_task_unique_id(b.id, f"a-{uniq}")
    assert exc.value.code == 409
    assert a.id in exc.value.message
    assert client.get_task(b.id).unique_id == f"b-{uniq}"
    assert client.get_task(a.id).unique_id == f"a-{uniq}"


def test_update_unique_id_empty_is_400(client, project, uniq):
    task = make_task(client, project, unique_id=f"u-{uniq}")
    with pytest.raises(ScaleInvalidRequest) as exc:
        client.update_task_unique_id(task.id, "")
    assert "unique_id" in exc.value.message
    assert client.get_task(task.id).unique_id == f"u-{uniq}"


def test_clear_unique_id(client, project, uniq):
    uid = f"clear-{uniq}"
    task = make_task(client, project, unique_id=uid)
    cleared = client.clear_task_unique_id(task.id)
    assert "unique_id" not in cleared.as_dict()
    assert "unique_id" not in client.get_task(task.id).as_dict()
    assert client.get_tasks_count(project_name=project, unique_id=uid) == 0
    reused = make_task(client, project, unique_id=uid)
    assert reused.unique_id == uid


# ----------------------------------------------------------------------------- audit

@pytest.mark.parametrize("accepted, result", [(True, "accepted"), (False, "rejected")])
def test_audit_completed_task(server, client, project, receiver, accepted, result):
    task = completed_task(server, client, project, callback_url=receiver.url("/audit"))
    # the completion callback comes first
    assert receiver.wait_for(lambda r: r.body["task_id"] == task.id)
    client.audit_task(task.id, accepted, "looks fine" if accepted else "wrong label")
    after = client.get_task(task.id)
    assert after.customer_review_status == result
    assert len(after.audits) == 1
    audit = after.audits[0]
    assert audit["audit_result"] == result
    assert audit["audit_source"] == "customer"
    assert audit["audited_at"].endswith("Z")
    assert after.status == "completed"
    assert after.response == {"category": "cat"}
    hooks = receiver.wait_for(lambda r: r.body["task_id"] == task.id and r.body["task"].get("customer_review_status") == result)
    assert hooks, "no audit callback"
    hook = hooks[0]
    assert hook.body["response"] == {"category": "cat"}
    assert hook.body["task"]["audits"][0]["audit_result"] == result
    assert hook.headers.get("scale-callback-auth")


def test_audits_accumulate(server, client, project):
    task = completed_task(server, client, project)
    client.audit_task(task.id, False, "no")
    client.audit_task(task.id, True)
    after = client.get_task(task.id)
    assert [a["audit_result"] for a in after.audits] == ["rejected", "accepted"]
    assert after.customer_review_status == "accepted"
    assert [t.id for t in client.get_tasks(project_name=project, review_status=scaleapi.tasks.TaskReviewStatus.Accepted)] == [task.id]


def test_audit_pending_task_is_400(client, project):
    task = make_task(client, project)
    with pytest.raises(ScaleInvalidRequest) as exc:
        client.audit_task(task.id, True, "ok")
    assert exc.value.code == 400
    after = client.get_task(task.id)
    assert after.audits == []
    assert "customer_review_status" not in after.as_dict()


def test_audit_accepted_not_bool_is_400(server, client, project):
    task = completed_task(server, client, project)
    r = local_http.post(f"{server.url}/v1/task/{task.id}/audit", json={"accepted": "yes"}, auth=(server.live_key, ""))
    assert r.status_code == 400, r.text
    assert "accepted" in r.json()["error"]
    assert client.get_task(task.id).audits == []


# ----------------------------------------------------------------------------- unknown / foreign ids

def mutations(client, task_id):
    return {
        "cancel": lambda: client.cancel_task(task_id),
        "cancel_clear": lambda: client.cancel_task(task_id, clear_unique_id=True),
        "set_metadata": lambda: client.set_task_metadata(task_id, {"hacked": True}),
        "set_tags": lambda: client.set_task_tags(task_id, ["hacked"]),
        "add_tags": lambda: client.add_task_tags(task_id, ["hacked"]),
        "delete_tags": lambda: client.delete_task_tags(task_id, ["mine"]),
        "update_unique_id": lambda: client.update_task_unique_id(task_id, f"hacked-{task_id}"),
        "clear_unique_id": lambda: client.clear_task_unique_id(task_id),
        "audit": lambda: client.audit_task(task_id, False, "hacked"),
        "get": lambda: client.get_task(task_id),
    }


def test_every_mutation_on_unknown_id_is_404(client):
    for name, call in mutations(client, UNKNOWN_ID).items():
        with pytest.raises(ScaleResourceNotFound) as exc:
            call()
        assert exc.value.code == 404, name


def test_every_mutation_on_another_orgs_task_is_404_and_unchanged(server, client, project, uniq):
    other_key = server.new_key(f"other org {uniq}")
    other = server.client(other_key)
    pending = make_task(client, project, unique_id=f"mine-{uniq}", metadata={"owner": "me"}, tags=["mine"])
    done = completed_task(server, client, project, unique_id=f"done-{uniq}", metadata={"owner": "me"}, tags=["mine"])
    before = {t.id: client.get_task(t.id).as_dict() for t in (pending, done)}
    for task in (pending, done):
        for name, call in mutations(other, task.id).items():
            with pytest.raises(ScaleResourceNotFound) as exc:
                call()
            assert exc.value.code == 404, (name, task.status)
    for task_id, snapshot in before.items():
        after = client.get_task(task_id).as_dict()
        assert after == snapshot
    # and the other org cannot answer it either
    r = answer(server, pending.id, {"category": "dog"}, key=other_key)
    assert r.status_code == 404, r.text
    assert client.get_task(pending.id).status == "pending"


def test_test_key_does_not_see_live_tasks(client, test_client, project):
    task = make_task(client, project, metadata={"k": 1})
    with pytest.raises(ScaleResourceNotFound):
        test_client.get_task(task.id)
    with pytest.raises(ScaleResourceNotFound):
        test_client.set_task_metadata(task.id, {"k": 2})
    with pytest.raises(ScaleResourceNotFound):
        test_client.cancel_task(task.id)
    after = client.get_task(task.id)
    assert after.metadata == {"k": 1}
    assert after.status == "pending"

"""Scale v1 batches: create, get, finalize, status counts, completion, metadata, and the
offset-paged list with its filters. Driven with the official scaleapi client."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import httpx
import pytest
from scaleapi.batches import BatchStatus
from scaleapi.exceptions import ScaleDuplicateResource, ScaleInvalidRequest, ScaleResourceNotFound
from scaleapi.tasks import TaskType

from tests import local_http

BATCH_KEYS = {"name", "status", "project", "created_at", "metadata", "callback"}


def _raw(server, method: str, path: str, **kw) -> httpx.Response:
    return local_http.request(method, f"{server.url}{path}", auth=(server.live_key, ""), timeout=30, **kw)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _task(client, project, batch, n=0, **kw):
    return client.create_task(
        TaskType.Categorization, project=project, batch=batch, attachment=f"item {n}", attachment_type="text",
        categories=["cat", "dog"], **kw,
    )


def _answer(server, task_id: str, category: str = "cat") -> dict:
    r = _raw(server, "POST", f"/api/tasks/{task_id}/answers", json={"response": {"category": category}})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "completed"
    return r.json()


def _assert_no_batch(client, name: str) -> None:
    with pytest.raises(ScaleResourceNotFound):
        client.get_batch(name)


@pytest.fixture()
def rapid_project(client, uniq):
    name = f"rapid {uniq}"
    project = client.create_project(project_name=name, task_type=TaskType.Categorization, params={"categories": ["cat", "dog"]}, rapid=True)
    assert project.name == name
    return name


# ----------------------------------------------------------------------------- create / get


def test_create_batch_fields(client, project, uniq):
    name = f"b {uniq}"
    batch = client.create_batch(project=project, batch_name=name)
    raw = batch.as_dict()
    assert BATCH_KEYS <= set(raw)
    assert batch.name == name
    assert batch.project == project
    assert batch.status == "in_progress"  # standard project: works at once
    assert batch.metadata == {}
    assert raw["callback"] == ""
    assert datetime.fromisoformat(raw["created_at"].replace("Z", "+00:00")).tzinfo is not None
    got = client.get_batch(name)
    assert got.as_dict() == raw


def test_create_batch_with_callback_and_metadata(client, project, uniq, receiver):
    name = f"b cb {uniq}"
    batch = client.create_batch(project=project, batch_name=name, callback=receiver.url("/b"), metadata={"k": [1, {"x": "y"}]})
    assert batch.as_dict()["callback"] == receiver.url("/b")
    assert batch.metadata == {"k": [1, {"x": "y"}]}
    got = client.get_batch(name)
    assert got.as_dict()["callback"] == receiver.url("/b") and got.metadata == {"k": [1, {"x": "y"}]}


def test_rapid_batch_stages_until_finalized(client, rapid_project, uniq):
    name = f"rb {uniq}"
    batch = client.create_batch(project=rapid_project, batch_name=name)
    assert batch.status == "staging"
    assert client.get_batch(name).status == "staging"
    assert client.batch_status(name)["status"] == "staging"
    task = _task(client, rapid_project, name)
    assert task.batch == name
    finalized = client.finalize_batch(name)
    assert finalized.status == "in_progress"
    assert client.get_batch(name).status == "in_progress"
    assert client.batch_status(name) == {"status": "in_progress", "pending": 1, "completed": 0, "error": 0, "canceled": 0}
    # finalizing again is harmless
    assert client.finalize_batch(name).status == "in_progress"


def test_duplicate_batch_name_is_409_and_original_unchanged(client, project, uniq):
    name = f"dup {uniq}"
    client.create_batch(project=project, batch_name=name, metadata={"v": 1})
    before = client.get_batch(name).as_dict()
    with pytest.raises(ScaleDuplicateResource) as exc:
        client.create_batch(project=project, batch_name=name, metadata={"v": 2}, callback="http://127.0.0.1:9/x")
    assert exc.value.code == 409 and name in exc.value.message
    # names are unique per account, across projects
    other_project = f"other {uniq}"
    client.create_project(project_name=other_project, task_type=TaskType.Categorization)
    with pytest.raises(ScaleDuplicateResource):
        client.create_batch(project=other_project, batch_name=name)
    assert client.get_batch(name).as_dict() == before
    assert [b.name for b in client.get_batches(project_name=other_project)] == []


def test_unknown_project_is_404(client, uniq):
    name = f"orphan {uniq}"
    with pytest.raises(ScaleResourceNotFound) as exc:
        client.create_batch(project=f"missing {uniq}", batch_name=name)
    assert exc.value.code == 404
    _assert_no_batch(client, name)


@pytest.mark.parametrize("callback", ["ftp://x", "not a url", "http://", "/relative/path", "javascript:alert(1)"])
def test_bad_callback_is_400(client, project, uniq, callback):
    name = f"bad cb {uniq}"
    with pytest.raises(ScaleInvalidRequest) as exc:
        client.create_batch(project=project, batch_name=name, callback=callback)
    assert exc.value.code == 400
    assert "callback" in exc.value.message
    _assert_no_batch(client, name)


@pytest.mark.parametrize("metadata", [["a"], [], "text", "", 3, 0, False])
def test_non_object_metadata_is_400(server, client, project, uniq, metadata):
    name = f"bad md {uniq}"
    r = _raw(server, "POST", "/v1/batches", json={"project": project, "name": name, "callback": "", "metadata": metadata})
    assert r.status_code == 400, r.text
    assert r.json()["field"] == "metadata" and r.json()["status_code"] == 400
    _assert_no_batch(client, name)


def test_missing_name_or_project_is_400(server, client, project, uniq):
    for body, field in (
        ({"project": project}, "name"),
        ({"project": project, "name": ""}, "name"),
        ({"project": project, "name": "   "}, "name"),
        ({"project": project, "name": 7}, "name"),
        ({"name": f"np {uniq}"}, "project"),
    ):
        r = _raw(server, "POST", "/v1/batches", json=body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["field"] == field
    for body in ([], "x", None):
        r = _raw(server, "POST", "/v1/batches", json=body)
        assert r.status_code == 400, r.text
    with pytest.raises(ScaleInvalidRequest):
        client.create_batch(project=project, batch_name="")
    _assert_no_batch(client, f"np {uniq}")


def test_get_unknown_batch_is_404(client, uniq):
    with pytest.raises(ScaleResourceNotFound) as exc:
        client.get_batch(f"missing {uniq}")
    assert exc.value.code == 404
    for call in (client.finalize_batch, client.batch_status):
        with pytest.raises(ScaleResourceNotFound):
            call(f"missing {uniq}")
    with pytest.raises(ScaleResourceNotFound):
        client.set_batch_metadata(f"missing {uniq}", {"a": 1})
    _assert_no_batch(client, f"missing {uniq}")


def test_other_organization_cannot_see_batch(server, client, project, uniq):
    name = f"private {uniq}"
    client.create_batch(project=project, batch_name=name)
    other = server.client(server.new_key(f"other-{uniq}"))
    with pytest.raises(ScaleResourceNotFound):
        other.get_batch(name)
    with pytest.raises(ScaleResourceNotFound):
        other.finalize_batch(name)
    with pytest.raises(ScaleResourceNotFound):
        other.set_batch_metadata(name, {"stolen": True})
    assert name not in {b.name for b in other.batches(limit=100).docs}
    assert client.get_batch(name).metadata == {}


# ----------------------------------------------------------------------------- finalize / status / completion


def test_finalize_in_progress_batch_succeeds(client, project, uniq):
    name = f"fin {uniq}"
    client.create_batch(project=project, batch_name=name)
    batch = client.finalize_batch(name)
    assert batch.status == "in_progress"  # no tasks: nothing to complete
    assert batch.name == name and batch.project == project
    assert client.get_batch(name).status == "in_progress"


def test_batch_status_counts(server, client, project, uniq):
    name = f"counts {uniq}"
    client.create_batch(project=project, batch_name=name)
    tasks = [_task(client, project, name, i) for i in range(4)]
    assert client.batch_status(name) == {"status": "in_progress", "pending": 4, "completed": 0, "error": 0, "canceled": 0}
    client.cancel_task(tasks[0].id)
    _answer(server, tasks[1].id, "dog")
    status = client.batch_status(name)
    assert status == {"status": "in_progress", "pending": 2, "completed": 1, "error": 0, "canceled": 1}
    # tasks in another batch of the same project are not counted
    other = f"counts other {uniq}"
    client.create_batch(project=project, batch_name=other)
    _task(client, project, other)
    assert client.batch_status(name) == status
    assert client.batch_status(other)["pending"] == 1


def test_finalized_batch_completes_when_all_tasks_done(server, client, project, uniq, receiver):
    name = f"done {uniq}"
    client.create_batch(project=project, batch_name=name, callback=receiver.url("/batch"))
    t1, t2, t3 = (_task(client, project, name, i) for i in range(3))
    client.finalize_batch(name)
    assert client.get_batch(name).status == "in_progress"
    _answer(server, t1.id)
    client.cancel_task(t2.id)
    assert client.get_batch(name).status == "in_progress"  # t3 still pending
    _answer(server, t3.id, "dog")
    batch = client.get_batch(name)
    assert batch.status == "completed"
    assert client.batch_status(name) == {"status": "completed", "pending": 0, "completed": 2, "error": 0, "canceled": 1}
    hooks = receiver.wait_for(lambda r: r.path == "/batch")
    assert hooks and hooks[0].body["batch"]["name"] == name and hooks[0].body["batch"]["status"] == "completed"
    assert [b.name for b in client.get_batches(project_name=project, batch_status=BatchStatus.Completed)] == [name]
    # a completed batch takes no new tasks
    with pytest.raises(ScaleInvalidRequest) as exc:
        _task(client, project, name, 9)
    assert "batch" in exc.value.message
    assert client.batch_status(name)["completed"] == 2 and client.batch_status(name)["pending"] == 0


def test_unfinalized_batch_completes_on_finalize(server, client, project, uniq):
    name = f"late fin {uniq}"
    client.create_batch(project=project, batch_name=name)
    task = _task(client, project, name)
    _answer(server, task.id)
    # not finalized: more tasks may still come
    assert client.get_batch(name).status == "in_progress"
    assert client.finalize_batch(name).status == "completed"
    assert client.get_batch(name).status == "completed"


# ----------------------------------------------------------------------------- metadata


def test_set_batch_metadata_replaces(server, client, project, uniq):
    name = f"md {uniq}"
    client.create_batch(project=project, batch_name=name, metadata={"a": 1, "b": 2})
    batch = client.set_batch_metadata(name, {"c": 3})
    assert batch.metadata == {"c": 3}
    assert batch.name == name and batch.status == "in_progress"
    assert client.get_batch(name).metadata == {"c": 3}
    for bad in (["x"], "x", 1, False):
        r = _raw(server, "POST", f"/v1/batches/{quote(name, safe='')}/setMetadata", json=bad)
        assert r.status_code == 400, r.text
        assert "metadata" in r.json()["error"]
    assert client.get_batch(name).metadata == {"c": 3}
    # clearing: the client sends no body at all for an empty dict
    assert client.set_batch_metadata(name, {}).metadata == {}
    assert client.get_batch(name).metadata == {}


# ----------------------------------------------------------------------------- list


def test_list_batches_offset_paging(server, client, uniq):
    project = f"many {uniq}"
    client.create_project(project_name=project, task_type=TaskType.Categorization)
    names = [f"page {uniq} {i:03d}" for i in range(105)]
    for n in names:
        client.create_batch(project=project, batch_name=n)
    newest_first = list(reversed(names))

    r = _raw(server, "GET", "/v1/batches", params={"project": project})
    assert r.status_code == 200, r.text
    page = r.json()
    assert set(page) >= {"docs", "totalDocs", "limit", "offset", "has_more"}
    assert page["totalDocs"] == 105 and page["limit"] == 100 and page["offset"] == 0 and page["has_more"] is True
    assert [d["name"] for d in page["docs"]] == newest_first[:100]
    assert all(BATCH_KEYS <= set(d) and d["project"] == project for d in page["docs"])
    r = _raw(server, "GET", "/v1/batches", params={"project": project, "offset": 100})
    page = r.json()
    assert page["offset"] == 100 and page["has_more"] is False and page["limit"] > 0
    assert [d["name"] for d in page["docs"]] == newest_first[100:]

    # the client's generator pages by the response's limit and sees every batch once
    listed = [b.name for b in client.get_batches(project_name=project)]
    assert len(listed) == 105
    assert listed == newest_first

    # an explicit smaller limit
    r = _raw(server, "GET", "/v1/batches", params={"project": project, "limit": 10, "offset": 20})
    page = r.json()
    assert page["limit"] == 10 and page["offset"] == 20 and page["has_more"] is True
    assert [d["name"] for d in page["docs"]] == newest_first[20:30]
    one_page = client.batches(project=project, limit=3)
    assert [b.name for b in one_page.docs] == newest_first[:3]
    assert one_page.total == 105 and one_page.limit == 3


def test_client_pages_with_small_server_pages(server, client, uniq):
    """A server answering with a small `limit` still gives every batch exactly once."""
    project = f"small pages {uniq}"
    client.create_project(project_name=project, task_type=TaskType.Categorization)
    names = [f"sp {uniq} {i}" for i in range(7)]
    for n in names:
        client.create_batch(project=project, batch_name=n)
    seen: list[str] = []
    offset = 0
    while True:
        page = _raw(server, "GET", "/v1/batches", params={"project": project, "limit": 3, "offset": offset}).json()
        assert page["offset"] == offset and page["totalDocs"] == 7 and page["limit"] == 3
        seen += [d["name"] for d in page["docs"]]
        if not page["has_more"]:
            break
        offset += page["limit"]
    assert seen == list(reversed(names))


@pytest.mark.parametrize("params, field", [
    ({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"limit": "ten"}, "limit"),
    ({"offset": -1}, "offset"), ({"offset": "x"}, "offset"),
    ({"status": "done"}, "status"), ({"exclude_archived": "maybe"}, "exclude_archived"),
    ({"start_time": "yesterday"}, "start_time"), ({"end_time": "2020-13-45"}, "end_time"),
])
def test_list_batches_bad_query_is_400(server, params, field):
    r = _raw(server, "GET", "/v1/batches", params=params)
    assert r.status_code == 400, r.text
    assert r.json()["field"] == field
    assert field in r.json()["error"]


def test_list_batches_unknown_project_is_404(client, uniq):
    with pytest.raises(ScaleResourceNotFound):
        client.batches(project=f"missing {uniq}")


def test_list_batches_status_filter(server, client, rapid_project, uniq):
    staged, running, done = (f"{s} {uniq}" for s in ("staged", "running", "done"))
    client.create_batch(project=rapid_project, batch_name=staged)
    client.create_batch(project=rapid_project, batch_name=running)
    client.finalize_batch(running)
    _task(client, rapid_project, running)
    client.create_batch(project=rapid_project, batch_name=done)
    task = _task(client, rapid_project, done)
    client.finalize_batch(done)
    _answer(server, task.id)
    assert client.get_batch(done).status == "completed"

    def names(status):
        return [b.name for b in client.get_batches(project_name=rapid_project, batch_status=status)]

    assert names(BatchStatus.Staging) == [staged]
    assert names(BatchStatus.InProgress) == [running]
    assert names(BatchStatus.Completed) == [done]
    assert [b.name for b in client.get_batches(project_name=rapid_project)] == [done, running, staged]
    with pytest.raises(ScaleInvalidRequest) as exc:
        client.batches(project=rapid_project, status="finished")
    assert "status" in exc.value.message


def test_list_batches_created_time_filters(client, project, uniq):
    early = f"early {uniq}"
    late = f"late {uniq}"
    client.create_batch(project=project, batch_name=early)
    between = _utcnow()
    client.create_batch(project=project, batch_name=late)
    after_all = _utcnow()

    def names(**kw):
        return [b.name for b in client.get_batches(project_name=project, **kw)]

    for fmt in (between.strftime("%Y-%m-%d %H:%M:%S.%f"), between.isoformat(), between.isoformat() + "Z"):
        assert names(created_after=fmt) == [late], fmt
        assert names(created_before=fmt) == [early], fmt
    assert names(created_after="2020-09-08") == [late, early]
    assert names(created_before="2020-09-08") == []
    tomorrow = (after_all + timedelta(days=1)).strftime("%Y-%m-%d")
    assert names(created_before=tomorrow) == [late, early]
    assert names(created_after=tomorrow) == []
    assert names(created_after="2020-09-08", created_before=between.isoformat()) == [early]
    with pytest.raises(ScaleInvalidRequest) as exc:
        list(client.get_batches(project_name=project, created_after="last tuesday"))
    assert "start_time" in exc.value.message


def test_list_batches_exclude_archived_accepted(server, client, project, uniq):
    names = [f"arch {uniq} {i}" for i in range(2)]
    for n in names:
        client.create_batch(project=project, batch_name=n)
    assert [b.name for b in client.get_batches(project_name=project, exclude_archived=True)] == names[::-1]
    assert [b.name for b in client.get_batches(project_name=project, exclude_archived=False)] == names[::-1]
    for value in ("True", "true", "FALSE", "1"):
        r = _raw(server, "GET", "/v1/batches", params={"project": project, "exclude_archived": value})
        assert r.status_code == 200, r.text
        assert r.json()["totalDocs"] == 2


def test_list_batches_without_project_includes_new_ones_newest_first(client, project, uniq):
    names = [f"all {uniq} {i}" for i in range(3)]
    for n in names:
        client.create_batch(project=project, batch_name=n)
    page = client.batches(limit=3)
    assert [b.name for b in page.docs] == names[::-1]


# ----------------------------------------------------------------------------- awkward names


@pytest.mark.parametrize("template", ["with space {u}", "plus+sign {u}", "slash/in/name {u}", "mix/ed+ 50% {u}?#&="])
def test_batch_names_with_special_characters(server, client, project, uniq, template):
    name = template.format(u=uniq)
    batch = client.create_batch(project=project, batch_name=name)
    assert batch.name == name
    assert client.get_batch(name).name == name
    task = _task(client, project, name)
    assert task.batch == name
    assert [t.id for t in client.get_tasks(batch_name=name)] == [task.id]
    assert client.set_batch_metadata(name, {"n": name}).metadata == {"n": name}
    assert client.batch_status(name)["pending"] == 1
    assert client.finalize_batch(name).status == "in_progress"
    _answer(server, task.id)
    assert client.get_batch(name).status == "completed"
    assert client.get_batch(name).metadata == {"n": name}
    assert name in [b.name for b in client.get_batches(project_name=project)]
    # a completed batch takes no new tasks
    with pytest.raises(ScaleInvalidRequest):
        client.create_task(TaskType.Categorization, batch=name, attachment="x", attachment_type="text", categories=["a"])


def test_slash_batch_name_does_not_collide_with_sub_routes(server, client, project, uniq):
    base = f"route {uniq}"
    tricky = f"{base}/status"
    client.create_batch(project=project, batch_name=base, metadata={"which": "base"})
    client.create_batch(project=project, batch_name=tricky, metadata={"which": "tricky"})
    assert client.get_batch(tricky).metadata == {"which": "tricky"}
    assert client.get_batch(base).metadata == {"which": "base"}
    client.set_batch_metadata(tricky, {"which": "tricky 2"})
    assert client.get_batch(base).metadata == {"which": "base"}
    r = _raw(server, "GET", f"/v1/batches/{quote(tricky, safe='')}")
    assert r.status_code == 200 and r.json()["name"] == tricky


def test_task_with_only_batch_inherits_project(client, project, uniq):
    name = f"inherit {uniq}"
    client.create_batch(project=project, batch_name=name)
    task = client.create_task(TaskType.Categorization, batch=name, attachment="x", attachment_type="text", categories=["a", "b"])
    assert task.project == project and task.batch == name
    assert client.batch_status(name)["pending"] == 1
    assert [t.id for t in client.get_tasks(project_name=project)] == [task.id]

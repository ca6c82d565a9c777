"""Scale v1 `GET /tasks`: page shape, newest-first order, cursor paging, every filter,
limited responses, signed attachment URLs, and key/organization isolation. Driven with
the official scaleapi client; httpx only for raw query strings and signed downloads."""

from __future__ import annotations

import base64
import io
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from scaleapi.exceptions import (
    ScaleDuplicateResource,
    ScaleInvalidRequest,
    ScaleResourceNotFound,
)
from scaleapi.tasks import TaskReviewStatus, TaskStatus, TaskType

from tests import local_http

PAGE_KEYS = {"docs", "total", "limit", "offset", "has_more", "next_token"}
TIME_FILTERS = ("start_time", "end_time", "completed_after", "completed_before", "updated_after", "updated_before")


def _raw(server, path: str, params=None, key: str | None = None) -> httpx.Response:
    return local_http.get(f"{server.url}{path}", params=params, auth=(key or server.live_key, ""), timeout=30)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _new_project(client, name: str, task_type: TaskType = TaskType.Categorization) -> str:
    client.create_project(project_name=name, task_type=task_type)
    return name


def _task(client, project: str, n: int = 0, **kw):
    kw.setdefault("attachment", f"item {n}")
    kw.setdefault("attachment_type", "text")
    kw.setdefault("categories", ["cat", "dog"])
    return client.create_task(TaskType.Categorization, project=project, **kw)


def _bulk(server, project: str, count: int, batch: str | None = None, key: str | None = None) -> list[str]:
    body = {
        "type": "categorization", "project": project,
        "tasks": [{"attachment": f"t{i}", "attachment_type": "text", "categories": ["a", "b"]} for i in range(count)],
    }
    if batch:
        body["batch"] = batch
    r = local_http.post(f"{server.url}/api/tasks/bulk", json=body, auth=(key or server.live_key, ""), timeout=120)
    assert r.status_code == 200, r.text
    assert r.json()["created"] == count
    return r.json()["task_ids"]


def _answer(server, task_id: str, category: str = "cat") -> None:
    r = local_http.post(f"{server.url}/api/tasks/{task_id}/answers", json={"response": {"category": category}},
                   auth=(server.live_key, ""), timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "completed"


def _ids(tasks) -> list[str]:
    return [t.id for t in tasks]


# ----------------------------------------------------------------------------- a big project, shared


@pytest.fixture(scope="module")
def big(server):
    """233 tasks: 230 bulk-created, then 3 through the client. Ids newest first."""
    client = server.client()
    name = f"big {uuid.uuid4().hex[:8]}"
    client.create_project(project_name=name, task_type=TaskType.Categorization)
    bulk_ids = _bulk(server, name, 230)
    assert len(set(bulk_ids)) == 230
    client_ids = [_task(client, name, i, metadata={"i": i}).id for i in range(3)]
    return name, list(reversed(bulk_ids + client_ids))


def test_get_tasks_returns_every_task_exactly_once(client, big):
    name, expected = big
    got = _ids(client.get_tasks(project_name=name))
    assert len(got) == 233
    assert len(set(got)) == 233
    assert got == expected  # newest first


def test_get_tasks_with_small_pages(client, big):
    name, expected = big
    assert _ids(client.get_tasks(project_name=name, limit=7)) == expected


def test_cursor_pages_shape_offset_and_token(server, big):
    name, expected = big
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        params = {"project": name, "limit": 100}
        if token:
            params["next_token"] = token
        r = _raw(server, "/v1/tasks", params)
        assert r.status_code == 200, r.text
        page = r.json()
        assert PAGE_KEYS <= set(page)
        assert page["total"] == 233
        assert page["limit"] == 100
        assert page["offset"] == len(seen)  # the number of items before this page
        if page["has_more"]:
            assert isinstance(page["next_token"], str) and page["next_token"]
            assert len(page["docs"]) == 100
        seen += [d["task_id"] for d in page["docs"]]
        pages += 1
        if not page["has_more"]:
            assert page["next_token"] is None
            break
        token = page["next_token"]
    assert pages == 3
    assert seen == expected


def test_get_tasks_count(client, big):
    name, _ = big
    assert client.get_tasks_count(project_name=name) == 233
    assert client.get_tasks_count(project_name=name, status=TaskStatus.Pending) == 233
    assert client.get_tasks_count(project_name=name, status=TaskStatus.Completed) == 0


def test_cursor_is_stable_while_tasks_are_added(server, client, uniq):
    name = _new_project(client, f"stable {uniq}")
    original = list(reversed(_bulk(server, name, 25)))
    first = client.tasks(project=name, limit=10)
    assert _ids(first.docs) == original[:10] and first.has_more
    _bulk(server, name, 5)  # newer tasks arrive while paging
    seen = _ids(first.docs)
    token = first.next_token
    while token:
        page = client.tasks(project=name, limit=10, next_token=token)
        seen += _ids(page.docs)
        token = page.next_token if page.has_more else None
    assert seen == original  # nothing skipped, nothing repeated, no newcomers mid-listing
    assert client.get_tasks_count(project_name=name) == 30


# ----------------------------------------------------------------------------- shape and order


def test_page_shape_and_newest_first(server, client, uniq):
    name = _new_project(client, f"shape {uniq}")
    tasks = [_task(client, name, i) for i in range(3)]
    r = _raw(server, "/v1/tasks", {"project": name})
    assert r.status_code == 200
    page = r.json()
    assert PAGE_KEYS <= set(page)
    assert page["total"] == 3 and page["limit"] == 100 and page["offset"] == 0
    assert page["has_more"] is False and page["next_token"] is None
    assert [d["task_id"] for d in page["docs"]] == _ids(reversed(tasks))
    doc = page["docs"][0]
    assert doc["project"] == name and doc["type"] == "categorization" and doc["status"] == "pending"
    assert doc["metadata"] == {}


def test_tasks_limit_3_returns_the_three_newest(client, uniq):
    name = _new_project(client, f"newest {uniq}")
    _task(client, name, 0)
    tasks = [_task(client, name, i) for i in range(1, 4)]
    page = client.tasks(limit=3)  # no filter: the whole account
    assert _ids(page.docs) == _ids(reversed(tasks))
    assert page.limit == 3 and page.has_more is True and page.next_token


@pytest.mark.parametrize("limit", [0, -1, 101, 1000, "ten", "1.5"])
def test_limit_out_of_range_is_400(client, uniq, limit):
    with pytest.raises(ScaleInvalidRequest) as exc:
        client.tasks(limit=limit)
    assert exc.value.code == 400 and "limit" in exc.value.message


def test_limit_bounds_accepted(client, uniq):
    name = _new_project(client, f"bounds {uniq}")
    tasks = [_task(client, name, i) for i in range(2)]
    assert _ids(client.tasks(project=name, limit=1).docs) == [tasks[1].id]
    assert _ids(client.tasks(project=name, limit=100).docs) == _ids(reversed(tasks))


@pytest.mark.parametrize("token", [
    "garbage", "!!!", base64.urlsafe_b64encode(b"1:2").decode(), base64.urlsafe_b64encode(b"a:b:c").decode(),
    base64.urlsafe_b64encode(b"\xff\xfe\xfd").decode(),
])
def test_garbage_next_token_is_400(client, uniq, token):
    name = _new_project(client, f"token {uniq}")
    _task(client, name)
    with pytest.raises(ScaleInvalidRequest) as exc:
        client.tasks(project=name, next_token=token)
    assert "next_token" in exc.value.message


# ----------------------------------------------------------------------------- filters


def test_unknown_project_or_batch_is_404(client, uniq):
    with pytest.raises(ScaleResourceNotFound):
        list(client.get_tasks(project_name=f"missing {uniq}"))
    with pytest.raises(ScaleResourceNotFound):
        list(client.get_tasks(batch_name=f"missing {uniq}"))


def test_project_and_batch_filters(server, client, uniq):
    p1 = _new_project(client, f"pf one {uniq}")
    p2 = _new_project(client, f"pf two {uniq}")
    b1, b2 = f"bf one {uniq}", f"bf two {uniq}"
    client.create_batch(project=p1, batch_name=b1)
    client.create_batch(project=p1, batch_name=b2)
    in_b1 = [_task(client, p1, i, batch=b1) for i in range(2)]
    in_b2 = [_task(client, p1, 5, batch=b2)]
    loose = [_task(client, p1, 6)]
    other = [_task(client, p2, 7)]
    bulk_b2 = _bulk(server, p1, 2, batch=b2)
    assert _ids(client.get_tasks(batch_name=b1)) == _ids(reversed(in_b1))
    assert _ids(client.get_tasks(batch_name=b2)) == list(reversed(bulk_b2)) + _ids(in_b2)
    assert _ids(client.get_tasks(project_name=p1, batch_name=b1)) == _ids(reversed(in_b1))
    assert set(_ids(client.get_tasks(project_name=p1))) == set(_ids(in_b1 + in_b2 + loose)) | set(bulk_b2)
    assert _ids(client.get_tasks(project_name=p2)) == _ids(other)
    assert _ids(client.get_tasks(project_name=p2, batch_name=b1)) == []
    assert all(t.batch == b1 and t.project == p1 for t in client.get_tasks(batch_name=b1))


def test_type_filter(client, uniq):
    start = _utcnow()
    cat_project = _new_project(client, f"tf cat {uniq}")
    img_project = _new_project(client, f"tf img {uniq}", TaskType.ImageAnnotation)
    cats = [_task(client, cat_project, i) for i in range(2)]
    img = client.create_task(TaskType.ImageAnnotation, project=img_project, attachment="http://example.com/a.jpg",
                             geometries={"box": {"objects_to_annotate": ["car"]}})
    since = start.isoformat()
    assert _ids(client.tasks(type="imageannotation", start_time=since).docs) == [img.id]
    assert _ids(client.tasks(type="categorization", start_time=since).docs) == _ids(reversed(cats))
    assert _ids(client.get_tasks(project_name=cat_project, task_type=TaskType.Categorization)) == _ids(reversed(cats))
    assert _ids(client.get_tasks(project_name=cat_project, task_type=TaskType.ImageAnnotation)) == []
    assert client.get_tasks_count(project_name=img_project, task_type=TaskType.ImageAnnotation) == 1


def test_status_filter(server, client, uniq):
    name = _new_project(client, f"status {uniq}")
    t0, t1, t2, t3 = (_task(client, name, i) for i in range(4))
    _answer(server, t0.id)
    client.cancel_task(t1.id)

    def ids(status):
        return _ids(client.get_tasks(project_name=name, status=status))

    assert ids(TaskStatus.Pending) == [t3.id, t2.id]
    assert ids(TaskStatus.Completed) == [t0.id]
    assert ids(TaskStatus.Canceled) == [t1.id]
    error_page = client.tasks(project=name, status="error")
    assert error_page.docs == [] and error_page.total == 0
    assert client.get_tasks_count(project_name=name, status=TaskStatus.Pending) == 2
    for bad in ("cancelled", "done", "PENDING "):
        with pytest.raises(ScaleInvalidRequest) as exc:
            client.tasks(project=name, status=bad)
        assert "status" in exc.value.message


def test_unique_id_filter(server, client, uniq):
    name = _new_project(client, f"uid {uniq}")
    u1, u2, u3 = (f"{uniq}-u{i}" for i in range(3))
    t1 = _task(client, name, 1, unique_id=u1)
    t2 = _task(client, name, 2, unique_id=u2)
    t3 = _task(client, name, 3, unique_id=u3)
    _task(client, name, 4)
    assert _ids(client.get_tasks(project_name=name, unique_id=u1)) == [t1.id]
    assert set(_ids(client.get_tasks(project_name=name, unique_id=[u1, u2]))) == {t1.id, t2.id}
    r = _raw(server, "/v1/tasks", [("unique_id", u1), ("unique_id", u3)])
    assert r.status_code == 200, r.text
    assert {d["task_id"] for d in r.json()["docs"]} == {t1.id, t3.id}
    assert r.json()["total"] == 2
    # no project or batch: the client's 409-recovery lookup
    r = _raw(server, "/v1/tasks", {"unique_id": u2})
    assert [d["task_id"] for d in r.json()["docs"]] == [t2.id]
    assert r.json()["docs"][0]["unique_id"] == u2
    assert _ids(client.tasks(unique_id=u3).docs) == [t3.id]
    assert client.tasks(unique_id=f"{uniq}-nope").docs == []
    # the duplicate that the lookup recovers from
    with pytest.raises(ScaleDuplicateResource) as exc:
        _task(client, name, 9, unique_id=u1)
    assert t1.id in exc.value.message
    assert client.get_tasks_count(project_name=name) == 4


def test_tags_filter_matches_any(client, uniq):
    name = _new_project(client, f"tags {uniq}")
    red, blue, green = f"red-{uniq}", f"blue-{uniq}", f"green-{uniq}"
    t_red = _task(client, name, 1, tags=[red])
    t_blue = _task(client, name, 2, tags=[blue])
    t_rg = _task(client, name, 3, tags=[red, green])
    _task(client, name, 4)
    assert _ids(client.get_tasks(project_name=name, tags=red)) == [t_rg.id, t_red.id]
    assert _ids(client.get_tasks(project_name=name, tags=[blue, green])) == [t_rg.id, t_blue.id]
    assert _ids(client.get_tasks(project_name=name, tags=[red, blue, green])) == [t_rg.id, t_blue.id, t_red.id]
    assert _ids(client.get_tasks(project_name=name, tags=f"purple-{uniq}")) == []
    assert _ids(client.tasks(tags=[green]).docs) == [t_rg.id]  # without a project
    client.set_task_tags(t_blue.id, [green])
    assert _ids(client.get_tasks(project_name=name, tags=blue)) == []
    assert _ids(client.get_tasks(project_name=name, tags=green)) == [t_rg.id, t_blue.id]


def _formats(moment: datetime) -> list[str]:
    plus2 = (moment + timedelta(hours=2)).isoformat() + "+02:00"
    return [moment.strftime("%Y-%m-%d %H:%M:%S.%f"), moment.isoformat(), moment.isoformat() + "Z", plus2]


def test_time_filters(server, client, uniq):
    name = _new_project(client, f"times {uniq}")
    a0, a1 = (_task(client, name, i) for i in range(2))
    t_created = _utcnow()
    b0, b1 = (_task(client, name, i) for i in range(2, 4))
    _answer(server, a0.id)
    t_completed = _utcnow()
    _answer(server, b0.id, "dog")
    t_updated = _utcnow()
    client.set_task_metadata(a1.id, {"touched": True})
    t_end = _utcnow()

    def ids(**kw):
        return set(_ids(client.get_tasks(project_name=name, **kw)))

    for fmt in _formats(t_created):
        assert ids(created_after=fmt) == {b0.id, b1.id}, fmt
        assert ids(created_before=fmt) == {a0.id, a1.id}, fmt
    for fmt in _formats(t_completed):
        assert ids(completed_after=fmt) == {b0.id}, fmt
        assert ids(completed_before=fmt) == {a0.id}, fmt
    for fmt in _formats(t_updated):
        assert ids(updated_after=fmt) == {a1.id}, fmt
        assert ids(updated_before=fmt) == {a0.id, b0.id, b1.id}, fmt
    everything = {a0.id, a1.id, b0.id, b1.id}
    tomorrow = (t_end + timedelta(days=1)).strftime("%Y-%m-%d")
    assert ids(created_after="2020-09-08") == everything
    assert ids(created_before="2020-09-08") == set()
    assert ids(created_before=tomorrow) == everything
    assert ids(created_after=tomorrow) == set()
    assert ids(completed_after="2020-09-08") == {a0.id, b0.id}
    assert ids(updated_before=tomorrow) == everything
    # ranges combine
    assert ids(created_after="2020-09-08", created_before=t_created.isoformat(), completed_after="2020-09-08") == {a0.id}
    assert client.get_tasks_count(project_name=name, completed_after=t_completed.isoformat()) == 1


@pytest.mark.parametrize("field", TIME_FILTERS)
@pytest.mark.parametrize("value", ["yesterday", "2020-13-01", "08/09/2020", "2020-09-08T25:00:00"])
def test_malformed_date_is_400_naming_the_field(server, client, field, value):
    with pytest.raises(ScaleInvalidRequest) as exc:
        client.tasks(**{field: value})
    assert field in exc.value.message
    r = _raw(server, "/v1/tasks", {field: value})
    assert r.status_code == 400 and r.json()["field"] == field


def test_customer_review_status_filter(server, client, uniq):
    name = _new_project(client, f"review {uniq}")
    t_ok, t_bad, t_none, t_pending = (_task(client, name, i) for i in range(4))
    for t in (t_ok, t_bad, t_none):
        _answer(server, t.id)
    client.audit_task(t_ok.id, True)
    client.audit_task(t_bad.id, False, "wrong category")
    with pytest.raises(ScaleInvalidRequest):
        client.audit_task(t_pending.id, True)  # only completed tasks are audited
    assert client.get_task(t_ok.id).customer_review_status == "accepted"
    assert client.get_task(t_bad.id).customer_review_status == "rejected"

    def ids(status):
        return set(_ids(client.get_tasks(project_name=name, review_status=status)))

    assert ids(TaskReviewStatus.Accepted) == {t_ok.id}
    assert ids(TaskReviewStatus.Rejected) == {t_bad.id}
    assert ids([TaskReviewStatus.Accepted, TaskReviewStatus.Rejected]) == {t_ok.id, t_bad.id}
    assert ids(TaskReviewStatus.Fixed) == set()
    r = _raw(server, "/v1/tasks", {"project": name, "customer_review_status": "accepted,rejected"})
    assert {d["task_id"] for d in r.json()["docs"]} == {t_ok.id, t_bad.id}
    with pytest.raises(ScaleInvalidRequest) as exc:
        client.tasks(project=name, customer_review_status="great")
    assert "customer_review_status" in exc.value.message
    with pytest.raises(ScaleInvalidRequest):
        client.tasks(project=name, customer_review_status="accepted,great")


def test_limited_response(client, uniq):
    name = _new_project(client, f"limited {uniq}")
    tasks = [_task(client, name, i, metadata={"i": i}, tags=["x"], unique_id=f"{uniq}-{i}") for i in range(2)]
    page = client.tasks(project=name, limited_response=True)
    docs = [t.as_dict() for t in page.docs]
    assert [d["task_id"] for d in docs] == _ids(reversed(tasks))
    for d, i in zip(docs, (1, 0)):
        assert set(d) == {"task_id", "status", "metadata", "project"}
        assert d["status"] == "pending" and d["metadata"] == {"i": i} and d["project"] == name
    assert _ids(client.get_tasks(project_name=name, limited_response=True)) == _ids(reversed(tasks))
    full = client.tasks(project=name, limited_response=False).docs[0].as_dict()
    assert "params" in full and "unique_id" in full


def test_include_attachment_url(server, client, uniq):
    name = _new_project(client, f"attach {uniq}")
    data = b"\x89PNG fake image bytes " + uniq.encode()
    uploaded = client.upload_file(io.BytesIO(data), project_name=name)
    assert uploaded.attachment_url.startswith("scaledata://")
    http_task = _task(client, name, 1, attachment="http://example.com/cat.jpg", attachment_type="image")
    text_task = _task(client, name, 2)
    file_task = _task(client, name, 3, attachment=uploaded.attachment_url, attachment_type="image")

    by_id = {t.id: t.as_dict() for t in client.get_tasks(project_name=name)}  # the client asks for URLs by default
    assert by_id[http_task.id]["attachment_url"] == "http://example.com/cat.jpg"
    assert "attachment_url" not in by_id[text_task.id]
    assert by_id[file_task.id]["params"]["attachment"] == uploaded.attachment_url
    signed = by_id[file_task.id]["attachment_url"]
    parts = urlsplit(signed)
    assert parts.scheme in ("http", "https") and parts.path.startswith("/api/files/")
    local = f"{server.url}{parts.path}"
    query = parse_qs(parts.query)
    r = local_http.get(f"{local}?{parts.query}", timeout=30)  # no API key: the signature is the credential
    assert r.status_code == 200, r.text
    assert r.content == data
    # tampering with the link
    sig = query["signature"][0]
    flipped = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    expires = query["expires"][0]
    for bad in (
        {"expires": expires, "signature": flipped},
        {"expires": str(int(expires) + 1), "signature": sig},
        {"expires": expires},
        {"signature": sig},
        {"expires": "soon", "signature": sig},
    ):
        r = local_http.get(f"{local}?{urlencode(bad)}", timeout=30)
        assert r.status_code == 404, (bad, r.status_code)
        assert data not in r.content
    # without the flag there are no URLs
    plain = {t.id: t.as_dict() for t in client.tasks(project=name).docs}
    assert all("attachment_url" not in d for d in plain.values())
    for value in ("True", "true", "TRUE", "1"):
        r = _raw(server, "/v1/tasks", {"project": name, "include_attachment_url": value})
        assert {d["task_id"]: d.get("attachment_url") for d in r.json()["docs"]}[http_task.id] == "http://example.com/cat.jpg"
    r = _raw(server, "/v1/tasks", {"project": name, "include_attachment_url": "perhaps"})
    assert r.status_code == 400 and r.json()["field"] == "include_attachment_url"


# ----------------------------------------------------------------------------- isolation


def test_test_key_and_live_key_tasks_are_separate(server, client, test_client, uniq):
    name = _new_project(client, f"modes {uniq}")
    batch = f"modes batch {uniq}"
    client.create_batch(project=name, batch_name=batch)
    live = _task(client, name, 1, batch=batch, unique_id=f"{uniq}-live", tags=[f"tag-{uniq}"])
    test = _task(test_client, name, 2, batch=batch, unique_id=f"{uniq}-test", tags=[f"tag-{uniq}"])
    assert test.status == "completed" and test.is_test is True
    assert _ids(client.get_tasks(project_name=name)) == [live.id]
    assert _ids(test_client.get_tasks(project_name=name)) == [test.id]
    assert _ids(client.get_tasks(batch_name=batch)) == [live.id]
    assert _ids(test_client.get_tasks(batch_name=batch)) == [test.id]
    assert client.tasks(unique_id=f"{uniq}-test").docs == []
    assert test_client.tasks(unique_id=f"{uniq}-live").docs == []
    assert _ids(test_client.tasks(unique_id=f"{uniq}-test").docs) == [test.id]
    assert _ids(client.tasks(tags=[f"tag-{uniq}"]).docs) == [live.id]
    assert _ids(test_client.tasks(tags=[f"tag-{uniq}"]).docs) == [test.id]
    assert client.get_tasks_count(project_name=name) == 1
    assert client.get_tasks_count(project_name=name, status=TaskStatus.Completed) == 0
    assert test.id not in _ids(client.tasks(limit=100).docs)
    assert live.id not in _ids(test_client.tasks(limit=100).docs)


def test_other_organization_sees_none_of_these_tasks(server, client, uniq):
    name = _new_project(client, f"mine {uniq}")
    batch = f"mine batch {uniq}"
    client.create_batch(project=name, batch_name=batch)
    task = _task(client, name, 1, batch=batch, unique_id=f"{uniq}-secret", tags=[f"secret-{uniq}"])
    other = server.client(server.new_key(f"other-{uniq}"))
    page = other.tasks(unique_id=f"{uniq}-secret")
    assert page.docs == [] and page.total == 0
    assert other.tasks(tags=[f"secret-{uniq}"]).docs == []
    assert task.id not in _ids(other.tasks(limit=100).docs)
    assert other.tasks(start_time="2020-09-08").total == 0
    for kw in ({"project": name}, {"batch": batch}):
        try:
            leaked = other.tasks(**kw)
        except ScaleResourceNotFound:
            continue
        assert leaked.docs == [] and leaked.total == 0
    with pytest.raises(ScaleResourceNotFound):
        other.get_task(task.id)
    # ... and the owner still sees it
    assert _ids(client.tasks(unique_id=f"{uniq}-secret").docs) == [task.id]

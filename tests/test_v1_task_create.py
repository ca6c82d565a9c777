"""Task creation: `POST /v1/task/{type}` through the official client, `GET /v1/task/{id}`,
the refusals (400/402/404/409) and test-mode auto-completion, and the native bulk
endpoint `POST /api/tasks/bulk` (all or nothing)."""

from __future__ import annotations

import hashlib
import hmac
import re
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import httpx
import pytest
from scaleapi.exceptions import (
    ScaleDuplicateResource,
    ScaleInvalidRequest,
    ScaleNotEnabled,
    ScaleResourceNotFound,
)
from scaleapi.tasks import TaskStatus, TaskType

from tests import local_http

ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
HEX24 = re.compile(r"^[0-9a-f]{24}$")
CATEGORIES = ["cat", "dog"]


def cat_params(**extra):
    params = {"attachment": "a photo of a cat", "attachment_type": "text", "categories": list(CATEGORIES)}
    params.update(extra)
    return params


def create(client, project, **extra):
    return client.create_task(TaskType.Categorization, project=project, **cat_params(**extra))


def count(client, project) -> int:
    return client.get_tasks_count(project_name=project)


def verify_signature(received) -> None:
    """X-Assay-Signature: t=<unix>,v1=hmac-sha256(org callback key, "<t>." + body)."""
    secret = received.headers["scale-callback-auth"]
    sig = received.headers["x-assay-signature"]
    parts = dict(p.split("=", 1) for p in sig.split(","))
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + received.raw, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected)


# ----------------------------------------------------------------------------- shape

def test_created_task_shape(client, project, uniq, receiver):
    batch = client.create_batch(project=project, batch_name=f"shape {uniq}")
    task = client.create_task(
        TaskType.Categorization,
        project=project,
        batch=batch.name,
        instruction="Is it a cat?",
        callback_url=receiver.url("/shape"),
        unique_id=f"shape-{uniq}",
        **cat_params(),
    )
    d = task.as_dict()
    assert HEX24.match(d["task_id"]), d["task_id"]
    assert task.id == d["task_id"]
    assert d["type"] == "categorization"
    assert d["status"] == "pending"
    assert d["instruction"].startswith("Is it a cat?")
    assert "Pick one." in d["instruction"]  # the project's instruction is appended
    assert d["params"] == {"attachment": "a photo of a cat", "attachment_type": "text", "categories": CATEGORIES, "allow_multiple": False}
    assert d["callback_url"] == receiver.url("/shape")
    assert d["metadata"] == {}
    assert "tags" not in d
    assert d["unique_id"] == f"shape-{uniq}"
    assert d["project"] == project
    assert d["batch"] == batch.name
    assert ISO_Z.match(d["created_at"]), d["created_at"]
    assert d["is_test"] is False
    assert "response" not in d and "completed_at" not in d
    # GET returns the same object
    assert client.get_task(task.id).as_dict() == d
    # and the list finds it
    assert [t.id for t in client.get_tasks(project_name=project)] == [task.id]
    assert [t.id for t in client.get_tasks(batch_name=batch.name)] == [task.id]


def test_metadata_tags_priority_are_echoed(client, project):
    task = create(client, project, metadata={"source": "x", "n": [1, {"k": None}]}, tags=["a", "b"], priority=30)
    assert task.metadata == {"source": "x", "n": [1, {"k": None}]}
    assert task.tags == ["a", "b"]
    assert task.priority == 30
    again = client.get_task(task.id)
    assert again.metadata == {"source": "x", "n": [1, {"k": None}]}
    assert again.tags == ["a", "b"]


def test_allow_multiple_and_project_default_params(client, uniq):
    name = f"defaults {uniq}"
    client.create_project(
        project_name=name, task_type=TaskType.Categorization, params={"instruction": "Pick.", "categories": ["x", "y", "z"], "allow_multiple": True}
    )
    task = client.create_task(TaskType.Categorization, project=name, attachment="thing", attachment_type="text")
    assert task.params["categories"] == ["x", "y", "z"]
    assert task.params["allow_multiple"] is True
    # a task's own params win over the project's
    own = client.create_task(TaskType.Categorization, project=name, attachment="thing", attachment_type="text", categories=["p", "q"], allow_multiple=False)
    assert own.params["categories"] == ["p", "q"]
    assert own.params["allow_multiple"] is False


def test_get_unknown_task_is_404(client):
    with pytest.raises(ScaleResourceNotFound) as exc:
        client.get_task("0123456789abcdef01234567")
    assert exc.value.code == 404
    with pytest.raises(ScaleResourceNotFound):
        client.get_task("not-an-id")


# ----------------------------------------------------------------------------- 400s

@pytest.mark.parametrize(
    "change, field",
    [
        ({"categories": None}, "categories"),
        ({"attachment": None}, "attachment"),
        ({"categories": []}, "categories"),
        ({"categories": ["cat", "cat"]}, "categories"),
        ({"categories": "cat"}, "categories"),
        ({"attachment_type": "hologram"}, "attachment_type"),
        ({"allow_multiple": "sometimes"}, "allow_multiple"),
        ({"metadata": ["not", "an", "object"]}, "metadata"),
        ({"metadata": "text"}, "metadata"),
        ({"tags": ["1", "2", "3", "4", "5", "6"]}, "tags"),
        ({"tags": "one"}, "tags"),
        ({"callback_url": "ftp://example.com/hook"}, "callback_url"),
        ({"callback_url": "not a url"}, "callback_url"),
        ({"priority": "high"}, "priority"),
        ({"priority": 1.5}, "priority"),
        ({"priority": True}, "priority"),
        ({"unique_id": ""}, "unique_id"),
        ({"unique_id": 5}, "unique_id"),
        ({"instruction": 5}, "instruction"),
    ],
)
def test_invalid_params_are_400_naming_the_field(client, project, change, field):
    params = cat_params()
    for key, value in change.items():
        if value is None:
            params.pop(key)
        else:
            params[key] = value
    with pytest.raises(ScaleInvalidRequest) as exc:
        client.create_task(TaskType.Categorization, project=project, **params)
    assert exc.value.code == 400
    assert field in exc.value.message, exc.value.message
    assert count(client, project) == 0


def test_project_missing_is_400(client):
    with pytest.raises(ScaleInvalidRequest) as exc:
        client.create_task(TaskType.Categorization, **cat_params())
    assert "project" in exc.value.message


def test_unknown_project_is_400(client, uniq):
    with pytest.raises(ScaleInvalidRequest) as exc:
        client.create_task(TaskType.Categorization, project=f"no such project {uniq}", **cat_params())
    assert "project" in exc.value.message
    assert f"no such project {uniq}" in exc.value.message


def test_unknown_batch_is_400(client, project, uniq):
    with pytest.raises(ScaleInvalidRequest) as exc:
        client.create_task(TaskType.Categorization, project=project, batch=f"no batch {uniq}", **cat_params())
    assert "batch" in exc.value.message
    assert count(client, project) == 0


def test_batch_without_project_inherits_project(client, project, uniq):
    batch = client.create_batch(project=project, batch_name=f"inherit {uniq}")
    task = client.create_task(TaskType.Categorization, batch=batch.name, **cat_params())
    assert task.project == project
    assert task.batch == batch.name
    assert client.get_task(task.id).project == project
    assert client.batch_status(batch.name)["pending"] == 1


def test_batch_of_another_project_is_400(client, project, uniq):
    other = f"other {uniq}"
    client.create_project(project_name=other, task_type=TaskType.Categorization, params={"instruction": "x"})
    batch = client.create_batch(project=other, batch_name=f"foreign {uniq}")
    with pytest.raises(ScaleInvalidRequest) as exc:
        client.create_task(TaskType.Categorization, project=project, batch=batch.name, **cat_params())
    assert "batch" in exc.value.message
    assert count(client, project) == 0
    assert count(client, other) == 0


def test_type_differs_from_projects_type_is_400(client, project):
    with pytest.raises(ScaleInvalidRequest) as exc:
        client.create_task(TaskType.ImageAnnotation, project=project, attachment="http://127.0.0.1/x.png", geometries={"box": {"objects_to_annotate": ["car"]}})
    assert "project" in exc.value.message
    assert "categorization" in exc.value.message
    assert count(client, project) == 0


def test_unknown_type_is_400(client, project):
    with pytest.raises(ScaleInvalidRequest) as exc:
        client.create_task(SimpleNamespace(value="notarealtype"), project=project, **cat_params())
    assert "type" in exc.value.message
    assert count(client, project) == 0


def test_known_but_not_enabled_type_is_402(client, project):
    with pytest.raises(ScaleNotEnabled) as exc:
        client.create_task(TaskType.LidarAnnotation, project=project, attachments=["http://127.0.0.1/f.json"], attachment_type="json", labels=["car"])
    assert exc.value.code == 402
    assert "lidarannotation" in exc.value.message
    assert count(client, project) == 0


@pytest.mark.parametrize("kwargs", [{"json": [1, 2, 3]}, {"json": "text"}, {"json": 7}])
def test_body_not_an_object_is_400_json_error(server, client, project, kwargs):
    r = local_http.post(f"{server.url}/v1/task/categorization", auth=(server.live_key, ""), **kwargs)
    assert r.status_code == 400, r.text
    body = r.json()
    assert isinstance(body, dict)
    assert body["status_code"] == 400
    assert isinstance(body["error"], str) and body["error"]
    assert count(client, project) == 0


@pytest.mark.parametrize("raw", [b"{not json", b'{"project": "x",}', b"\xff\xfe"])
def test_invalid_json_is_400(server, raw):
    r = local_http.post(
        f"{server.url}/v1/task/categorization", content=raw, headers={"content-type": "application/json"}, auth=(server.live_key, "")
    )
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["status_code"] == 400
    assert "JSON" in body["error"] or "json" in body["error"]


def test_empty_body_is_400(server):
    r = local_http.post(f"{server.url}/v1/task/categorization", headers={"content-type": "application/json"}, auth=(server.live_key, ""))
    assert r.status_code == 400, r.text
    assert r.json()["status_code"] == 400


# ----------------------------------------------------------------------------- unique_id

def test_unique_id_reuse_is_409_with_existing_id(client, project, uniq):
    uid = f"dup-{uniq}"
    first = create(client, project, unique_id=uid, metadata={"v": 1})
    before = client.get_task(first.id).as_dict()
    with pytest.raises(ScaleDuplicateResource) as exc:
        create(client, project, unique_id=uid, metadata={"v": 2}, categories=["x", "y"])
    assert exc.value.code == 409
    assert first.id in exc.value.message
    assert client.get_task(first.id).as_dict() == before
    assert count(client, project) == 1
    # GET /tasks?unique_id= finds it without a project filter (the client's recovery path)
    page = client.tasks(unique_id=uid)
    assert [t.id for t in page.docs] == [first.id]


def test_concurrent_creates_with_one_unique_id_store_one_task(server, client, project, uniq):
    """Eight clients at once with the same unique_id: one task is stored, every other request is
    a 409 naming it (on PostgreSQL the losers' INSERTs wait for the winner's commit)."""
    uid = f"race-{uniq}"
    body = {"project": project, "unique_id": uid, **cat_params()}

    def attempt(_):
        with local_http.Client(base_url=server.url, auth=(server.live_key, ""), timeout=30) as http:
            return http.post("/v1/task/categorization", json=body)

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(attempt, range(8)))
    created = [r.json() for r in responses if r.status_code == 200]
    assert len(created) == 1, [r.text for r in responses]
    winner = created[0]["task_id"]
    refused = [r for r in responses if r.status_code != 200]
    assert {r.status_code for r in refused} == {409}
    assert all(r.json()["field"] == "unique_id" and r.json()["task_id"] == winner for r in refused)
    assert count(client, project) == 1
    assert [t.id for t in client.tasks(unique_id=uid).docs] == [winner]


def test_unique_id_is_unique_across_projects(client, project, uniq):
    uid = f"cross-{uniq}"
    create(client, project, unique_id=uid)
    other = f"second {uniq}"
    client.create_project(project_name=other, task_type=TaskType.Categorization, params={"instruction": "x"})
    with pytest.raises(ScaleDuplicateResource):
        create(client, other, unique_id=uid)
    assert count(client, other) == 0


def test_same_unique_id_in_another_org(server, client, project, uniq):
    uid = f"shared-{uniq}"
    mine = create(client, project, unique_id=uid)
    other = server.client(server.new_key(f"org {uniq}"))
    other_project = f"theirs {uniq}"
    other.create_project(project_name=other_project, task_type=TaskType.Categorization, params={"instruction": "x"})
    theirs = create(other, other_project, unique_id=uid)
    assert theirs.id != mine.id
    assert theirs.unique_id == uid
    assert [t.id for t in other.tasks(unique_id=uid).docs] == [theirs.id]
    assert [t.id for t in client.tasks(unique_id=uid).docs] == [mine.id]


def test_same_unique_id_for_test_and_live_keys(client, test_client, project, uniq):
    uid = f"mode-{uniq}"
    live = create(client, project, unique_id=uid)
    test = create(test_client, project, unique_id=uid)
    assert test.id != live.id
    assert test.is_test is True and live.is_test is False
    # still a duplicate within each mode
    with pytest.raises(ScaleDuplicateResource):
        create(test_client, project, unique_id=uid)
    with pytest.raises(ScaleDuplicateResource):
        create(client, project, unique_id=uid)


# ----------------------------------------------------------------------------- test mode

def test_test_key_task_auto_completes_with_callback(test_client, client, project, uniq, receiver):
    task = create(test_client, project, callback_url=receiver.url("/test"), unique_id=f"t-{uniq}", metadata={"m": 1})
    assert task.status == "completed"
    assert task.is_test is True
    assert task.response["category"] in CATEGORIES
    assert ISO_Z.match(task.completed_at)
    again = test_client.get_task(task.id)
    assert again.status == "completed"
    assert again.response == task.response
    # the live key does not see test-mode tasks
    with pytest.raises(ScaleResourceNotFound):
        client.get_task(task.id)
    hooks = receiver.wait_for(lambda h: h.path == "/test")
    assert len(hooks) == 1
    hook = hooks[0]
    assert set(hook.body) == {"task_id", "response", "task"}
    assert hook.body["task_id"] == task.id
    assert hook.body["response"] == task.response
    assert hook.body["task"]["task_id"] == task.id
    assert hook.body["task"]["status"] == "completed"
    assert hook.body["task"]["metadata"] == {"m": 1}
    assert hook.headers["scale-callback-auth"]
    assert hook.headers["content-type"].startswith("application/json")
    verify_signature(hook)


def test_test_key_allow_multiple_response(test_client, project):
    task = create(test_client, project, categories=["a", "b", "c"], allow_multiple=True)
    assert task.status == "completed"
    chosen = task.response["category"]
    assert isinstance(chosen, list) and chosen
    assert set(chosen) <= {"a", "b", "c"}


# ----------------------------------------------------------------------------- bulk

def bulk(server, body, key=None) -> httpx.Response:
    return local_http.post(f"{server.url}/api/tasks/bulk", json=body, auth=(key or server.live_key, ""), timeout=60)


def test_bulk_creates_all(server, client, project, uniq):
    batch = client.create_batch(project=project, batch_name=f"bulk {uniq}")
    tasks = [cat_params(unique_id=f"bulk-{uniq}-{i}", metadata={"i": i}) for i in range(25)]
    r = bulk(server, {"type": "categorization", "project": project, "batch": batch.name, "tasks": tasks})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["created"] == 25
    assert len(body["task_ids"]) == 25 and len(set(body["task_ids"])) == 25
    assert all(HEX24.match(t) for t in body["task_ids"])
    assert count(client, project) == 25
    assert client.batch_status(batch.name)["pending"] == 25
    for i in (0, 24):
        t = client.get_task(body["task_ids"][i])
        assert t.metadata == {"i": i}
        assert t.unique_id == f"bulk-{uniq}-{i}"
        assert t.status == "pending"
        assert t.params["allow_multiple"] is False
        assert t.batch == batch.name and t.project == project


def test_bulk_with_batch_only_inherits_project(server, client, project, uniq):
    batch = client.create_batch(project=project, batch_name=f"bulk-b {uniq}")
    r = bulk(server, {"type": "categorization", "batch": batch.name, "tasks": [cat_params(), cat_params()]})
    assert r.status_code == 200, r.text
    assert count(client, project) == 2


def test_bulk_one_bad_task_stores_nothing(server, client, project):
    tasks = [cat_params() for _ in range(5)]
    del tasks[3]["categories"]
    r = bulk(server, {"type": "categorization", "project": project, "tasks": tasks})
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["status_code"] == 400
    assert "tasks[3].categories" in body["error"]
    assert body["field"] == "tasks[3].categories"
    assert count(client, project) == 0


@pytest.mark.parametrize(
    "change, field",
    [
        ({"metadata": [1]}, "tasks[1].metadata"),
        ({"callback_url": "gopher://x"}, "tasks[1].callback_url"),
        ({"tags": ["1", "2", "3", "4", "5", "6"]}, "tasks[1].tags"),
        ({"categories": ["a", "a"]}, "tasks[1].categories"),
    ],
)
def test_bulk_bad_field_names_the_index(server, client, project, change, field):
    tasks = [cat_params(), cat_params(**change), cat_params()]
    r = bulk(server, {"type": "categorization", "project": project, "tasks": tasks})
    assert r.status_code == 400, r.text
    assert field in r.json()["error"]
    assert count(client, project) == 0


def test_bulk_task_not_an_object(server, client, project):
    r = bulk(server, {"type": "categorization", "project": project, "tasks": [cat_params(), "oops"]})
    assert r.status_code == 400, r.text
    assert "tasks[1]" in r.json()["error"]
    assert count(client, project) == 0


@pytest.mark.parametrize(
    "body, words",
    [
        ([], "body"),
        ({"type": "categorization", "tasks": []}, "tasks"),
        ({"type": "categorization", "tasks": "x"}, "tasks"),
        ({"type": "categorization", "tasks": [{}]}, "project"),
        ({"type": "nope", "project": "x", "tasks": [{}]}, "type"),
    ],
)
def test_bulk_bad_envelope_is_400(server, body, words):
    r = bulk(server, body)
    assert r.status_code == 400, r.text
    assert words in r.json()["error"]


def test_bulk_duplicate_unique_id_in_request_is_409(server, client, project, uniq):
    tasks = [cat_params(unique_id=f"same-{uniq}"), cat_params(unique_id=f"other-{uniq}"), cat_params(unique_id=f"same-{uniq}")]
    r = bulk(server, {"type": "categorization", "project": project, "tasks": tasks})
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["status_code"] == 409
    assert "tasks[2].unique_id" in body["error"]
    assert count(client, project) == 0


def test_bulk_unique_id_already_used_is_409(server, client, project, uniq):
    existing = create(client, project, unique_id=f"taken-{uniq}")
    tasks = [cat_params(unique_id=f"fresh-{uniq}"), cat_params(unique_id=f"taken-{uniq}")]
    r = bulk(server, {"type": "categorization", "project": project, "tasks": tasks})
    assert r.status_code == 409, r.text
    assert existing.id in r.json()["error"]
    assert "tasks[1].unique_id" in r.json()["error"]
    assert count(client, project) == 1
    assert client.get_tasks_count(project_name=project, unique_id=f"fresh-{uniq}") == 0


def test_bulk_with_test_key_completes(server, test_client, project):
    r = bulk(server, {"type": "categorization", "project": project, "tasks": [cat_params() for _ in range(3)]}, key=server.test_key)
    assert r.status_code == 200, r.text
    ids = r.json()["task_ids"]
    for task_id in ids:
        t = test_client.get_task(task_id)
        assert t.status == "completed" and t.is_test is True
        assert t.response["category"] in CATEGORIES
    assert test_client.get_tasks_count(project_name=project, status=TaskStatus.Completed) == 3


# ----------------------------------------------------------------------------- every task type
# Minimal valid params of each implemented type, as documented in docs/task-types.md.

IMG = "http://127.0.0.1:9/street.jpg"
NER_TEXT = "Alex Wang spoke at Transform."


def _check_categorization(response, params):
    assert response["category"] in params["categories"]


def _check_textcollection(response, params):
    answer = response["annotations"]["summary"]
    assert answer["field_id"] == "summary"
    assert isinstance(answer["response"], list) and all(isinstance(r, list) for r in answer["response"])


def _check_ner(response, params):
    assert isinstance(response["annotations"], list)
    for a in response["annotations"]:
        assert a["label"] == "person"
        assert 0 <= a["start"] < a["end"] <= len(NER_TEXT)
        assert a["text"] == NER_TEXT[a["start"]:a["end"]]


def _check_image(response, params):
    assert response["annotations"], response
    for a in response["annotations"]:
        assert a["type"] == "box" and a["label"] == "car"
        assert a["width"] > 0 and a["height"] > 0


def _check_segment(response, params):
    combined = response["annotations"]["combined"]
    assert combined["image"] and combined["indexedImage"]
    assert set(response["labelMapping"]) <= {"road"}
    assert set(response["annotations"]["labeled"]) <= {"road"}


def _check_document(response, params):
    assert response["annotations"], response
    for a in response["annotations"]:
        assert a["label"] == "header"
        assert a["location"]["type"] in ("box", "polygon")


def _check_video(response, params):
    annotations = response["annotations"]
    if "frames" in annotations:
        assert len(annotations["frames"]) == len(params["attachments"])
        for frame in annotations["frames"]:
            for a in frame["annotations"]:
                assert a["type"] == "box" and a["label"] == "car"
    else:
        assert annotations["url"]


def _check_comparison(response, params):
    assert response["choice"] in params["choices"]


TYPES = {
    "categorization": (
        TaskType.Categorization,
        {"attachment": "a photo of a cat", "categories": ["cat", "dog"]},
        {"allow_multiple": False, "attachment_type": "image"},
        _check_categorization,
    ),
    "textcollection": (
        TaskType.TextCollection,
        {"attachments": [{"type": "text", "content": "The food was great."}], "fields": [{"type": "text", "field_id": "summary", "title": "Summary"}]},
        {},
        _check_textcollection,
    ),
    "namedentityrecognition": (
        TaskType.NamedEntityRecognition,
        {"text": NER_TEXT, "labels": [{"name": "person"}]},
        {"allow_overlap": False},
        _check_ner,
    ),
    "imageannotation": (
        TaskType.ImageAnnotation,
        {"attachment": IMG, "geometries": {"box": {"objects_to_annotate": ["car"]}}},
        {"attachment_type": "image"},
        _check_image,
    ),
    "segmentannotation": (
        TaskType.SegmentAnnotation,
        {"attachment": IMG, "labels": ["road"]},
        {"attachment_type": "image", "allow_unlabeled": False},
        _check_segment,
    ),
    "documenttranscription": (
        TaskType.DocumentTranscription,
        {"attachment": "http://127.0.0.1:9/invoice.pdf", "features": [{"type": "block", "label": "header"}]},
        {},
        _check_document,
    ),
    "videoannotation": (
        TaskType.VideoAnnotation,
        {"attachments": ["http://127.0.0.1:9/f0.jpg", "http://127.0.0.1:9/f1.jpg"], "geometries": {"box": {"objects_to_annotate": ["car"]}}},
        {"attachment_type": "image"},
        _check_video,
    ),
    "comparison": (
        TaskType.Comparison,
        {"instruction": "Which is better?", "attachments": ["first text", "second text"], "choices": ["first", "second"]},
        {"attachment_type": "text"},
        _check_comparison,
    ),
}

REQUIRED = [
    ("categorization", "attachment"),
    ("categorization", "categories"),
    ("textcollection", "attachments"),
    ("textcollection", "fields"),
    ("namedentityrecognition", "text"),
    ("namedentityrecognition", "labels"),
    ("imageannotation", "attachment"),
    ("imageannotation", "geometries"),
    ("segmentannotation", "attachment"),
    ("segmentannotation", "labels"),
    ("documenttranscription", "attachment"),
    ("documenttranscription", "features"),
    ("videoannotation", "attachments"),
    ("videoannotation", "geometries"),
    ("comparison", "instruction"),
    ("comparison", "attachments"),
    ("comparison", "choices"),
]


def type_project(client, type_name, uniq) -> str:
    name = f"{type_name} {uniq}"
    project = client.create_project(project_name=name, task_type=TYPES[type_name][0], params={})
    assert project.type == type_name
    return name


@pytest.mark.parametrize("type_name", list(TYPES))
def test_create_each_type(client, uniq, type_name):
    task_type, params, defaults, _ = TYPES[type_name]
    project = type_project(client, type_name, uniq)
    task = client.create_task(task_type, project=project, unique_id=f"{type_name}-{uniq}", **params)
    d = task.as_dict()
    assert HEX24.match(d["task_id"])
    assert d["type"] == type_name
    assert d["status"] == "pending"
    assert d["project"] == project
    assert d["metadata"] == {}
    assert "tags" not in d
    for key, value in params.items():
        if key == "instruction":
            assert d["instruction"] == value
        else:
            assert key in d["params"], key
    for key, value in defaults.items():
        assert d["params"][key] == value, key
    assert client.get_task(task.id).as_dict() == d
    assert count(client, project) == 1


@pytest.mark.parametrize("type_name, field", REQUIRED)
def test_each_type_missing_required_field_is_400(client, uniq, type_name, field):
    task_type, params, _, _ = TYPES[type_name]
    project = type_project(client, type_name, uniq)
    params = {k: v for k, v in params.items() if k != field}
    with pytest.raises(ScaleInvalidRequest) as exc:
        client.create_task(task_type, project=project, **params)
    assert exc.value.code == 400
    if field == "choices":  # comparison needs choices or fields
        assert "choices" in exc.value.message or "fields" in exc.value.message, exc.value.message
    else:
        assert field.rstrip("s") in exc.value.message, exc.value.message
    assert count(client, project) == 0


@pytest.mark.parametrize("type_name", list(TYPES))
def test_each_type_auto_completes_with_test_key(server, client, test_client, uniq, type_name):
    task_type, params, _, check = TYPES[type_name]
    project = type_project(client, type_name, uniq)
    task = test_client.create_task(task_type, project=project, **params)
    assert task.status == "completed"
    assert task.is_test is True
    response = task.response
    assert isinstance(response, dict) and response
    check(response, task.params)
    assert test_client.get_task(task.id).response == response
    # the synthetic answer is one the server itself accepts from a human for the same task
    live = client.create_task(task_type, project=project, **params)
    r = local_http.post(f"{server.url}/api/tasks/{live.id}/answers", json={"response": response}, auth=(server.live_key, ""))
    assert r.status_code == 200, r.text
    assert client.get_task(live.id).status == "completed"

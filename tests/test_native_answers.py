"""The native completion endpoint `POST /api/tasks/{id}/answers`: answers complete tasks
once they have `required_labels` of them, invalid answers are refused without a trace,
and roles decide who may answer and who may use /v1."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
import pytest
from scaleapi.exceptions import ScaleException
from scaleapi.tasks import TaskType

from tests import local_http
from tests.support import wait_until


@dataclass
class People:
    org: str
    annotators: list[str]  # API keys of three annotators
    customer: str  # API key of a customer-role user
    emails: list[str]  # the annotators' e-mails


@pytest.fixture(scope="module")
def people(server) -> People:
    me = local_http.get(f"{server.url}/api/me", auth=(server.live_key, ""))
    assert me.status_code == 200, me.text
    org = me.json()["organization"]["name"]
    tag = uuid.uuid4().hex[:6]

    def user_key(email: str, role: str) -> str:
        server.new_user(org, email, role)
        return server.new_key(org, email=email)

    emails = [f"annotator{i}-{tag}@example.com" for i in range(3)]
    annotators = [user_key(email, "annotator") for email in emails]
    customer = user_key(f"customer-{tag}@example.com", "customer")
    return People(org, annotators, customer, emails)


def add_members(server, client, project: str, people: People) -> None:
    """Answers obey the queue's policy: annotators must be members of the project."""
    project_id = _project_id(server, project)
    for email in people.emails:
        r = local_http.post(f"{server.url}/api/projects/{project_id}/members", json={"email": email}, auth=(server.live_key, ""))
        assert r.status_code == 200, r.text


def _project_id(server, name: str) -> str:
    projects = local_http.get(f"{server.url}/api/projects", auth=(server.live_key, "")).json()["projects"]
    return next(p["id"] for p in projects if p["name"] == name)


def answer(server, task_id, body, key=None) -> httpx.Response:
    return local_http.post(f"{server.url}/api/tasks/{task_id}/answers", json=body, auth=(key or server.live_key, ""))


def new_project(client, uniq, labels=1) -> str:
    name = f"answers {uniq} {labels}"
    params = {"instruction": "Cat or dog?"}
    if labels != 1:
        params["labels_per_task"] = labels
    client.create_project(project_name=name, task_type=TaskType.Categorization, params=params)
    return name


def new_task(client, project, **extra):
    return client.create_task(
        TaskType.Categorization, project=project, attachment="a furry animal", attachment_type="text", categories=["cat", "dog"], **extra
    )


# ----------------------------------------------------------------------------- completion

def test_answer_completes_single_label_task(server, client, uniq, receiver):
    project = new_project(client, uniq)
    task = new_task(client, project, callback_url=receiver.url("/done"))
    assert task.status == "pending"
    r = answer(server, task.id, {"response": {"category": "dog"}, "active_seconds": 12.5})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["task_id"] == task.id
    assert body["status"] == "completed"
    assert body["response"] == {"category": "dog"}
    after = client.get_task(task.id)
    assert after.status == "completed"
    assert after.response == {"category": "dog"}
    assert after.completed_at.endswith("Z")
    assert after.completed_at >= after.created_at
    hooks = receiver.wait_for(lambda h: h.path == "/done")
    assert len(hooks) == 1
    hook = hooks[0]
    assert hook.body["task_id"] == task.id
    assert hook.body["response"] == {"category": "dog"}
    assert hook.body["task"]["status"] == "completed"
    assert hook.headers.get("scale-callback-auth")
    assert wait_until(lambda: client.get_task(task.id).as_dict().get("callback_succeeded") is True)


@pytest.mark.parametrize(
    "body, field, words",
    [
        ({"response": {"category": "horse"}}, "response", "horse"),
        ({"response": ["cat"]}, "response", "object"),
        ({"response": "cat"}, "response", "object"),
        ({"response": {}}, "response", "category"),
        ({"answer": {"category": "cat"}}, "response", "required"),
        ({"response": {"category": ["cat", "dog"]}}, "response", "category"),
        ({"response": {"category": "cat"}, "active_seconds": -1}, "active_seconds", "active_seconds"),
    ],
)
def test_invalid_answer_is_400_and_not_recorded(server, client, uniq, body, field, words):
    project = new_project(client, uniq)
    task = new_task(client, project)
    r = answer(server, task.id, body)
    assert r.status_code == 400, r.text
    err = r.json()
    assert err["status_code"] == 400
    assert err["field"] == field or err["field"].startswith(field + ".")
    assert field in err["error"] and words in err["error"]
    after = client.get_task(task.id)
    assert after.status == "pending"
    assert "response" not in after.as_dict()
    # nothing was recorded: the same user may still answer, and that answer completes it
    ok = answer(server, task.id, {"response": {"category": "cat"}})
    assert ok.status_code == 200, ok.text
    assert client.get_task(task.id).response == {"category": "cat"}


@pytest.mark.parametrize("raw", [b"[1, 2]", b"not json", b'"text"'])
def test_answer_body_not_an_object_is_400(server, client, uniq, raw):
    project = new_project(client, uniq)
    task = new_task(client, project)
    r = local_http.post(
        f"{server.url}/api/tasks/{task.id}/answers", content=raw, headers={"content-type": "application/json"}, auth=(server.live_key, "")
    )
    assert r.status_code == 400, r.text
    assert r.json()["status_code"] == 400
    assert client.get_task(task.id).status == "pending"


def test_three_labels_complete_with_majority(server, client, uniq, people, receiver):
    project = new_project(client, uniq, labels=3)
    add_members(server, client, project, people)
    task = new_task(client, project, callback_url=receiver.url("/majority"))
    first = answer(server, task.id, {"response": {"category": "dog"}}, people.annotators[0])
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "pending"
    assert client.get_task(task.id).status == "pending"
    second = answer(server, task.id, {"response": {"category": "cat"}}, people.annotators[1])
    assert second.status_code == 200, second.text
    assert second.json()["status"] == "pending"
    after_two = client.get_task(task.id)
    assert after_two.status == "pending"
    assert "response" not in after_two.as_dict()
    assert "completed_at" not in after_two.as_dict()
    third = answer(server, task.id, {"response": {"category": "cat"}}, people.annotators[2])
    assert third.status_code == 200, third.text
    assert third.json()["status"] == "completed"
    done = client.get_task(task.id)
    assert done.status == "completed"
    assert done.response == {"category": "cat"}
    hooks = receiver.wait_for(lambda h: h.path == "/majority")
    assert hooks and hooks[0].body["response"] == {"category": "cat"}
    # exactly one completion callback
    assert len([h for h in receiver.received if h.path == "/majority"]) == 1


def test_same_user_cannot_answer_twice(server, client, uniq, people):
    project = new_project(client, uniq, labels=2)
    add_members(server, client, project, people)
    task = new_task(client, project)
    key = people.annotators[0]
    assert answer(server, task.id, {"response": {"category": "cat"}}, key).status_code == 200
    r = answer(server, task.id, {"response": {"category": "cat"}}, key)
    assert r.status_code == 400, r.text
    assert "already" in r.json()["error"]
    assert client.get_task(task.id).status == "pending"
    # another user's answer then completes it
    r = answer(server, task.id, {"response": {"category": "dog"}}, people.annotators[1])
    assert r.status_code == 200, r.text
    # tie between cat and dog: earliest answer wins
    assert client.get_task(task.id).response == {"category": "cat"}


def test_answering_completed_task_is_400(server, client, uniq, people):
    project = new_project(client, uniq)
    add_members(server, client, project, people)
    task = new_task(client, project)
    assert answer(server, task.id, {"response": {"category": "cat"}}).status_code == 200
    r = answer(server, task.id, {"response": {"category": "dog"}}, people.annotators[0])
    assert r.status_code == 400, r.text
    assert "completed" in r.json()["error"]
    after = client.get_task(task.id)
    assert after.status == "completed"
    assert after.response == {"category": "cat"}


def test_answering_canceled_task_is_400(server, client, uniq):
    project = new_project(client, uniq)
    task = new_task(client, project)
    client.cancel_task(task.id)
    r = answer(server, task.id, {"response": {"category": "dog"}})
    assert r.status_code == 400, r.text
    assert "canceled" in r.json()["error"]
    after = client.get_task(task.id)
    assert after.status == "canceled"
    assert "response" not in after.as_dict()


def test_answering_unknown_task_is_404(server):
    r = answer(server, "0123456789abcdef01234567", {"response": {"category": "cat"}})
    assert r.status_code == 404, r.text
    assert r.json()["status_code"] == 404


def test_answer_needs_a_key(server, client, uniq):
    project = new_project(client, uniq)
    task = new_task(client, project)
    r = local_http.post(f"{server.url}/api/tasks/{task.id}/answers", json={"response": {"category": "cat"}})
    assert r.status_code == 401, r.text
    r = answer(server, task.id, {"response": {"category": "cat"}}, key="live_" + "0" * 32)
    assert r.status_code == 401, r.text
    assert client.get_task(task.id).status == "pending"


# ----------------------------------------------------------------------------- roles

def test_annotator_refused_on_v1_but_may_answer(server, client, uniq, people):
    project = new_project(client, uniq)
    add_members(server, client, project, people)
    task = new_task(client, project)
    annotator = server.client(people.annotators[0])
    calls = {
        "get_task": lambda: annotator.get_task(task.id),
        "create_task": lambda: new_task(annotator, project),
        "cancel_task": lambda: annotator.cancel_task(task.id),
        "set_task_metadata": lambda: annotator.set_task_metadata(task.id, {"x": 1}),
        "get_projects": lambda: annotator.get_projects(),
        "tasks": lambda: annotator.tasks(project=project),
    }
    for name, call in calls.items():
        with pytest.raises(ScaleException) as exc:
            call()
        assert exc.value.code == 403, name
    assert client.get_tasks_count(project_name=project) == 1
    after = client.get_task(task.id)
    assert after.status == "pending" and after.metadata == {}
    r = answer(server, task.id, {"response": {"category": "dog"}}, people.annotators[0])
    assert r.status_code == 200, r.text
    assert client.get_task(task.id).response == {"category": "dog"}


def test_customer_uses_v1_but_cannot_answer(server, client, uniq, people):
    project = new_project(client, uniq)
    customer = server.client(people.customer)
    task = new_task(customer, project)
    assert task.status == "pending"
    assert customer.get_task(task.id).id == task.id
    assert client.get_task(task.id).id == task.id  # same organization
    r = answer(server, task.id, {"response": {"category": "cat"}}, people.customer)
    assert r.status_code == 403, r.text
    assert r.json()["status_code"] == 403
    after = client.get_task(task.id)
    assert after.status == "pending"
    assert "response" not in after.as_dict()


def test_key_of_another_org_gets_404(server, client, uniq):
    project = new_project(client, uniq)
    task = new_task(client, project)
    foreign = server.new_key(f"elsewhere {uniq}")
    r = answer(server, task.id, {"response": {"category": "cat"}}, foreign)
    assert r.status_code == 404, r.text
    assert r.json()["status_code"] == 404
    after = client.get_task(task.id)
    assert after.status == "pending"
    assert "response" not in after.as_dict()

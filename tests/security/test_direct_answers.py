"""`POST /api/tasks/{id}/answers` applies the queue's policy (high finding: a non-member
annotator, or one removed from the project, could answer and complete any task of the
organization and read it back). Membership, pauses, qualification and role, exactly as
for `next` and `submit`."""

from __future__ import annotations

import pytest
from scaleapi.tasks import TaskType

from tests.browser import Org
from tests.db_access import query

KW = {"attachment": "The sky is blue.", "attachment_type": "text", "categories": ["true", "false"]}


@pytest.fixture()
def org(server):
    return Org(server)


def _project(client, org, uniq, **params):
    name = f"direct {uniq}"
    client.create_project(project_name=name, task_type=TaskType.Categorization, params={"instruction": "True?", **params})
    return name, org.project_id(name)


def _answer(http, task_id, category="true"):
    return http.post(f"/api/tasks/{task_id}/answers", json={"response": {"category": category}})


def _answers_stored(server, task_id) -> int:
    return query(server, "SELECT COUNT(*) FROM task_answers a JOIN tasks t ON t.id = a.task_id WHERE t.public_id = ?", (task_id,))[0][0]


def test_non_member_cannot_answer_or_read(server, client, org, uniq):
    name, pid = _project(client, org, uniq)
    task = client.create_task(TaskType.Categorization, project=name, **KW).id
    outsider = org.login(org.person("annotator"))
    r = _answer(outsider, task)
    assert r.status_code == 403, r.text
    assert "not a member" in r.json()["error"]
    assert outsider.get(f"/api/tasks/{task}").status_code == 403
    assert client.get_task(task).status == "pending" and _answers_stored(server, task) == 0


def test_removed_member_cannot_answer(server, client, org, uniq):
    name, pid = _project(client, org, uniq)
    tasks = [client.create_task(TaskType.Categorization, project=name, **KW).id for _ in range(2)]
    person = org.person("annotator")
    org.add_member(pid, person)
    http = org.login(person)
    assert _answer(http, tasks[0]).status_code == 200
    assert org.http.delete(f"/api/projects/{pid}/members/{person.id}").status_code == 200
    r = _answer(http, tasks[1])
    assert r.status_code == 403, r.text
    assert client.get_task(tasks[1]).status == "pending" and _answers_stored(server, tasks[1]) == 0


def test_paused_member_cannot_answer(server, client, org, uniq):
    name, pid = _project(client, org, uniq, gold_rate=1.0, pause_below=0.7)
    for _ in range(3):
        client.create_evaluation_task(TaskType.Categorization, project=name, expected_response={"category": "true"}, **KW)
    work = client.create_task(TaskType.Categorization, project=name, **KW).id
    person = org.person("annotator")
    org.add_member(pid, person)
    http = org.login(person)
    for _ in range(3):  # all gold wrong: paused
        data = http.post(f"/api/projects/{pid}/next", json={}).json()
        assert http.post(f"/api/assignments/{data['assignment']['id']}/submit", json={"response": {"category": "false"}}).status_code == 200
    assert http.post(f"/api/projects/{pid}/next", json={}).json()["paused"] is True
    r = _answer(http, work)
    assert r.status_code == 403, r.text
    assert "paused" in r.json()["error"]
    assert _answers_stored(server, work) == 0


def test_qualification_comes_first(server, client, org, uniq):
    name, pid = _project(client, org, uniq, qualification_size=2)
    for _ in range(2):
        client.create_evaluation_task(TaskType.Categorization, project=name, expected_response={"category": "true"}, **KW)
    work = client.create_task(TaskType.Categorization, project=name, **KW).id
    person = org.person("annotator")
    org.add_member(pid, person)
    http = org.login(person)
    r = _answer(http, work)
    assert r.status_code == 403, r.text
    assert "qualification" in r.json()["error"]
    for _ in range(2):
        data = http.post(f"/api/projects/{pid}/next", json={}).json()
        assert http.post(f"/api/assignments/{data['assignment']['id']}/submit", json={"response": {"category": "true"}}).status_code == 200
    assert _answer(http, work).status_code == 200  # qualified


def test_member_answers_and_customer_is_refused(server, client, org, uniq):
    name, pid = _project(client, org, uniq)
    task = client.create_task(TaskType.Categorization, project=name, **KW).id
    customer = org.login(org.person("customer"))
    assert _answer(customer, task).status_code == 403
    person = org.person("annotator")
    org.add_member(pid, person)
    r = _answer(org.login(person), task, "false")
    assert r.status_code == 200, r.text
    assert client.get_task(task).response == {"category": "false"}

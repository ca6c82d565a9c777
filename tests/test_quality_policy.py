"""Adaptive overlap through the API on SQLite and PostgreSQL: after `labels_per_task`
labels the task completes only when the consensus confidence reaches the project's
target; otherwise it asks for one more label, up to `max_labels`. The `/v1` task and the
callback carry a `quality` object."""

from __future__ import annotations

import pytest
from scaleapi.tasks import TaskType


def setup(client, org, uniq, n_people=4, **policy):
    name = f"adaptive {uniq}"
    client.create_project(project_name=name, task_type=TaskType.Categorization,
                          params={"instruction": "Pick.", "labels_per_task": 2, **policy})
    pid = org.project_id(name)
    people = []
    for _ in range(n_people):
        person = org.person("annotator")
        org.add_member(pid, person)
        people.append(org.login(person))
    return name, pid, people


def label(http, pid, category):
    data = http.post(f"/api/projects/{pid}/next", json={}).json()
    assert data["assignment"], data
    r = http.post(f"/api/assignments/{data['assignment']['id']}/submit", json={"response": {"category": category}})
    assert r.status_code == 200, r.text
    return data["task"]["task_id"], r.json()["task_status"]


def test_agreement_completes_at_the_minimum(client, org, uniq, receiver):
    name, pid, people = setup(client, org, uniq, max_labels=4, target_confidence=0.9)
    task = client.create_task(TaskType.Categorization, project=name, attachment="t", attachment_type="text", categories=["x", "y"],
                              callback_url=receiver.url())
    assert label(people[0], pid, "x") == (task.id, "pending")
    assert label(people[1], pid, "x") == (task.id, "completed")
    done = client.get_task(task.id)
    # two labelers of prior accuracy 0.8 agreeing on one of two categories: 0.8² / (0.8² + 0.2²)
    assert done.response == {"category": "x"}
    assert done.as_dict()["quality"] == {"confidence": 0.9412, "labels": 2, "agreeing": 2, "method": "one_coin"}
    hooks = receiver.wait_for(lambda r: r.body["task_id"] == task.id)
    assert hooks[0].body["task"]["quality"]["confidence"] == 0.9412


def test_disagreement_asks_for_more_labels_up_to_the_maximum(client, org, uniq):
    name, pid, people = setup(client, org, uniq, n_people=5, max_labels=4, target_confidence=0.9)
    task = client.create_task(TaskType.Categorization, project=name, attachment="t", attachment_type="text", categories=["x", "y"])
    label(people[0], pid, "x")
    assert label(people[1], pid, "y") == (task.id, "pending")  # 0.5 < 0.9: one more
    detail = org.task(task.id)
    assert detail["required_labels"] == 3 and detail["open_slots"] == 1 and detail["quality"]["confidence"] == 0.5
    assert label(people[2], pid, "x") == (task.id, "pending")  # 2:1 gives 0.8 < 0.9: one more
    assert label(people[3], pid, "x") == (task.id, "completed")  # 3:1 gives 0.9412, and 4 is the maximum anyway
    done = client.get_task(task.id).as_dict()
    assert done["response"] == {"category": "x"}
    assert done["quality"] == {"confidence": 0.9412, "labels": 4, "agreeing": 3, "method": "one_coin"}
    assert people[4].post(f"/api/projects/{pid}/next", json={}).json()["assignment"] is None


def test_the_maximum_stops_asking(client, org, uniq):
    name, pid, people = setup(client, org, uniq, max_labels=3, target_confidence=0.95)
    task = client.create_task(TaskType.Categorization, project=name, attachment="t", attachment_type="text", categories=["x", "y"])
    label(people[0], pid, "x")
    label(people[1], pid, "y")
    assert label(people[2], pid, "y") == (task.id, "completed")
    done = client.get_task(task.id).as_dict()
    assert done["response"] == {"category": "y"} and done["quality"]["labels"] == 3 and done["quality"]["confidence"] == 0.8


def test_labeler_records_weigh_later_answers(client, org, uniq):
    """A labeler who agreed with the consensus 6 times out of 6 outweighs a newcomer."""
    name, pid, people = setup(client, org, uniq, n_people=3)
    expert, novice, third = people
    for _ in range(6):  # expert and third agree on six tasks
        client.create_task(TaskType.Categorization, project=name, attachment="t", attachment_type="text", categories=["x", "y"])
    for _ in range(6):
        label(expert, pid, "x")
        label(third, pid, "x")
    task = client.create_task(TaskType.Categorization, project=name, attachment="t", attachment_type="text", categories=["x", "y"])
    label(novice, pid, "y")
    label(expert, pid, "x")
    done = client.get_task(task.id).as_dict()
    # expert: (6 + 4) / (6 + 5) = 0.909; novice: 0.8 → x: 0.909·0.2 = 0.1818 vs y: 0.8·0.0909 = 0.0727 → 0.714
    assert done["response"] == {"category": "x"} and done["quality"]["confidence"] == 0.7143


def test_policy_validation(client, org, uniq):
    name = f"policy {uniq}"
    import scaleapi

    with pytest.raises(scaleapi.exceptions.ScaleInvalidRequest) as err:
        client.create_project(project_name=name, task_type=TaskType.Categorization, params={"labels_per_task": 3, "max_labels": 2})
    assert "params.max_labels" in str(err.value)
    with pytest.raises(scaleapi.exceptions.ScaleInvalidRequest) as err:
        client.create_project(project_name=name, task_type=TaskType.Categorization, params={"target_confidence": 1.0})
    assert "params.target_confidence" in str(err.value)
    client.create_project(project_name=name, task_type=TaskType.Categorization, params={"instruction": "x"})
    pid = org.project_id(name)
    for body, field in [({"target_confidence": 0.3}, "target_confidence"), ({"max_labels": 0}, "max_labels"), ({"max_labels": "3"}, "max_labels")]:
        r = org.http.patch(f"/api/projects/{pid}", json=body)
        assert r.status_code == 400 and r.json()["field"] == field, r.text
    settings = org.settings(pid, labels_per_task=2, max_labels=5, target_confidence=0.95)
    assert (settings["labels_per_task"], settings["max_labels"], settings["target_confidence"]) == (2, 5, 0.95)
    assert org.settings(pid, target_confidence=None)["target_confidence"] is None


def test_low_confidence_goes_to_review(client, org, uniq):
    name, pid, people = setup(client, org, uniq, review_below=0.9)
    agreed = client.create_task(TaskType.Categorization, project=name, attachment="t", attachment_type="text", categories=["x", "y"])
    split = client.create_task(TaskType.Categorization, project=name, attachment="t", attachment_type="text", categories=["x", "y"])
    label(people[0], pid, "x")
    label(people[1], pid, "x")  # 0.94 ≥ 0.9: completes
    label(people[0], pid, "x")
    assert label(people[1], pid, "y") == (split.id, "pending")  # 0.5 < 0.9: a reviewer decides
    assert client.get_task(agreed.id).status == "completed"
    assert org.task(split.id)["review_state"] == "waiting"


def test_majority_vote_ignores_labeler_records(client, org, uniq):
    name, pid, people = setup(client, org, uniq, n_people=3, aggregation="majority_vote")
    expert, novice, third = people
    for _ in range(6):
        client.create_task(TaskType.Categorization, project=name, attachment="t", attachment_type="text", categories=["x", "y"])
    for _ in range(6):
        label(expert, pid, "x")
        label(third, pid, "x")
    task = client.create_task(TaskType.Categorization, project=name, attachment="t", attachment_type="text", categories=["x", "y"])
    label(novice, pid, "y")
    label(expert, pid, "x")
    done = client.get_task(task.id).as_dict()
    # equal weights: a 1:1 tie, the answer given first wins with 0.5
    assert done["response"] == {"category": "y"} and done["quality"]["confidence"] == 0.5
    r = org.http.patch(f"/api/projects/{pid}", json={"aggregation": "dawid"})
    assert r.status_code == 400 and r.json()["field"] == "aggregation"

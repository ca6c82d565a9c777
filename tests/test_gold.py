"""Gold items on SQLite and PostgreSQL: Scale's evaluation and training tasks created with
the official client, qualification before real work, gold mixed in at a rate, labelers
paused when their gold accuracy falls below the project's threshold (their leases go back)
and reinstated by a lead, and gold accuracy weighing their answers in consensus."""

from __future__ import annotations

import pytest
import scaleapi
from scaleapi.tasks import TaskType

KW = {"attachment": "The sky is blue.", "attachment_type": "text", "categories": ["true", "false"]}


def project(client, org, uniq, **params):
    name = f"gold {uniq}"
    client.create_project(project_name=name, task_type=TaskType.Categorization, params={"instruction": "True or false?", **params})
    return name, org.project_id(name)


def member(org, pid):
    person = org.person("annotator")
    org.add_member(pid, person)
    return person, org.login(person)


def claim(http, pid):
    r = http.post(f"/api/projects/{pid}/next", json={})
    assert r.status_code == 200, r.text
    return r.json()


def answer(http, data, category):
    r = http.post(f"/api/assignments/{data['assignment']['id']}/submit", json={"response": {"category": category}})
    assert r.status_code == 200, r.text
    return r.json()


def test_evaluation_tasks_through_the_official_client(client, org, uniq):
    name, pid = project(client, org, uniq)
    gold = client.create_evaluation_task(TaskType.Categorization, project=name, expected_response={"category": "true"}, **KW)
    assert gold.id and gold.as_dict()["expected_response"] == {"category": "true"}
    training = client.create_training_task(TaskType.Categorization, project=name, expected_response={"category": "false"}, **KW)
    assert training.as_dict()["kind"] == "training"
    with pytest.raises(scaleapi.exceptions.ScaleInvalidRequest) as err:
        client.create_evaluation_task(TaskType.Categorization, project=name, expected_response={"category": "maybe"}, **KW)
    assert "expected_response" in str(err.value)
    with pytest.raises(scaleapi.exceptions.ScaleInvalidRequest) as err:
        client.create_evaluation_task(TaskType.Categorization, project=name, **KW)
    assert "expected_response" in str(err.value)
    # gold items are not the customer's tasks: not listed, not counted
    listed = client.get_tasks(project_name=name)
    assert list(listed) == []
    items = org.http.get(f"/api/projects/{pid}/gold").json()["items"]
    assert [(i["kind"], i["answered"]) for i in items] == [("evaluation", 0), ("training", 0)]


def test_practice_first_then_qualification_then_work(client, org, uniq):
    name, pid = project(client, org, uniq, qualification_size=2)
    golds = [client.create_evaluation_task(TaskType.Categorization, project=name, expected_response={"category": "true"}, **KW).id
             for _ in range(3)]
    practice = client.create_training_task(TaskType.Categorization, project=name, expected_response={"category": "false"}, **KW).id
    work = client.create_task(TaskType.Categorization, project=name, **KW).id
    _, http = member(org, pid)
    first = claim(http, pid)
    assert first["task"]["task_id"] == practice and first["task"]["practice"] is True
    feedback = answer(http, first, "true")
    assert feedback["practice"] == {"correct": False, "expected_response": {"category": "false"}}
    second = claim(http, pid)
    assert second["task"]["task_id"] == golds[0] and second["task"]["practice"] is False  # hidden among work
    assert "practice" not in answer(http, second, "true")
    assert claim(http, pid)["task"]["task_id"] == golds[1]
    # two gold answered: qualified, real work now (gold_rate 0: no more gold)
    data = http.post(f"/api/projects/{pid}/next", json={"holding": []}).json()
    assert data["task"]["task_id"] == golds[1]  # still holding the unanswered one: it resumes
    answer(http, data, "false")
    assert claim(http, pid)["task"]["task_id"] == work
    # the gold items never changed state, and answers were scored
    assert client.get_task(golds[0]).status == "pending"
    items = {i["task_id"]: i for i in org.http.get(f"/api/projects/{pid}/gold").json()["items"]}
    assert (items[golds[0]]["answered"], items[golds[0]]["correct"]) == (1, 1)
    assert (items[golds[1]]["answered"], items[golds[1]]["correct"]) == (1, 0)
    settings = org.http.get(f"/api/projects/{pid}").json()
    [m] = settings["members"]
    assert (m["gold_answered"], m["gold_correct"], m["paused"]) == (2, 1, False)


def test_gold_rate_mixes_gold_into_work(client, org, uniq):
    name, pid = project(client, org, uniq, gold_rate=1.0)
    golds = {client.create_evaluation_task(TaskType.Categorization, project=name, expected_response={"category": "true"}, **KW).id
             for _ in range(2)}
    work = [client.create_task(TaskType.Categorization, project=name, **KW).id for _ in range(2)]
    _, http = member(org, pid)
    seen = []
    for _ in range(4):
        data = claim(http, pid)
        seen.append(data["task"]["task_id"])
        answer(http, data, "true")
    assert set(seen[:2]) == golds and seen[2:] == work  # rate 1: gold while any is left


def test_low_gold_accuracy_pauses_and_releases_leases(client, org, uniq):
    name, pid = project(client, org, uniq, gold_rate=1.0, pause_below=0.7)
    for _ in range(3):
        client.create_evaluation_task(TaskType.Categorization, project=name, expected_response={"category": "true"}, **KW)
    work = client.create_task(TaskType.Categorization, project=name, **KW).id
    careless, http = member(org, pid)
    _, other = member(org, pid)
    for _ in range(3):
        answer(other, claim(other, pid), "true")
    for _ in range(2):
        answer(http, claim(http, pid), "false")
    held = claim(http, pid)  # the third gold item ...
    prefetched = http.post(f"/api/projects/{pid}/next", json={"holding": [held["assignment"]["id"]]}).json()
    assert prefetched["task"]["task_id"] == work  # ... and the only real task, prefetched
    assert claim(other, pid)["reason"] == "nothing left to label"
    answer(http, held, "false")  # 0 of 3 correct: smoothed (0 + 4) / (3 + 5) = 0.5 < 0.7
    paused = claim(http, pid)
    assert paused["assignment"] is None and paused["paused"] is True and "0 of 3 correct" in paused["reason"]
    # the paused labeler's lease on real work went back at once: someone else gets it
    assert claim(other, pid)["task"]["task_id"] == work
    settings = org.http.get(f"/api/projects/{pid}").json()
    me = next(m for m in settings["members"] if m["email"] == careless.email)
    assert me["paused"] and "below the project's 70%" in me["paused_reason"]
    annotator_try = http.post(f"/api/projects/{pid}/members/{careless.id}/reinstate")
    assert annotator_try.status_code == 403  # only a lead reinstates
    r = org.http.post(f"/api/projects/{pid}/members/{careless.id}/reinstate")
    assert r.status_code == 200
    me = next(m for m in r.json()["members"] if m["email"] == careless.email)
    assert (me["paused"], me["gold_answered"]) == (False, 0)
    after = claim(http, pid)
    assert "paused" not in after and after["reason"] == "nothing left to label"


def test_gold_accuracy_weighs_consensus(client, org, uniq):
    name, pid = project(client, org, uniq, labels_per_task=2, gold_rate=1.0)
    for _ in range(3):
        client.create_evaluation_task(TaskType.Categorization, project=name, expected_response={"category": "true"}, **KW)
    task = client.create_task(TaskType.Categorization, project=name, **KW).id
    _, good = member(org, pid)
    _, bad = member(org, pid)
    for _ in range(3):
        answer(good, claim(good, pid), "true")
        answer(bad, claim(bad, pid), "false")
    answer(bad, claim(bad, pid), "true")  # the novice-by-gold says true on the real task
    assert claim(good, pid)["task"]["task_id"] == task
    # good (3/3 gold: (3 + 4) / (3 + 5) = 0.875) says false, bad (0/3: 0.5) says true:
    # false: 0.875·0.5 = 0.4375 vs true: 0.5·0.125 = 0.0625 → false with 0.875
    data = good.post(f"/api/projects/{pid}/next", json={}).json()
    answer(good, data, "false")
    done = client.get_task(task).as_dict()
    assert done["response"] == {"category": "false"} and done["quality"]["confidence"] == 0.875
    # the quality report keeps gold apart: each labeler's answers against expected responses
    report = org.http.get(f"/api/projects/{pid}/quality").json()
    assert report["gold_answers"] == 6 and report["labels"] == ["true", "false"]
    assert report["gold_confusion_total"] == [[3, 3], [0, 0]]  # expected true: 3 said true, 3 false
    rows = {a["gold_answered"]: a for a in report["annotators"]}
    assert rows[3]["gold_confusion"] in ([[3, 0], [0, 0]], [[0, 3], [0, 0]])
    assert sorted(a["gold_confusion"][0][0] for a in report["annotators"]) == [0, 3]
    assert {a["accuracy_basis"] for a in report["annotators"]} == {"gold"}
    # ... while the consensus matrix counts only real work (the one completed task)
    assert sum(map(sum, report["confusion_total"])) == 2
    lead = org.login(org.person("admin"))
    page = lead.get(f"/admin/projects/{pid}/quality")
    assert page.status_code == 200 and 'id="gold-heatmaps"' in page.text and 'data-heatmap="gold-all"' in page.text
    assert "Confusion against gold" in page.text and "Confusion against the consensus" in page.text


def test_gold_settings_validate(client, org, uniq):
    name, pid = project(client, org, uniq)
    for body, field in [({"gold_rate": 2}, "gold_rate"), ({"qualification_size": -1}, "qualification_size"), ({"pause_below": 1.5}, "pause_below")]:
        r = org.http.patch(f"/api/projects/{pid}", json=body)
        assert r.status_code == 400 and r.json()["field"] == field, r.text
    settings = org.settings(pid, gold_rate=0.1, qualification_size=5, pause_below=0.6)
    assert (settings["gold_rate"], settings["qualification_size"], settings["pause_below"]) == (0.1, 5, 0.6)
    with pytest.raises(scaleapi.exceptions.ScaleInvalidRequest) as err:
        client.create_project(project_name=f"bad {uniq}", task_type=TaskType.Categorization, params={"gold_rate": -0.1})
    assert "params.gold_rate" in str(err.value)


def test_native_gold_endpoint(client, org, uniq):
    name, pid = project(client, org, uniq)
    r = org.http.post(f"/api/projects/{pid}/gold", json={"kind": "training", "expected_response": {"category": "true"}, **KW})
    assert r.status_code == 201 and r.json()["kind"] == "training"
    r = org.http.post(f"/api/projects/{pid}/gold", json={"kind": "exam", "expected_response": {"category": "true"}, **KW})
    assert r.status_code == 400 and r.json()["field"] == "kind"
    r = org.http.post(f"/api/projects/{pid}/gold", json={"expected_response": {"category": "nope"}, **KW})
    assert r.status_code == 400 and r.json()["field"].startswith("expected_response")
    assert [i["kind"] for i in org.http.get(f"/api/projects/{pid}/gold").json()["items"]] == ["training"]

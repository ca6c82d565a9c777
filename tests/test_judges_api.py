"""LLM judges through a real OpenAI-compatible server the test owns (tests/openai_server.py),
on SQLite and PostgreSQL: the key is stored and never shown, pairwise tasks are judged in
both orders and consistent verdicts become pre-labels people accept or edit; a
position-biased judge's inconsistent verdicts are counted and not used; timeouts, errors
and unparseable replies are reported without blocking people; the judge-quality report
compares the judge with people (kappa, accuracy, replay of adaptive overlap)."""

from __future__ import annotations

import uuid

import pytest

from tests import local_http
from tests.browser import Org
from tests.openai_server import OpenAIServer

KEY = "sk-test-" + "s3cret" * 4


def chat_project(org: Org, labels: int = 1) -> tuple[str, str]:
    name = f"judged {uuid.uuid4().hex[:8]}"
    r = org.http.post("/v1/projects", json={"name": name, "type": "chat", "params": {"instruction": "Which is better?", "labels_per_task": labels}})
    assert r.status_code == 200, r.text
    return name, org.project_id(name)


def pairwise(org: Org, project: str, good_first: bool) -> str:
    texts = ["A GOOD answer.", "A weak answer."] if good_first else ["A weak answer.", "A GOOD answer."]
    r = org.http.post("/v1/task/chat", json={"project": project, "messages": [{"role": "user", "content": "Why is the sky blue?"}],
                                             "responses": [{"model": "m1", "content": texts[0]}, {"model": "m2", "content": texts[1]}],
                                             "evaluation": "pairwise"})
    assert r.status_code == 200, r.text
    return r.json()["task_id"]


def attach(org: Org, pid: str, llm: OpenAIServer, **extra) -> dict:
    body = {"backend": "openai", "url": llm.url, "model_name": "judge-1", "api_key": KEY, "timeout_seconds": 1, "concurrency": 2, **extra}
    r = org.http.put(f"/api/projects/{pid}/model", json=body)
    assert r.status_code == 200, r.text
    assert KEY not in r.text
    return r.json()


def run(org: Org, pid: str) -> dict:
    r = org.http.post(f"/api/projects/{pid}/model/run")
    assert r.status_code == 200, r.text
    return r.json()


def test_judge_prelabels_in_both_orders_and_people_accept_or_edit(org, llm):
    name, pid = chat_project(org)
    good_a, good_b = pairwise(org, name, True), pairwise(org, name, False)
    ranking = org.http.post("/v1/task/chat", json={"project": name, "messages": [{"role": "user", "content": "Name a colour."}],
                                                   "responses": [{"content": "Blue."}, {"content": "GOOD: red."}, {"content": "Green."}],
                                                   "evaluation": "ranking"}).json()["task_id"]
    rubric = org.http.post("/v1/task/chat", json={"project": name, "messages": [{"role": "user", "content": "Say hi."}],
                                                  "responses": [{"content": "GOOD hi"}, {"content": "hey"}], "evaluation": "rubric",
                                                  "rubric": [{"id": "tone", "title": "Tone", "scale": 5}]}).json()["task_id"]
    state = attach(org, pid, llm)
    assert state["api_key_set"] is True and state["backend"] == "openai" and state["version"] == 1 and "api_key" not in state
    r = org.http.post(f"/api/projects/{pid}/model/check")
    assert r.json() == {"healthy": True, "backend": "openai", "error": None}
    state = run(org, pid)
    assert state["healthy"] is True and state["last_error"] is None and state["predictions"] == 4
    calls = llm.chat_calls()
    assert len(calls) == 2 * 2 + 1 + 1  # each pair in both orders; ranking and rubric once
    assert all(c["authorization"] == f"Bearer {KEY}" and c["body"]["model"] == "judge-1" and c["body"]["temperature"] == 0 for c in calls)
    prompts = [c["body"]["messages"][-1]["content"] for c in calls if "[Response A]" in c["body"]["messages"][-1]["content"]]
    assert sum("[Response A]\nA GOOD answer." in p for p in prompts) == 2  # each order once per pair
    assert org.task(good_a)["prediction"]["response"]["preference"] == {"winner": "A", "strength": "better"}
    assert org.task(good_b)["prediction"]["response"]["preference"]["winner"] == "B"
    assert org.task(ranking)["prediction"]["response"]["ranking"] == ["B", "A", "C"]
    assert org.task(rubric)["prediction"]["response"]["scores"]["A"]["tone"]["score"] == 5
    audit = org.http.get("/api/audit", params={"action": "model.settings"}).text
    assert KEY not in audit and "(set)" in audit
    assert KEY not in org.http.get(f"/api/projects/{pid}/model").text

    person = org.person("annotator")
    org.add_member(pid, person)
    http = org.login(person)
    statuses = {}
    for _ in range(2):
        data = http.post(f"/api/projects/{pid}/next", json={}).json()
        task_id, hypothesis = data["task"]["task_id"], data["task"]["hypothesis"]
        assert hypothesis == org.task(task_id)["prediction"]["response"]
        answer = hypothesis if task_id == good_a else {"preference": {"winner": "B", "strength": "much better"}}
        r = http.post(f"/api/assignments/{data['assignment']['id']}/submit", json={"response": answer, "active_seconds": 3})
        assert r.status_code == 200, r.text
        statuses[task_id] = org.task(task_id)["answers"][0]["hypothesis_status"]
    assert statuses == {good_a: "accepted", good_b: "edited"}


def test_a_position_biased_judge_is_caught(org, llm):
    name, pid = chat_project(org)
    tasks = [pairwise(org, name, k % 2 == 0) for k in range(4)]
    llm.mode = "biased"
    state = attach(org, pid, llm)
    state = run(org, pid)
    assert state["predictions"] == 0 and state["last_error"] is None  # inconsistent verdicts are not used
    assert all(org.task(t).get("prediction") is None for t in tasks)
    report = org.http.get(f"/api/projects/{pid}/judge").json()
    assert report["verdicts"] == 4 and report["inconsistent"] == 4 and report["consistent"] == 0
    bias = report["position_bias"]
    assert bias["first_position_share"] == 1.0 and bias["inconsistent_toward_first"] == 4 and bias["consistency"] == 0.0


@pytest.mark.parametrize("mode, words", [("slow", "timed out"), ("error", "HTTP 500"), ("garbage", "not the asked JSON")])
def test_failures_are_reported_without_blocking_people(org, llm, mode, words):
    name, pid = chat_project(org)
    task = pairwise(org, name, True)
    llm.mode = mode
    attach(org, pid, llm, timeout_seconds=0.5)
    state = run(org, pid)
    assert state["healthy"] is False and words in state["last_error"] and "judged again next round" in state["last_error"]
    assert KEY not in state["last_error"]
    person = org.person("annotator")
    org.add_member(pid, person)
    data = org.login(person).post(f"/api/projects/{pid}/next", json={}).json()
    assert data["task"]["task_id"] == task and data["task"]["hypothesis"] is None  # people go on labeling
    llm.mode = "ok"
    state = run(org, pid)
    assert state["healthy"] is True and state["last_error"] is None and state["predictions"] == 1


def test_private_addresses_are_refused(org):
    name, pid = chat_project(org)
    pairwise(org, name, True)
    attach(org, pid, OpenAIServerAddress("http://10.255.255.1/v1"))
    state = run(org, pid)
    assert state["healthy"] is False, state
    assert "10.255.255.1 is a private or loopback address" in state["last_error"]


class OpenAIServerAddress:
    def __init__(self, url: str):
        self.url = url


@pytest.mark.parametrize("body, field", [({"model_name": None}, "model_name"), ({"temperature": 3}, "temperature"),
                                         ({"concurrency": 0}, "concurrency"), ({"prompts": {"summary": "x"}}, "prompts")])
def test_bad_judge_settings_name_the_field(org, llm, body, field):
    _, pid = chat_project(org)
    base = {"backend": "openai", "url": llm.url, "model_name": "judge-1", **body}
    base = {k: v for k, v in base.items() if v is not None}
    r = org.http.put(f"/api/projects/{pid}/model", json=base)
    assert r.status_code == 400 and r.json()["field"].startswith(field), r.text
    assert org.http.get(f"/api/projects/{pid}/model").json() == {"backend": None}


def test_openai_backend_is_for_chat_projects(org, client, uniq, llm):
    from scaleapi.tasks import TaskType

    client.create_project(project_name=f"cats {uniq}", task_type=TaskType.Categorization, params={"instruction": "Pick."})
    r = org.http.put(f"/api/projects/{org.project_id(f'cats {uniq}')}/model",
                     json={"backend": "openai", "url": llm.url, "model_name": "judge-1"})
    assert r.status_code == 400 and r.json()["field"] == "backend"


def test_judge_quality_against_people(org, llm, server):
    name, pid = chat_project(org, labels=2)
    tasks = [pairwise(org, name, k % 3 != 0) for k in range(12)]
    attach(org, pid, llm)
    assert run(org, pid)["predictions"] == 12
    me = local_http.get(f"{server.url}/api/me", auth=(server.live_key, "")).json()["organization"]["name"]
    keys = []
    for i in range(2):
        person = org.person("annotator")
        org.add_member(pid, person)
        keys.append(server.new_key(me, email=person.email))
    for k, task in enumerate(tasks):
        good = "A" if k % 3 != 0 else "B"
        for i, key in enumerate(keys):
            winner = good if (i == 0 or k % 4) else ("B" if good == "A" else "A")  # the second person errs on every 4th task
            r = local_http.post(f"{server.url}/api/tasks/{task}/answers", json={"response": {"preference": {"winner": winner, "strength": "better"}}},
                           auth=(key, ""))
            assert r.status_code == 200, r.text
    report = org.http.get(f"/api/projects/{pid}/judge").json()
    assert report["judge"] == "judge-1" and report["consistent"] == 12
    people = report["agreement_with_people"]
    assert people["pairs"] == 24 and people["raw_agreement"] == pytest.approx(21 / 24, abs=1e-4)
    assert people["kappa_low"] <= people["kappa"] <= people["kappa_high"]
    acc = report["accuracy_vs_consolidated"]
    assert acc["tasks"] == 12 and acc["low"] <= acc["accuracy"] <= acc["high"]
    replay = report["replay"]
    assert replay["tasks"] == 12 and replay["human_labels_fixed"] == 24
    assert replay["human_labels_adaptive"] + replay["human_labels_saved"] == 24 and replay["human_labels_adaptive"] >= 12


def test_the_judge_votes_and_people_are_asked_only_where_uncertain(org, llm, server):
    """Adaptive overlap with the judge as one more labeler: one person agreeing with the
    judge settles a task; one person disagreeing asks for another. Without the judge's
    vote one person settles it either way (the disagreement goes unseen)."""
    pids = {}
    for votes in (True, False):
        name, pid = chat_project(org)
        r = org.http.patch(f"/api/projects/{pid}", json={"target_confidence": 0.75, "max_labels": 3})
        assert r.status_code == 200, r.text
        attach(org, pid, llm, judge_votes=votes)
        pids[votes] = (name, pid, [pairwise(org, name, True) for _ in range(2)])
        assert run(org, pid)["predictions"] == 2

    def answer(task, winner):
        r = org.http.post(f"/api/tasks/{task}/answers", json={"response": {"preference": {"winner": winner, "strength": "better"}}})
        assert r.status_code == 200, r.text
        return org.task(task)

    _, pid, (agree, disagree) = pids[True]
    settled = answer(agree, "A")
    assert settled["status"] == "completed" and settled["quality"]["labels"] == 1 and settled["quality"]["judge"]["agreed"] is True
    assert settled["quality"]["judge"]["weight"] == 0.8 and settled["quality"]["confidence"] >= 0.75
    unsure = answer(disagree, "B")
    assert unsure["status"] == "pending" and unsure["required_labels"] == 2 and "judge" in unsure["quality"]  # one against one: unsure
    state = run(org, pid)
    assert state["judge_votes"] is True and state["judge_accuracy"] == pytest.approx(5 / 6)

    _, _, (alone, _) = pids[False]
    control = answer(alone, "B")  # without the judge's vote nobody notices the disagreement
    assert control["status"] == "completed" and control["quality"]["labels"] == 1 and "judge" not in control["quality"]

"""Evaluation runs over HTTP, on SQLite and PostgreSQL, with the scripted OpenAI-compatible
server the tests own as the models under test and as the judge: responses generated per
item, judged in both orders, and the paired comparison's verdict on a planted difference
(and on none); people's tasks made from the run and their answers in the report; one model
scored against references; keys never shown; bad runs are 400 naming the field."""

from __future__ import annotations

import uuid

import pytest

from tests.browser import Org
from tests.openai_server import OpenAIServer
from tests.test_judges_api import KEY


def project_with_judge(org: Org, llm: OpenAIServer) -> str:
    name = f"evals {uuid.uuid4().hex[:8]}"
    assert org.http.post("/v1/projects", json={"name": name, "type": "chat", "params": {"instruction": "Which is better?"}}).status_code == 200
    pid = org.project_id(name)
    r = org.http.put(f"/api/projects/{pid}/model", json={"backend": "openai", "url": llm.url, "model_name": "judge-1", "concurrency": 4})
    assert r.status_code == 200, r.text
    return pid


def model(llm: OpenAIServer, name: str, model_name: str) -> dict:
    return {"name": name, "url": llm.url, "model_name": model_name, "api_key": KEY, "timeout_seconds": 2}


def create(org: Org, pid: str, body: dict) -> dict:
    r = org.http.post(f"/api/projects/{pid}/evaluations", json=body)
    assert r.status_code == 200, r.text
    assert KEY not in r.text
    return r.json()


def run(org: Org, run_id: str) -> dict:
    r = org.http.post(f"/api/evaluations/{run_id}/run")
    assert r.status_code == 200, r.text
    assert KEY not in r.text
    return r.json()


ITEMS = [{"id": f"q{i}", "prompt": f"question q{i}", "reference": f"the answer to q{i}"} for i in range(1, 13)]


def test_a_planted_difference_is_significant(org, llm):
    pid = project_with_judge(org, llm)
    made = create(org, pid, {"name": "v2 vs v1", "items": ITEMS, "models": [model(llm, "v2", "good-2"), model(llm, "v1", "weak-1")]})
    assert made["status"] == "created" and made["models"][0]["api_key_set"] is True and "api_key" not in made["models"][0]
    report = run(org, made["id"])
    assert report["status"] == "done" and [m["responses"] for m in report["models"]] == [12, 12]
    generation = [c for c in llm.chat_calls() if c["body"]["model"] in ("good-2", "weak-1")]
    assert len(generation) == 24 and all(c["authorization"] == f"Bearer {KEY}" for c in generation)
    assert report["judge_verdicts"] == {"usable": 12, "inconsistent": 0, "errors": 0}
    judge = report["comparison"]["judge"]
    assert judge["wins"] == {"v2": 12, "v1": 0} and judge["significant"] is True and judge["better"] == "v2"
    assert judge["p_value"] == pytest.approx(2 / 4096)
    # the judge saw the reference answer
    prompt = next(c for c in llm.chat_calls() if c["body"]["model"] == "judge-1")["body"]["messages"][-1]["content"]
    assert "A reference answer for this conversation:\nthe answer to q" in prompt
    assert org.http.get(f"/api/evaluations/{made['id']}").json()["comparison"] == report["comparison"]
    listed = org.http.get(f"/api/projects/{pid}/evaluations").json()["evaluations"]
    assert listed[0]["id"] == made["id"] and listed[0]["models"] == ["v2", "v1"]


def test_no_planted_difference_is_not_significant(org, llm):
    pid = project_with_judge(org, llm)
    made = create(org, pid, {"name": "flaky vs flaky", "items": ITEMS, "models": [model(llm, "a", "flaky-a"), model(llm, "b", "flaky-b")]})
    judge = run(org, made["id"])["comparison"]["judge"]
    assert judge["ties"] == 12 and judge["significant"] is False and judge["verdict"].startswith("no significant difference")


def test_people_judge_through_tasks(org, llm, server):
    pid = project_with_judge(org, llm)
    made = create(org, pid, {"name": "people", "items": ITEMS[:6], "models": [model(llm, "v2", "good-2"), model(llm, "v1", "weak-1")],
                             "judge": False, "people": True})
    report = run(org, made["id"])
    assert report["tasks"] == 6 and report["comparison"]["judge"] is None
    tasks = org.http.get("/v1/tasks", params={"project": org.http.get(f"/api/projects/{pid}").json()["name"], "limit": 100}).json()["docs"]
    ours = [t for t in tasks if t["metadata"].get("evaluation_run") == made["id"]]
    assert len(ours) == 6 and {t["params"]["evaluation"] for t in ours} == {"pairwise"}
    assert {tuple(r["model"] for r in t["params"]["responses"]) for t in ours} == {("v2", "v1"), ("v1", "v2")}  # both orders used
    for t in ours:
        good = next(r["id"] for r in t["params"]["responses"] if "GOOD" in r["content"])
        r = org.http.post(f"/api/tasks/{t['task_id']}/answers", json={"response": {"preference": {"winner": good, "strength": "better"}}})
        assert r.status_code == 200, r.text
    people = org.http.get(f"/api/evaluations/{made['id']}").json()["comparison"]["people"]
    assert people["wins"] == {"v2": 6, "v1": 0} and people["significant"] is True  # 6 of 6: p = 1/32
    board = org.http.get("/api/leaderboard", params={"projects": pid, "bootstrap": "0"}).json()
    assert [m["model"] for m in board["models"]] == ["v2", "v1"]  # the leaderboard reads the same tasks


def test_one_model_scored_against_references(org, llm):
    pid = project_with_judge(org, llm)
    made = create(org, pid, {"name": "solo", "items": ITEMS[:5], "models": [model(llm, "v2", "good-2")]})
    scores = run(org, made["id"])["scores"]["judge"]
    assert scores == {"items": 5, "mean": 5.0, "low": 5.0, "high": 5.0}


def test_model_failures_are_recorded_per_item(org, llm):
    pid = project_with_judge(org, llm)
    made = create(org, pid, {"name": "down", "items": ITEMS[:3], "models": [model(llm, "v2", "good-2"),
                                                                            {**model(llm, "gone", "weak-1"), "url": "http://10.255.255.1/v1"}]})
    report = run(org, made["id"])
    assert [(m["responses"], m["errors"]) for m in report["models"]] == [(3, 0), (0, 3)]
    assert report["judge_verdicts"]["errors"] == 3 and report["comparison"]["judge"]["verdict"] == "no items judged yet"
    assert "private or loopback" in report["per_item"][0]["responses"]["gone"]["error"]


@pytest.mark.parametrize("change, field", [({"models": []}, "models"), ({"items": []}, "items"), ({"items": [{"id": "x"}]}, "items[0].prompt"),
                                           ({"judge": False}, "judge"), ({"models": "same"}, "models[1].name")])
def test_bad_runs_name_the_field(org, llm, change, field):
    pid = project_with_judge(org, llm)
    body = {"name": "bad", "items": ITEMS[:2], "models": [model(llm, "a", "good-a")], **change}
    if change.get("models") == "same":
        body["models"] = [model(llm, "a", "good-a"), model(llm, "a", "weak-a")]
    r = org.http.post(f"/api/projects/{pid}/evaluations", json=body)
    assert r.status_code == 400 and r.json()["field"] == field, r.text

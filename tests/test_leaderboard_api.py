"""The model leaderboard over HTTP, on SQLite and PostgreSQL: judged chat tasks in, the
JSON (ranking, intervals, win rates, slices, style control), the CSV and the SVG chart
out; bad parameters are 400 naming the field; other organizations' projects are 404;
annotators may not see it."""

from __future__ import annotations

import csv
import io
import uuid

import pytest
from scaleapi.tasks import TaskType

from tests import local_http
from tests.browser import Org

STRENGTH = {"alpha": 3, "beta": 2, "gamma": 1}


def pairwise_task(org: Org, project: str, first: str, second: str, category: str, long_first: bool = False) -> str:
    responses = [{"model": first, "content": ("A long answer with **bold** words. " * (6 if long_first else 1)).strip()},
                 {"model": second, "content": "A short answer."}]
    r = org.http.post("/v1/task/chat", json={"project": project, "messages": [{"role": "user", "content": "Explain rainbows."}],
                                             "responses": responses, "evaluation": "pairwise", "metadata": {"category": category}})
    assert r.status_code == 200, r.text
    return r.json()["task_id"]


def judge(org: Org, task_id: str, winner: str) -> None:
    response = {"preference": {"winner": winner, "strength": "better"} if winner != "tie" else {"winner": "tie"}}
    r = org.http.post(f"/api/tasks/{task_id}/answers", json={"response": response})
    assert r.status_code == 200, r.text


@pytest.fixture(scope="module")
def judged(server):
    """A chat project where alpha beats beta beats gamma (with some upsets and ties)."""
    org = Org(server)
    name = f"arena {uuid.uuid4().hex[:8]}"
    r = org.http.post("/v1/projects", json={"name": name, "type": "chat", "params": {"instruction": "Which is better?"}})
    assert r.status_code == 200, r.text
    pid = org.project_id(name)
    plan = [("alpha", "beta", "A"), ("alpha", "gamma", "A"), ("beta", "gamma", "A"), ("beta", "alpha", "B"), ("gamma", "beta", "B"),
            ("gamma", "alpha", "B"), ("alpha", "beta", "tie"), ("beta", "gamma", "A"), ("alpha", "gamma", "A"), ("gamma", "alpha", "A")]
    for round_ in range(3):
        for k, (first, second, winner) in enumerate(plan):
            task = pairwise_task(org, name, first, second, "science" if k % 2 else "history", long_first=first == "gamma")
            judge(org, task, winner)
    return org, pid, name


def test_leaderboard_json_ranks_the_models(judged):
    org, pid, _ = judged
    r = org.http.get("/api/leaderboard", params={"projects": pid, "slice": "category", "style_control": "true", "bootstrap": "50"})
    assert r.status_code == 200, r.text
    board = r.json()
    assert board["judgements"] == 30 and board["answers"] == 30 and board["skipped_answers"] == 0
    assert [m["model"] for m in board["models"]] == ["alpha", "beta", "gamma"]
    top = board["models"][0]
    assert top["rank"] == 1 and top["rating_low"] < top["rating"] < top["rating_high"] and top["games"] == 21
    assert board["tie_strength"] > 0
    w = board["win_rates"]
    assert w["models"] == ["alpha", "beta", "gamma"]
    # alpha against beta: 3 rounds of (win, win as B, tie) -> 2.5 of 3 per round
    assert w["games"][0][1] == 9 and w["win_rate"][0][1] == pytest.approx(7.5 / 9, abs=1e-4)
    assert w["win_rate"][1][0] == pytest.approx(1.5 / 9, abs=1e-4)
    assert {v["value"] for v in board["slice"]["values"]} == {"history", "science"}
    assert all(v["judgements"] == 15 and v["models"] for v in board["slice"]["values"])
    style = board["style_control"]
    assert {m["model"] for m in style["models"]} == set(STRENGTH)
    assert [c["feature"] for c in style["coefficients"]] == ["length", "headers", "list_items", "bold"]


def test_csv_and_svg(judged):
    org, pid, _ = judged
    r = org.http.get("/api/leaderboard.csv", params={"projects": pid, "bootstrap": "20", "slice": "category"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    overall = [row for row in rows if row["slice"] == "all"]
    assert [row["model"] for row in overall] == ["alpha", "beta", "gamma"] and overall[0]["rank"] == "1"
    assert {row["slice"] for row in rows} == {"all", "category=history", "category=science"}
    r = org.http.get("/api/leaderboard.svg", params={"projects": pid, "bootstrap": "20"})
    assert r.status_code == 200 and r.headers["content-type"] == "image/svg+xml"
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert r.text.startswith("<svg") and all(m in r.text for m in STRENGTH)


def test_consolidated_basis_and_defaults(judged):
    org, pid, name = judged
    r = org.http.get("/api/leaderboard", params={"basis": "consolidated", "bootstrap": "0"})
    assert r.status_code == 200, r.text
    board = r.json()
    assert name in [p["name"] for p in board["projects"]]  # no projects=: every chat project
    assert board["judgements"] >= 30 and board["basis"] == "consolidated"


@pytest.mark.parametrize("params, field", [({"basis": "votes"}, "basis"), ({"bootstrap": "5000"}, "bootstrap"),
                                           ({"style_control": "maybe"}, "style_control"), ({"slice": "x" * 101}, "slice")])
def test_bad_parameters_name_the_field(judged, params, field):
    org, pid, _ = judged
    r = org.http.get("/api/leaderboard", params={"projects": pid, **params})
    assert r.status_code == 400 and r.json()["field"] == field, r.text


def test_other_projects_and_people(server, judged, client, uniq):
    org, pid, _ = judged
    client.create_project(project_name=f"cats {uniq}", task_type=TaskType.Categorization, params={"instruction": "Pick."})
    r = org.http.get("/api/leaderboard", params={"projects": org.project_id(f"cats {uniq}")})
    assert r.status_code == 400 and r.json()["field"] == "projects"
    stranger = server.new_key(f"other {uniq}")
    r = local_http.get(f"{server.url}/api/leaderboard", params={"projects": pid}, auth=(stranger, ""))
    assert r.status_code == 404
    annotator = org.person("annotator")
    r = org.login(annotator).get("/api/leaderboard")
    assert r.status_code == 403


def test_csv_cells_are_never_formulas(server):
    org = Org(server)
    name = f"formulas {uuid.uuid4().hex[:8]}"
    assert org.http.post("/v1/projects", json={"name": name, "type": "chat", "params": {}}).status_code == 200
    pid = org.project_id(name)
    judge(org, pairwise_task(org, name, "=HYPERLINK(\"http://x\")", "plain", "@evil"), "A")
    r = org.http.get("/api/leaderboard.csv", params={"projects": pid, "bootstrap": "0", "slice": "category"})
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert {row["model"] for row in rows if row["slice"] == "all"} == {"'=HYPERLINK(\"http://x\")", "plain"}

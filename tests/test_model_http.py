"""The model-backend HTTP protocol (docs/model-backends.md) against a real small backend
started by the test, on SQLite and PostgreSQL: health, predict (its predictions become
pre-labels), train (finished labels in), and failures — a 500, a timeout, invalid
predictions, a private address — reported on the project without blocking labeling."""

from __future__ import annotations

import json
import time
from http.server import ThreadingHTTPServer

import pytest
from scaleapi.tasks import TaskType

from tests.browser import Org
from tests.support import JSONHandler, serve_in_thread


class Backend:
    """A model backend: answers `category: pos` for texts with "good", `neg` otherwise,
    scored 0.9; records every request. `mode` switches on failures."""

    def __init__(self):
        self.requests: list[tuple[str, str, dict | None]] = []
        self.mode = "ok"
        model_server = self

        class Handler(JSONHandler):
            def do_GET(self):  # noqa: N802
                model_server.requests.append(("GET", self.path, None))
                if model_server.mode == "down":
                    return self._answer(503, {"status": "loading"})
                self._answer(200, {"status": "ok", "model_version": "demo-1"})

            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["content-length"])) or b"null")
                model_server.requests.append(("POST", self.path, body))
                if model_server.mode == "error":
                    return self._answer(500, {"error": "model crashed"})
                if model_server.mode == "slow":
                    time.sleep(2.5)
                if self.path == "/train":
                    return self._answer(200, {"model_version": f"demo-{len(body['tasks'])}"})
                predictions = []
                for task in body["tasks"]:
                    text = task["params"]["attachment"]
                    category = "pos" if "good" in text else "neg"
                    if model_server.mode == "invalid" and "bad" in text:
                        category = "maybe"  # not one of the task's categories
                    predictions.append({"task_id": task["task_id"], "response": {"category": category}, "score": 0.9,
                                        "probabilities": {category: 0.9}})
                self._answer(200, {"predictions": predictions})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        serve_in_thread(self.httpd)

    def paths(self) -> list[str]:
        return [f"{m} {p}" for m, p, _ in self.requests]

    def close(self) -> None:
        self.httpd.shutdown()


@pytest.fixture()
def model_server():
    b = Backend()
    yield b
    b.close()


def setup(client, org, uniq):
    name = f"http model {uniq}"
    client.create_project(project_name=name, task_type=TaskType.Categorization, params={"instruction": "Sentiment?", "labels_per_task": 1})
    pid = org.project_id(name)
    person = org.person("annotator")
    org.add_member(pid, person)
    return name, pid, org.login(person)


def add(client, name, text):
    return client.create_task(TaskType.Categorization, project=name, attachment=text, attachment_type="text", categories=["pos", "neg"]).id


def run(org, pid):
    r = org.http.post(f"/api/projects/{pid}/model/run")
    assert r.status_code == 200, r.text
    return r.json()


def test_protocol_predict_train_and_prelabels(client, org, uniq, model_server):
    name, pid, http = setup(client, org, uniq)
    good, bad = add(client, name, "a good film"), add(client, name, "a bad film")
    r = org.http.put(f"/api/projects/{pid}/model", json={"backend": "http", "url": model_server.url, "timeout_seconds": 1, "min_train_labels": 2,
                                                         "retrain_every": 2})
    assert r.status_code == 200 and r.json()["version"] == 1
    assert org.http.post(f"/api/projects/{pid}/model/check").json() == {"healthy": True, "backend": "http", "error": None}
    state = run(org, pid)
    assert state["healthy"] is True and state["predictions"] == 2 and state["last_error"] is None
    predict = next(body for m, p, body in model_server.requests if p == "/predict")
    assert predict["project"] == name and predict["model_version"] == 1
    assert {t["task_id"] for t in predict["tasks"]} == {good, bad}
    assert all(t["type"] == "categorization" and t["params"]["categories"] == ["pos", "neg"] for t in predict["tasks"])
    assert org.task(good)["prediction"]["response"] == {"category": "pos"}
    # the labeler sees the backend's prediction as the pre-label and accepts it as is
    for _ in range(2):
        data = http.post(f"/api/projects/{pid}/next", json={}).json()
        expected = "pos" if data["task"]["task_id"] == good else "neg"
        assert data["task"]["hypothesis"] == {"category": expected}
        http.post(f"/api/assignments/{data['assignment']['id']}/submit", json={"response": data["task"]["hypothesis"]})
    assert org.task(good)["answers"][0]["hypothesis_status"] == "accepted"
    # two finished labels: the next round sends them to /train, then predicts with the new version
    add(client, name, "good again")
    state = run(org, pid)
    train = next(body for m, p, body in model_server.requests if p == "/train")
    assert sorted((t["task_id"], t["response"]["category"]) for t in train["tasks"]) == sorted([(good, "pos"), (bad, "neg")])
    assert state["version"] == 2 and state["trained_labels"] == 2
    assert model_server.paths().index("POST /train") < len(model_server.paths()) - 1 - model_server.paths()[::-1].index("POST /predict")


@pytest.mark.parametrize("mode, message", [("error", "answered HTTP 500"), ("slow", "timed out after 1 s"), ("down", "/health")])
def test_failures_are_reported_and_never_block_labeling(client, org, uniq, model_server, mode, message):
    name, pid, http = setup(client, org, uniq)
    task = add(client, name, "a good film")
    org.http.put(f"/api/projects/{pid}/model", json={"backend": "http", "url": model_server.url, "timeout_seconds": 1})
    model_server.mode = mode
    state = run(org, pid)
    assert state["healthy"] is False and message in state["last_error"] and state["last_error_at"], state
    assert state["predictions"] == 0
    # Shown on the project page. Checked while the task is still waiting for a prediction: once it
    # is labeled, a background round (every 2 s) has nothing left to send the endpoint, goes
    # through, and clears the error.
    page = org.login(org.person("admin")).get(f"/admin/projects/{pid}")
    assert page.status_code == 200 and message in page.text
    data = http.post(f"/api/projects/{pid}/next", json={}).json()  # labeling goes on without pre-labels
    assert data["task"]["task_id"] == task and data["task"]["hypothesis"] is None
    assert http.post(f"/api/assignments/{data['assignment']['id']}/submit", json={"response": {"category": "pos"}}).status_code == 200
    model_server.mode = "ok"  # recovers on the next round
    add(client, name, "another good film")
    state = run(org, pid)
    assert state["healthy"] is True and state["last_error"] is None and state["predictions"] == 1


def test_invalid_predictions_are_left_out_and_reported(client, org, uniq, model_server):
    name, pid, _ = setup(client, org, uniq)
    ok, wrong = add(client, name, "a good film"), add(client, name, "a bad film")
    org.http.put(f"/api/projects/{pid}/model", json={"backend": "http", "url": model_server.url})
    model_server.mode = "invalid"
    state = run(org, pid)
    assert "1 of 2 predictions were not valid" in state["last_error"]
    assert org.task(ok)["prediction"]["response"] == {"category": "pos"} and org.task(wrong)["prediction"] is None


def test_private_addresses_refused_unless_allowed(private_refusing_server, uniq, model_server):
    srv = private_refusing_server
    org, client = Org(srv), srv.client()
    name, pid, _ = setup(client, org, uniq)
    add(client, name, "a good film")
    org.http.put(f"/api/projects/{pid}/model", json={"backend": "http", "url": model_server.url})
    state = run(org, pid)
    assert "private or loopback" in state["last_error"] and state["predictions"] == 0
    assert model_server.requests == []  # nothing was sent

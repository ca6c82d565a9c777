"""Named truth-inference methods per project (`aggregation`: dawid_skene, one_coin_dawid_skene,
glad, weighted_majority_vote) through the API on SQLite and PostgreSQL: the model is fitted
over the project's answers (on demand or by the background jobs every
ASSAY_TRUTH_REFIT_LABELS labels) and later tasks are scored with it, without a refit."""

from __future__ import annotations

import time

import pytest
from scaleapi.tasks import TaskType

from tests.browser import Org

TRUTH = ["x", "y"] * 10  # phase one: 20 tasks, truth alternating


def make_project(client, org, uniq, aggregation, n_people=3):
    name = f"truth {aggregation} {uniq}"
    client.create_project(project_name=name, task_type=TaskType.Categorization,
                          params={"instruction": "Pick.", "labels_per_task": 3, "aggregation": aggregation})
    pid = org.project_id(name)
    people = []
    for _ in range(n_people):
        person = org.person("annotator")
        org.add_member(pid, person)
        people.append(org.login(person))
    return name, pid, people


def answer_all(http, pid, choose) -> None:
    """Label every task the person is offered; choose(task_id) → category."""
    while True:
        data = http.post(f"/api/projects/{pid}/next", json={}).json()
        if not data["assignment"]:
            return
        task_id = data["task"]["task_id"]
        r = http.post(f"/api/assignments/{data['assignment']['id']}/submit", json={"response": {"category": choose(task_id)}})
        assert r.status_code == 200, r.text


def phase_one(client, name, pid, people):
    """A always right; B wrong on tasks 0-5, C on tasks 6-11, both right on the other 8: A's
    word should outweigh the two 70 % labelers. (Had B and C always disagreed, an always-wrong
    B would explain the data as well as a perfect A: Dawid-Skene could not tell them apart.)"""
    ids = [client.create_task(TaskType.Categorization, project=name, attachment=f"item {i}", attachment_type="text",
                              categories=["x", "y"]).id for i in range(len(TRUTH))]
    truth = dict(zip(ids, TRUTH))
    flip = {"x": "y", "y": "x"}
    a, b, c = people
    answer_all(a, pid, lambda t: truth[t])
    answer_all(b, pid, lambda t: flip[truth[t]] if ids.index(t) < 6 else truth[t])
    answer_all(c, pid, lambda t: flip[truth[t]] if 6 <= ids.index(t) < 12 else truth[t])
    return ids


@pytest.mark.parametrize("method", ["dawid_skene", "one_coin_dawid_skene", "glad", "bayesian_dawid_skene",
                                    "community_dawid_skene", "mace"])
def test_fitted_model_outweighs_two_coin_flippers(client, org, uniq, method):
    name, pid, people = make_project(client, org, uniq, method)
    ids = phase_one(client, name, pid, people)
    # before any fit the project falls back to the auto consensus and says so
    assert client.get_task(ids[0]).as_dict()["quality"]["method"] == "one_coin"
    r = org.http.post(f"/api/projects/{pid}/quality/refit")
    assert r.status_code == 200, r.text
    model = r.json()["truth_model"]
    assert model["method"] == method and model["answers"] == 60 and model["tasks"] == 20 and model["workers"] == 3
    assert model["classes"] == 2

    report = org.http.get(f"/api/projects/{pid}/quality").json()
    assert report["truth_model"]["method"] == method and report["aggregation"] == method
    by_email = {e["email"]: e for e in report["annotators"]}
    emails = [p.get("/api/me").json()["email"] for p in people]
    acc = [by_email[e]["accuracy"] for e in emails]
    assert all(by_email[e]["accuracy_basis"] == "model" for e in emails)
    assert acc[0] > 0.85 and 0.55 < acc[1] < 0.8 and 0.55 < acc[2] < 0.8, acc  # truly 1.0, 0.7, 0.7

    # A says x, the two coin-flippers say y: majority would answer y, the model answers x
    task = client.create_task(TaskType.Categorization, project=name, attachment="new", attachment_type="text", categories=["x", "y"])
    answers = {0: "x", 1: "y", 2: "y"}
    for i, http in enumerate(people):
        answer_all(http, pid, lambda t, i=i: answers[i])
    done = client.get_task(task.id).as_dict()
    assert done["status"] == "completed" and done["response"] == {"category": "x"}
    quality = done["quality"]
    assert quality["method"] == method and quality["labels"] == 3 and quality["agreeing"] == 1
    # MACE explains some of B's and C's agreement as their spam distributions: less sure
    assert quality["confidence"] > (0.55 if method == "mace" else 0.75)
    assert "contributors" not in quality  # /v1 shows counts, not people
    detail = org.task(task.id)
    assert detail["quality"]["contributors"] == [emails[0]]


def test_majority_and_weighted_majority_vote_shares(client, org, uniq):
    name, pid, people = make_project(client, org, uniq, "weighted_majority_vote")
    phase_one(client, name, pid, people)
    task = client.create_task(TaskType.Categorization, project=name, attachment="new", attachment_type="text", categories=["x", "y"])
    for http, cat in zip(people, ["x", "y", "y"]):
        answer_all(http, pid, lambda t, cat=cat: cat)
    weighted = client.get_task(task.id).as_dict()
    # weights are the labelers' agreement records: A agreed 20/20, B and C 14/20 each
    # (Beta(4,1) smoothing: 24/25, 18/25, 18/25) → x: 24/60, y: 36/60
    assert weighted["response"] == {"category": "y"} and weighted["quality"]["method"] == "weighted_majority_vote"
    assert weighted["quality"]["confidence"] == 0.6
    org.settings(pid, aggregation="majority_vote")
    task = client.create_task(TaskType.Categorization, project=name, attachment="new 2", attachment_type="text", categories=["x", "y"])
    for http, cat in zip(people, ["y", "x", "y"]):
        answer_all(http, pid, lambda t, cat=cat: cat)
    plain = client.get_task(task.id).as_dict()
    assert plain["response"] == {"category": "y"} and plain["quality"] == {"confidence": round(2 / 3, 4), "labels": 3, "agreeing": 2,
                                                                           "method": "majority_vote"}


def test_auto_chooses_a_model_and_reports_the_choice(client, org, uniq):
    """`auto` (the default): before a fit the one-coin consensus; a refit chooses a model by
    held-out label likelihood, stores the choice and every candidate's score (shown in the
    report and on the quality page), and new tasks are scored with the chosen model."""
    name, pid, people = make_project(client, org, uniq, "auto")
    ids = phase_one(client, name, pid, people)
    assert client.get_task(ids[0]).as_dict()["quality"]["method"] == "one_coin"
    r = org.http.post(f"/api/projects/{pid}/quality/refit")
    assert r.status_code == 200, r.text
    model = r.json()["truth_model"]
    assert model["method"] == "auto" and model["answers"] == 60
    candidates = {"majority_vote", "one_coin_dawid_skene", "dawid_skene", "bayesian_dawid_skene", "community_dawid_skene", "mace"}
    assert set(model["scores"]) == candidates and model["chosen"] in candidates
    assert model["scores"][model["chosen"]] is not None and model["scores"]["majority_vote"] is not None
    # the mix: eligible candidates only, weights summing to 1; the chosen one is the largest
    assert set(model["weights"]) <= {c for c, v in model["scores"].items() if v is not None}
    assert sum(model["weights"].values()) == pytest.approx(1.0, abs=1e-5)
    assert model["chosen"] == max(model["weights"], key=model["weights"].get)
    assert 0.25 <= model["temperature"] <= 8.0
    report = org.http.get(f"/api/projects/{pid}/quality").json()
    assert report["aggregation"] == "auto" and report["truth_model"]["chosen"] == model["chosen"]
    page = org.login(org.person("admin")).get(f"/admin/projects/{pid}/quality")
    assert page.status_code == 200 and f'<code id="auto-choice">{model["chosen"]}</code>' in page.text

    task = client.create_task(TaskType.Categorization, project=name, attachment="new", attachment_type="text", categories=["x", "y"])
    for i, http in enumerate(people):
        answer_all(http, pid, lambda t, i=i: ["x", "y", "y"][i])
    quality = client.get_task(task.id).as_dict()["quality"]
    assert quality["method"] == "auto" and quality["model"] == model["chosen"] and quality["labels"] == 3
    assert 0.5 <= quality["confidence"] <= 1.0


def test_refit_refused_without_a_named_method_and_for_annotators(client, org, uniq):
    name, pid, people = make_project(client, org, uniq, "majority_vote", n_people=1)
    r = org.http.post(f"/api/projects/{pid}/quality/refit")
    assert r.status_code == 400 and r.json()["field"] == "aggregation" and "dawid_skene" in r.json()["error"]
    org.settings(pid, aggregation="glad")
    assert people[0].post(f"/api/projects/{pid}/quality/refit").status_code == 403
    r = org.http.patch(f"/api/projects/{pid}", json={"aggregation": "dawid-skene"})
    assert r.status_code == 400 and r.json()["field"] == "aggregation"
    assert org.http.get(f"/api/projects/{pid}").json()["aggregation"] == "glad"  # the bad value changed nothing


def test_background_jobs_refit_every_n_labels(server_factory, uniq):
    srv = server_factory(ASSAY_TRUTH_REFIT_LABELS="6", ASSAY_JOBS_POLL_SECONDS="0.2")
    org = Org(srv)
    client = srv.client()
    name, pid, people = make_project(client, org, uniq, "dawid_skene")
    assert org.http.get(f"/api/projects/{pid}/quality").json()["truth_model"] is None
    phase_one(client, name, pid, people)

    def model():
        return org.http.get(f"/api/projects/{pid}/quality").json()["truth_model"]

    deadline = time.monotonic() + 20
    while model() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    first = model()  # fitted by the background jobs during phase one, every 6 labels
    assert first and first["method"] == "dawid_skene" and 6 <= first["answers"] <= 60, first
    # a refit now brings it up to date (the jobs may have fitted up to 5 labels before the end)
    r = org.http.post(f"/api/projects/{pid}/quality/refit")
    assert r.status_code == 200 and r.json()["truth_model"]["answers"] == 60
    time.sleep(1.0)  # a background fit already under way (it would see the same 60) lands first
    first = model()
    assert first["answers"] == 60
    # fewer new labels than the threshold: no refit
    task = client.create_task(TaskType.Categorization, project=name, attachment="one more", attachment_type="text", categories=["x", "y"])
    for http in people:
        answer_all(http, pid, lambda t: "x")
    assert client.get_task(task.id).as_dict()["quality"]["method"] == "dawid_skene"
    time.sleep(1.0)
    assert model()["fitted_at"] == first["fitted_at"]
    # another task: 6 new labels in all → refit including them
    client.create_task(TaskType.Categorization, project=name, attachment="and another", attachment_type="text", categories=["x", "y"])
    for http in people:
        answer_all(http, pid, lambda t: "y")
    deadline = time.monotonic() + 20
    while model()["answers"] != 66 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert model()["answers"] == 66 and model()["tasks"] == 22


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_refit_racing_another_refit_waits_instead_of_failing(backend, server, client, org, uniq):
    """Two refits of one project at once (by hand and in the background): the second to
    store its model waits for the first and updates the project's one row (two INSERTs
    collided before and the request answered 500). Made deterministic by holding an
    uncommitted row from outside."""
    import threading

    import psycopg

    name, pid, people = make_project(client, org, uniq, "dawid_skene")
    phase_one(client, name, pid, people)
    url = server.database_url.replace("+psycopg", "")
    with psycopg.connect(url) as holder:
        project, org_id = holder.execute("SELECT id, org_id FROM projects WHERE public_id = %s", (pid,)).fetchone()
        holder.execute("DELETE FROM truth_models WHERE project_id = %s", (project,))
        holder.execute("INSERT INTO truth_models (org_id, project_id, method, labels_seen, answers, tasks, workers, seconds, state, fitted_at) "
                       "VALUES (%s, %s, 'dawid_skene', 0, 0, 0, 0, 0, '{}', now())", (org_id, project))
        replies: dict = {}
        refit = threading.Thread(target=lambda: replies.setdefault("r", org.http.post(f"/api/projects/{pid}/quality/refit")))
        refit.start()
        time.sleep(1.0)  # the refit reaches the row and waits on it
        holder.commit()
        refit.join(30)
    assert replies["r"].status_code == 200, replies["r"].text
    assert replies["r"].json()["truth_model"]["answers"] > 0

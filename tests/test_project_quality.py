"""The project quality report (`GET /api/projects/{id}/quality`) on SQLite and PostgreSQL:
three annotators label twelve tasks with known answers through the workbench API; the
counts, confusion matrices, accuracy estimates and agreement statistics are checked
exactly, alpha against the `krippendorff` package and the kappas against their textbook
formulas; then who may see it, reviews, free-form types and the sparse code paths."""

from __future__ import annotations

import statistics

import krippendorff
import numpy as np
import pytest
from scaleapi.tasks import TaskType

from tests.browser import Org

CATS = ["cat", "dog", "bird"]
TRUTH = ["cat", "dog", "bird"] * 4
# annotator → {task index: wrong answer}; everyone else answers the truth
MISTAKES = {"A": {}, "B": {1: "cat", 5: "dog"}, "C": {2: "cat", 7: "bird", 10: "cat"}}
SECONDS = {"A": [float(i + 1) for i in range(12)], "B": [2.0] * 12, "C": [3.0, 9.0] * 6}


def answer(name: str, i: int) -> str:
    return MISTAKES[name].get(i, TRUTH[i])


def label_all(http, pid, task_index, name):
    """The annotator takes every task the queue offers and answers it per the plan."""
    done = 0
    while True:
        data = http.post(f"/api/projects/{pid}/next", json={}).json()
        if data["assignment"] is None:
            return done
        i = task_index[data["task"]["task_id"]]
        r = http.post(f"/api/assignments/{data['assignment']['id']}/submit",
                      json={"response": {"category": answer(name, i)}, "active_seconds": SECONDS[name][i]})
        assert r.status_code == 200, r.text
        done += 1


def build(client, org, uniq, labels=3, n_tasks=12):
    name = f"quality {uniq}"
    client.create_project(project_name=name, task_type=TaskType.Categorization, params={"instruction": "Pick.", "labels_per_task": labels})
    pid = org.project_id(name)
    ids = [client.create_task(TaskType.Categorization, project=name, attachment=f"animal {i}", attachment_type="text",
                              categories=CATS).id for i in range(n_tasks)]
    people = {}
    for who in "ABC":
        person = org.person("annotator", prefix=f"q{who.lower()}")
        org.add_member(pid, person)
        people[who] = (person, org.login(person))
    return name, pid, ids, people


def fleiss(counts: np.ndarray) -> float:
    n = counts.sum(axis=1)[0]
    p_i = ((counts * (counts - 1)).sum(axis=1) / (n * (n - 1))).mean()
    p_j = counts.sum(axis=0) / counts.sum()
    p_e = (p_j**2).sum()
    return (p_i - p_e) / (1 - p_e)


def cohen(x: list[str], y: list[str]) -> float:
    n = len(x)
    p_o = sum(a == b for a, b in zip(x, y)) / n
    p_e = sum((x.count(c) / n) * (y.count(c) / n) for c in set(x) | set(y))
    return (p_o - p_e) / (1 - p_e)


def test_report_of_three_annotators(client, org, uniq):
    name, pid, ids, people = build(client, org, uniq)
    index = {tid: i for i, tid in enumerate(ids)}
    for who in "ABC":
        assert label_all(people[who][1], pid, index, who) == 12
    # a test-mode task is not part of the report
    test_key = org.server.test_key
    org.server.client(test_key).create_task(TaskType.Categorization, project=name, attachment="x", attachment_type="text", categories=CATS)
    for i, tid in enumerate(ids):
        assert client.get_task(tid).response == {"category": TRUTH[i]}

    r = org.http.get(f"/api/projects/{pid}/quality")
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["project"] == {"id": pid, "name": name, "type": "categorization"}
    assert report["categorical"] is True and report["labels"] == CATS

    totals = report["totals"]
    assert totals["tasks"] == 12 and totals["tasks_by_status"] == {"pending": 0, "completed": 12, "canceled": 0, "error": 0}
    assert totals["answers"] == 36 and totals["mean_labels_per_completed_task"] == 3.0
    confidences = [client.get_task(t).as_dict()["quality"]["confidence"] for t in ids]
    assert totals["completed_with_confidence"] == 12
    assert totals["mean_confidence"] == pytest.approx(np.mean(confidences))
    assert totals["confident_share"] == pytest.approx(np.mean(np.array(confidences) >= 0.9))
    assert 0 < totals["confident_share"] < 1  # unanimous tasks are confident, 2-to-1 splits are not

    by_email = {a["email"]: a for a in report["annotators"]}
    assert set(by_email) == {people[w][0].email for w in "ABC"}
    for who, agreed in (("A", 12), ("B", 10), ("C", 9)):
        a = by_email[people[who][0].email]
        assert a["user_id"] == people[who][0].id
        assert (a["answers"], a["consolidated"], a["agreed"]) == (12, 12, agreed)
        assert a["accuracy"] == pytest.approx((agreed + 4) / (12 + 5))  # Beta(4, 1) prior
        assert a["agreement_rate"] == pytest.approx(agreed / 12)
        assert a["median_active_seconds"] == statistics.median(SECONDS[who])
        assert a["reviews"] == {"accepted": 0, "fixed": 0, "rejected": 0}
    assert by_email[people["A"][0].email]["accuracy"] == pytest.approx(16 / 17)
    # confusion: rows = final label, columns = the annotator's answer (cat, dog, bird)
    assert by_email[people["A"][0].email]["confusion"] == [[4, 0, 0], [0, 4, 0], [0, 0, 4]]
    assert by_email[people["B"][0].email]["confusion"] == [[4, 0, 0], [1, 3, 0], [0, 1, 3]]
    assert by_email[people["C"][0].email]["confusion"] == [[4, 0, 0], [1, 2, 1], [1, 0, 3]]
    assert report["confusion_total"] == [[12, 0, 0], [2, 9, 1], [1, 1, 10]]

    # agreement, cross-checked on the same data
    given = {w: [answer(w, i) for i in range(12)] for w in "ABC"}
    codes = {c: k for k, c in enumerate(CATS)}
    reliability = np.array([[codes[x] for x in given[w]] for w in "ABC"], dtype=float)
    ag = report["agreement"]
    assert ag["basis"] == "category" and ag["items"] == 12 and ag["answers"] == 36 and ag["distinct_answers"] == 3
    expected_alpha = krippendorff.alpha(reliability_data=reliability, level_of_measurement="nominal")
    alpha = ag["alpha"]
    assert alpha["value"] == pytest.approx(expected_alpha, abs=1e-9)
    assert alpha["n_units"] == 12 and alpha["n_bootstrap"] == 200 and alpha["confidence"] == 0.95
    assert alpha["ci_low"] <= alpha["value"] <= alpha["ci_high"] <= 1
    counts = np.array([[sum(given[w][i] == c for w in "ABC") for c in CATS] for i in range(12)], dtype=float)
    fk = ag["fleiss_kappa"]
    assert fk["value"] == pytest.approx(fleiss(counts), abs=1e-9)
    assert fk["ci_low"] <= fk["value"] <= fk["ci_high"]
    for row in ag["per_label_alpha"]:
        binary = (reliability == codes[row["label"]]).astype(float)
        assert row["alpha"] == pytest.approx(krippendorff.alpha(reliability_data=binary, level_of_measurement="nominal"), abs=1e-9)
    assert [r["answers"] for r in ag["per_label_alpha"]] == [15, 10, 11]
    pairs = {(p["a"], p["b"]): p for p in ag["pairwise"]["pairs"]}
    uid = {w: people[w][0].id for w in "ABC"}
    assert len(pairs) == 3
    for x, y in (("A", "B"), ("A", "C"), ("B", "C")):
        pair = pairs[tuple(sorted((uid[x], uid[y])))]
        assert pair["n_common"] == 12 and pair["kappa"] == pytest.approx(cohen(given[x], given[y]), abs=1e-9)
        mine = {k["user_id"]: k for k in by_email[people[x][0].email]["kappa"]}
        assert mine[uid[y]]["kappa"] == pair["kappa"] and mine[uid[y]]["email"] == people[y][0].email
    b = by_email[people["B"][0].email]
    assert b["kappa_mean"] == pytest.approx((cohen(given["A"], given["B"]) + cohen(given["B"], given["C"])) / 2)
    assert ag["pairwise"]["mean_kappa"] == pytest.approx(np.mean([p["kappa"] for p in pairs.values()]))
    # the same data gives the same (seeded) intervals
    assert org.http.get(f"/api/projects/{pid}/quality").json()["agreement"]["alpha"] == alpha


def test_who_may_see_it(server, client, org, uniq):
    name, pid, ids, people = build(client, org, uniq, labels=1, n_tasks=2)
    annotator_http = people["A"][1]
    r = annotator_http.get(f"/api/projects/{pid}/quality")
    assert r.status_code == 403 and "cannot see project quality" in r.json()["error"]
    assert annotator_http.get(f"/admin/projects/{pid}/quality").status_code == 403
    reviewer = org.person("reviewer")
    reviewer_http = org.login(reviewer)
    r = reviewer_http.get(f"/api/projects/{pid}/quality")
    assert r.status_code == 403 and "not a member" in r.json()["error"]
    org.add_member(pid, reviewer)
    assert reviewer_http.get(f"/api/projects/{pid}/quality").status_code == 200
    assert reviewer_http.get(f"/admin/projects/{pid}/quality").status_code == 200
    customer = org.person("customer")
    assert org.login(customer).get(f"/api/projects/{pid}/quality").status_code == 200
    # another organization's project does not exist here, not even for an admin
    other_key = server.new_key(f"other {uniq}")
    server.client(other_key).create_project(project_name="theirs", task_type=TaskType.Categorization, params={"instruction": "x"})
    their_pid = Org(server, other_key).project_id("theirs")
    assert org.http.get(f"/api/projects/{their_pid}/quality").status_code == 404
    assert reviewer_http.get(f"/admin/projects/{their_pid}/quality").status_code == 404
    assert org.http.get(f"/api/projects/{'0' * 24}/quality").status_code == 404
    # an empty project: no agreement yet, said so
    report = org.http.get(f"/api/projects/{pid}/quality").json()
    assert report["totals"]["tasks_by_status"]["pending"] == 2 and report["totals"]["mean_confidence"] is None
    assert report["annotators"] == [] and report["agreement"]["alpha"] is None
    assert "two or more answers" in report["agreement"]["reason"]


def test_reviews_and_uneven_label_counts(client, org, uniq):
    """Review outcomes count per annotator; with a task short of labels Fleiss is skipped
    and the report says why."""
    name, pid, ids, people = build(client, org, uniq, labels=1, n_tasks=4)
    org.settings(pid, review_fraction=1.0)
    a_http = people["A"][1]
    index = {tid: i for i, tid in enumerate(ids)}
    assert label_all(a_http, pid, index, "A") == 4
    reviewer = org.person("reviewer")
    org.add_member(pid, reviewer)
    rev = org.login(reviewer)
    for action in ({"action": "accept"}, {"action": "fix", "response": {"category": "bird"}}, {"action": "reject", "comment": "look again"}):
        data = rev.post(f"/api/projects/{pid}/review/next", json={}).json()
        r = rev.post(f"/api/assignments/{data['assignment']['id']}/review", json=action)
        assert r.status_code == 200, r.text
    report = org.http.get(f"/api/projects/{pid}/quality").json()
    [a] = report["annotators"]
    assert a["reviews"] == {"accepted": 1, "fixed": 1, "rejected": 1}
    assert a["answers"] == 4 and a["consolidated"] == 2 and a["agreed"] == 1
    assert a["accuracy"] == pytest.approx(5 / 7)
    assert report["totals"]["tasks_by_status"]["completed"] == 2
    assert report["agreement"]["alpha"] is None  # one label per task


def test_uneven_label_counts_skip_fleiss(client, org, uniq):
    name, pid, ids, people = build(client, org, uniq, labels=3, n_tasks=3)
    index = {tid: i for i, tid in enumerate(ids)}
    label_all(people["A"][1], pid, index, "A")
    label_all(people["B"][1], pid, index, "B")
    # C answers only the first task: two tasks have 2 answers, one has 3
    data = people["C"][1].post(f"/api/projects/{pid}/next", json={}).json()
    r = people["C"][1].post(f"/api/assignments/{data['assignment']['id']}/submit", json={"response": {"category": "cat"}})
    assert r.status_code == 200
    report = org.http.get(f"/api/projects/{pid}/quality").json()
    ag = report["agreement"]
    assert ag["fleiss_kappa"] is None and "2 to 3" in ag["fleiss_reason"]
    assert ag["items"] == 3 and ag["answers"] == 7
    reliability = np.array([[0, 1, 2], [0, 0, 2], [0, np.nan, np.nan]])  # B said cat for dog on task 1
    assert ag["alpha"]["value"] == pytest.approx(krippendorff.alpha(reliability_data=reliability, level_of_measurement="nominal"))
    assert report["totals"]["tasks_by_status"] == {"pending": 2, "completed": 1, "canceled": 0, "error": 0}
    assert ag["pairwise"]["pairs"] == []  # nobody shares 5 tasks


def test_free_form_type_compares_identical_answers(client, org, uniq):
    name = f"text {uniq}"
    client.create_project(project_name=name, task_type=TaskType.TextCollection, params={"instruction": "Write.", "labels_per_task": 2})
    pid = org.project_id(name)
    fields = [{"type": "text", "field_id": "caption", "title": "Caption", "required": True}]
    tasks = [client.create_task(TaskType.TextCollection, project=name, attachments=[{"type": "text", "content": f"img {i}"}],
                                fields=fields).id for i in range(3)]
    written = {0: ["a", "b", "c"], 1: ["a", "b", "x"]}
    for who in (0, 1):
        person = org.person("annotator")
        org.add_member(pid, person)
        http = org.login(person)
        for _ in tasks:
            data = http.post(f"/api/projects/{pid}/next", json={}).json()
            i = tasks.index(data["task"]["task_id"])
            r = http.post(f"/api/assignments/{data['assignment']['id']}/submit", json={"response": {"annotations": {"caption": {"response": [[written[who][i]]]}}}})
            assert r.status_code == 200, r.text
    report = org.http.get(f"/api/projects/{pid}/quality").json()
    assert report["categorical"] is False and report["labels"] is None and report["confusion_total"] is None
    ag = report["agreement"]
    assert ag["basis"] == "identical answers" and "identical" in ag["note"] and ag["per_label_alpha"] is None
    assert ag["distinct_answers"] == 4
    reliability = np.array([[0, 1, 2], [0, 1, 3]], dtype=float)
    assert ag["alpha"]["value"] == pytest.approx(krippendorff.alpha(reliability_data=reliability, level_of_measurement="nominal"))
    assert all(a["confusion"] is None and a["answers"] == 3 for a in report["annotators"])


def test_sparse_paths_match_the_dense_functions():
    """The sparse formulas used for many distinct answers give the same numbers (and, from
    the same seed, the same intervals) as assay.quality.agreement."""
    from assay.quality.agreement import fleiss_kappa_from_labels, krippendorff_alpha_from_labels, pairwise_cohen_kappa
    from assay.quality.sparse_agreement import sparse_nominal, sparse_pairwise_kappa

    rng = np.random.default_rng(7)
    unit, worker, value = [], [], []
    for u in range(80):
        truth = rng.integers(5)
        for w in rng.choice(8, size=rng.integers(1, 6), replace=False):
            unit.append(u)
            worker.append(w)
            value.append(truth if rng.random() < 0.7 else rng.integers(5))
    unit, worker, value = np.array(unit), np.array(worker), np.array(value)
    dense = krippendorff_alpha_from_labels(unit, value, n_units=80, n_bootstrap=200)
    sparse = sparse_nominal(unit, value, 80, 5, fleiss=False)
    assert (sparse.value, sparse.ci_low, sparse.ci_high) == pytest.approx((dense.value, dense.ci_low, dense.ci_high))
    dense = fleiss_kappa_from_labels(unit, value, 80, 5, n_bootstrap=200)
    sparse = sparse_nominal(unit, value, 80, 5, fleiss=True)
    assert (sparse.value, sparse.ci_low, sparse.ci_high) == pytest.approx((dense.value, dense.ci_low, dense.ci_high))
    ref = pairwise_cohen_kappa(unit, worker, value, 80, 8, 5, min_overlap=5)
    wa, wb, kappa, n = sparse_pairwise_kappa(unit, worker, value, 8, min_overlap=5)
    assert len(wa) > 5
    assert wa.tolist() == ref.worker_a.tolist() and wb.tolist() == ref.worker_b.tolist() and n.tolist() == ref.n_common.tolist()
    assert np.allclose(kappa, ref.kappa, equal_nan=True)

"""Tasks imported with their labelers' answers in one bulk request end exactly where the
same answers given one by one here (direct answers by the same people) leave them: status,
consolidated response and quality, open slots, answers, counters, labelers' records and
activity rollups; and a bad answer anywhere stores nothing."""

from __future__ import annotations

import time

import orjson
import pytest

from tests import local_http
from tests.db_access import query
from tests.queue_support import CATEGORIES, Admin, Annotator, queue_violations
from tests.support import wait_until

# per task: the two labelers' categories (None: no answer from that one)
C, D, N = CATEGORIES
PLAN = [(C, C), (D, D), (C, D), (N, None), (None, None), (D, C), (C, C)]


def _task(i: int) -> dict:
    return {"attachment": f"item {i}", "attachment_type": "text", "categories": CATEGORIES, "metadata": {"i": i}}


def _project(admin: Admin, name: str) -> str:
    pid = admin.project(name, labels_per_task=2)
    r = admin.http.patch(f"/api/projects/{pid}", json={"aggregation": "majority_vote"})
    assert r.status_code == 200, r.text
    return pid


def _state(server, admin: Admin, name: str, ids: list[str], emails: list[str]) -> dict:
    tasks = []
    for task_id in ids:
        t = admin.http.get(f"/v1/task/{task_id}").json()
        quality = {k: v for k, v in (t.get("quality") or {}).items() if k != "contributors"}
        tasks.append((t["status"], t.get("response"), quality))
    pk = query(server, "SELECT id FROM projects WHERE name = ?", (name,))[0][0]
    slots = [r[0] for r in sorted(query(server, "SELECT public_id, open_slots, required_labels FROM tasks WHERE project_id = ?", (pk,)),
                                  key=lambda r: ids.index(r[0]))]
    slots = [query(server, "SELECT open_slots, required_labels, confidence FROM tasks WHERE public_id = ?", (p,))[0] for p in slots]
    # the confidence column (the task browser's filter) follows quality on both paths
    assert [s[2] for s in slots] == [q.get("confidence") for _, _, q in tasks]
    users = {e: query(server, "SELECT id FROM users WHERE email = ?", (e,))[0][0] for e in emails}
    stats = [query(server, "SELECT answered, agreed FROM labeler_stats WHERE project_id = ? AND user_id = ?", (pk, users[e])) for e in emails]
    rollup = [query(server, "SELECT SUM(labels), SUM(consolidated), SUM(agreed) FROM activity_rollups WHERE project_id = ? AND user_id = ?",
                    (pk, users[e]))[0] for e in emails]
    project_row = query(server, "SELECT SUM(created), SUM(completed) FROM activity_rollups WHERE project_id = ? AND user_id = 0", (pk,))[0]
    counted = dict(query(server, "SELECT status, SUM(n) FROM task_counts WHERE project_id = ? GROUP BY status", (pk,)))
    recount = dict(query(server, "SELECT status, COUNT(*) FROM tasks WHERE project_id = ? GROUP BY status", (pk,)))
    assert {k: int(v) for k, v in counted.items() if v} == recount
    answers = query(server, "SELECT COUNT(*) FROM task_answers a JOIN tasks t ON t.id = a.task_id WHERE t.project_id = ? AND a.active = ?",
                    (pk, True))[0][0]
    # each answer has its submitted label assignment (what keeps its labeler from the task)
    submitted = query(server, "SELECT COUNT(*) FROM assignments a JOIN tasks t ON t.id = a.task_id WHERE t.project_id = ? "
                              "AND a.kind = 'label' AND a.status = 'submitted' AND a.answer_id IS NOT NULL", (pk,))[0][0]
    assert submitted == answers
    return {"tasks": tasks, "slots": slots, "stats": stats, "rollup": rollup, "project_row": project_row, "counts": recount,
            "answers": answers}


def test_imported_answers_settle_like_direct_answers(server, uniq):
    admin = Admin(server)
    direct, imported = f"direct {uniq}", f"imported {uniq}"
    pid_direct, pid_imported = _project(admin, direct), _project(admin, imported)
    emails = [admin.annotator(pid_direct, "imp-a"), admin.annotator(pid_direct, "imp-b")]
    for e in emails:
        assert admin.http.post(f"/api/projects/{pid_imported}/members", json={"email": e}).status_code == 200

    # one by one: plain import, then each labeler answers directly
    ids_direct = admin.bulk(direct, len(PLAN))
    people = [Annotator(server.url, e) for e in emails]
    for task_id, plan in zip(ids_direct, PLAN):
        for person, category in zip(people, plan):
            if category is not None:
                r = person._post(f"/api/tasks/{task_id}/answers", {"response": {"category": category}, "active_seconds": 2.5})
                assert r.status == 200, r.body
    # in one request
    tasks = []
    for i, plan in enumerate(PLAN):
        given = [{"labeler": e.upper(), "response": {"category": c}, "active_seconds": 2.5} for e, c in zip(emails, plan) if c is not None]
        tasks.append({**_task(i), **({"answers": given} if given else {})})
    r = admin.http.post("/api/tasks/bulk", content=orjson.dumps({"type": "categorization", "project": imported, "tasks": tasks}),
                        headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text
    ids_imported = r.json()["task_ids"]

    a = _state(server, admin, direct, ids_direct, emails)
    b = _state(server, admin, imported, ids_imported, emails)
    assert b == a
    assert [s for s, _, _ in b["tasks"]] == ["completed", "completed", "completed", "pending", "pending", "completed", "completed"]
    assert b["answers"] == sum(c is not None for plan in PLAN for c in plan)
    assert not any(queue_violations(server, pid_imported).values())
    for p in people:
        p.close()
    admin.close()


@pytest.mark.parametrize("change, field", [
    ({"labeler": "nobody@example.com"}, "tasks[1].answers[0].labeler"),
    ({"response": {"category": "zebra"}}, "tasks[1].answers[0].response"),
    ({"answered_at": "2999-01-01T00:00:00Z"}, "tasks[1].answers[0].answered_at"),
    ({"active_seconds": -1}, "tasks[1].answers[0].active_seconds"),
    ({"extra": 1}, "tasks[1].answers[0].extra"),
])
def test_a_bad_answer_stores_nothing(server, uniq, change, field):
    admin = Admin(server)
    name = f"bad answers {uniq}"
    pid = _project(admin, name)
    email = admin.annotator(pid, "bad")
    good = {"labeler": email, "response": {"category": "positive"}}
    tasks = [{**_task(0), "answers": [good]}, {**_task(1), "answers": [{**good, **change}]}]
    r = admin.http.post("/api/tasks/bulk", json={"type": "categorization", "project": name, "tasks": tasks})
    assert r.status_code == 400, r.text
    assert r.json()["field"] == field
    pk = query(server, "SELECT id FROM projects WHERE name = ?", (name,))[0][0]
    assert query(server, "SELECT COUNT(*) FROM tasks WHERE project_id = ?", (pk,))[0][0] == 0
    admin.close()


def test_same_labeler_twice_and_test_keys_refused(server, uniq):
    admin = Admin(server)
    name = f"twice {uniq}"
    pid = _project(admin, name)
    email = admin.annotator(pid, "twice")
    one = {"labeler": email, "response": {"category": "positive"}}
    r = admin.http.post("/api/tasks/bulk", json={"type": "categorization", "project": name, "tasks": [{**_task(0), "answers": [one, one]}]})
    assert r.status_code == 400 and r.json()["field"] == "tasks[0].answers[1].labeler", r.text
    r = local_http.post(f"{server.url}/api/tasks/bulk", auth=(server.test_key, ""),
                   json={"type": "categorization", "project": name, "tasks": [{**_task(0), "answers": [one]}]})
    assert r.status_code == 400 and r.json()["field"] == "tasks", r.text
    admin.close()


def test_imported_completion_calls_back_once(server, uniq, receiver):
    admin = Admin(server)
    name = f"answered callback {uniq}"
    pid = admin.project(name, labels_per_task=1)
    email = admin.annotator(pid, "cb")
    tasks = [{**_task(i), "callback_url": receiver.url(), "answers": [{"labeler": email, "response": {"category": "negative"}}]} for i in range(3)]
    r = admin.http.post("/api/tasks/bulk", json={"type": "categorization", "project": name, "tasks": tasks})
    assert r.status_code == 200, r.text
    ids = set(r.json()["task_ids"])
    assert wait_until(lambda: len(receiver.received) >= 3, timeout=30)
    time.sleep(1)  # nothing more arrives
    got = [r.body for r in receiver.received]
    assert sorted(c["task_id"] for c in got) == sorted(ids)
    assert all(c["response"] == {"category": "negative"} and c["task"]["status"] == "completed" for c in got)
    admin.close()


def test_a_labeler_is_not_served_a_task_they_answered_in_the_import(server, uniq):
    admin = Admin(server)
    name = f"served {uniq}"
    pid = admin.project(name, labels_per_task=2)
    email = admin.annotator(pid, "served")
    task = {**_task(0), "answers": [{"labeler": email, "response": {"category": C}}]}
    r = admin.http.post("/api/tasks/bulk", json={"type": "categorization", "project": name, "tasks": [task]})
    assert r.status_code == 200, r.text
    person = Annotator(server.url, email)
    assert person.next(pid).body["assignment"] is None  # the one task still has a slot, but not for them
    # a deactivated person's answers are refused, naming the field, nothing stored
    gone = admin.annotator(pid, "gone")
    user_id = next(u["id"] for u in admin.http.get("/api/users").json()["users"] if u["email"] == gone)
    assert admin.http.patch(f"/api/users/{user_id}", json={"active": False}).status_code == 200
    bad = {**_task(1), "answers": [{"labeler": gone, "response": {"category": C}}]}
    r = admin.http.post("/api/tasks/bulk", json={"type": "categorization", "project": name, "tasks": [bad]})
    assert r.status_code == 400 and r.json()["field"] == "tasks[0].answers[0].labeler", r.text
    assert admin.http.get("/v1/tasks", params={"project": name}).json()["total"] == 1
    other = Annotator(server.url, admin.annotator(pid, "other"))
    assert other.next(pid).body["assignment"] is not None
    for a in (person, other):
        a.close()
    admin.close()


def test_imported_pairwise_chat_answers_settle(server, uniq):
    """A type whose consolidation may ask for a judge's vote (pairwise chat) settles on import
    too (it answered 500 before: the task had no id yet)."""
    admin = Admin(server)
    name = f"chat {uniq}"
    assert admin.http.post("/v1/projects", json={"type": "chat", "name": name, "params": {}}).status_code == 200
    pid = admin.http.get(f"/v1/projects/{name}").json()["id"]
    emails = [admin.annotator(pid, "chat-a"), admin.annotator(pid, "chat-b")]
    task = {"messages": [{"role": "user", "content": "Why is the sky blue?"}], "evaluation": "pairwise",
            "responses": [{"model": "m1", "content": "Scattering."}, {"model": "m2", "content": "Magic."}],
            "answers": [{"labeler": e, "response": {"preference": {"winner": "A", "strength": "better"}}} for e in emails]}
    r = admin.http.post("/api/tasks/bulk", json={"type": "chat", "project": name, "tasks": [task]})
    assert r.status_code == 200, r.text
    done = admin.http.get(f"/v1/task/{r.json()['task_ids'][0]}").json()
    assert done["status"] == "completed" and done["response"]["preference"]["winner"] == "A"
    admin.close()

"""The task page's JSON twin over HTTP on SQLite and PostgreSQL: the consolidated answer (a
proposal before the task completes, the final one after) with its confidence, each
labeler's answer for the read-only tool, the history with the audit log's review verdict,
and what an annotator may not see (others' answers, the consolidation, the audit log)."""

from __future__ import annotations

import pytest

from tests.queue_support import PASSWORD, Admin, Annotator


@pytest.fixture()
def admin(server):
    a = Admin(server)
    yield a
    a.close()


def _label(person: Annotator, pid: str, category: str) -> str:
    got = person.next(pid)
    assert got.status == 200 and got.body["assignment"], got.body
    assert person.submit(got.body["assignment"]["id"], category, 4.0).status == 200
    return got.body["task"]["task_id"]


def test_task_detail_proposal_then_final_with_history(server, admin, uniq):
    pid = admin.project(f"page {uniq}", labels_per_task=3)
    admin._ok(admin.http.patch(f"/api/projects/{pid}", json={"review_fraction": 1.0}))
    [task_id] = admin._ok(admin.http.post("/api/tasks/bulk", json={"type": "categorization", "project": f"page {uniq}", "tasks": [
        {"attachment": "<script>alert(1)</script>", "attachment_type": "text", "categories": ["positive", "negative"]}]}))["task_ids"]
    people = [Annotator(server.url, admin.annotator(pid, f"p{i}"), PASSWORD) for i in range(3)]
    _label(people[0], pid, "positive")
    _label(people[1], pid, "negative")
    detail = admin._ok(admin.http.get(f"/api/tasks/{task_id}"))
    # two answers in: a proposal, not final; the tool gets both answers and the proposal
    assert detail["consolidated"]["final"] is False
    assert detail["consolidated"]["response"]["category"] in {"positive", "negative"}
    assert 0 < detail["consolidated"]["quality"]["confidence"] < 1
    assert detail["consolidated"]["quality"]["labels"] == 2
    keys = set(detail["tool"]["responses"])
    assert keys == {"consolidated", *(f"answer-{a['id']}" for a in detail["answers"])} and len(keys) == 3
    assert detail["tool"]["task"]["params"]["attachment"] == "<script>alert(1)</script>"
    assert detail["tool"]["task"]["type"] == "categorization" and detail["tool"]["has_tool"] is True
    assert [e["what"] for e in detail["history"]] == ["created", "answer (human)", "answer (human)"]
    _label(people[2], pid, "positive")
    reviewer_email = admin.annotator(pid, "rev")
    admin._ok(admin.http.patch(f"/api/users/{_user_id(admin, reviewer_email)}", json={"role": "reviewer"}))
    reviewer = Annotator(server.url, reviewer_email, PASSWORD)
    got = reviewer._post(f"/api/projects/{pid}/review/next", {})
    assert got.status == 200 and got.body["task"]["task_id"] == task_id, got.body
    assert reviewer._post(f"/api/assignments/{got.body['assignment']['id']}/review", {"action": "accept"}).status == 200
    detail = admin._ok(admin.http.get(f"/api/tasks/{task_id}"))
    assert detail["status"] == "completed"
    assert detail["consolidated"] == {"response": {"category": "positive"}, "quality": detail["consolidated"]["quality"], "final": True}
    assert detail["consolidated"]["quality"]["agreeing"] == 2
    whats = [e["what"] for e in detail["history"]]
    assert whats[0] == "created" and whats.count("answer (human)") == 3 and set(whats[-2:]) == {"review.verdict", "completed"}
    verdict = next(e for e in detail["history"] if e["what"] == "review.verdict")
    assert verdict["who"] == reviewer_email and verdict["detail"] == "action: accept"
    assert detail["tool"]["responses"]["consolidated"] == {"category": "positive"}
    # an annotator sees their own answer only: no consolidation, no audit-log entries
    mine = people[1].http.get(f"/api/tasks/{task_id}").json()
    assert [a["labeler"] for a in mine["answers"]] == [people[1].email]
    assert "consolidated" not in mine and set(mine["tool"]["responses"]) == {f"answer-{mine['answers'][0]['id']}"}
    assert "review.verdict" not in [e["what"] for e in mine["history"]]
    # and the page shows the hostile attachment only escaped
    page = people[1].http.get(f"/view/task/{task_id}")
    assert page.status_code == 200 and "\\u003cscript\\u003ealert(1)" in page.text and "<script>alert(1)" not in page.text
    for p in (*people, reviewer):
        p.close()


def test_task_detail_unknown_and_foreign(server, admin, uniq):
    r = admin.http.get("/api/tasks/nope")
    assert r.status_code == 404 and r.json()["field"] == "task_id"


def _user_id(admin: Admin, email: str) -> int:
    return next(u["id"] for u in admin.http.get("/api/users").json()["users"] if u["email"] == email)

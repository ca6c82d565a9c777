"""The lead's cockpit over HTTP on SQLite and PostgreSQL: skill routing and the exposure
budget in the claim, timesheet and payout numbers from the answers' active seconds and
the rates, the task browser's filters and bulk actions, progress and charts data, and
every new page rendering for an admin."""

from __future__ import annotations

import csv
import io
import uuid

import pytest

from tests import local_http
from tests.queue_support import PASSWORD, Admin, Annotator


@pytest.fixture()
def admin(server):
    a = Admin(server)
    yield a
    a.close()


def _tasks(admin: Admin, project: str, items: list[dict]) -> list[str]:
    body = {"type": "categorization", "project": project, "tasks": [
        {"attachment": f"item {i}", "attachment_type": "text", "categories": ["a", "b"], **item} for i, item in enumerate(items)]}
    r = admin.http.post("/api/tasks/bulk", json=body)
    assert r.status_code == 200, r.text
    return r.json()["task_ids"]


def _person(server, admin: Admin, pid: str, prefix: str) -> tuple[Annotator, int]:
    email = admin.annotator(pid, prefix)
    user_id = next(u["id"] for u in admin.http.get("/api/users").json()["users"] if u["email"] == email)
    return Annotator(server.url, email, PASSWORD), user_id


def _drain(person: Annotator, pid: str, seconds: float = 2.0) -> list[str]:
    """Label everything the queue serves this person; the task ids in order."""
    seen = []
    while True:
        got = person.next(pid)
        assert got.status == 200, got.body
        if not got.body["assignment"]:
            return seen
        seen.append(got.body["task"]["task_id"])
        r = person._post(f"/api/assignments/{got.body['assignment']['id']}/submit",
                         {"response": {"category": "a"}, "active_seconds": seconds, "shown_seconds": seconds + 1})
        assert r.status == 200, r.body


def test_skill_routing_never_serves_a_task_to_someone_without_the_skill(server, admin, uniq):
    pid = admin.project(f"skills {uniq}", 1)
    plain = _tasks(admin, f"skills {uniq}", [{} for _ in range(3)])
    medical = _tasks(admin, f"skills {uniq}", [{"required_skill": "medical", "required_skill_level": 2} for _ in range(3)])
    novice, novice_id = _person(server, admin, pid, "novice")
    expert, expert_id = _person(server, admin, pid, "expert")
    assert admin.http.put(f"/api/people/{novice_id}/skills/medical", json={"level": 1}).status_code == 200  # too low
    assert admin.http.put(f"/api/people/{expert_id}/skills/medical", json={"level": 3}).status_code == 200
    assert set(_drain(novice, pid)) == set(plain)
    assert set(_drain(expert, pid)) == set(medical)
    skills = admin.http.get("/api/people/skills").json()["skills"]
    assert {"name": "medical", "level": 3, "source": "manual"} in skills[str(expert_id)]
    # bad input names the field, nothing stored
    r = admin.http.put(f"/api/people/{expert_id}/skills/medical", json={"level": 11})
    assert r.status_code == 400 and r.json()["field"] == "level"
    r = admin.http.post("/api/tasks/bulk", json={"type": "categorization", "project": f"skills {uniq}", "tasks": [
        {"attachment": "x", "attachment_type": "text", "categories": ["a", "b"], "required_skill_level": 0}]})
    assert r.status_code == 400 and "required_skill_level" in r.json()["field"]
    events = admin.http.get("/api/audit", params={"action": "skill.grant"}).json()["events"]
    assert any(e["target_id"] == str(expert_id) for e in events)


def test_exposure_budget_stops_flagged_tasks_and_the_opt_out_skips_them(server, admin, uniq):
    name = f"flagged {uniq}"
    pid = admin.project(name, 1)
    flagged = _tasks(admin, name, [{"content_warning": "graphic violence"} for _ in range(4)])
    calm = _tasks(admin, name, [{} for _ in range(2)])
    person, user_id = _person(server, admin, pid, "budget")
    assert admin.http.patch(f"/api/people/{user_id}/wellbeing", json={"exposure_budget": 2}).status_code == 200
    served = _drain(person, pid)
    assert len([t for t in served if t in flagged]) == 2 and set(calm) <= set(served)
    reason = person.next(pid).body["reason"]
    assert "budget of 2 flagged tasks" in reason
    exposure = admin.http.get("/api/people/exposure").json()
    me = next(p for p in exposure["people"] if p["user_id"] == user_id)
    assert me["today"] == 2 and me["budget"] == 2
    # someone who opted out (their own choice) is never served flagged work
    other, other_id = _person(server, admin, pid, "optout")
    r = other._post(f"/api/people/{other_id}/wellbeing", None)  # wrong verb: 405
    r = other.http.patch(f"/api/people/{other_id}/wellbeing", json={"avoid_flagged": True})
    assert r.status_code == 200, r.text
    assert other.http.patch(f"/api/people/{other_id}/wellbeing", json={"exposure_budget": 50}).status_code == 403  # a lead's decision
    assert not set(_drain(other, pid)) & set(flagged)


def test_timesheet_and_payout_from_active_seconds_and_rates(server, admin, uniq):
    name = f"pay {uniq}"
    pid = admin.project(name, 2)
    _tasks(admin, name, [{} for _ in range(3)])
    ann, ann_id = _person(server, admin, pid, "ann")
    bob, bob_id = _person(server, admin, pid, "bob")
    assert len(_drain(ann, pid, seconds=30.0)) == 3
    assert len(_drain(bob, pid, seconds=90.0)) == 3
    assert admin.http.post("/api/people/rates", json={"project_id": pid, "unit": "task", "amount": 0.5, "currency": "EUR"}).status_code == 201
    assert admin.http.post("/api/people/rates", json={"user_id": bob_id, "unit": "hour", "amount": 20, "currency": "EUR"}).status_code == 201
    r = admin.http.post("/api/people/rates", json={"unit": "hour", "amount": 1, "currency": "euro"})
    assert r.status_code == 400 and r.json()["field"] == "currency"
    sheet = {row["email"]: row for row in admin.http.get("/api/people/timesheet").json()["rows"]}
    assert sheet[ann.email]["labels"] == 3 and sheet[ann.email]["active_hours"] == pytest.approx(90 / 3600, abs=1e-4)
    assert sheet[bob.email]["idle_hours"] == pytest.approx(3 / 3600, abs=1e-4)  # shown 1 s longer than active, 3 times
    pay = {row["email"]: row for row in admin.http.get("/api/people/payout").json()["rows"] if row["project"] == name}
    assert pay[ann.email]["amount"] == 1.5 and pay[ann.email]["unit"] == "task"  # 3 answers × 0.50 (the project's rate)
    assert pay[bob.email]["amount"] == 1.5 and pay[bob.email]["unit"] == "hour"  # 270 s × 20/h (bob's own rate wins)
    text = admin.http.get("/api/people/payout", params={"format": "csv"}).text
    rows = [r for r in csv.DictReader(io.StringIO(text)) if r["project"] == name]
    assert {r["email"]: r["amount"] for r in rows} == {ann.email: "1.5", bob.email: "1.5"}
    r = admin.http.get("/api/people/payout", params={"since": "2026-13-01"})
    assert r.status_code == 400 and r.json()["field"] == "since"


def test_task_browser_filters_and_bulk_actions(server, admin, uniq):
    name = f"browse {uniq}"
    pid = admin.project(name, 1)
    ids = _tasks(admin, name, [{"metadata": {"source": "web" if i % 2 else "app"}, "tags": ["x"] if i < 2 else []} for i in range(6)])
    person, person_id = _person(server, admin, pid, "browse")
    done = _drain(person, pid)
    assert len(done) == 6
    browse = lambda **q: admin.http.get("/api/tasks/browse", params={"project": pid, **q}).json()  # noqa: E731
    assert browse()["total"] == 6
    assert {t["task_id"] for t in browse(meta_key="source", meta_value="web")["tasks"]} == set(ids[1::2])
    assert {t["task_id"] for t in browse(tag="x")["tasks"]} == set(ids[:2])
    assert browse(labeler=person_id)["total"] == 6
    assert browse(confidence_min="0.0", confidence_max="1")["total"] == 6
    assert browse(status="pending")["total"] == 0
    r = admin.http.get("/api/tasks/browse", params={"confidence_min": "2"})
    assert r.status_code == 400 and r.json()["field"] == "confidence_min"
    # bulk send back two completed tasks; cancel is refused for completed ones, listed with the reason
    r = admin.http.post("/api/tasks/bulk-action", json={"task_ids": ids[:2], "action": "send_back", "comment": "check"})
    assert r.status_code == 200 and sorted(r.json()["changed"]) == sorted(ids[:2])
    assert {t["task_id"] for t in browse(review_state="waiting")["tasks"]} == set(ids[:2])
    r = admin.http.post("/api/tasks/bulk-action", json={"task_ids": ids[2:4], "action": "cancel"})
    assert r.json()["changed"] == [] and len(r.json()["skipped"]) == 2
    r = admin.http.post("/api/tasks/bulk-action", json={"task_ids": ids[4:], "action": "tag", "value": ["gold-candidate"]})
    assert sorted(r.json()["changed"]) == sorted(ids[4:])
    assert browse(tag="gold-candidate")["total"] == 2
    r = admin.http.post("/api/tasks/bulk-action", json={"task_ids": ids[:1], "action": "explode"})
    assert r.status_code == 400 and r.json()["field"] == "action"
    assert admin.http.get("/api/audit", params={"action": "task.bulk"}).json()["events"]


def test_progress_charts_and_pages(server, admin, uniq):
    name = f"charts {uniq}"
    pid = admin.project(name, 1)
    _tasks(admin, name, [{"metadata": {"lang": "en"}} for _ in range(4)])
    person, _ = _person(server, admin, pid, "charts")
    assert len(_drain(person, pid)) == 4
    _tasks(admin, name, [{} for _ in range(2)])
    overview = next(p for p in admin.http.get("/api/insights/projects").json()["projects"] if p["id"] == pid)["progress"]
    assert (overview["completed"], overview["pending"], overview["total"]) == (4, 2, 6)
    assert overview["labels_per_day"][-1] == 4 and overview["eta_days"] is not None
    data = admin.http.get("/api/insights/charts", params={"project_id": pid, "days": 7}).json()
    today = data["daily"][-1]
    assert (today["labels"], today["completed"], today["created"]) == (4, 4, 6)
    assert data["backlog"][-1]["left"] == 2 and data["backlog"][-2]["left"] == 0
    assert data["people"][0]["labels"][-1] == 4
    slices = admin.http.get("/api/insights/slices", params={"project_id": pid}).json()
    assert slices["metadata_keys"] == ["lang"] and slices["report"]["flags"] == []
    # every new page renders for an admin signed in
    email = f"lead-{uuid.uuid4().hex[:6]}@example.com"
    admin.http.post("/api/users", json={"email": email, "role": "admin", "password": PASSWORD})
    lead = Annotator(server.url, email, PASSWORD)
    for path in ("/admin/projects", f"/admin/tasks?project={pid}", f"/admin/charts?project_id={pid}", "/admin/charts",
                 f"/admin/slices?project_id={pid}", "/admin/timesheet", "/admin/payout", "/admin/skills", "/admin/wellbeing"):
        page = lead.http.get(path)
        assert page.status_code == 200, (path, page.text[:500])
    assert "data:image/svg+xml;base64," in lead.http.get(f"/admin/charts?project_id={pid}").text
    # an annotator is refused
    assert person.http.get("/api/insights/projects").status_code == 403
    assert local_http.get(f"{server.url}/api/tasks/browse").status_code == 401


def test_changing_labels_per_task_applies_to_pending_tasks(server, admin, uniq):
    name = f"overlap {uniq}"
    pid = admin.project(name, 1)
    ids = _tasks(admin, name, [{} for _ in range(3)])
    r = admin.http.patch(f"/api/projects/{pid}", json={"labels_per_task": 2})
    assert r.status_code == 200 and r.json()["pending_tasks_updated"] == 3
    person, _ = _person(server, admin, pid, "overlap")
    assert len(_drain(person, pid)) == 3
    assert {admin.http.get(f"/v1/task/{t}").json()["status"] for t in ids} == {"pending"}  # waiting for a second label
    r = admin.http.patch(f"/api/projects/{pid}", json={"labels_per_task": 1})
    assert r.json()["pending_tasks_updated"] == 3
    assert {admin.http.get(f"/v1/task/{t}").json()["status"] for t in ids} == {"completed"}  # one label is enough now

"""The workbench's queue API on SQLite and PostgreSQL: membership, order, leases,
heartbeats, prefetch limit, submit/skip/go back, direct answers, review and rework.
Annotators call it the way the pages do: session cookie plus CSRF header."""

from __future__ import annotations

import time

from scaleapi.tasks import TaskType

from tests.browser import Org


def make_project(client, org, uniq, n_tasks=3, labels=1, priorities=None, **task_kw):
    name = f"q {uniq}"
    client.create_project(project_name=name, task_type=TaskType.Categorization, params={"instruction": "Pick.", "labels_per_task": labels})
    pid = org.project_id(name)
    ids = []
    for i in range(n_tasks):
        extra = {"priority": priorities[i]} if priorities and priorities[i] is not None else {}
        task = client.create_task(TaskType.Categorization, project=name, attachment=f"t{i}", attachment_type="text",
                                  categories=["x", "y"], **extra, **task_kw)
        ids.append(task.id)
    return name, pid, ids


def annotator_in(org, pid, role="annotator"):
    person = org.person(role)
    org.add_member(pid, person)
    return person, org.login(person)


def next_task(http, pid, holding=()):
    r = http.post(f"/api/projects/{pid}/next", json={"holding": list(holding)})
    assert r.status_code == 200, r.text
    return r.json()


def submit(http, data, category="x", seconds=1.5):
    return http.post(f"/api/assignments/{data['assignment']['id']}/submit", json={"response": {"category": category}, "active_seconds": seconds})


def test_queue_order_is_priority_then_age(client, org, uniq):
    _, pid, ids = make_project(client, org, uniq, n_tasks=4, priorities=[None, 10, 30, 10])
    _, http = annotator_in(org, pid)
    seen = []
    for _ in range(4):
        data = next_task(http, pid)
        seen.append(data["task"]["task_id"])
        assert submit(http, data).status_code == 200
    assert seen == [ids[2], ids[1], ids[3], ids[0]]
    empty = next_task(http, pid)
    assert empty["assignment"] is None and empty["reason"] == "nothing left to label"


def test_prefetch_limit_and_reload_resumes(client, org, uniq):
    _, pid, ids = make_project(client, org, uniq, n_tasks=4)
    _, http = annotator_in(org, pid)
    first = next_task(http, pid)
    second = next_task(http, pid, [first["assignment"]["id"]])
    assert first["task"]["task_id"] == ids[0] and second["task"]["task_id"] == ids[1]
    third = next_task(http, pid, [first["assignment"]["id"], second["assignment"]["id"]])
    assert third["assignment"] is None and "hold 2" in third["reason"]
    # a reload (nothing on screen) gets the oldest held lease back, not a new slot
    again = next_task(http, pid)
    assert again["assignment"]["id"] == first["assignment"]["id"]
    assert org.task(ids[2])["open_slots"] == 1


def test_membership_roles_and_other_organizations(server, client, org, uniq):
    _, pid, ids = make_project(client, org, uniq, n_tasks=1)
    outsider = org.person("annotator")
    http = org.login(outsider)
    r = http.post(f"/api/projects/{pid}/next", json={})
    assert r.status_code == 403 and "not a member" in r.json()["error"]
    assert http.get(f"/api/tasks/{ids[0]}").status_code == 403
    # a project of another organization does not exist for this org's people
    other_key = server.new_key(f"other {uniq}")
    other = Org(server, other_key)
    other.server.client(other_key).create_project(project_name="theirs", task_type=TaskType.Categorization, params={"instruction": "x"})
    their_pid = other.project_id("theirs")
    their_task = server.client(other_key).create_task(TaskType.Categorization, project="theirs", attachment="secret", attachment_type="text",
                                                      categories=["a"])
    assert http.post(f"/api/projects/{their_pid}/next", json={}).status_code == 404
    assert http.get(f"/api/tasks/{their_task.id}").status_code == 404
    assert org.http.get(f"/api/tasks/{their_task.id}").status_code == 404  # even for this org's admin
    # pages answer the same way
    assert http.get(f"/label/{pid}").status_code == 403
    assert http.get(f"/label/{their_pid}").status_code == 404
    assert http.get(f"/view/task/{their_task.id}").status_code == 404
    # a customer cannot label, a non-reviewer cannot review
    customer = org.person("customer")
    assert org.login(customer).post(f"/api/projects/{pid}/next", json={}).status_code == 403
    member, member_http = annotator_in(org, pid)
    r = member_http.post(f"/api/projects/{pid}/review/next", json={})
    assert r.status_code == 403 and "cannot review" in r.json()["error"]


def test_csrf_and_login(server, org, uniq):
    person = org.person("annotator")
    http = org.login(person)
    assert http.get("/api/workbench").status_code == 200
    token = http.headers.pop("X-CSRF-Token")
    r = http.post(f"/api/projects/{'0' * 24}/next", json={})
    assert r.status_code == 403 and r.json()["field"] == "X-CSRF-Token"
    http.headers["X-CSRF-Token"] = "wrong" + token
    assert http.post(f"/api/projects/{'0' * 24}/next", json={}).status_code == 403
    http.headers["X-CSRF-Token"] = token
    assert http.post(f"/api/projects/{'0' * 24}/next", json={}).status_code == 404  # past CSRF: no such project
    from tests import local_http

    anon = local_http.Client(base_url=server.url)
    assert anon.get("/api/workbench").status_code == 401
    r = anon.get("/label/abc")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/label/abc"
    # the login form needs its token; wrong passwords and open redirects are refused
    assert anon.post("/login", data={"email": person.email, "password": person.password}).status_code == 403
    page = anon.get("/login")
    import re

    form_token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    bad = anon.post("/login", data={"csrf_token": form_token, "email": person.email, "password": "nope nope"})
    assert bad.status_code == 401 and "Wrong e-mail or password" in bad.text
    ok = anon.post("/login", data={"csrf_token": form_token, "email": person.email, "password": person.password, "next": "//evil.example/x"})
    assert ok.status_code == 303 and ok.headers["location"] == "/"
    # a forged cookie is no session
    forged = local_http.Client(base_url=server.url, cookies={"assay_session": "eyJ1IjoxfQ==.deadbeef"})
    assert forged.get("/api/workbench").status_code == 401


def test_deactivated_person_loses_session(org):
    person = org.person("annotator")
    http = org.login(person)
    assert http.get("/api/workbench").status_code == 200
    assert org.http.patch(f"/api/users/{person.id}", json={"active": False}).status_code == 200
    assert http.get("/api/workbench").status_code == 401
    assert org.http.patch(f"/api/users/{person.id}", json={"active": "no"}).json()["field"] == "active"


def test_submit_validates_and_stores_nothing_on_error(client, org, uniq):
    _, pid, ids = make_project(client, org, uniq, n_tasks=1)
    _, http = annotator_in(org, pid)
    data = next_task(http, pid)
    r = http.post(f"/api/assignments/{data['assignment']['id']}/submit", json={"response": {"category": "z"}})
    assert r.status_code == 400 and r.json()["field"].startswith("response")
    r = http.post(f"/api/assignments/{data['assignment']['id']}/submit", json={"response": {"category": "x"}, "active_seconds": -1})
    assert r.status_code == 400 and r.json()["field"] == "active_seconds"
    assert http.post(f"/api/assignments/{data['assignment']['id']}/submit", json={}).json()["field"] == "response"
    detail = org.task(ids[0])
    assert detail["answers"] == [] and detail["status"] == "pending"
    assert [a["status"] for a in detail["assignments"]] == ["leased"]
    r = submit(http, data, "y", 2.25)
    assert r.status_code == 200 and r.json()["task_status"] == "completed"
    answer = org.task(ids[0])["answers"][0]
    assert answer["response"] == {"category": "y"} and answer["active_seconds"] == 2.25
    assert client.get_task(ids[0]).response == {"category": "y"}
    # the same assignment cannot take a second, different answer path
    assert http.post(f"/api/assignments/{data['assignment']['id']}/skip", json={"reason": "x"}).status_code == 409


def test_someone_elses_assignment_is_not_found(client, org, uniq):
    _, pid, _ = make_project(client, org, uniq, n_tasks=1)
    _, alice = annotator_in(org, pid)
    _, bob = annotator_in(org, pid)
    data = next_task(alice, pid)
    aid = data["assignment"]["id"]
    assert submit(bob, data).status_code == 404
    assert bob.post(f"/api/assignments/{aid}/heartbeat").status_code == 404
    assert bob.post(f"/api/assignments/{aid}/skip", json={"reason": "mine now"}).status_code == 404
    assert alice.post(f"/api/assignments/{aid}/heartbeat").status_code == 200


def test_skip_needs_a_reason_and_gives_the_slot_back(client, org, uniq):
    _, pid, ids = make_project(client, org, uniq, n_tasks=1)
    _, alice = annotator_in(org, pid)
    _, bob = annotator_in(org, pid)
    data = next_task(alice, pid)
    r = alice.post(f"/api/assignments/{data['assignment']['id']}/skip", json={"reason": "  "})
    assert r.status_code == 400 and r.json()["field"] == "reason"
    assert next_task(bob, pid)["assignment"] is None  # the only slot is Alice's
    assert alice.post(f"/api/assignments/{data['assignment']['id']}/skip", json={"reason": "blurry"}).status_code == 200
    assert next_task(alice, pid)["assignment"] is None  # not offered again to Alice
    bobs = next_task(bob, pid)
    assert bobs["task"]["task_id"] == ids[0]


def test_two_labels_per_task_go_to_two_people_and_no_more(client, org, uniq):
    _, pid, ids = make_project(client, org, uniq, n_tasks=1, labels=2)
    people = [annotator_in(org, pid)[1] for _ in range(3)]
    a = next_task(people[0], pid)
    assert next_task(people[0], pid, [a["assignment"]["id"]])["assignment"] is None  # never the same task twice
    b = next_task(people[1], pid)
    assert a["task"]["task_id"] == b["task"]["task_id"] == ids[0]
    assert next_task(people[2], pid)["assignment"] is None  # both slots are held
    assert submit(people[0], a, "x").json()["task_status"] == "pending"
    assert submit(people[1], b, "x").json()["task_status"] == "completed"
    detail = org.task(ids[0])
    assert len(detail["answers"]) == 2 and detail["open_slots"] == 0


def test_direct_answers_respect_the_slots(server, client, org, uniq):
    _, pid, ids = make_project(client, org, uniq, n_tasks=1, labels=1)
    _, alice = annotator_in(org, pid)
    bob, _ = annotator_in(org, pid)
    bob_key = server.new_key("default", email=bob.email)
    from tests import local_http

    data = next_task(alice, pid)
    r = local_http.post(f"{server.url}/api/tasks/{ids[0]}/answers", json={"response": {"category": "x"}}, headers={"Authorization": f"Bearer {bob_key}"})
    assert r.status_code == 409 and "slots" in r.json()["error"]
    assert submit(alice, data).status_code == 200


def test_go_back_and_edit_a_completed_task(client, org, uniq, receiver):
    _, pid, ids = make_project(client, org, uniq, n_tasks=2, callback_url=receiver.url())
    _, http = annotator_in(org, pid)
    first = next_task(http, pid)
    assert submit(http, first, "x").status_code == 200
    assert receiver.wait_for(lambda r: r.body["task_id"] == ids[0] and r.body["response"] == {"category": "x"})
    back = http.get(f"/api/projects/{pid}/previous")
    assert back.status_code == 200
    data = back.json()
    assert data["assignment"]["id"] == first["assignment"]["id"] and data["previous_response"] == {"category": "x"}
    assert submit(http, data, "y").status_code == 200
    assert client.get_task(ids[0]).response == {"category": "y"}
    assert receiver.wait_for(lambda r: r.body["task_id"] == ids[0] and r.body["response"] == {"category": "y"})
    answers = org.task(ids[0])["answers"]
    assert [(a["response"]["category"], a["active"]) for a in answers] == [("x", False), ("y", True)]


def test_the_same_submission_again_is_not_an_edit(client, org, uniq, receiver):
    """A submit sent again after its connection broke (bench/soak.py found it: with an app
    process killed mid-request, the retry became an edit and the completed task was called
    back twice) changes nothing: no new answer version, no second callback. A different
    response is still an edit, called back again."""
    _, pid, ids = make_project(client, org, uniq, n_tasks=1, callback_url=receiver.url())
    _, http = annotator_in(org, pid)
    first = next_task(http, pid)
    done = submit(http, first, "x")
    assert done.status_code == 200 and done.json()["task_status"] == "completed"
    again = submit(http, first, "x")
    assert again.status_code == 200 and again.json()["answer_id"] == done.json()["answer_id"], again.text
    assert again.json()["task_status"] == "completed"
    assert receiver.wait_for(lambda r: r.body["task_id"] == ids[0])
    time.sleep(1.5)  # a second delivery would have arrived by now
    assert len([r for r in receiver.received if r.body["task_id"] == ids[0]]) == 1
    assert [(a["response"]["category"], a["active"]) for a in org.task(ids[0])["answers"]] == [("x", True)]
    assert submit(http, first, "y").status_code == 200
    assert receiver.wait_for(lambda r: r.body["task_id"] == ids[0] and r.body["response"] == {"category": "y"})
    assert [(a["response"]["category"], a["active"]) for a in org.task(ids[0])["answers"]] == [("x", False), ("y", True)]


def test_review_accept_reject_rework_fix(client, org, uniq, receiver):
    _, pid, ids = make_project(client, org, uniq, n_tasks=2, callback_url=receiver.url())
    org.settings(pid, review_fraction=1)
    labeler, lhttp = annotator_in(org, pid)
    reviewer, rhttp = annotator_in(org, pid, role="reviewer")
    for category in ("x", "y"):
        held = next_task(lhttp, pid)
        assert submit(lhttp, held, category).json()["task_status"] == "pending"
    assert next_task(lhttp, pid)["assignment"] is None
    r1 = rhttp.post(f"/api/projects/{pid}/review/next", json={}).json()
    assert r1["task"]["task_id"] == ids[0] and r1["answers"][0]["labeler"] == labeler.email
    assert r1["previous_response"] == {"category": "x"}
    bad = rhttp.post(f"/api/assignments/{r1['assignment']['id']}/review", json={"action": "reject"})
    assert bad.status_code == 400 and bad.json()["field"] == "comment"
    bad = rhttp.post(f"/api/assignments/{r1['assignment']['id']}/review", json={"action": "fix"})
    assert bad.status_code == 400 and bad.json()["field"] == "response"
    bad = rhttp.post(f"/api/assignments/{r1['assignment']['id']}/review", json={"action": "maybe"})
    assert bad.status_code == 400 and bad.json()["field"] == "action"
    ok = rhttp.post(f"/api/assignments/{r1['assignment']['id']}/review", json={"action": "reject", "comment": "read again"})
    assert ok.status_code == 200 and ok.json()["review_state"] == "rework"
    task = client.get_task(ids[0])
    assert task.status == "pending" and task.audits[-1]["audit_result"] == "rejected" and task.audits[-1]["comments"] == "read again"
    # rework comes first for the labeler, with the comment and their answer
    rework = next_task(lhttp, pid)
    assert rework["task"]["task_id"] == ids[0] and rework["assignment"]["status"] == "rework"
    assert rework["assignment"]["review_comment"] == "read again" and rework["previous_response"] == {"category": "x"}
    assert submit(lhttp, rework, "y").status_code == 200
    # the reworked task is back in review, first in queue order (oldest)
    r2 = rhttp.post(f"/api/projects/{pid}/review/next", json={}).json()
    assert r2["task"]["task_id"] == ids[0] and r2["previous_response"] == {"category": "y"}
    assert rhttp.post(f"/api/assignments/{r2['assignment']['id']}/review", json={"action": "accept"}).status_code == 200
    r3 = rhttp.post(f"/api/projects/{pid}/review/next", json={}).json()
    assert r3["task"]["task_id"] == ids[1]
    fixed = rhttp.post(f"/api/assignments/{r3['assignment']['id']}/review", json={"action": "fix", "response": {"category": "x"}})
    assert fixed.json()["task_status"] == "completed"
    assert client.get_task(ids[1]).response == {"category": "x"}
    final = client.get_task(ids[0])
    assert final.status == "completed" and final.response == {"category": "y"}
    assert [a["audit_result"] for a in final.audits] == ["rejected", "accepted"]
    hooks = receiver.wait_for(lambda r: r.body["task_id"] == ids[0])
    assert hooks[0].body["task"]["audits"][-1]["audit_source"] == "reviewer"
    fix_answers = org.task(ids[1])["answers"]
    assert {a["source"]: a["review_status"] for a in fix_answers} == {"human": "fixed", "review_fix": None}
    # a reviewer never reviews their own labels
    assert rhttp.post(f"/api/projects/{pid}/review/next", json={}).json()["assignment"] is None


def test_removing_a_member_releases_their_leases(client, org, uniq):
    _, pid, ids = make_project(client, org, uniq, n_tasks=1)
    alice, ahttp = annotator_in(org, pid)
    _, bhttp = annotator_in(org, pid)
    next_task(ahttp, pid)
    assert next_task(bhttp, pid)["assignment"] is None
    r = org.http.delete(f"/api/projects/{pid}/members/{alice.id}")
    assert r.status_code == 200 and alice.email not in [m["email"] for m in r.json()["members"]]
    assert next_task(bhttp, pid)["task"]["task_id"] == ids[0]
    assert ahttp.post(f"/api/projects/{pid}/next", json={}).status_code == 403


def test_admin_endpoints_validate(org, uniq, client):
    _, pid, _ = make_project(client, org, uniq, n_tasks=0)
    cases = [
        ("post", "/api/users", {"email": "not-an-email", "role": "annotator", "password": "longenough"}, "email"),
        ("post", "/api/users", {"email": f"a{uniq}@x.io", "role": "wizard", "password": "longenough"}, "role"),
        ("post", "/api/users", {"email": f"a{uniq}@x.io", "role": "annotator", "password": "short"}, "password"),
        ("patch", f"/api/projects/{pid}", {"review_fraction": 2}, "review_fraction"),
        ("patch", f"/api/projects/{pid}", {"colour": "red"}, "colour"),
        ("patch", f"/api/projects/{pid}", {"instruction": 5}, "instruction"),
        ("post", f"/api/projects/{pid}/members", {"email": "nobody@nowhere.io"}, "email"),
    ]
    for method, path, body, field in cases:
        r = getattr(org.http, method)(path, json=body)
        assert r.status_code == 400 and r.json()["field"] == field, (path, body, r.text)
    person = org.person("annotator")
    dup = org.http.post("/api/users", json={"email": person.email, "role": "annotator", "password": "longenough"})
    assert dup.status_code == 409
    settings = org.settings(pid, instruction="# New guide", review_fraction=0.25)
    assert settings["instruction"] == "# New guide" and settings["review_fraction"] == 0.25
    assert client.get_project(f"q {uniq}").params["instruction"] == "# New guide"
    listed = {p["id"]: p for p in org.http.get("/api/projects").json()["projects"]}
    assert listed[pid]["review_fraction"] == 0.25 and listed[pid]["members"] == []
    annotator_http = org.login(person)
    assert annotator_http.get("/api/users").status_code == 403
    assert annotator_http.get("/api/projects").status_code == 403
    assert annotator_http.patch(f"/api/projects/{pid}", json={"review_fraction": 1}).status_code == 403
    assert annotator_http.get("/admin/users").status_code == 403


def test_prelabel_is_offered_and_its_fate_recorded(client, org, uniq):
    _, pid, ids = make_project(client, org, uniq, n_tasks=2, hypothesis={"category": "x"})
    _, http = annotator_in(org, pid)
    first = next_task(http, pid)
    assert first["task"]["hypothesis"] == {"category": "x"} and "hypothesis" not in first["task"]["params"]
    assert submit(http, first, "x").status_code == 200
    assert submit(http, next_task(http, pid), "y").status_code == 200
    # another category than the pre-label's: rejected (edited is for spans/shapes partly kept)
    assert [org.task(t)["answers"][0]["hypothesis_status"] for t in ids] == ["accepted", "rejected"]


def test_home_twin_lists_my_projects_with_backlog(client, org, uniq):
    name, pid, ids = make_project(client, org, uniq, n_tasks=3)
    person, http = annotator_in(org, pid)
    submit(http, next_task(http, pid))
    home = http.get("/api/workbench").json()
    assert home["user"] == {"email": person.email, "role": "annotator"}
    [project] = home["projects"]
    assert (project["name"], project["available"], project["submitted"], project["workbench_tool"]) == (name, 2, 1, True)
    assert project["review_waiting"] is None  # annotators do not review
    page = http.get("/")
    assert page.status_code == 200 and name in page.text and f"/label/{pid}" in page.text
    assert "content-security-policy" in page.headers and "script-src 'self'" in page.headers["content-security-policy"]


def test_backlog_is_counted_up_to_a_thousand(client, org, uniq):
    """`next` and the home page count the tasks a person could still take up to 1,000 and say
    when there are more (a full count read the whole backlog on every `next`)."""
    name, pid, _ = make_project(client, org, uniq, n_tasks=0)
    tasks = [{"attachment": f"item {i}", "attachment_type": "text", "categories": ["x", "y"]} for i in range(1002)]
    r = org.http.post("/api/tasks/bulk", json={"type": "categorization", "project": name, "tasks": tasks})
    assert r.status_code == 200, r.text
    _, http = annotator_in(org, pid)
    first = next_task(http, pid)
    assert first["progress"] == {"done": 0, "left": 1000, "left_capped": True}  # 1,001 besides the one held
    [project] = http.get("/api/workbench").json()["projects"]
    assert (project["available"], project["available_capped"]) == (1000, True)
    assert '<td class="num available">1000+</td>' in http.get("/").text
    # a second person holding one more leaves 1,000 for the first: exact, not capped
    _, other = annotator_in(org, pid)
    next_task(other, pid)
    assert next_task(http, pid, holding=[first["assignment"]["id"]])["progress"] == {"done": 0, "left": 999, "left_capped": False}

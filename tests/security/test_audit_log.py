"""The audit log: every administrative action and labeling decision is an append-only row
with who, when, what and from where; admins read it filtered (API and page) and export it
(`assay audit`); nobody can change or delete a row, and no other organization sees it."""

from __future__ import annotations

import csv
import io
import json

import httpx
import pytest
from scaleapi.tasks import TaskType

from tests.browser import Org, login, screenshot
from tests.db_access import query
from tests.security.hostile import Tenant


def _events(http: httpx.Client, **filters) -> list[dict]:
    r = http.get("/api/audit", params=filters)
    assert r.status_code == 200, r.text
    return r.json()["events"]


@pytest.fixture()
def tenant(server) -> Tenant:
    return Tenant.new(server, "audited")


def test_administrative_actions_are_recorded_with_who_and_from_where(server, tenant):
    http = tenant.http()
    project = tenant.project()
    pid = tenant.project_id(project)
    person = http.post("/api/users", json={"email": "ann@example.com", "role": "annotator", "password": "long enough pw"}).json()
    assert http.patch(f"/api/users/{person['id']}", json={"role": "reviewer", "password": "another long pw"}).status_code == 200
    assert http.post(f"/api/projects/{pid}/members", json={"email": "ann@example.com"}).status_code == 200
    assert http.patch(f"/api/projects/{pid}", json={"review_fraction": 0.25, "instruction": "Be careful."}).status_code == 200
    assert http.delete(f"/api/projects/{pid}/members/{person['id']}").status_code == 200
    assert http.put(f"/api/projects/{pid}/model", json={"backend": "builtin", "retrain_every": 5}).status_code == 200
    assert http.get(f"/api/projects/{pid}/export", params={"format": "csv"}).status_code == 200

    events = _events(http)
    actions = [e["action"] for e in reversed(events)]
    assert actions == ["project.create", "user.create", "user.update", "member.add", "project.settings", "member.remove",
                       "model.settings", "export"]
    me = tenant.me()["email"]
    assert {e["actor"] for e in events} == {me} and {e["via"] for e in events} == {"api_key"}
    assert {e["address"] for e in events} == {"127.0.0.1"}
    update = next(e for e in events if e["action"] == "user.update")
    assert update["target_id"] == str(person["id"]) and update["details"] == {"email": "ann@example.com", "role": "reviewer",
                                                                                  "password": "set"}
    settings = next(e for e in events if e["action"] == "project.settings")
    assert settings["target_id"] == pid and settings["details"] == {"instruction": "11 characters", "review_fraction": 0.25}
    assert next(e for e in events if e["action"] == "model.settings")["details"] == {"backend": "builtin", "retrain_every": 5}
    # filters: an action, a family of actions, an actor, a target
    assert [e["action"] for e in _events(http, action="member")] == ["member.remove", "member.add"]
    assert len(_events(http, action="export")) == 1
    assert _events(http, actor="nobody@example.com") == []
    assert {e["target_id"] for e in _events(http, target_id=pid)} == {pid}
    bad = http.get("/api/audit", params={"action": "user.fly"})
    assert bad.status_code == 400 and bad.json()["field"] == "action"


def test_labeling_decisions_are_recorded(server, client, uniq):
    org = Org(server)
    name = f"audit review {uniq}"
    client.create_project(project_name=name, task_type=TaskType.Categorization, params={"instruction": "Pick.", "review_fraction": 1.0})
    pid = org.project_id(name)
    task = client.create_task(TaskType.Categorization, project=name, attachment="words", attachment_type="text", categories=["a", "b"]).id
    labeler = org.person("annotator")
    reviewer = org.person("reviewer")
    org.add_member(pid, labeler)
    org.add_member(pid, reviewer)
    lab = org.login(labeler)
    data = lab.post(f"/api/projects/{pid}/next", json={}).json()
    assert lab.post(f"/api/assignments/{data['assignment']['id']}/submit", json={"response": {"category": "a"}}).status_code == 200
    rev = org.login(reviewer)
    data = rev.post(f"/api/projects/{pid}/review/next", json={}).json()
    assert rev.post(f"/api/assignments/{data['assignment']['id']}/review", json={"action": "accept"}).status_code == 200
    assert org.http.post(f"/api/tasks/{task}/send-back", json={"comment": "look again"}).status_code == 200
    verdict = _events(org.http, action="review.verdict", target_id=task)
    assert [(e["actor"], e["via"], e["details"]) for e in verdict] == [(reviewer.email, "session", {"action": "accept"})]
    sent = _events(org.http, action="task.send_back", target_id=task)
    assert sent[0]["details"] == {"comment": "look again"} and sent[0]["via"] == "api_key"
    signins = _events(org.http, action="session.sign_in", actor=reviewer.email)
    assert len(signins) == 1 and signins[0]["target_id"] == str(reviewer.id)


def test_an_automatic_pause_is_recorded_as_the_system(server, client, uniq):
    org = Org(server)
    name = f"audit pause {uniq}"
    client.create_project(project_name=name, task_type=TaskType.Categorization, params={"instruction": "True?", "gold_rate": 1.0,
                                                                                 "pause_below": 0.7})
    pid = org.project_id(name)
    kw = {"attachment": "sky", "attachment_type": "text", "categories": ["true", "false"]}
    for _ in range(3):
        client.create_evaluation_task(TaskType.Categorization, project=name, expected_response={"category": "true"}, **kw)
    careless = org.person("annotator")
    org.add_member(pid, careless)
    http = org.login(careless)
    for _ in range(3):
        data = http.post(f"/api/projects/{pid}/next", json={}).json()
        http.post(f"/api/assignments/{data['assignment']['id']}/submit", json={"response": {"category": "false"}})
    [paused] = _events(org.http, action="member.pause", target_id=pid)
    assert (paused["actor"], paused["via"], paused["details"]["user_id"]) == ("system", "system", careless.id)
    assert "0 of 3 correct" in paused["details"]["reason"]


def test_rows_cannot_be_changed_or_deleted(server, tenant):
    tenant.project()
    [org_id] = [r[0] for r in query(server, "SELECT id FROM organizations WHERE name = ?", (tenant.name,))]
    for statement in ("UPDATE audit_events SET actor = 'someone else' WHERE org_id = {}", "DELETE FROM audit_events WHERE org_id = {}"):
        with pytest.raises(Exception, match="append-only"):
            _execute(server, statement.format(org_id))
    assert query(server, "SELECT COUNT(*) FROM audit_events WHERE org_id = ?", (org_id,))[0][0] == 1


def _execute(server, sql: str) -> None:
    if not server.database_url:
        import sqlite3

        conn = sqlite3.connect(server.data_dir / "assay.db", timeout=10)
        try:
            conn.execute(sql)
            conn.commit()
        finally:
            conn.close()
        return
    import psycopg

    with psycopg.connect(server.database_url.replace("+psycopg", "")) as conn:
        conn.execute(sql)


def test_only_the_organizations_admins_with_live_keys_read_it(server, tenant):
    tenant.project()
    other = Tenant.new(server, "other")
    assert all(e["actor"] != tenant.me()["email"] for e in _events(other.http()))
    assert tenant.http(test=True).get("/api/audit").status_code == 403
    annotator = Org(server, tenant.key).person("annotator")
    assert Org(server, tenant.key).login(annotator).get("/api/audit").status_code == 403


def test_cli_exports_and_its_own_actions_are_recorded(server, tenant):
    key = server.cli("keys", "create", "--org", tenant.name).stdout.strip()
    assert key.startswith("live_")
    lines = server.cli("audit", "--org", tenant.name).stdout.splitlines()
    events = [json.loads(line) for line in lines]
    assert [e["action"] for e in events] == ["key.create"] and events[0]["via"] == "cli" and events[0]["target_id"] == key[:12]
    rows = list(csv.DictReader(io.StringIO(server.cli("audit", "--org", tenant.name, "--format", "csv", "--action", "key").stdout)))
    assert [r["action"] for r in rows] == ["key.create"] and json.loads(rows[0]["details"])["mode"] == "live"
    assert server.cli("audit", "--org", tenant.name, "--since", "2999-01-01").stdout == ""
    bad = server.cli("audit", "--org", tenant.name, "--since", "yesterday", check=False)
    assert bad.returncode != 0 and "--since" in bad.stderr
    missing = server.cli("audit", "--org", "no such organization", check=False)
    assert missing.returncode != 0 and "no organization" in missing.stderr


@pytest.mark.browser
def test_the_audit_page_filters_and_pages(web_server, web_org, new_page):
    admin = web_org.person("admin")
    added = [web_org.person("annotator") for _ in range(3)]
    page = new_page()
    login(page, web_server, admin)
    page.goto(f"{web_server.url}/admin/audit")
    page.locator("#audit-filter select[name=action]").select_option("user.create")
    page.locator("#audit-filter button").click()
    page.wait_for_url("**/admin/audit?*action=user.create*")
    rows = page.locator("#audit tbody tr")
    shown = rows.all_inner_texts()
    assert all("user.create" in row for row in shown)
    for person in added:
        assert any(person.email in row for row in shown), person.email
    screenshot(page, "admin-audit")
    # the twin says the same, and the page is admins' only
    twin = _events(web_org.http, action="user.create")
    assert len(shown) == min(len(twin), 100)
    annotator = new_page()
    login(annotator, web_server, added[0])
    annotator.goto(f"{web_server.url}/admin/audit")
    assert "403" in annotator.content() or "cannot" in annotator.content()

"""The cockpit in Chromium: flagged content blurred until revealed in the workbench, the
task browser's filters and bulk send-back, and every cockpit page with its screenshot."""

from __future__ import annotations

import pytest
from scaleapi.tasks import TaskType

from tests.browser import Person, login, open_workbench, screenshot

pytestmark = pytest.mark.browser


def _admin(server) -> Person:
    return Person(email="admin@assay.local", role="admin", id=0, password=server.password)


def test_flagged_content_is_blurred_until_revealed(web_server, web_client, web_org, new_page, uniq):
    name = f"Moderation {uniq}"
    web_client.create_project(project_name=name, task_type=TaskType.Categorization, params={"instruction": "Is it allowed?"})
    pid = web_org.project_id(name)
    web_client.create_task(TaskType.Categorization, project=name, attachment="a violent scene", attachment_type="text",
                           categories=["allowed", "removed"], content_warning="violence")
    person = web_org.person("annotator")
    web_org.add_member(pid, person)
    page = new_page()
    login(page, web_server, person)
    open_workbench(page, web_server, pid)
    assert page.locator("#wb-task").get_attribute("class").split().count("blurred") == 1
    assert "violence" in page.locator("#wb-content-warning").inner_text()
    assert page.locator("#wb-task .tool").evaluate("e => getComputedStyle(e).filter").startswith("blur")
    screenshot(page, "workbench-content-warning")
    page.keyboard.press("Alt+v")
    assert "blurred" not in (page.locator("#wb-task").get_attribute("class") or "")
    assert page.locator("#wb-content-warning").count() == 0


def test_task_browser_filters_and_sends_back_in_bulk(web_server, web_client, web_org, new_page, uniq):
    name = f"Reviews {uniq}"
    web_client.create_project(project_name=name, task_type=TaskType.Categorization, params={"instruction": "Pick one."})
    pid = web_org.project_id(name)
    ids = [web_client.create_task(TaskType.Categorization, project=name, attachment=f"text {i}", attachment_type="text", categories=["a", "b"],
                                  metadata={"source": "web" if i < 3 else "app"}).id for i in range(5)]
    person = web_org.person("annotator")
    web_org.add_member(pid, person)
    http = web_org.login(person)
    for _ in ids:
        got = http.post(f"/api/projects/{pid}/next", json={}).json()
        assert http.post(f"/api/assignments/{got['assignment']['id']}/submit", json={"response": {"category": "a"}, "active_seconds": 3}).status_code == 200
    page = new_page(1400, 900)
    login(page, web_server, _admin(web_server))
    page.goto(f"{web_server.url}/admin/projects")
    row = page.locator(f"#projects tr[data-project='{pid}']")
    assert row.locator("rect[data-part=completed]").get_attribute("data-n") == "5"
    screenshot(page, "projects-progress")
    row.locator("a", has_text="Tasks").click()
    page.wait_for_url(f"**/admin/tasks?project={pid}")
    assert page.locator("#total").get_attribute("data-total") == "5"
    page.fill("input[name=meta_key]", "source")
    page.fill("input[name=meta_value]", "web")
    page.locator("#filters button.primary").click()
    # the filter form reloads the page: between the two, there is no #total to read
    page.wait_for_function("() => document.getElementById('total')?.dataset.total === '3'")
    page.check("#select-all")
    assert page.locator("#bulk-count").inner_text() == "3"
    page.fill("#bulk input[name=comment]", "second look")
    page.locator("#bulk-apply").click()
    page.wait_for_selector("#bulk-result:not([hidden])")
    assert page.locator("#bulk-result").inner_text() == "3 tasks changed"
    assert sorted(r.get_attribute("data-task") for r in page.locator("#tasks tbody tr").all()) == sorted(ids[:3])
    states = {web_org.task(t)["review_state"] for t in ids[:3]}
    assert states == {"waiting"}
    screenshot(page, "task-browser")


def test_cockpit_pages_render_with_data(web_server, web_client, web_org, new_page, uniq):
    name = f"Sentiment {uniq}"
    web_client.create_project(project_name=name, task_type=TaskType.Categorization, params={"instruction": "Sentiment?"})
    pid = web_org.project_id(name)
    for i in range(6):
        web_client.create_task(TaskType.Categorization, project=name, attachment=f"review {i}", attachment_type="text",
                               categories=["pos", "neg"], metadata={"lang": "en" if i % 2 else "de"})
    person = web_org.person("annotator")
    web_org.add_member(pid, person)
    http = web_org.login(person)
    for i in range(6):
        got = http.post(f"/api/projects/{pid}/next", json={}).json()
        http.post(f"/api/assignments/{got['assignment']['id']}/submit", json={"response": {"category": "pos" if i % 2 else "neg"},
                                                                              "active_seconds": 20, "shown_seconds": 26})
    web_org.http.post("/api/people/rates", json={"project_id": pid, "unit": "task", "amount": 0.25, "currency": "EUR"})
    page = new_page(1400, 1000)
    login(page, web_server, _admin(web_server))
    for path, shot, check in ((f"/admin/charts?project_id={pid}", "charts", "#charts img"), ("/admin/timesheet", "timesheet", "#timesheet-totals"),
                              ("/admin/payout", "payout", "#payout"), ("/admin/skills", "skills", "#skills"),
                              ("/admin/wellbeing", "wellbeing", "#exposure"), (f"/admin/slices?project_id={pid}", "slices", "#verdict")):
        page.goto(f"{web_server.url}{path}")
        page.wait_for_selector(check)
        screenshot(page, shot)
    page.goto(f"{web_server.url}/admin/charts?project_id={pid}")
    assert page.locator("#charts img").count() == 8
    assert page.locator("#charts img").first.evaluate("img => img.complete && img.naturalWidth > 0")
    page.goto(f"{web_server.url}/admin/payout")
    assert page.locator(f"#payout tr[data-email='{person.email}'] td.num").last.inner_text() == "1.50 EUR"

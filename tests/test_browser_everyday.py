"""Everyday fixes found by trying assay, in Chromium: an admin resets a person's password
from the People page (the old one stops working, the new one signs in, the form says
Saved; a too-short one is refused naming the field); the workbench's "x done · y left"
kept across a reload, skip with preset reasons, task types by name, a 390 px screen."""

from __future__ import annotations

import pytest
from scaleapi.tasks import TaskType

from tests.browser import Person, login, open_workbench, wait_ready

pytestmark = pytest.mark.browser


def test_admin_resets_a_password_from_the_people_page(web_server, web_org, new_page):
    person = web_org.person("annotator")
    page = new_page()
    login(page, web_server, Person(email="admin@assay.local", role="admin", id=0, password=web_server.password))
    page.goto(f"{web_server.url}/admin/users")
    form = page.locator(f"#password-{person.id}")
    # the server's own check (the browser's minlength bypassed)
    form.locator("input[name=password]").evaluate("e => e.removeAttribute('minlength')")
    form.locator("input[name=password]").fill("short")
    form.locator("button").click()
    form.locator("[data-error]").wait_for()
    assert "8 characters" in form.locator("[data-error]").inner_text()
    form.locator("input[name=password]").fill("a brand new password")
    form.locator("button").click()
    page.wait_for_selector(f"#password-{person.id} .saved")
    assert page.locator(f"#password-{person.id} .saved").inner_text() == "Saved"
    # the old password no longer signs in; the new one does
    other = new_page()
    other.goto(f"{web_server.url}/login")
    other.fill("input[name=email]", person.email)
    other.fill("input[name=password]", person.password)
    other.click("button[type=submit]")
    assert "/login" in other.url
    login(other, web_server, Person(email=person.email, role="annotator", id=person.id, password="a brand new password"))
    assert other.locator(".who .email").inner_text() == person.email


def test_workbench_count_survives_reload_skip_presets_and_type_names(web_server, web_client, web_org, new_page, uniq):
    name = f"Counting {uniq}"
    web_client.create_project(project_name=name, task_type=TaskType.Categorization, params={"instruction": "Pick."})
    pid = web_org.project_id(name)
    for i in range(4):
        web_client.create_task(TaskType.Categorization, project=name, attachment=f"item {i}", attachment_type="text", categories=["a", "b"])
    person = web_org.person("annotator")
    web_org.add_member(pid, person)
    page = new_page(390, 800)  # a phone's width
    login(page, web_server, person)
    row = page.locator(f"#projects tr[data-project='{pid}']")
    assert row.locator("td").nth(2).inner_text() == "Categorization"  # the type's name, not its code
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # the home page fits a phone too
    open_workbench(page, web_server, pid)
    assert page.locator("#wb-count").inner_text() == "0 done · 3 more left"  # one on screen, the next prefetched
    first = page.get_attribute("#workbench", "data-assignment")
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    wait_ready(page, first)
    assert page.locator("#wb-count").inner_text().startswith("1 done")
    # nothing at 390 px is wider than the screen
    wide = page.evaluate("""() => [...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > 392)
        .map(e => e.tagName + "." + e.className + "#" + e.id + " " + Math.round(e.getBoundingClientRect().right)).slice(0, 12)""")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, wide
    page.reload()
    wait_ready(page)
    assert page.locator("#wb-count").inner_text().startswith("1 done")  # from the server, not the page's memory
    # skip offers preset reasons; one click fills the box
    page.keyboard.press("s")
    presets = page.locator("#wb-prompt-presets button")
    assert presets.count() >= 3
    presets.filter(has_text="Content does not load").click()
    assert page.locator("#wb-prompt-text").input_value() == "Content does not load"
    page.keyboard.press("Control+Enter")
    page.wait_for_function("() => !document.querySelector('dialog[open]') && document.getElementById('workbench').dataset.state === 'ready'")
    reasons = {a["skip_reason"] for t in web_org.http.get(f"/api/tasks/browse?project={pid}").json()["tasks"]
               for a in web_org.task(t["task_id"]).get("assignments", []) if a["skip_reason"]}
    assert reasons == {"Content does not load"}


def test_quality_page_annotator_table_stays_in_its_box(web_server, web_client, web_org, new_page, uniq):
    name = f"Narrow {uniq}"
    web_client.create_project(project_name=name, task_type=TaskType.Categorization, params={"instruction": "Pick."})
    pid = web_org.project_id(name)
    web_client.create_task(TaskType.Categorization, project=name, attachment="item", attachment_type="text", categories=["a", "b"])
    person = web_org.person("annotator", prefix="a-person-with-a-rather-long-email-address")
    web_org.add_member(pid, person)
    http = web_org.login(person)
    got = http.post(f"/api/projects/{pid}/next", json={}).json()
    assert http.post(f"/api/assignments/{got['assignment']['id']}/submit", json={"response": {"category": "a"}, "active_seconds": 2}).status_code == 200
    page = new_page(600, 900)
    login(page, web_server, Person(email="admin@assay.local", role="admin", id=0, password=web_server.password))
    page.goto(f"{web_server.url}/admin/projects/{pid}/quality")
    assert person.email in page.locator("#annotators").inner_text()
    box = page.locator("#annotators-wrap")
    assert box.evaluate("e => getComputedStyle(e).overflowX") == "auto"
    assert box.evaluate("e => e.getBoundingClientRect().right") <= 600
    assert box.evaluate("e => e.scrollWidth > e.clientWidth")  # the table scrolls inside its box instead


def test_changing_labels_per_task_says_which_pending_tasks_follow(web_server, web_client, web_org, new_page, uniq):
    name = f"Overlap {uniq}"
    web_client.create_project(project_name=name, task_type=TaskType.Categorization, params={"instruction": "Pick."})
    pid = web_org.project_id(name)
    for i in range(2):
        web_client.create_task(TaskType.Categorization, project=name, attachment=f"item {i}", attachment_type="text", categories=["a", "b"])
    page = new_page()
    login(page, web_server, Person(email="admin@assay.local", role="admin", id=0, password=web_server.password))
    page.goto(f"{web_server.url}/admin/projects/{pid}")
    page.fill("#settings input[name=labels_per_task]", "2")
    page.locator("#settings button.primary").click()
    page.wait_for_selector("#settings .saved")
    assert page.locator("#settings .saved").inner_text() == "Saved · 2 pending tasks now ask for 2 labels"
    assert page.locator("#settings input[name=labels_per_task]").input_value() == "2"
    assert {t["required_labels"] for t in web_org.http.get(f"/api/tasks/browse?project={pid}").json()["tasks"]} == {2}


def test_routing_checkbox_saves_and_markdown_tables_have_borders(web_server, web_client, web_org, new_page, uniq):
    """The project page's "least certain to the most accurate" box is stored; instructions
    with a Markdown table show it as a table with cell borders in the workbench."""
    name = f"Routing {uniq}"
    table = "| label | when |\n|---|---|\n| a | the first |\n| b | the second |"
    web_client.create_project(project_name=name, task_type=TaskType.Categorization, params={"instruction": f"Pick.\n\n{table}"})
    pid = web_org.project_id(name)
    web_client.create_task(TaskType.Categorization, project=name, attachment="item", attachment_type="text", categories=["a", "b"])
    page = new_page()
    login(page, web_server, Person(email="admin@assay.local", role="admin", id=0, password=web_server.password))
    page.goto(f"{web_server.url}/admin/projects/{pid}")
    assert web_org.http.get(f"/api/projects/{pid}").json()["route_by_accuracy"] is False
    page.check("#settings input[name=route_by_accuracy]")
    page.locator("#settings button.primary").click()
    page.wait_for_selector("#settings .saved")
    assert web_org.http.get(f"/api/projects/{pid}").json()["route_by_accuracy"] is True

    person = web_org.person("annotator")
    web_org.add_member(pid, person)
    labeler = new_page()
    login(labeler, web_server, person)
    open_workbench(labeler, web_server, pid)
    cell = labeler.locator(".markdown table th").first
    assert cell.inner_text() == "label"
    assert cell.evaluate("e => getComputedStyle(e).borderTopStyle") == "solid"
    assert labeler.locator(".markdown table td").count() == 4

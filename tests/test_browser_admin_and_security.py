"""Admin pages in a real browser (people, members, instructions), and what a hostile
task or a curious annotator can do: nothing."""

from __future__ import annotations

import pytest
from scaleapi.tasks import TaskType

from tests.browser import PASSWORD, Org, Person, login, open_workbench, screenshot, wait_ready

pytestmark = pytest.mark.browser

XSS_TEXT = 'Great <script>window.__xss = 1</script> product <img src=x onerror="window.__xss = 2"> ok'


def test_admin_creates_people_adds_members_and_sets_instructions(web_server, web_client, web_org, new_page, uniq):
    name = f"admin flow {uniq}"
    web_client.create_project(project_name=name, task_type=TaskType.Categorization, params={"instruction": "Old guide."})
    pid = web_org.project_id(name)
    web_client.create_task(TaskType.Categorization, project=name, attachment="A sunny day.", attachment_type="text", categories=["good", "bad"])
    admin = Person(email="admin@assay.local", role="admin", id=0, password=web_server.password)

    page = new_page()
    login(page, web_server, admin)
    page.goto(f"{web_server.url}/admin/users")
    email = f"newbie-{uniq}@example.com"
    form = page.locator("#add-user")
    form.locator("input[name=email]").fill(email)
    form.locator("select[name=role]").select_option("annotator")
    form.locator("input[name=password]").fill("short")
    form.locator("button").click()
    # the browser's own minlength check stops it; bypass it to see the server's message
    page.evaluate("document.querySelector('#add-user input[name=password]').removeAttribute('minlength')")
    form.locator("button").click()
    error = form.locator("[data-error]")
    error.wait_for()
    assert "password" in error.inner_text() and "8 characters" in error.inner_text()
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("button").click()
    page.wait_for_selector(f"#users td:text-is('{email}')")
    screenshot(page, "admin-people")

    page.goto(f"{web_server.url}/admin/projects/{pid}")
    page.locator("#add-member select[name=email]").select_option(email)
    page.locator("#add-member button").click()
    page.wait_for_selector(f"#members tr[data-member='{email}']")
    settings = page.locator("#settings")
    settings.locator("textarea[name=instruction]").fill("# Weather\n\nLabel **good** when the text is about sun.\n\n<script>window.__xss=3</script>")
    settings.locator("input[name=review_fraction]").fill("0.5")
    settings.locator("button").click()
    page.wait_for_selector("#instruction-preview h1")
    assert page.locator("#instruction-preview h1").inner_text() == "Weather"
    assert "<script>" in page.locator("#instruction-preview").inner_text()  # shown as text
    screenshot(page, "admin-project")
    stored = web_org.http.get(f"/api/projects/{pid}").json()
    assert stored["review_fraction"] == 0.5 and [m["email"] for m in stored["members"]] == [email]

    # the new annotator signs in and sees the new guide beside the task
    annotator = Person(email=email, role="annotator", id=0)
    labeler = new_page()
    login(labeler, web_server, annotator)
    labeler.keyboard.press("Enter")  # Enter opens the first project with work
    wait_ready(labeler)
    assert labeler.locator("#wb-guide-text h1").inner_text() == "Weather"
    assert labeler.evaluate("window.__xss") is None
    labeler.keyboard.press("i")
    assert not labeler.locator("#wb-guide").is_visible()
    labeler.keyboard.press("i")
    assert labeler.locator("#wb-guide").is_visible()


def test_hostile_task_content_renders_inert(web_server, web_client, web_org, new_page, uniq):
    name = f"xss {uniq}"
    web_client.create_project(project_name=name, task_type=TaskType.Categorization,
                              params={"instruction": "<img src=x onerror=\"window.__xss = 4\"> [click](javascript:window.__xss=5)"})
    pid = web_org.project_id(name)
    task = web_client.create_task(TaskType.Categorization, project=name, attachment=XSS_TEXT, attachment_type="text",
                                  categories=['<b onmouseover="window.__xss=6">bold</b>', "plain"], metadata={"note": "<script>x</script>"})
    annotator = web_org.person("annotator")
    web_org.add_member(pid, annotator)
    page = new_page()
    login(page, web_server, annotator)
    open_workbench(page, web_server, pid)
    assert page.locator(".attachment.text").inner_text() == XSS_TEXT
    assert page.locator(".attachment img").count() == 0 and page.locator("#wb-task script").count() == 0
    assert page.locator("#wb-guide a[href^='javascript']").count() == 0
    page.hover("button.choice >> nth=0")
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.getElementById('workbench').dataset.state === 'empty'")
    assert page.evaluate("window.__xss") is None
    assert web_client.get_task(task.id).response == {"category": '<b onmouseover="window.__xss=6">bold</b>'}
    # the admin's task page escapes it too
    admin = new_page()
    login(admin, web_server, Person(email="admin@assay.local", role="admin", id=0, password=web_server.password))
    admin.goto(f"{web_server.url}/view/task/{task.id}")
    admin.wait_for_function("() => document.getElementById('taskview').dataset.state === 'ready'")
    assert admin.locator("#tv-tool .attachment.text").inner_text() == XSS_TEXT
    assert "window.__xss = 1" in admin.locator("#task-params").text_content()
    assert "<script>x</script>" in admin.locator("#task-facts").inner_text()
    assert admin.locator("#tv-tool img, #tv-tool script, #task-facts script, #tv-tool b").count() == 0
    admin.locator("#tv-tool button.choice").first.hover(force=True)
    assert admin.evaluate("window.__xss") is None


def test_annotator_cannot_reach_other_projects_or_organizations(web_server, web_client, web_org, new_page, uniq):
    mine, theirs = f"mine {uniq}", f"not mine {uniq}"
    for name in (mine, theirs):
        web_client.create_project(project_name=name, task_type=TaskType.Categorization, params={"instruction": "x"})
    web_client.create_task(TaskType.Categorization, project=theirs, attachment="hidden", attachment_type="text", categories=["a"])
    other_key = web_server.new_key(f"elsewhere {uniq}")
    other_client = web_server.client(other_key)
    other_client.create_project(project_name="foreign", task_type=TaskType.Categorization, params={"instruction": "x"})
    foreign = other_client.create_task(TaskType.Categorization, project="foreign", attachment="foreign secret", attachment_type="text",
                                       categories=["a"])
    foreign_pid = Org(web_server, other_key).project_id("foreign")
    annotator = web_org.person("annotator")
    web_org.add_member(web_org.project_id(mine), annotator)
    page = new_page()
    login(page, web_server, annotator)
    assert page.locator("#projects td.name").all_inner_texts() == [mine]
    r = page.goto(f"{web_server.url}/label/{web_org.project_id(theirs)}")
    assert r.status == 403 and "not a member" in page.locator(".error").inner_text()
    r = page.goto(f"{web_server.url}/label/{foreign_pid}")
    assert r.status == 404
    r = page.goto(f"{web_server.url}/view/task/{foreign.id}")
    assert r.status == 404 and "foreign secret" not in page.content()
    r = page.goto(f"{web_server.url}/admin/users")
    assert r.status == 403
    # and through the API from the same browser session
    status = page.evaluate(
        """async (pid) => (await fetch(`/api/projects/${pid}/next`, {method: 'POST', headers: {'Content-Type': 'application/json',
             'X-CSRF-Token': document.querySelector('meta[name=csrf-token]').content}, body: '{}'})).status""",
        foreign_pid)
    assert status == 404
    # a cross-site form post carries no CSRF token: refused
    status = page.evaluate(
        "async (pid) => (await fetch(`/api/projects/${pid}/next`, {method: 'POST', body: '{}'})).status", web_org.project_id(mine))
    assert status == 403

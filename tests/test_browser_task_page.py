"""The task page in Chromium: the task in its own tool, read-only, with the consolidated
answer and each labeler's (switched by button, key and link, kept in the URL), its
quality, reviews and history; hostile task content and answers stay text; a named-entity
task with a content warning is blurred until revealed; reached from the task browser."""

from __future__ import annotations

import pytest
from scaleapi.tasks import TaskType

from tests.browser import Person, login, screenshot

pytestmark = pytest.mark.browser

HOSTILE = '<img src=x onerror="window.__xss=1">Great <b>product</b>'
HOSTILE_CATEGORY = '<script>window.__xss=2</script>bad'


def _admin(server) -> Person:
    return Person(email="admin@assay.local", role="admin", id=0, password=server.password)


def _answer(web_org, pid: str, person: Person, response: dict, seconds: float = 3.0) -> None:
    http = web_org.login(person)
    got = http.post(f"/api/projects/{pid}/next", json={}).json()
    r = http.post(f"/api/assignments/{got['assignment']['id']}/submit", json={"response": response, "active_seconds": seconds})
    assert r.status_code == 200, r.text


def _wait(page, key: str | None = None) -> None:
    page.wait_for_function("k => { const r = document.getElementById('taskview'); return r.dataset.state === 'ready' && "
                           "(k === null || r.dataset.showing === k); }", arg=key)


def _words(text: str) -> str:
    return " ".join(text.split())


def _selected(page) -> list[str]:
    return page.locator("#tv-tool button.choice.selected").evaluate_all("bs => bs.map(b => b.dataset.value)")


def test_categorization_task_page_switches_answers_read_only(web_server, web_client, web_org, new_page, uniq):
    name = f"Reviews {uniq}"
    web_client.create_project(project_name=name, task_type=TaskType.Categorization, params={"instruction": "Sentiment?"})
    pid = web_org.project_id(name)
    web_org.settings(pid, labels_per_task=3)
    task = web_client.create_task(TaskType.Categorization, project=name, attachment=HOSTILE, attachment_type="text",
                                  categories=["good", HOSTILE_CATEGORY])
    people = [web_org.person("annotator") for _ in range(3)]
    for person in people:
        web_org.add_member(pid, person)
    _answer(web_org, pid, people[0], {"category": "good"}, 4.0)
    _answer(web_org, pid, people[1], {"category": HOSTILE_CATEGORY}, 6.5)
    _answer(web_org, pid, people[2], {"category": "good"}, 5.0)
    page = new_page(1300, 1000)
    login(page, web_server, _admin(web_server))
    # from the task browser to the task page
    page.goto(f"{web_server.url}/admin/tasks?project={pid}")
    page.locator(f"#tasks tr[data-task='{task.id}'] a").first.click()
    page.wait_for_url(f"**/view/task/{task.id}")
    _wait(page, "consolidated")
    # the consolidated answer first, with its confidence, in the tool
    assert _selected(page) == ["good"]
    assert page.locator("#tv-choices button").count() == 4
    assert _words(page.locator("#tv-choices button[aria-pressed=true]").inner_text()).startswith("1 Consolidated · confidence")
    assert "2 of 3 agree" in page.locator("#task-quality").inner_text()
    # hostile content is text in the tool, the switcher, the answers table and the params
    assert page.locator("#tv-tool .attachment.text").inner_text() == HOSTILE
    assert page.locator("#tv-tool button.choice[data-value='good'] + button").inner_text().endswith(HOSTILE_CATEGORY)
    assert page.locator("#tv-tool img, #tv-tool script, #task-answers script").count() == 0
    # key 3 shows the second labeler's answer; the URL remembers it across a reload
    page.keyboard.press("3")
    _wait(page)
    second = page.locator("#tv-choices button").nth(2)
    assert people[1].email in second.inner_text() and second.get_attribute("aria-pressed") == "true"
    assert _selected(page) == [HOSTILE_CATEGORY]
    key = page.evaluate("location.hash").lstrip("#")
    page.reload()
    _wait(page, key)
    assert _selected(page) == [HOSTILE_CATEGORY]
    # read-only: clicking a choice in the tool changes nothing, keys of the tool do nothing
    page.locator("#tv-tool button.choice").first.click(force=True)
    page.keyboard.press("Enter")
    assert _selected(page) == [HOSTILE_CATEGORY]
    assert page.locator("#tv-tool .tool").get_attribute("inert") is not None
    # ] steps on, and the answers table's links switch too
    page.keyboard.press("]")
    _wait(page)
    assert _selected(page) == ["good"] and people[2].email in page.locator("#tv-choices button[aria-pressed=true]").inner_text()
    page.locator("#task-answers tr[data-answer='consolidated'] a[data-show-answer]").click()
    _wait(page, "consolidated")
    # history and the answers table
    history = page.locator("#task-history tbody tr td:nth-child(2)").all_inner_texts()
    assert history[0] == "created" and history.count("answer (human)") == 3 and history[-1] == "completed"
    rows = page.locator("#task-answers tbody tr").all_inner_texts()
    assert len(rows) == 4 and "6.5 s" in rows[2]
    assert page.evaluate("window.__xss") is None
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "task-page")


def test_ner_task_page_blurred_until_revealed(web_server, web_client, web_org, new_page, uniq):
    name = f"Entities {uniq}"
    labels = [{"name": "person"}, {"name": "place"}]
    web_client.create_project(project_name=name, task_type=TaskType.NamedEntityRecognition, params={"instruction": "People and places."})
    pid = web_org.project_id(name)
    web_org.settings(pid, labels_per_task=2)
    text = "Ada met <i>Bob</i> in London."
    task = web_client.create_task(TaskType.NamedEntityRecognition, project=name, text=text, labels=labels, content_warning="graphic")
    people = [web_org.person("annotator") for _ in range(2)]
    for person in people:
        web_org.add_member(pid, person)
    _answer(web_org, pid, people[0], {"annotations": [{"start": 0, "end": 3, "label": "person"}, {"start": 22, "end": 28, "label": "place"}]})
    _answer(web_org, pid, people[1], {"annotations": [{"start": 0, "end": 3, "label": "person"}]})
    page = new_page(1300, 1000)
    login(page, web_server, _admin(web_server))
    page.goto(f"{web_server.url}/view/task/{task.id}")
    _wait(page)
    # flagged: blurred under the warning until Alt+V
    assert "blurred" in page.locator("#tv-tool").get_attribute("class")
    assert "graphic" in page.locator("#tv-content-warning").inner_text()
    page.keyboard.press("Alt+v")
    _wait(page)
    assert "blurred" not in page.locator("#tv-tool").get_attribute("class")
    items = lambda: [" ".join(t.split()) for t in page.locator("#tv-tool .ner-annotations .ner-item").all_inner_texts()]  # noqa: E731
    shown = page.locator("#taskview").get_attribute("data-showing")
    assert shown == "consolidated"
    keys = page.locator("#tv-choices button").evaluate_all("bs => bs.map(b => b.dataset.key)")
    page.keyboard.press("2")
    _wait(page, keys[1])
    first = items()
    assert len(first) == 2 and first[0].startswith("“Ada” person") and first[1].startswith("“London” place")
    page.keyboard.press("3")
    _wait(page, keys[2])
    assert [i.split(" ")[0] for i in items()] == ["“Ada”"]
    # the markup in the text is text
    assert "<i>Bob</i>" in page.locator("#tv-tool .ner-text").inner_text()
    assert page.locator("#tv-tool .ner-text i").count() == 0
    screenshot(page, "task-page-ner")

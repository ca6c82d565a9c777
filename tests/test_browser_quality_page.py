"""The project quality page in a real browser: an admin finds it from the projects list,
sorts the annotators by accuracy, name and volume with the mouse and with keys, and reads
the confusion heat maps."""

from __future__ import annotations

import pytest
from scaleapi.tasks import TaskType

from tests.browser import Person, login, screenshot

pytestmark = pytest.mark.browser

CATS = ["cat", "dog", "bird"]
TRUTH = ["cat", "dog", "bird"] * 4 + ["cat", "dog"]
MISTAKES = {"A": {}, "B": {1: "cat", 5: "dog"}, "C": {2: "cat", 7: "bird", 10: "cat"}, "D": {}}
# e-mail prefixes chosen so that name, accuracy and volume orders all differ
PREFIX = {"A": "mia", "B": "ada", "C": "zoe", "D": "ivy"}


def label(http, pid, index, who, limit):
    for _ in range(limit):
        data = http.post(f"/api/projects/{pid}/next", json={}).json()
        assert data["assignment"], data
        i = index[data["task"]["task_id"]]
        response = {"category": MISTAKES[who].get(i, TRUTH[i])}
        r = http.post(f"/api/assignments/{data['assignment']['id']}/submit", json={"response": response, "active_seconds": 4.0 + i % 5})
        assert r.status_code == 200, r.text


def order(page) -> list[str]:
    return page.eval_on_selector_all("#annotators tbody tr[data-user]", "rows => rows.map(r => r.dataset.name.split('-')[0])")


def test_admin_reads_and_sorts_the_quality_page(web_server, web_client, web_org, new_page, uniq):
    name = f"Animal photos {uniq}"
    web_client.create_project(project_name=name, task_type=TaskType.Categorization, params={"instruction": "Which animal?", "labels_per_task": 3})
    pid = web_org.project_id(name)
    ids = [web_client.create_task(TaskType.Categorization, project=name, attachment=f"photo {i}", attachment_type="text",
                                  categories=CATS).id for i in range(len(TRUTH))]
    index = {tid: i for i, tid in enumerate(ids)}
    people = {}
    for who in "ABCD":
        person = web_org.person("annotator", prefix=PREFIX[who])
        web_org.add_member(pid, person)
        people[who] = web_org.login(person)
    # volumes: mia 14, ada 14, zoe 12, ivy 2 (the last two tasks' third label)
    for who, limit in (("A", 14), ("B", 14), ("C", 12), ("D", 2)):
        label(people[who], pid, index, who, limit)

    admin = Person(email="admin@assay.local", role="admin", id=0, password=web_server.password)
    page = new_page()
    login(page, web_server, admin)
    page.goto(f"{web_server.url}/admin/projects")
    page.locator(f"a[href='/admin/projects/{pid}/quality']").click()
    page.wait_for_url(f"**/admin/projects/{pid}/quality")
    assert page.locator("#totals [data-stat=tasks]").inner_text() == "14"
    assert page.locator("#totals [data-stat=answers]").inner_text() == "42"
    assert page.locator("#totals [data-stat=labels]").inner_text() == "3.00"
    assert page.locator("#alpha strong").inner_text().startswith("0.")
    assert "95% CI" in page.locator("#alpha").inner_text()
    assert page.locator("#fleiss strong").count() == 1

    # the server's order: most answers first, ties by name
    assert order(page) == ["ada", "mia", "zoe", "ivy"]
    # accuracy (Beta(4, 1)-smoothed): mia 18/19, ivy 6/7, ada 16/19, zoe 13/17
    page.locator("#annotators th[data-sort=accuracy] button").click()
    assert order(page) == ["mia", "ivy", "ada", "zoe"]
    assert page.get_attribute("#annotators th[data-sort=accuracy]", "aria-sort") == "descending"
    assert page.locator("#annotators tr[data-name^=mia] td.accuracy").inner_text() == "94.7%"
    page.locator("#annotators th[data-sort=accuracy] button").click()  # again: reversed
    assert order(page) == ["zoe", "ada", "ivy", "mia"]
    page.keyboard.press("n")
    assert order(page) == ["ada", "ivy", "mia", "zoe"]
    assert page.get_attribute("#annotators th[data-sort=name]", "aria-sort") == "ascending"
    assert page.get_attribute("#annotators th[data-sort=accuracy]", "aria-sort") == "none"
    page.keyboard.press("v")
    assert order(page) == ["ada", "mia", "zoe", "ivy"]
    page.keyboard.press("v")
    assert order(page) == ["ivy", "zoe", "ada", "mia"]
    page.keyboard.press("a")
    assert order(page) == ["mia", "ivy", "ada", "zoe"]
    assert page.get_attribute("#annotators", "data-sorted") == "accuracy:desc"
    screenshot(page, "quality")

    # heat maps: ada (B) called one dog a cat and one bird a dog
    ada = page.locator(f"table[data-heatmap='{web_org.http.get(f'/api/projects/{pid}/quality').json()['annotators'][0]['user_id']}']")
    assert ada.locator("xpath=..").locator("figcaption").inner_text().startswith("ada-")
    cells = ada.locator("tbody tr").evaluate_all("rows => rows.map(r => [...r.cells].map(c => c.textContent.trim()))")
    assert cells == [["cat", "5", "0", "0"], ["dog", "1", "4", "0"], ["bird", "0", "1", "3"]]
    dog_as_cat = ada.locator("tbody tr").nth(1).locator("td").nth(0)
    assert set(dog_as_cat.get_attribute("class").split()) == {"heat-2", "off"}  # 1 of 5: 20 % of the row
    right = ada.locator("tbody tr").nth(0).locator("td").nth(0)
    assert set(right.get_attribute("class").split()) == {"heat-5", "diagonal"}
    colour = right.evaluate("c => getComputedStyle(c).backgroundColor")
    assert colour == "rgb(31, 138, 76)"
    everyone = page.locator("table[data-heatmap=all]")
    assert everyone.locator("tbody tr").nth(0).locator("td").nth(0).inner_text() == "15"  # 5 cat tasks × 3 labels
    assert page.locator("#per-label tbody tr").count() == 3
    assert page.locator("#kappa tbody tr").count() == 3  # ivy shares only 2 tasks with anyone
    page.locator(".heatmaps").scroll_into_view_if_needed()
    screenshot(page, "quality-confusion")

    # from the project settings page too
    page.goto(f"{web_server.url}/admin/projects/{pid}")
    page.locator("#quality-link").click()
    page.wait_for_url(f"**/admin/projects/{pid}/quality")

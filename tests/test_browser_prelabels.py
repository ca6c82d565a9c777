"""A model pre-label in a real browser: the built-in model, trained on a project's finished
labels, predicts a pending task; the annotator sees its category already chosen and
accepts it with one key (Enter), and the answer records the pre-label as accepted. The
project page shows the model's state and a label-error suspect sent back with one click."""

from __future__ import annotations

import random

import pytest
from scaleapi.tasks import TaskType

from tests.browser import login, open_workbench, screenshot, wait_ready

pytestmark = pytest.mark.browser

GOOD = ["wonderful", "brilliant", "delightful", "superb", "charming", "gripping"]
BAD = ["dreadful", "boring", "clumsy", "tedious", "awful", "lifeless"]


def text(rng, kind):
    words = GOOD if kind == "positive" else BAD
    return f"the film was {rng.choice(words)} and the cast {rng.choice(words)}"


def test_prelabel_accepted_with_one_key(web_server, web_client, web_org, new_page, uniq):
    name = f"prelabels {uniq}"
    web_client.create_project(project_name=name, task_type=TaskType.Categorization,
                              params={"instruction": "Positive or negative?", "labels_per_task": 1})
    pid = web_org.project_id(name)
    annotator = web_org.person("annotator")
    web_org.add_member(pid, annotator)
    http = web_org.login(annotator)
    rng = random.Random(11)
    kinds = ["positive", "negative"] * 12
    ids = [web_client.create_task(TaskType.Categorization, project=name, attachment=text(rng, k), attachment_type="text",
                                  categories=["positive", "negative"]).id for k in kinds]
    truth = dict(zip(ids, kinds))
    truth[ids[5]] = "positive" if kinds[5] == "negative" else "negative"  # one wrong label for the error check
    for _ in ids:
        data = http.post(f"/api/projects/{pid}/next", json={}).json()
        http.post(f"/api/assignments/{data['assignment']['id']}/submit", json={"response": {"category": truth[data["task"]["task_id"]]}})
    r = web_org.http.put(f"/api/projects/{pid}/model", json={"backend": "builtin", "min_train_labels": 10})
    assert r.status_code == 200, r.text
    task = web_client.create_task(TaskType.Categorization, project=name, attachment="the film was superb and the cast charming",
                                  attachment_type="text", categories=["positive", "negative"]).id
    assert web_org.http.post(f"/api/projects/{pid}/model/run").json()["version"] == 1
    prediction = web_org.task(task)["prediction"]
    assert prediction["response"] == {"category": "positive"}

    page = new_page()
    login(page, web_server, annotator)
    open_workbench(page, web_server, pid)
    assert page.evaluate("window.assayWorkbench.current().task.task_id") == task
    assert page.locator("button.choice.selected").inner_text().endswith("positive")  # the suggestion, already chosen
    assert "pre-label" in page.locator("#workbench").inner_text()
    screenshot(page, "prelabel")
    page.keyboard.press("Enter")  # one key accepts it
    wait_ready(page, page.get_attribute("#workbench", "data-assignment"))
    answer = web_org.task(task)["answers"][0]
    assert answer["response"] == {"category": "positive"} and answer["hypothesis_status"] == "accepted"

    # the project page: the model's state, and a label-error suspect sent back with one click
    admin = web_org.person("admin")
    lead = new_page()
    login(lead, web_server, admin)
    lead.goto(f"{web_server.url}/admin/projects/{pid}")
    assert lead.locator("[data-model-version]").get_attribute("data-model-version") == "1"
    lead.locator("#scan-label-errors button").click()
    lead.wait_for_selector("#label-errors tbody tr")
    top = lead.locator("#label-errors tbody tr").first
    assert top.get_attribute("data-task") == ids[5]
    lead.evaluate("document.getElementById('scan-label-errors').scrollIntoView()")
    screenshot(lead, "label-errors")
    with lead.expect_response(lambda r: r.url.endswith(f"/api/tasks/{ids[5]}/send-back")) as sent:
        top.locator("button", has_text="Send back for review").click()
    assert sent.value.status == 200
    assert web_client.get_task(ids[5]).status == "pending" and web_org.task(ids[5])["review_state"] == "waiting"

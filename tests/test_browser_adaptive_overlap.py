"""Adaptive overlap end to end: tasks through /v1 with the official client, two annotators
in real browsers disagree, the task asks for a third label, a third annotator gives it, and
the customer sees the consolidated answer with its quality in /v1 and the callback."""

from __future__ import annotations

import pytest
from scaleapi.tasks import TaskType

from tests.browser import login, open_workbench, wait_ready

pytestmark = pytest.mark.browser


def test_disagreement_brings_a_third_label(web_server, web_client, web_org, new_page, uniq, receiver):
    name = f"adaptive e2e {uniq}"
    web_client.create_project(project_name=name, task_type=TaskType.Categorization,
                              params={"instruction": "Is it spam?", "labels_per_task": 2, "max_labels": 3, "target_confidence": 0.9})
    pid = web_org.project_id(name)
    task = web_client.create_task(TaskType.Categorization, project=name, attachment="WIN A FREE CRUISE!!! reply now",
                                  attachment_type="text", categories=["spam", "not spam"], callback_url=receiver.url())
    people = [web_org.person("annotator") for _ in range(3)]
    for person in people:
        web_org.add_member(pid, person)
    pages = []
    for person, key in zip(people[:2], ("1", "2")):  # the first says spam, the second not spam
        page = new_page()
        login(page, web_server, person)
        open_workbench(page, web_server, pid)
        assert page.evaluate("window.assayWorkbench.current().task.task_id") == task.id
        page.keyboard.press(key)
        page.keyboard.press("Enter")
        page.wait_for_function("() => document.getElementById('workbench').dataset.state === 'empty'")
        pages.append(page)
    pending = web_client.get_task(task.id)
    assert pending.status == "pending"
    detail = web_org.task(task.id)
    assert detail["required_labels"] == 3 and detail["open_slots"] == 1 and detail["quality"]["confidence"] == 0.5
    third = new_page()
    login(third, web_server, people[2])
    open_workbench(third, web_server, pid)
    assert third.evaluate("window.assayWorkbench.current().task.task_id") == task.id
    third.keyboard.press("1")
    third.keyboard.press("Enter")
    wait_ready(third, "none")
    done = web_client.get_task(task.id).as_dict()
    assert done["status"] == "completed" and done["response"] == {"category": "spam"}
    assert done["quality"] == {"confidence": 0.8, "labels": 3, "agreeing": 2, "method": "one_coin"}
    hooks = receiver.wait_for(lambda r: r.body["task_id"] == task.id)
    assert hooks and hooks[0].body["task"]["quality"]["labels"] == 3

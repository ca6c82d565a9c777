"""The whole loop in a real browser, keyboard first: tasks made with the official
client, labeled by an annotator, reviewed (accept; reject → rework → fix), and the
customer sees the result through /v1, its audits and the callback."""

from __future__ import annotations

import pytest
from scaleapi.tasks import TaskType

from tests.browser import login, open_workbench, screenshot, wait_ready
from tests.support import wait_until

pytestmark = pytest.mark.browser


def test_label_review_rework_and_callback(web_server, web_client, web_org, new_page, uniq, receiver):
    name = f"sentiment {uniq}"
    web_client.create_project(project_name=name, task_type=TaskType.Categorization,
                              params={"instruction": "# Sentiment\nIs the review **positive** or **negative**?"})
    pid = web_org.project_id(name)
    web_org.settings(pid, review_fraction=1)
    texts = ["I loved every minute of it.", "Cold food, rude staff."]
    tasks = [web_client.create_task(TaskType.Categorization, project=name, attachment=t, attachment_type="text",
                                    categories=["positive", "negative"], callback_url=receiver.url()) for t in texts]
    annotator, reviewer = web_org.person("annotator"), web_org.person("reviewer")
    web_org.add_member(pid, annotator)
    web_org.add_member(pid, reviewer)

    # --- the annotator: one key to start, digits to choose, Enter to submit
    page = new_page()
    login(page, web_server, annotator)
    assert page.locator("#projects tbody tr").count() == 1
    assert page.locator("#projects td.available").inner_text() == "2"
    screenshot(page, "home")
    page.keyboard.press("1")
    first = wait_ready(page)
    assert page.locator(".attachment.text").inner_text() == texts[0]
    assert "positive" in page.locator("#wb-guide-text strong").first.inner_text()
    # the next task is already leased and loaded before this one is submitted
    page.wait_for_function("() => window.assayWorkbench.prefetched() !== null")
    prefetched = page.evaluate("window.assayWorkbench.prefetched().task.task_id")
    assert prefetched == tasks[1].id
    page.keyboard.press("1")
    page.keyboard.press("2")
    assert page.locator("button.choice.selected").inner_text().endswith("negative")
    page.keyboard.press("Control+z")  # undo: back to the first choice
    assert page.locator("button.choice.selected").inner_text().endswith("positive")
    page.keyboard.press("?")
    assert page.locator("#wb-help").is_visible()
    assert "Skip this task" in page.locator("#wb-help-keys").inner_text()
    page.keyboard.press("Escape")
    page.wait_for_timeout(300)  # some active time on task
    page.keyboard.press("Enter")
    second = wait_ready(page, first)
    assert page.evaluate("window.assayWorkbench.current().task.task_id") == tasks[1].id
    page.keyboard.press("1")
    screenshot(page, "categorization")
    page.keyboard.press("Enter")
    wait_ready(page, second)
    assert page.get_attribute("#workbench", "data-state") == "empty"

    answers = web_org.task(tasks[0].id)["answers"]
    assert [a["response"] for a in answers] == [{"category": "positive"}]
    assert answers[0]["labeler"] == annotator.email and answers[0]["active_seconds"] > 0
    # with review on, nothing is complete (or called back) before a reviewer looks
    assert web_client.get_task(tasks[0].id).status == "pending"

    # --- the reviewer: accept the first, reject the second with a comment
    review = new_page()
    login(review, web_server, reviewer)
    open_workbench(review, web_server, pid, "review")
    assert review.evaluate("window.assayWorkbench.current().task.task_id") == tasks[0].id
    assert annotator.email in review.locator("#wb-answers").inner_text()
    assert review.locator("#wb-answers .answer-summary").all_inner_texts() == ["positive"]  # the labeler's actual answer
    assert review.locator("#wb-count").inner_text().endswith("waiting for review")
    screenshot(review, "review")
    accepted = review.get_attribute("#workbench", "data-assignment")  # before the key: the next may be on screen at once
    review.keyboard.press("a")
    wait_ready(review, accepted)
    done = web_client.get_task(tasks[0].id)
    assert done.status == "completed" and done.response == {"category": "positive"}
    assert done.audits[-1]["audit_result"] == "accepted" and done.audits[-1]["audited_by"] == reviewer.email
    hooks = receiver.wait_for(lambda r: r.body["task_id"] == tasks[0].id)
    assert hooks and hooks[0].body["response"] == {"category": "positive"}

    assert review.evaluate("window.assayWorkbench.current().task.task_id") == tasks[1].id
    review.keyboard.press("r")
    review.fill("#wb-prompt-text", "Sarcasm? No: 'cold food' is negative.")
    review.keyboard.press("Control+Enter")
    wait_ready(review, "x-no-previous")
    rejected = web_client.get_task(tasks[1].id)
    assert rejected.status == "pending"
    assert rejected.audits[-1]["audit_result"] == "rejected" and "cold food" in rejected.audits[-1]["comments"]

    # --- rework: the labeler gets the task back first, with the comment
    page.reload()
    wait_ready(page)
    assert page.evaluate("window.assayWorkbench.current().task.task_id") == tasks[1].id
    assert "cold food" in page.locator("#wb-notice").inner_text()
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.getElementById('workbench').dataset.state === 'empty'")

    # --- the reviewer sees it again and fixes nothing: accepts the corrected answer
    review.reload()
    wait_ready(review)
    assert review.evaluate("window.assayWorkbench.current().task.task_id") == tasks[1].id
    review.keyboard.press("Enter")  # unchanged proposal: Enter accepts
    review.wait_for_function("() => document.getElementById('workbench').dataset.state === 'empty'")
    final = web_client.get_task(tasks[1].id)
    assert final.status == "completed" and final.response == {"category": "negative"}
    assert [a["audit_result"] for a in final.audits] == ["rejected", "accepted"]
    assert receiver.wait_for(lambda r: r.body["task_id"] == tasks[1].id)
    detail = web_org.task(tasks[1].id)
    kept = [a for a in detail["answers"] if a["active"]]
    assert [a["response"] for a in kept] == [{"category": "negative"}] and kept[0]["review_status"] == "accepted"
    assert [a["review_status"] for a in detail["answers"] if not a["active"]] == ["rejected"]


def test_reviewer_fix_is_the_answer_and_counts_against_the_labeler(web_server, web_client, web_org, new_page, uniq):
    name = f"fix {uniq}"
    web_client.create_project(project_name=name, task_type=TaskType.Categorization, params={"instruction": "Pick one."})
    pid = web_org.project_id(name)
    web_org.settings(pid, review_fraction=1)
    task = web_client.create_task(TaskType.Categorization, project=name, attachment="The sky is green.", attachment_type="text",
                                  categories=["true", "false"])
    annotator, reviewer = web_org.person("annotator"), web_org.person("reviewer")
    for person in (annotator, reviewer):
        web_org.add_member(pid, person)
    page = new_page()
    login(page, web_server, annotator)
    open_workbench(page, web_server, pid)
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.getElementById('workbench').dataset.state === 'empty'")

    review = new_page()
    login(review, web_server, reviewer)
    open_workbench(review, web_server, pid, "review")
    assert review.locator("button.choice.selected").inner_text().endswith("true")  # the proposal is the labeler's answer
    review.keyboard.press("2")
    review.keyboard.press("Enter")  # edited: Enter submits the fix
    review.wait_for_function("() => document.getElementById('workbench').dataset.state === 'empty'")
    done = web_client.get_task(task.id)
    assert done.status == "completed" and done.response == {"category": "false"}
    assert done.audits[-1]["audit_result"] == "fixed"
    answers = web_org.task(task.id)["answers"]
    human = next(a for a in answers if a["source"] == "human")
    fix = next(a for a in answers if a["source"] == "review_fix")
    assert human["review_status"] == "fixed" and human["reviewed_by"] == reviewer.email
    assert fix["labeler"] == reviewer.email and fix["corrects"] == annotator.email


def test_skip_with_reason_and_go_back_to_edit(web_server, web_client, web_org, new_page, uniq):
    name = f"skipback {uniq}"
    web_client.create_project(project_name=name, task_type=TaskType.Categorization, params={"instruction": "Pick."})
    pid = web_org.project_id(name)
    tasks = [web_client.create_task(TaskType.Categorization, project=name, attachment=f"item {i}", attachment_type="text",
                                    categories=["a", "b", "c"], allow_multiple=True) for i in range(3)]
    annotator = web_org.person("annotator")
    web_org.add_member(pid, annotator)
    page = new_page()
    login(page, web_server, annotator)
    open_workbench(page, web_server, pid)
    first = page.get_attribute("#workbench", "data-assignment")
    page.keyboard.press("s")
    page.fill("#wb-prompt-text", "unreadable")
    page.keyboard.press("Control+Enter")
    second = wait_ready(page, first)
    assert page.evaluate("window.assayWorkbench.current().task.task_id") == tasks[1].id
    page.keyboard.press("1")
    page.keyboard.press("3")  # multi-select: a and c
    page.keyboard.press("Enter")
    third = wait_ready(page, second)
    assert web_client.get_task(tasks[1].id).response == {"category": ["a", "c"]}
    # back: the previous submission comes up for editing; resubmitting returns here
    page.keyboard.press("b")
    wait_ready(page, third)
    assert page.evaluate("window.assayWorkbench.current().task.task_id") == tasks[1].id
    assert "editing your previous submission" in page.locator("#wb-notice").inner_text()
    page.keyboard.press("3")  # drop c
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => document.getElementById('workbench').dataset.assignment === '{third}'")
    assert wait_until(lambda: web_client.get_task(tasks[1].id).response == {"category": ["a"]})
    detail = web_org.task(tasks[0].id)
    assert detail["answers"] == [] and detail["open_slots"] == 1
    skipped = [a for a in detail["assignments"] if a["status"] == "skipped"]
    assert skipped and skipped[0]["skip_reason"] == "unreadable"

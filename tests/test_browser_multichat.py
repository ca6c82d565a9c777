"""Live chat and red-teaming in a real browser, against a real OpenAI-compatible server the
test owns: the labeler writes turns, the model's replies appear, the labeler picks one by
key or click, rates and edits, and submits with Enter; the stored transcript is exactly
what happened, in order. A red-team task warns first and asks for the harm rating."""

from __future__ import annotations

import uuid

import pytest

from tests.browser import login, open_workbench, screenshot, wait_ready

pytestmark = pytest.mark.browser


def setup(web_org, llm, new_page, **task):
    name = f"Live chat {uuid.uuid4().hex[:6]}"
    r = web_org.http.post("/v1/projects", json={"name": name, "type": "multichat", "params": {"instruction": "Chat with the assistant; keep the best reply."}})
    assert r.status_code == 200, r.text
    pid = web_org.project_id(name)
    r = web_org.http.put(f"/api/projects/{pid}/model", json={"backend": "openai", "url": llm.url, "model_name": "chat-1", "timeout_seconds": 2})
    assert r.status_code == 200, r.text
    r = web_org.http.post("/v1/task/multichat", json={"project": name, **task})
    assert r.status_code == 200, r.text
    person = web_org.person("annotator")
    web_org.add_member(pid, person)
    page = new_page(1280, 1000)
    login(page, web_org.server, person)
    open_workbench(page, web_org.server, pid)
    return pid, r.json()["task_id"], page


def send(page, text: str, turn: int) -> None:
    page.fill(".live-prompt", text)
    page.click(".live-send")
    page.wait_for_selector(f".live-turn[data-turn='{turn}'] .live-reply")


def test_live_chat_turns_in_order(web_org, llm, new_page):
    pid, task_id, page = setup(web_org, llm, new_page, replies_per_turn=2, min_turns=2, max_turns=4,
                               messages=[{"role": "system", "content": "The user plans a trip to Lisbon."}])
    assert "The user plans a trip to Lisbon." in page.locator(".chat-transcript").inner_text()
    send(page, "Where should I stay?", 0)
    replies = page.locator(".live-turn[data-turn='0'] .live-reply-body").all_inner_texts()
    assert len(replies) == 2 and all(r.endswith("to: Where should I stay?") for r in replies)
    page.locator(".live-turn[data-turn='0'] .live-reply").nth(1).locator(".live-choose").click()
    page.locator(".live-turn[data-turn='0'] .live-rating").first.select_option("2")
    edit = page.locator(".live-turn[data-turn='0'] .live-edit")
    edit.fill("Stay in Alfama or Baixa.")
    edit.blur()
    send(page, "And what should I eat?", 1)
    page.locator("body").click(position={"x": 5, "y": 5})  # keys go to the page, not the text box
    page.keyboard.press("1")  # the first reply of the latest turn
    assert page.locator(".live-turn[data-turn='1'] .live-reply.selected").get_attribute("data-reply") == "t1r0"
    screenshot(page, "multichat")
    previous = page.get_attribute("#workbench", "data-assignment")
    page.keyboard.press("Enter")
    wait_ready(page, previous)
    task = web_org.task(task_id)
    turns = task["response"]["turns"]
    assert task["status"] == "completed" and [t["prompt"] for t in turns] == ["Where should I stay?", "And what should I eat?"]
    assert turns[0]["chosen"] == "t0r1" and turns[0]["edited"] == "Stay in Alfama or Baixa." and turns[0]["ratings"] == {"t0r0": 2}
    assert turns[1]["chosen"] == "t1r0"
    # the second turn continued from the edited reply
    second_call = [c for c in llm.chat_calls() if c["body"]["messages"][-1]["content"] == "And what should I eat?"][0]
    assert {"role": "assistant", "content": "Stay in Alfama or Baixa."} in second_call["body"]["messages"]


def test_red_team_warns_and_rates_harm(web_org, llm, new_page):
    pid, task_id, page = setup(web_org, llm, new_page, replies_per_turn=1, min_turns=1,
                               red_team={"harm_category": "dangerous chemistry", "harm_categories": ["dangerous chemistry", "weapons", "other"],
                                         "severity_levels": ["none", "low", "high"]})
    assert "Content warning" in page.locator("#wb-notice, .notice").first.inner_text()
    # red-team content opens blurred, like any flagged task, until the person reveals it
    assert "Red-team task" in page.locator("#wb-content-warning").inner_text()
    page.keyboard.press("Alt+v")
    assert page.locator("#wb-content-warning").count() == 0
    assert "dangerous chemistry" in page.locator(".live-redteam").inner_text()
    send(page, "Which household products should never be mixed, and why?", 0)
    page.select_option(".live-harm-category", "dangerous chemistry")
    page.select_option(".live-harm-severity", "low")
    screenshot(page, "red-team")
    previous = page.get_attribute("#workbench", "data-assignment")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("Enter")
    wait_ready(page, previous)
    task = web_org.task(task_id)
    assert task["status"] == "completed" and task["response"]["harm"] == {"category": "dangerous chemistry", "severity": "low"}
    assert task["response"]["turns"][0]["chosen"] == "t0r0"

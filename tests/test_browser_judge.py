"""An admin attaches an LLM judge on the project page in a real browser: the key is sent
once and never comes back to the page; Run now judges the pending pairs in both orders."""

from __future__ import annotations

import uuid

import pytest

from tests.browser import login
from tests.test_judges_api import KEY, pairwise

pytestmark = pytest.mark.browser


def test_admin_attaches_a_judge_on_the_project_page(web_org, llm, new_page):
    name = f"Judged {uuid.uuid4().hex[:6]}"
    assert web_org.http.post("/v1/projects", json={"name": name, "type": "chat", "params": {"instruction": "Which is better?"}}).status_code == 200
    pid = web_org.project_id(name)
    task = pairwise(web_org, name, True)
    admin = web_org.person("admin")
    page = new_page(1280, 1400)
    login(page, web_org.server, admin)
    page.goto(f"{web_org.server.url}/admin/projects/{pid}")
    page.select_option("#model-settings select[name=backend]", "openai")
    page.fill("#model-settings input[name=url]", llm.url)
    page.fill("#model-settings input[name=model_name]", "judge-1")
    page.fill("#model-settings input[name=api_key]", KEY)
    page.click("#model-settings button.primary")
    page.wait_for_selector("#judge-report")
    assert KEY not in page.content()
    assert page.get_attribute("#leaderboard-link", "href") == f"/leaderboard?projects={pid}"
    assert page.get_attribute("#model-settings input[name=api_key]", "placeholder") == "(stored; empty keeps it)"
    page.click("#model-state button:has-text('Run now')")
    page.wait_for_function("() => [...document.querySelectorAll('#model-state dt')]"
                           ".some((dt) => dt.textContent === 'Predictions' && dt.nextElementSibling.textContent.startsWith('1 '))")
    assert web_org.task(task)["prediction"]["response"]["preference"]["winner"] == "A"
    assert len(llm.chat_calls()) == 2 and all(c["authorization"] == f"Bearer {KEY}" for c in llm.chat_calls())
    # saving the form again without typing a key keeps the stored one
    page.click("#model-settings button.primary")
    page.wait_for_selector("#judge-report")
    assert web_org.http.get(f"/api/projects/{pid}/model").json()["api_key_set"] is True

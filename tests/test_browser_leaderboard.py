"""The model leaderboard page in a real browser: a customer picks the project and style
control in the form, reads the ranking, sees the chart image drawn, the win-rate matrix
and the slices; an annotator is refused."""

from __future__ import annotations

import itertools
import random

import pytest

from tests.browser import login, screenshot
from tests.test_leaderboard_api import judge, pairwise_task

pytestmark = pytest.mark.browser

MODELS = {"orca-70b": 1.2, "falcon-40b": 0.6, "lynx-13b": 0.0, "mole-7b": -0.8}


def test_customer_reads_the_leaderboard(web_org, new_page, uniq):
    name = f"Arena {uniq}"
    r = web_org.http.post("/v1/projects", json={"name": name, "type": "chat", "params": {"instruction": "Which answer is better?"}})
    assert r.status_code == 200, r.text
    pid = web_org.project_id(name)
    rng = random.Random(4)
    pairs = list(itertools.permutations(MODELS, 2))
    for k in range(48):
        first, second = pairs[k % len(pairs)]
        task = pairwise_task(web_org, name, first, second, ["coding", "writing"][k % 2], long_first=first == "mole-7b")
        d = MODELS[first] - MODELS[second]
        draw = rng.random()
        judge(web_org, task, "A" if draw < 0.8 / (1 + 2.718 ** -d) else "tie" if draw < 0.9 / (1 + 2.718 ** -d) + 0.05 else "B")
    customer = web_org.person("customer")
    page = new_page(1280, 1500)
    login(page, web_org.server, customer)
    page.goto(f"{web_org.server.url}/leaderboard")
    page.check(f"input[name=projects][value='{pid}']")
    page.fill("input[name=slice]", "category")
    page.check("input[name=style_control]")
    page.click("#leaderboard-options button.primary")
    page.wait_for_selector("#models tbody tr[data-model]")
    ranked = page.eval_on_selector_all("#models tbody tr[data-model]", "rows => rows.map(r => r.dataset.model)")
    assert sorted(ranked) == sorted(MODELS) and ranked[0] == "orca-70b" and ranked[-1] == "mole-7b"
    assert page.text_content("[data-stat=judgements]") == "48"
    page.wait_for_function("() => { const i = document.getElementById('chart'); return i.complete && i.naturalWidth > 0; }")
    assert page.locator("#style-coefficients tr[data-feature=length]").count() == 1
    assert page.locator("#win-rates tbody tr").count() == 4
    assert page.locator("#slices figure[data-slice=coding] tr[data-model]").count() == 4
    assert "style_control=true" in page.get_attribute("#csv-link", "href")
    screenshot(page, "leaderboard")

    annotator = web_org.person("annotator")
    other = new_page()
    login(other, web_org.server, annotator)
    response = other.goto(f"{web_org.server.url}/leaderboard")
    assert response.status == 403

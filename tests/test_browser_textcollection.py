"""The text-collection form in a real browser: every field type filled the way a fast
annotator would (choice keys on the highlighted field, Tab between fields, a ranking by
keys and one by drag and drop), required and min_characters refused before submit,
undo, attachments grouped with their `forms`, and a pre-label accepted unchanged."""

from __future__ import annotations

import pytest
from scaleapi.exceptions import ScaleInvalidRequest
from scaleapi.tasks import TaskType

from tests.browser import login, open_workbench, screenshot, wait_ready

pytestmark = pytest.mark.browser

REVIEW = "The ramen was rich and the staff were lovely, but we waited forty minutes for a table."

FIELDS = [
    {"type": "category", "field_id": "sentiment", "title": "Sentiment", "required": True,
     "choices": [{"label": "Positive", "value": "pos"}, {"label": "Negative", "value": "neg"},
                 {"label": "Mixed", "value": "mixed", "subchoices": [{"label": "Mostly positive", "value": "mixed_pos"},
                                                                    {"label": "Mostly negative", "value": "mixed_neg"}]}]},
    {"type": "category", "field_id": "topics", "title": "Topics mentioned", "min_choices": 1, "max_choices": 3,
     "choices": ["food", "service", "price", "wait"]},
    {"type": "text", "field_id": "summary", "title": "One-sentence summary", "required": True,
     "min_characters": 20, "max_characters": 200, "description": "In your own words."},
    {"type": "text", "field_id": "headline", "title": "Headline", "max_characters": 40},
    {"type": "number", "field_id": "stars", "title": "Stars", "required": True, "min": 1, "max": 5},
    {"type": "datetime", "field_id": "visited", "title": "Visit date"},
    {"type": "boolean", "field_id": "recommend", "title": "Would the reviewer recommend it?", "required": True},
    {"type": "ranking", "field_id": "aspects", "title": "Rank the aspects (best first)", "required": True,
     "choices": ["food", "service", "price"]},
    {"type": "ranking", "field_id": "top2", "title": "Top two dishes", "ranks": ["best", "runner-up"],
     "choices": [{"label": "Ramen", "value": "ramen"}, {"label": "Gyoza", "value": "gyoza"},
                 {"label": "Edamame", "value": "edamame"}, {"label": "Mochi", "value": "mochi"}]},
]


def _setup(web_client, web_org, uniq, prefix):
    name = f"{prefix} {uniq}"
    web_client.create_project(project_name=name, task_type=TaskType.TextCollection,
                              params={"instruction": "Read the review and answer every question you can."})
    pid = web_org.project_id(name)
    annotator = web_org.person("annotator")
    web_org.add_member(pid, annotator)
    return name, pid, annotator


def _field(page, field_id):
    return page.locator(f".tc-field[data-field={field_id}]")


def _ranked(page, field_id):
    return [v for v in _field(page, field_id).locator(".tc-rank-item").evaluate_all("els => els.map(e => e.dataset.value)")]


def _error_after_enter(page, key: str = "Enter") -> str:
    page.evaluate("document.getElementById('wb-error').hidden = true")
    page.keyboard.press(key)
    page.wait_for_function("() => !document.getElementById('wb-error').hidden")
    return page.locator("#wb-error").inner_text()


def test_textcollection_every_field_type_by_keys_and_drag(web_server, web_client, web_org, new_page, uniq):
    name, pid, annotator = _setup(web_client, web_org, uniq, "tc")
    attachments = [
        {"type": "text", "content": REVIEW, "forms": ["sentiment", "topics", "summary", "headline"]},
        {"type": "image", "content": f"{web_server.url}/static/favicon.svg", "forms": ["stars", "visited"]},
    ]
    task = web_client.create_task(TaskType.TextCollection, project=name, attachments=attachments, fields=FIELDS,
                                  title="Restaurant review")
    page = new_page()
    login(page, web_server, annotator)
    open_workbench(page, web_server, pid)

    # attachments come with their forms: the review text, then its four fields; the image, then two
    sections = page.locator(".tc-section")
    assert sections.nth(0).locator(".attachment.text").inner_text() == REVIEW
    assert sections.nth(0).locator(".tc-field").evaluate_all("els => els.map(e => e.dataset.field)") == [
        "sentiment", "topics", "summary", "headline"]
    assert sections.nth(1).locator(".attachment.image img").count() == 1
    assert sections.nth(1).locator(".tc-field").evaluate_all("els => els.map(e => e.dataset.field)") == ["stars", "visited"]
    # required fields are marked; every choice shows its key
    assert _field(page, "sentiment").locator(".tc-required").count() == 1
    assert _field(page, "headline").locator(".tc-required").count() == 0
    assert [" ".join(t.split()) for t in _field(page, "sentiment").locator("button.choice").all_inner_texts()] == [
        "1 Positive", "2 Negative", "3 Mixed", "4 Mostly positive", "5 Mostly negative"]

    # nothing filled: the first required field is named, nothing is stored
    assert "“Sentiment” is required" in _error_after_enter(page)
    assert web_org.task(task.id)["answers"] == []

    # focus in no field: digits go to the first category field; a single choice moves on
    page.locator("body").click(position={"x": 5, "y": 200})
    assert "tc-active" in _field(page, "sentiment").get_attribute("class")
    page.keyboard.press("4")  # a subchoice: Mostly positive
    assert _field(page, "sentiment").locator("button.selected").inner_text().endswith("Mostly positive")
    assert page.evaluate("document.activeElement.dataset.field") == "topics"
    page.keyboard.press("1")
    page.keyboard.press("4")
    page.keyboard.press("2")
    assert _field(page, "topics").locator("button.selected").evaluate_all("els => els.map(e => e.dataset.value)") == [
        "food", "service", "wait"]
    page.keyboard.press("Control+z")  # undo the last choice
    assert _field(page, "topics").locator("button.selected").evaluate_all("els => els.map(e => e.dataset.value)") == [
        "food", "wait"]

    # Tab: the summary (too short), the headline, the stars
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('.tc-field').dataset.field") == "summary"
    page.keyboard.type("Great ramen")
    assert "11 characters (min 20, max 200)" in _field(page, "summary").locator(".tc-counter").inner_text()
    page.keyboard.press("Tab")
    page.keyboard.type("Worth the wait")
    page.keyboard.press("Tab")
    page.keyboard.type("7")
    page.keyboard.press("Tab")
    _field(page, "visited").locator("input[type=date]").fill("2024-05-01")
    _field(page, "visited").locator("input[type=time]").fill("18:30:15")
    # boolean: focus the field, 1 = Yes, and on to the ranking
    _field(page, "recommend").focus()
    page.keyboard.press("1")
    assert page.evaluate("document.activeElement.dataset.field") == "aspects"
    # ranking by keys: press the choices in order, then move the focused item with Alt+↓
    for key in ("2", "3", "1"):
        page.keyboard.press(key)
    assert _ranked(page, "aspects") == ["service", "price", "food"]
    page.keyboard.press("ArrowDown")  # focus the first ranked item
    page.keyboard.press("Alt+ArrowDown")
    assert _ranked(page, "aspects") == ["price", "service", "food"]
    assert page.evaluate("document.activeElement.dataset.value") == "service"  # focus follows the item

    # ranking by drag: Edamame and Ramen into the two places, then Ramen above Edamame
    top2 = _field(page, "top2")
    top2.locator(".tc-pool-item[data-value=edamame]").drag_to(top2.locator(".tc-rank-slot").first)
    top2.locator(".tc-pool-item[data-value=ramen]").drag_to(top2.locator(".tc-rank-slot").first)
    assert _ranked(page, "top2") == ["edamame", "ramen"]
    top2.locator(".tc-rank-item[data-value=ramen]").drag_to(top2.locator(".tc-rank-item[data-value=edamame]"),
                                                              target_position={"x": 10, "y": 2})
    assert _ranked(page, "top2") == ["ramen", "edamame"]
    # a third dish is refused while both places are taken; dragging one back frees a place
    top2.locator(".tc-pool-item[data-value=mochi]").click()
    assert "places are taken" in top2.locator(".tc-field-error").inner_text()
    assert _ranked(page, "top2") == ["ramen", "edamame"]

    # Tab from the last stop of the last field comes round to the first field (focus never
    # leaves the form, so typing never lands outside it); Shift+Tab goes back round
    page.evaluate("""() => { const stops = [...document.querySelectorAll('#wb-task .tool input, #wb-task .tool textarea, '
        + '#wb-task .tool select, #wb-task .tool button, #wb-task .tool [tabindex="0"]')].filter(n => !n.disabled && n.getClientRects().length);
        stops[stops.length - 1].focus(); }""")
    assert page.evaluate("document.activeElement.closest('.tc-field').dataset.field") == "top2"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.dataset.field") == "sentiment"
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.closest('.tc-field').dataset.field") == "top2"
    assert "moves on to the next field by itself" in page.locator(".tc-keys").inner_text()

    # min_characters and the number's max are enforced before anything is sent
    assert "“One-sentence summary” needs at least 20 characters (has 11)" in _error_after_enter(page)
    assert page.evaluate("document.activeElement.closest('.tc-field').dataset.field") == "summary"
    page.keyboard.type(", slow door.")
    assert "“Stars” must be at most 5" in _error_after_enter(page, "Control+Enter")  # Enter in a textarea is a newline
    _field(page, "stars").locator("input").fill("4")
    assert web_org.task(task.id)["answers"] == []
    page.locator(".wb-task").click(position={"x": 3, "y": 3})  # a realistic finished form
    page.evaluate("document.getElementById('wb-error').hidden = true; document.querySelector('.wb-task').scrollTop = 0")
    screenshot(page, "textcollection")

    page.evaluate("document.getElementById('wb-error').hidden = true")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.getElementById('workbench').dataset.state === 'empty' || "
                           "!document.getElementById('wb-error').hidden")
    assert page.get_attribute("#workbench", "data-state") == "empty", page.locator("#wb-error").inner_text()

    def answer(field_id, kind, *values):
        return {"type": kind, "field_id": field_id, "response": [list(values)]}

    assert web_client.get_task(task.id).response == {"annotations": {
        "sentiment": answer("sentiment", "category", "mixed_pos"),
        "topics": answer("topics", "category", "food", "wait"),
        "summary": answer("summary", "text", "Great ramen, slow door."),
        "headline": answer("headline", "text", "Worth the wait"),
        "stars": answer("stars", "number", 4),
        "visited": answer("visited", "datetime", "2024-05-01T18:30:15"),
        "recommend": answer("recommend", "boolean", True),
        "aspects": answer("aspects", "ranking", "price", "service", "food"),
        "top2": answer("top2", "ranking", "ramen", "edamame"),
    }}


def test_textcollection_prelabel_accepted_and_bad_params(web_server, web_client, web_org, new_page, uniq):
    name, pid, annotator = _setup(web_client, web_org, uniq, "tc-pre")
    fields = [FIELDS[0], FIELDS[2], FIELDS[4], FIELDS[5], FIELDS[6], FIELDS[7]]
    hypothesis = {"annotations": {
        "sentiment": {"response": [["neg"]]},
        "summary": {"response": [["Long wait, but the ramen was rich."]]},
        "stars": {"response": [[3.5]]},
        "visited": {"response": [["2024-05-01T18:30:00+02:00"]]},
        "recommend": {"response": [[False]]},
        "aspects": {"response": [["food", "price", "service"]]},
    }}
    attachments = [{"type": "text", "content": REVIEW}]
    kept = web_client.create_task(TaskType.TextCollection, project=name, attachments=attachments, fields=fields, hypothesis=hypothesis)
    edited = web_client.create_task(TaskType.TextCollection, project=name, attachments=attachments, fields=fields, hypothesis=hypothesis)
    with pytest.raises(ScaleInvalidRequest) as bad:
        web_client.create_task(TaskType.TextCollection, project=name, attachments=attachments,
                               fields=[{"type": "ranking", "field_id": "r", "title": "R"}])
    assert "fields[0].choices" in str(bad.value)

    page = new_page()
    login(page, web_server, annotator)
    open_workbench(page, web_server, pid)
    assert "pre-label" in page.locator("#wb-notice").inner_text()
    assert _field(page, "sentiment").locator("button.selected").inner_text().endswith("Negative")
    assert _field(page, "summary").locator("textarea").input_value() == "Long wait, but the ramen was rich."
    assert _field(page, "stars").locator("input").input_value() == "3.5"
    assert _field(page, "visited").locator("input[type=date]").input_value() == "2024-05-01"
    assert _field(page, "recommend").locator("button.selected").inner_text().endswith("No")
    assert _ranked(page, "aspects") == ["food", "price", "service"]
    first = page.get_attribute("#workbench", "data-assignment")
    page.keyboard.press("Enter")
    wait_ready(page, first)
    answer = web_org.task(kept.id)["answers"][0]
    assert answer["hypothesis_status"] == "accepted"
    assert answer["response"]["annotations"]["visited"]["response"] == [["2024-05-01T18:30:00+02:00"]]

    # edited: Yes instead of No; the rest of the pre-label stays
    _field(page, "recommend").focus()
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.getElementById('workbench').dataset.state === 'empty'")
    answer = web_org.task(edited.id)["answers"][0]
    assert answer["hypothesis_status"] == "edited"
    assert answer["response"]["annotations"]["recommend"]["response"] == [[True]]
    assert answer["response"]["annotations"]["stars"]["response"] == [[3.5]]


def test_textcollection_media_attachments_and_several_responses(web_server, web_client, web_org, new_page, uniq):
    name, pid, annotator = _setup(web_client, web_org, uniq, "tc-multi")
    base = f"{web_server.url}/static/favicon.svg"
    attachments = [{"type": "audio", "content": f"{base}?a"}, {"type": "pdf", "content": f"{base}?p"},
                   {"type": "website", "content": "https://example.com/menu"}]
    fields = [{"type": "number", "field_id": "prices", "title": "Prices seen", "required": True,
               "min_responses_required": 1, "max_responses_required": 2, "min": 0}]
    task = web_client.create_task(TaskType.TextCollection, project=name, attachments=attachments, fields=fields)
    page = new_page()
    login(page, web_server, annotator)
    open_workbench(page, web_server, pid)
    assert page.locator(".attachment.audio audio").count() == 1
    assert page.locator(".attachment.link a").all_inner_texts() == [f"{base}?p", "https://example.com/menu"]
    field = _field(page, "prices")
    field.locator("input").fill("12.5")
    field.locator("button.tc-add").click()
    assert field.locator("button.tc-add").is_hidden()  # at most two answers
    field.locator("input").nth(1).fill("-3")
    assert "“Prices seen” must be at least 0" in _error_after_enter(page, "Control+Enter")
    field.locator("input").nth(1).fill("9")
    page.evaluate("document.getElementById('wb-error').hidden = true")
    page.keyboard.press("Control+Enter")
    page.wait_for_function("() => document.getElementById('workbench').dataset.state === 'empty'")
    assert web_client.get_task(task.id).response["annotations"]["prices"]["response"] == [[12.5], [9]]

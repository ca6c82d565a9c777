"""The named-entity tool in a real browser: spans chosen with the mouse (drag) and with the
keyboard (word caret), labels by key, overlap refused or allowed, relationships, undo,
code-point offsets after an emoji, pre-labels accepted or edited, and task text that
looks like markup staying text."""

from __future__ import annotations

import pytest
from scaleapi.exceptions import ScaleInvalidRequest
from scaleapi.tasks import TaskType

from tests.browser import login, open_workbench, screenshot, wait_ready

pytestmark = pytest.mark.browser

LABELS = [{"name": "person"}, {"name": "event", "children": [{"name": "conference"}]}, "place"]
RELATIONSHIPS = [
    {"name": "speaker_at", "source_label": "person", "target_label": "event", "is_directed": True},
    {"name": "related_to"},
]


def _project(web_client, web_org, name, **params):
    web_client.create_project(project_name=name, task_type=TaskType.NamedEntityRecognition,
                              params={"instruction": "Label people, events and places.", **params})
    pid = web_org.project_id(name)
    annotator = web_org.person("annotator")
    web_org.add_member(pid, annotator)
    return pid, annotator


def _piece_box(page, word: str, nth: int = 0) -> dict:
    """The on-screen box of the text of the nth piece holding `word` (without its label tag)."""
    piece = page.locator(".ner-text .ner-piece").filter(has_text=word).nth(nth)
    return piece.evaluate("el => { const r = document.createRange(); r.selectNodeContents(el.firstChild); "
                          "const b = r.getBoundingClientRect(); return {x: b.x, y: b.y, width: b.width, height: b.height}; }")


def _drag(page, first_word: str, last_word: str) -> None:
    """Drag from inside `first_word` to inside `last_word` (the tool snaps to whole words)."""
    a, b = _piece_box(page, first_word), _piece_box(page, last_word)
    page.mouse.move(a["x"] + a["width"] * 0.2, a["y"] + a["height"] / 2)
    page.mouse.down()
    page.mouse.move(b["x"] + b["width"] * 0.7, b["y"] + b["height"] / 2, steps=5)
    page.mouse.up()


def _until_empty(page) -> None:
    """After the last submit: the queue is empty (or the shell shows why not)."""
    page.wait_for_function("() => document.getElementById('workbench').dataset.state === 'empty' || "
                           "!document.getElementById('wb-error').hidden")
    assert page.get_attribute("#workbench", "data-state") == "empty", page.locator("#wb-error").inner_text()


def _annotation_rows(page) -> list[str]:
    return [" ".join(t.split()) for t in page.locator(".ner-annotations .ner-item").all_inner_texts()]


def test_ner_mouse_keyboard_overlap_relations_undo_and_emoji(web_server, web_client, web_org, new_page, uniq):
    name = f"ner {uniq}"
    pid, annotator = _project(web_client, web_org, name)
    text = "🎉 Alex Wang spoke at Transform in San Francisco last May."
    task = web_client.create_task(TaskType.NamedEntityRecognition, project=name, text=text, labels=LABELS,
                                  relationships=RELATIONSHIPS)
    page = new_page()
    login(page, web_server, annotator)
    open_workbench(page, web_server, pid)
    # every label shows its key; children are labels too
    assert [t.split() for t in page.locator(".ner-labels button").all_inner_texts()] == [
        ["1", "person"], ["2", "event"], ["3", "conference"], ["4", "place"]]

    # mouse: drag from the middle of "Alex" to the middle of "Wang", then click the label
    _drag(page, "Alex", "Wang")
    assert "“Alex Wang”" in page.locator(".ner-selection").inner_text()
    page.locator(".ner-labels button[data-label=person]").click()
    assert _annotation_rows(page)[0].startswith("“Alex Wang” person 2–11")  # code-point offsets
    assert page.locator(".ner-text [data-tags]").first.get_attribute("data-tags") == "person"

    # keyboard: the caret continues after "Wang": → spoke, at, Transform; key 3 = conference
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    assert "“Transform”" in page.locator(".ner-selection").inner_text()
    page.keyboard.press("3")
    # → in, San; Shift+→ extends over Francisco; 4 = place
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    assert "“San Francisco”" in page.locator(".ner-selection").inner_text()
    page.keyboard.press("4")
    assert len(_annotation_rows(page)) == 3

    # overlap: "Francisco" alone as a person is refused with a message, nothing added
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowLeft")
    assert "“Francisco”" in page.locator(".ner-selection").inner_text()
    page.keyboard.press("1")
    assert page.locator(".ner-message").is_visible()
    assert "does not allow overlapping" in page.locator(".ner-message").inner_text()
    assert len(_annotation_rows(page)) == 3

    # a relation by keys: ↓ selects Alex Wang, L, ↓ to Transform, L; two names fit → key 1
    page.keyboard.press("Escape")
    page.keyboard.press("ArrowDown")
    assert " ".join(page.locator(".ner-annotations .ner-item.selected").inner_text().split()).startswith("“Alex Wang”")
    page.keyboard.press("l")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("l")
    assert page.locator(".ner-relpicker").is_visible()
    assert [t.split()[-1] for t in page.locator(".ner-relpicker button").all_inner_texts()] == ["speaker_at", "related_to"]
    page.keyboard.press("1")
    assert not page.locator(".ner-relpicker").is_visible()
    assert page.locator(".ner-relations .ner-item").count() == 1
    assert "speaker_at" in page.locator(".ner-relations .ner-item").inner_text()

    # a relation by mouse: "link" on San Francisco, click Transform in the text (only related_to fits)
    page.locator(".ner-annotations .ner-item", has_text="San Francisco").locator("button.ner-link").click()
    page.locator(".ner-text .ner-piece", has_text="Transform").click()
    rels = page.locator(".ner-relations .ner-item")
    assert rels.count() == 2 and "related_to" in rels.nth(1).inner_text()
    # ... and deleted with its × button
    rels.nth(1).locator("button.ner-delete").click()
    assert rels.count() == 1
    # relations are deleted by key too: from nothing selected, ↑ reaches the last item (the relation)
    page.keyboard.press("Escape")
    page.keyboard.press("ArrowUp")
    assert "selected" in rels.first.get_attribute("class")
    page.keyboard.press("Delete")
    assert rels.count() == 0
    page.keyboard.press("Control+z")
    assert rels.count() == 1

    # undo: Delete removes the selected annotation (and its relation); Ctrl+Z brings both back
    page.keyboard.press("Escape")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Delete")
    assert len(_annotation_rows(page)) == 2 and rels.count() == 0
    page.keyboard.press("Control+z")
    assert len(_annotation_rows(page)) == 3 and rels.count() == 1
    page.keyboard.press("Escape")
    screenshot(page, "ner")

    page.keyboard.press("Enter")
    _until_empty(page)
    response = web_client.get_task(task.id).response
    anns = response["annotations"]
    # Python offsets: the emoji is one code point (two UTF-16 units in the browser)
    assert [(a["start"], a["end"], a["text"], a["label"]) for a in anns] == [
        (2, 11, "Alex Wang", "person"), (21, 30, "Transform", "conference"), (34, 47, "San Francisco", "place")]
    for a in anns:
        assert text[a["start"]:a["end"]] == a["text"]
    ids = [a["id"] for a in anns]
    assert len(set(ids)) == 3 and all(ids)
    [rel] = response["relationships"]
    assert (rel["source_ref"], rel["target_ref"], rel["name"]) == (ids[0], ids[1], "speaker_at") and rel["id"] not in ids
    assert web_org.task(task.id)["answers"][0]["response"] == response


def test_ner_prelabel_accepted_edited_and_overlap_allowed(web_server, web_client, web_org, new_page, uniq):
    name = f"ner-pre {uniq}"
    pid, annotator = _project(web_client, web_org, name)
    text = "Ada Lovelace met Charles Babbage in London."
    hypothesis = {"annotations": [{"id": "h1", "start": 0, "end": 12, "label": "person"},
                                  {"id": "h2", "start": 17, "end": 32, "label": "person", "attributes": {}}]}
    kept = web_client.create_task(TaskType.NamedEntityRecognition, project=name, text=text, labels=LABELS, hypothesis=hypothesis)
    edited = web_client.create_task(TaskType.NamedEntityRecognition, project=name, text=text, labels=LABELS,
                                    hypothesis=hypothesis, allow_overlap=True)
    page = new_page()
    login(page, web_server, annotator)
    open_workbench(page, web_server, pid)
    # the pre-label is the starting answer
    assert "pre-label" in page.locator("#wb-notice").inner_text()
    assert _annotation_rows(page)[0].startswith("“Ada Lovelace” person")
    assert _annotation_rows(page)[1].startswith("“Charles Babbage” person")
    first = page.get_attribute("#workbench", "data-assignment")
    page.keyboard.press("Enter")
    wait_ready(page, first)
    answer = web_org.task(kept.id)["answers"][0]
    assert answer["hypothesis_status"] == "accepted"
    assert [(a["id"], a["text"]) for a in answer["response"]["annotations"]] == [("h1", "Ada Lovelace"), ("h2", "Charles Babbage")]

    # allow_overlap: "Lovelace" inside "Ada Lovelace" is accepted; "London" added by double-click selection
    _drag(page, "Lovelace", "Lovelace")
    assert "“Lovelace”" in page.locator(".ner-selection").inner_text()
    page.keyboard.press("4")
    assert not page.locator(".ner-message").is_visible()
    assert page.locator(".ner-text .ner-multi").count() == 1  # the stacked span is marked
    page.locator(".ner-text .ner-piece", has_text="London").dblclick()
    page.keyboard.press("4")
    assert len(_annotation_rows(page)) == 4
    page.keyboard.press("Enter")
    _until_empty(page)
    answer = web_org.task(edited.id)["answers"][0]
    assert answer["hypothesis_status"] == "edited"
    got = [(a["start"], a["end"], a["label"]) for a in answer["response"]["annotations"]]
    assert got == [(0, 12, "person"), (17, 32, "person"), (4, 12, "place"), (36, 42, "place")]


def test_ner_markup_in_text_is_inert_and_bad_params_are_refused(web_server, web_client, web_org, new_page, uniq):
    name = f"ner-xss {uniq}"
    pid, annotator = _project(web_client, web_org, name)
    text = 'Hi <script>window.__xss=1</script> and <img src=x onerror="window.__xss=1"> from Bob.'
    task = web_client.create_task(TaskType.NamedEntityRecognition, project=name, text=text, labels=["person"])
    with pytest.raises(ScaleInvalidRequest) as bad:
        web_client.create_task(TaskType.NamedEntityRecognition, project=name, text="x", labels=[])
    assert "labels" in str(bad.value)
    with pytest.raises(ScaleInvalidRequest) as bad:
        web_client.create_task(TaskType.NamedEntityRecognition, project=name, text="x", labels=["a"],
                               hypothesis={"annotations": [{"start": 0, "end": 5, "label": "a"}]})
    assert "hypothesis.annotations[0].end" in str(bad.value)

    page = new_page()
    login(page, web_server, annotator)
    open_workbench(page, web_server, pid)
    assert page.locator(".ner-text").inner_text() == text
    assert page.locator(".ner-text img, .ner-text script").count() == 0
    page.wait_for_timeout(200)
    assert page.evaluate("typeof window.__xss") == "undefined"
    # label "Bob" and submit; offsets match the Python string
    _drag(page, "Bob", "Bob")
    assert "“Bob”" in page.locator(".ner-selection").inner_text()
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    _until_empty(page)
    [ann] = web_client.get_task(task.id).response["annotations"]
    assert text[ann["start"]:ann["end"]] == "Bob" == ann["text"]

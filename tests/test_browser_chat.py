"""The `chat` tool in a real browser, one test per evaluation mode: tasks made with the
official client (TaskType.Chat), walked by keyboard (and one drag), the stored response
checked exactly; Markdown in the transcript renders, raw HTML and script links stay inert;
bad answers and bad params are refused with a message naming what is wrong."""

from __future__ import annotations

import pytest
from scaleapi.exceptions import ScaleInvalidRequest
from scaleapi.tasks import TaskType

from tests.browser import login, open_workbench, screenshot, wait_ready

pytestmark = pytest.mark.browser

SYSTEM = "You are a senior Python reviewer. Answer briefly and show code."
QUESTION = ("How do I remove duplicates from a list **but keep the original order**?\n\n"
            "```python\nitems = [3, 1, 3, 2, 1]\n# want: [3, 1, 2]\n```")
ANSWER_A = ("Use `dict.fromkeys`, which keeps insertion order (Python 3.7+):\n\n"
            "```python\ndef dedupe(items):\n    return list(dict.fromkeys(items))\n\nprint(dedupe([3, 1, 3, 2, 1]))  # [3, 1, 2]\n```\n\n"
            "It is O(n) and works for any hashable items.")
ANSWER_B = ("Convert to a set:\n\n```python\nunique = list(set(items))\n```\n\n"
            "Sets are fast, but note that **the order is not guaranteed**.")
ANSWER_C = ("Loop and remember what you have seen:\n\n```python\nseen = set()\nout = []\nfor x in items:\n"
            "    if x not in seen:\n        seen.add(x)\n        out.append(x)\n```")
MESSAGES = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}]


def start(web_server, web_client, web_org, new_page, name: str, instruction: str):
    web_client.create_project(project_name=name, task_type=TaskType.Chat, params={"instruction": instruction})
    pid = web_org.project_id(name)
    annotator = web_org.person("annotator")
    web_org.add_member(pid, annotator)
    page = new_page()
    login(page, web_server, annotator)
    return pid, page


def submitted(page, previous: str) -> None:
    page.keyboard.press("Enter")
    wait_ready(page, previous)


def shot(page, name: str, scroll_to: str | None = None) -> None:
    """Screenshot for the docs: the shell keeps the last error message until the next
    task, so an error this test provoked (and the tool since fixed) is hidden first."""
    page.evaluate("document.getElementById('wb-error').hidden = true")
    if scroll_to:
        page.locator(scroll_to).evaluate("el => el.scrollIntoView({block: 'start'})")
    screenshot(page, name)


def error_text(page) -> str:
    page.wait_for_selector("#wb-error:not([hidden])")
    return page.locator("#wb-error").inner_text()


def assert_nothing_stored(web_client, web_org, task_id: str) -> None:
    assert web_org.task(task_id)["answers"] == []
    assert web_client.get_task(task_id).status == "pending"


# ----------------------------------------------------------------------------- pairwise

def test_pairwise_by_keys(web_server, web_client, web_org, new_page, uniq):
    name = f"chat pairwise {uniq}"
    pid, page = start(web_server, web_client, web_org, new_page, name, "Which answer would you rather get? Correctness first.")
    task = web_client.create_task(TaskType.Chat, project=name, messages=MESSAGES,
                                  responses=[{"model": "m-1", "content": ANSWER_A}, {"model": "m-2", "content": ANSWER_B}],
                                  evaluation="pairwise")
    assert task.params["responses"][1]["id"] == "B" and task.params["allow_ties"] is True
    open_workbench(page, web_server, pid)
    first = page.get_attribute("#workbench", "data-assignment")
    assert page.locator(".chat-responses.side-by-side .chat-response").count() == 2
    assert "m-1" not in page.locator(".tool-chat").inner_text()  # blind: model names are not shown
    assert "dict.fromkeys(items)" in page.locator(".chat-response[data-id=A] pre code").inner_text()
    # every choice shows its key
    assert [b.text_content() for b in page.locator(".chat-judgement .choices").first.locator("button").all()] == \
        ["1 A is better", "2 B is better", "3 Tie (about the same)"]
    assert [b.text_content() for b in page.locator(".chat-strength button").all()] == ["4 slightly better", "5 better", "6 much better"]

    page.keyboard.press("Enter")  # nothing chosen yet
    assert "Choose the better response" in error_text(page)
    assert_nothing_stored(web_client, web_org, task.id)
    page.keyboard.press("3")  # a tie has no strength
    assert page.locator(".chat-strength button[disabled]").count() == 3
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    assert "Choose how much better A is" in error_text(page)
    page.keyboard.press("6")
    page.keyboard.press("Control+z")  # undo the strength
    assert page.locator(".chat-strength button.selected").count() == 0
    page.keyboard.press("5")
    assert page.locator(".chat-strength button.selected").text_content() == "5 better"
    assert page.locator(".chat-judgement .choices button.selected").first.text_content() == "1 A is better"
    page.click(".chat-justification")
    page.keyboard.type("B loses the order, which the user asked to keep.")
    page.keyboard.press("Escape")
    shot(page, "chat-pairwise", ".chat-responses")
    submitted(page, first)

    expected = {"preference": {"winner": "A", "strength": "better"}, "justification": "B loses the order, which the user asked to keep."}
    assert web_client.get_task(task.id).response == expected
    assert [a["response"] for a in web_org.task(task.id)["answers"]] == [expected]


def test_transcript_markdown_renders_and_html_is_inert(web_server, web_client, web_org, new_page, uniq):
    name = f"chat xss {uniq}"
    pid, page = start(web_server, web_client, web_org, new_page, name, "Judge.")
    evil = ("Here is code:\n\n```js\nconsole.log('<b>hi</b>')\n```\n\n<script>window.__xss=1</script>\n\n"
            '<img src=x onerror="window.__xss=1">\n\n[x](javascript:window.__xss=1)')
    web_client.create_task(TaskType.Chat, project=name, evaluation="pairwise",
                           messages=[{"role": "user", "content": evil}, {"role": "assistant", "content": evil}],
                           responses=[{"content": evil}, {"content": "`<script>window.__xss=1</script>`"}])
    open_workbench(page, web_server, pid)
    page.wait_for_timeout(300)  # give any injected handler (an <img onerror>) the chance to run
    assert page.evaluate("typeof window.__xss") == "undefined"
    tool = page.locator(".tool-chat")
    assert tool.locator("script, img, iframe").count() == 0
    assert tool.locator("a[href^='javascript']").count() == 0
    user = page.locator(".transcript .message.role-user")
    assert user.locator(".message-role").inner_text().lower() == "user"
    assert user.locator("pre > code").inner_text() == "console.log('<b>hi</b>')\n"
    assert user.locator("b").count() == 0
    body = user.locator(".message-body").inner_text()
    assert "<script>window.__xss=1</script>" in body and '<img src=x onerror="window.__xss=1">' in body
    assert page.locator(".transcript .message.role-assistant pre > code").count() == 1
    assert page.locator(".chat-response[data-id=A] pre > code").count() == 1
    assert page.locator(".chat-response[data-id=B] code").inner_text() == "<script>window.__xss=1</script>"
    assert page.evaluate("typeof window.__xss") == "undefined"


# ----------------------------------------------------------------------------- ranking

def ranks(page) -> list[tuple[str, str]]:
    return [(li.locator(".chat-rank").inner_text(), li.get_attribute("data-id")) for li in page.locator(".chat-rank-item").all()]


def test_ranking_by_keys_typing_drag_and_prelabel(web_server, web_client, web_org, new_page, uniq):
    name = f"chat ranking {uniq}"
    pid, page = start(web_server, web_client, web_org, new_page, name, "Rank the answers, best first.")
    responses = [{"content": ANSWER_A}, {"content": ANSWER_B}, {"content": ANSWER_C}]
    task = web_client.create_task(TaskType.Chat, project=name, messages=MESSAGES, responses=responses, evaluation="ranking")
    prelabeled = web_client.create_task(TaskType.Chat, project=name, messages=MESSAGES, responses=responses, evaluation="ranking",
                                        hypothesis={"ranking": ["C", "A", "B"]})
    open_workbench(page, web_server, pid)
    first = page.get_attribute("#workbench", "data-assignment")
    assert page.evaluate("window.assayWorkbench.current().task.task_id") == task.id
    assert ranks(page) == [("1", "A"), ("2", "B"), ("3", "C")]

    page.keyboard.press("Enter")  # the order shown was never touched
    assert "Rank the responses first" in error_text(page)
    assert_nothing_stored(web_client, web_org, task.id)

    page.keyboard.press("3")  # select C, move it to the top
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    assert ranks(page) == [("1", "C"), ("2", "A"), ("3", "B")]
    page.keyboard.press("1")  # select A, one down
    page.keyboard.press("Alt+ArrowDown")
    assert ranks(page) == [("1", "C"), ("2", "B"), ("3", "A")]
    assert page.input_value(".chat-order") == "CBA"
    page.keyboard.press("Control+z")
    assert ranks(page) == [("1", "C"), ("2", "A"), ("3", "B")]

    page.click(".chat-order")  # or type the order
    page.keyboard.press("Control+a")
    page.keyboard.type("bca")
    assert ranks(page) == [("1", "B"), ("2", "C"), ("3", "A")]
    page.keyboard.press("Escape")

    # drag A (last) by its header above C (second)
    page.locator(".chat-rank-item[data-id=C]").evaluate("el => el.scrollIntoView({block: 'start'})")
    source = page.locator(".chat-rank-item[data-id=A] .chat-response-head").bounding_box()
    target = page.locator(".chat-rank-item[data-id=C] .chat-response-head").bounding_box()
    assert source["y"] + source["height"] < 800, "both headers are on screen"
    page.mouse.move(source["x"] + 60, source["y"] + source["height"] / 2)
    page.mouse.down()
    page.mouse.move(target["x"] + 60, target["y"] + 2, steps=12)
    page.mouse.up()
    assert ranks(page) == [("1", "B"), ("2", "A"), ("3", "C")]
    shot(page, "chat-ranking", ".chat-order-row")
    submitted(page, first)
    assert web_client.get_task(task.id).response == {"ranking": ["B", "A", "C"]}
    assert [a["response"] for a in web_org.task(task.id)["answers"]] == [{"ranking": ["B", "A", "C"]}]

    # the pre-label is the starting order; Enter accepts it
    assert page.evaluate("window.assayWorkbench.current().task.task_id") == prelabeled.id
    assert "pre-label" in page.locator("#wb-notice").inner_text()
    assert ranks(page) == [("1", "C"), ("2", "A"), ("3", "B")]
    submitted(page, page.get_attribute("#workbench", "data-assignment"))
    assert web_client.get_task(prelabeled.id).response == {"ranking": ["C", "A", "B"]}


# ----------------------------------------------------------------------------- rubric

RUBRIC = [
    {"id": "helpfulness", "title": "Helpfulness", "description": "Does it answer **the question asked**?"},
    {"id": "accuracy", "title": "Accuracy", "scale": 3, "justification": "required",
     "description": "1 = wrong, 2 = partly right, 3 = right"},
    {"id": "concise", "title": "Concise", "scale": 2, "justification": "none"},
]


def cell(page, response: str, criterion: str):
    return page.locator(f".chat-cell[data-response={response}][data-criterion={criterion}]")


def score_of(page, response: str, criterion: str) -> str | None:
    selected = cell(page, response, criterion).locator(".chat-score.selected")
    return selected.inner_text() if selected.count() else None


def test_rubric_grid_by_keys_and_required_justification(web_server, web_client, web_org, new_page, uniq):
    name = f"chat rubric {uniq}"
    pid, page = start(web_server, web_client, web_org, new_page, name, "Score each answer on each criterion.")
    task = web_client.create_task(TaskType.Chat, project=name, messages=MESSAGES, evaluation="rubric", rubric=RUBRIC,
                                  responses=[{"id": "A", "content": ANSWER_A}, {"id": "B", "content": ANSWER_B}])
    open_workbench(page, web_server, pid)
    first = page.get_attribute("#workbench", "data-assignment")
    assert page.locator("table.chat-rubric tbody tr").count() == 3
    assert page.locator("table.chat-rubric .chat-criterion-desc strong").inner_text() == "the question asked"
    assert cell(page, "A", "concise").locator("textarea").count() == 0  # 'none': no justification box

    page.keyboard.press("5")  # the cursor starts at A × helpfulness
    page.keyboard.press("4")
    page.keyboard.press("Control+z")
    assert score_of(page, "A", "helpfulness") == "5"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("2")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("5")  # beyond the 1–3 scale: ignored
    assert score_of(page, "B", "accuracy") is None
    page.keyboard.press("1")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("3")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("2")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("1")
    assert [[score_of(page, r, c["id"]) for c in RUBRIC] for r in "AB"] == [["5", "3", "2"], ["2", "1", "1"]]

    page.keyboard.press("Enter")  # accuracy needs a justification
    assert error_text(page) == "Justify the “Accuracy” score of response A (required)."
    assert cell(page, "A", "accuracy").locator("textarea").get_attribute("aria-invalid") == "true"
    assert_nothing_stored(web_client, web_org, task.id)

    page.keyboard.press("ArrowUp")  # B × accuracy
    page.keyboard.press("ArrowLeft")  # A × accuracy
    page.keyboard.press("j")
    page.keyboard.type("Correct, and O(n).")
    page.keyboard.press("Escape")  # back to the cell
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    assert error_text(page) == "Justify the “Accuracy” score of response B (required)."
    assert_nothing_stored(web_client, web_org, task.id)
    page.keyboard.press("j")
    page.keyboard.type("list(set(x)) does not keep the order.")
    page.keyboard.press("Tab")  # on to the next cell
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Escape")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("j")
    page.keyboard.type("Direct and complete.")
    page.keyboard.press("Escape")
    shot(page, "chat-rubric", ".chat-judgement")
    submitted(page, first)

    expected = {"scores": {
        "A": {"helpfulness": {"score": 5, "justification": "Direct and complete."},
              "accuracy": {"score": 3, "justification": "Correct, and O(n)."}, "concise": {"score": 2}},
        "B": {"helpfulness": {"score": 2}, "accuracy": {"score": 1, "justification": "list(set(x)) does not keep the order."},
              "concise": {"score": 1}},
    }}
    assert web_client.get_task(task.id).response == expected
    assert [a["response"] for a in web_org.task(task.id)["answers"]] == [expected]


# ----------------------------------------------------------------------------- ideal response

def test_ideal_response_from_prelabel_and_copy(web_server, web_client, web_org, new_page, uniq):
    name = f"chat ideal {uniq}"
    pid, page = start(web_server, web_client, web_org, new_page, name, "Write the answer the assistant should have given.")
    draft = "Use dict.fromkeys(items): it keeps the first of each."
    task = web_client.create_task(TaskType.Chat, project=name, messages=MESSAGES, evaluation="ideal_response", min_characters=40,
                                  responses=[{"content": ANSWER_B}, {"content": ANSWER_A}], hypothesis={"ideal_response": draft})
    open_workbench(page, web_server, pid)
    first = page.get_attribute("#workbench", "data-assignment")
    assert page.input_value(".chat-editor") == draft  # the pre-label is the starting text
    assert page.locator(".chat-count").inner_text() == f"{len(draft)} / 40 characters minimum"
    assert page.locator(".chat-copy").first.text_content() == "1 Start from this response"

    page.keyboard.press("2")  # start from response B
    assert page.input_value(".chat-editor") == ANSWER_A
    assert page.locator(".chat-based-on").inner_text() == "Based on response B"
    page.keyboard.press("Escape")
    page.keyboard.press("Control+z")
    assert page.input_value(".chat-editor") == draft and page.locator(".chat-based-on").inner_text() == ""
    page.keyboard.press("2")
    assert page.evaluate("document.activeElement.classList.contains('chat-editor')")

    page.keyboard.press("Control+a")
    page.keyboard.type("Too short.")
    assert page.locator(".chat-count").inner_text() == "10 / 40 characters minimum"
    assert "error" in page.locator(".chat-count").get_attribute("class")
    page.keyboard.press("Control+Enter")
    assert error_text(page) == "The ideal response needs at least 40 characters (it has 10)."
    assert_nothing_stored(web_client, web_org, task.id)

    page.keyboard.press("Control+a")
    final = ("Use `dict.fromkeys`, which keeps the first occurrence of each item:\n\n"
             "```python\nunique = list(dict.fromkeys(items))\n```")
    page.keyboard.type(final)
    assert page.locator(".chat-count").inner_text() == f"{len(final)} / 40 characters minimum"
    shot(page, "chat-ideal-response", ".chat-judgement")
    page.keyboard.press("Control+Enter")
    wait_ready(page, first)
    expected = {"ideal_response": final, "based_on": "B"}
    assert web_client.get_task(task.id).response == expected
    assert [a["response"] for a in web_org.task(task.id)["answers"]] == [expected]


# ----------------------------------------------------------------------------- bad params

def test_invalid_params_are_a_400_naming_the_field(web_client, uniq):
    name = f"chat bad {uniq}"
    web_client.create_project(project_name=name, task_type=TaskType.Chat)
    two = [{"content": "a"}, {"content": "b"}]
    cases = [
        (dict(messages=MESSAGES, responses=two + [{"content": "c"}], evaluation="pairwise"), "responses: pairwise evaluation needs exactly 2"),
        (dict(messages=MESSAGES, responses=[{"id": "x", "content": "a"}, {"id": "x", "content": "b"}], evaluation="ranking"),
         "responses[1].id: duplicate response id 'x'"),
        (dict(messages=[], responses=two, evaluation="ranking"), "messages: "),
        (dict(messages=[{"role": "bot", "content": "hi"}], responses=two, evaluation="ranking"), "messages[0].role: "),
        (dict(messages=MESSAGES, responses=two, evaluation="rubric", rubric=[{"id": "h", "title": "H", "scale": 12}]), "rubric[0].scale: "),
        (dict(messages=MESSAGES, responses=two, evaluation="rubric"), "rubric: rubric evaluation needs at least one criterion"),
        (dict(messages=MESSAGES, responses=two, evaluation="vote"), "evaluation: "),
        (dict(messages=MESSAGES, responses=two, evaluation="ranking", hypothesis={"ranking": ["A"]}), "hypothesis.ranking: must rank every response"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ScaleInvalidRequest) as exc:
            web_client.create_task(TaskType.Chat, project=name, **kwargs)
        assert exc.value.code == 400
        assert exc.value.message.startswith(message), exc.value.message
    assert web_client.get_tasks_count(project_name=name) == 0

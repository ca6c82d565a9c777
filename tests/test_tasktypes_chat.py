"""Unit tests of the `chat` plug-in (no server): params and answers for each evaluation
mode, good and bad, with the field each 400 names; synthetic answers; Markdown for the tool."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assay.errors import InvalidRequest
from assay.tasktypes import SCALE_TYPES_NOT_ENABLED, get_plugin

PLUGIN = get_plugin("chat")

MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "How do I reverse a list in Python?"},
]
TWO = [{"model": "m-1", "content": "Use `reversed(xs)`."}, {"model": "m-2", "content": "```python\nxs[::-1]\n```"}]
RUBRIC = [
    {"id": "helpfulness", "title": "Helpfulness", "description": "Does it **answer** the question?"},
    {"id": "accuracy", "title": "Accuracy", "scale": 3, "justification": "required"},
    {"id": "tone", "title": "Tone", "scale": 2, "justification": "none"},
]

EXAMPLES: dict[str, dict[str, Any]] = {
    "pairwise": {"messages": MESSAGES, "responses": TWO, "evaluation": "pairwise"},
    "ranking": {"messages": MESSAGES, "responses": TWO + [{"content": "Call `xs.reverse()`."}], "evaluation": "ranking"},
    "rubric": {"messages": MESSAGES, "responses": TWO, "evaluation": "rubric", "rubric": RUBRIC},
    "ideal_response": {"messages": MESSAGES, "responses": TWO[:1], "evaluation": "ideal_response", "min_characters": 10},
}


def clean(mode: str, **changes: Any) -> dict[str, Any]:
    params = copy.deepcopy(EXAMPLES[mode])
    params.update(changes)
    return PLUGIN.validate_params(params)


def params_error(params: dict[str, Any]) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as info:
        PLUGIN.validate_params(params)
    assert info.value.status_code == 400
    return info.value


def response_error(response: Any, params: dict[str, Any]) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as info:
        PLUGIN.validate_response(response, params)
    assert info.value.status_code == 400
    return info.value


def assert_names(exc: InvalidRequest, field: str, *words: str) -> None:
    assert exc.message.startswith(f"{field}: "), exc.message
    assert exc.field == field, (exc.field, exc.message)
    for word in words:
        assert word in exc.message, exc.message


# ----------------------------------------------------------------------------- registry

def test_chat_is_served_not_refused():
    assert PLUGIN is not None and PLUGIN.name == "chat" and PLUGIN.title
    assert "chat" not in SCALE_TYPES_NOT_ENABLED
    assert not PLUGIN.requires_instruction


# ----------------------------------------------------------------------------- params

def test_defaults_are_filled_in_and_stable():
    out = clean("pairwise")
    assert [r["id"] for r in out["responses"]] == ["A", "B"]
    assert out["responses"][0] == {"id": "A", "model": "m-1", "content": "Use `reversed(xs)`."}
    assert out["allow_ties"] is True
    assert out["strength_levels"] == ["slightly better", "better", "much better"]
    assert PLUGIN.validate_params(out) == out
    assert PLUGIN.validate_params({**out, "customer_key": {"x": 1}})["customer_key"] == {"x": 1}

    rubric = clean("rubric")
    assert [(c["scale"], c["justification"]) for c in rubric["rubric"]] == [(5, "optional"), (3, "required"), (2, "none")]
    assert "allow_ties" not in rubric and "strength_levels" not in rubric  # pairwise-only defaults
    assert PLUGIN.validate_params(rubric) == rubric
    ranking = clean("ranking")
    assert [r["id"] for r in ranking["responses"]] == ["A", "B", "C"]


def test_given_ids_are_kept_and_missing_ones_default_by_position():
    out = clean("ranking", responses=[{"id": "gpt", "content": "x"}, {"content": "y"}, {"id": "claude", "content": "z"}])
    assert [r["id"] for r in out["responses"]] == ["gpt", "B", "claude"]


def test_ideal_response_takes_no_responses():
    out = clean("ideal_response", responses=[])
    assert out["responses"] == [] and out["min_characters"] == 10
    assert PLUGIN.validate_params({"messages": MESSAGES, "evaluation": "ideal_response"})["responses"] == []


@pytest.mark.parametrize(
    "changes, field, words",
    [
        ({"messages": []}, "messages", ["at least 1"]),
        ({"messages": None}, "messages", []),
        ({"messages": [{"role": "robot", "content": "hi"}]}, "messages[0].role", ["system", "user", "assistant"]),
        ({"messages": [{"role": "user"}]}, "messages[0].content", ["required"]),
        ({"messages": [{"role": "user", "content": 5}]}, "messages[0].content", ["string"]),
        ({"evaluation": "vibes"}, "evaluation", ["pairwise", "ranking", "rubric", "ideal_response"]),
        ({"responses": [{"content": "a"}, {"content": "b"}, {"content": "c"}]}, "responses", ["exactly 2", "got 3"]),
        ({"responses": [{"content": "a"}]}, "responses", ["exactly 2", "got 1"]),
        ({"responses": [{"id": "x", "content": "a"}, {"id": "x", "content": "b"}]}, "responses[1].id", ["duplicate", "'x'"]),
        ({"responses": [{"content": "a"}, {"id": "A", "content": "b"}]}, "responses[1].id", ["duplicate", "'A'"]),
        ({"responses": [{"id": "tie", "content": "a"}, {"content": "b"}]}, "responses[0].id", ["reserved"]),
        ({"responses": [{"id": " ", "content": "a"}, {"content": "b"}]}, "responses[0].id", ["non-blank"]),
        ({"responses": [{"content": "a"}, {"text": "b"}]}, "responses[1].content", ["required"]),
        ({"allow_ties": "yes"}, "allow_ties", ["bool"]),
        ({"strength_levels": ["better", "better"]}, "strength_levels[1]", ["duplicate"]),
        ({"strength_levels": ["better", "  "]}, "strength_levels[1]", ["non-blank"]),
        ({"strength_levels": "better"}, "strength_levels", ["list"]),
        ({"strength_levels": [f"level {i}" for i in range(11)]}, "strength_levels", ["at most 10"]),
    ],
)
def test_bad_pairwise_params(changes, field, words):
    params = {**copy.deepcopy(EXAMPLES["pairwise"]), **changes}
    if changes.get("messages") is None and "messages" in changes:
        del params["messages"]
    assert_names(params_error(params), field, *words)


def test_evaluation_is_required():
    params = copy.deepcopy(EXAMPLES["pairwise"])
    del params["evaluation"]
    assert_names(params_error(params), "evaluation", "required")


@pytest.mark.parametrize(
    "changes, field, words",
    [
        ({"responses": [{"content": "a"}]}, "responses", ["2 to 10", "got 1"]),
        ({"responses": [{"content": str(i)} for i in range(11)]}, "responses", ["2 to 10", "got 11"]),
        ({"responses": [{"content": "a"}, {"content": "b"}, {"id": "B", "content": "c"}]}, "responses[2].id", ["duplicate"]),
    ],
)
def test_bad_ranking_params(changes, field, words):
    assert_names(params_error({**copy.deepcopy(EXAMPLES["ranking"]), **changes}), field, *words)


@pytest.mark.parametrize(
    "changes, field, words",
    [
        ({"responses": []}, "responses", ["at least 1"]),
        ({"rubric": None}, "rubric", ["at least one criterion"]),
        ({"rubric": []}, "rubric", ["at least one criterion"]),
        ({"rubric": [{"id": "a", "title": "A"}, {"id": "a", "title": "B"}]}, "rubric[1].id", ["duplicate", "'a'"]),
        ({"rubric": [{"title": "A"}]}, "rubric[0].id", ["required"]),
        ({"rubric": [{"id": "a"}]}, "rubric[0].title", ["required"]),
        ({"rubric": [{"id": "a", "title": "A", "scale": 1}]}, "rubric[0].scale", ["greater than or equal to 2"]),
        ({"rubric": [{"id": "a", "title": "A", "scale": 11}]}, "rubric[0].scale", ["less than or equal to 10"]),
        ({"rubric": [{"id": "a", "title": "A", "scale": "5"}]}, "rubric[0].scale", ["integer"]),
        ({"rubric": [{"id": "a", "title": "A", "scale": 4.5}]}, "rubric[0].scale", ["integer"]),
        ({"rubric": [{"id": "a", "title": "A", "justification": "maybe"}]}, "rubric[0].justification", ["none", "optional", "required"]),
        ({"rubric": [{"id": " ", "title": "A"}]}, "rubric[0].id", ["non-blank"]),
    ],
)
def test_bad_rubric_params(changes, field, words):
    params = {**copy.deepcopy(EXAMPLES["rubric"]), **changes}
    if changes.get("rubric", "") is None:
        del params["rubric"]
    assert_names(params_error(params), field, *words)


@pytest.mark.parametrize(
    "changes, field, words",
    [
        ({"min_characters": -1}, "min_characters", ["greater than or equal to 0"]),
        ({"min_characters": "10"}, "min_characters", ["integer"]),
        ({"responses": [{"content": "a"}, {"id": "A", "content": "b"}]}, "responses[1].id", ["duplicate"]),
    ],
)
def test_bad_ideal_response_params(changes, field, words):
    assert_names(params_error({**copy.deepcopy(EXAMPLES["ideal_response"]), **changes}), field, *words)


# ----------------------------------------------------------------------------- pairwise answers

def test_good_pairwise_answers():
    params = clean("pairwise")
    for answer in [
        {"preference": {"winner": "A", "strength": "much better"}},
        {"preference": {"winner": "B", "strength": "slightly better"}, "justification": "Shorter and right."},
        {"preference": {"winner": "tie"}},
    ]:
        assert PLUGIN.validate_response(answer, params) == answer
    no_strength = clean("pairwise", strength_levels=[])
    assert PLUGIN.validate_response({"preference": {"winner": "A"}}, no_strength) == {"preference": {"winner": "A"}}


@pytest.mark.parametrize(
    "answer, field, words",
    [
        ({}, "response.preference", ["required for pairwise"]),
        ({"preference": {"winner": "C", "strength": "better"}}, "response.preference.winner", ["'C'", "'A', 'B', 'tie'"]),
        ({"preference": {"strength": "better"}}, "response.preference.winner", ["required"]),
        ({"preference": {"winner": "A"}}, "response.preference.strength", ["required", "'much better'"]),
        ({"preference": {"winner": "A", "strength": "way better"}}, "response.preference.strength", ["'way better'", "not one of"]),
        ({"preference": {"winner": "tie", "strength": "better"}}, "response.preference.strength", ["tie has no strength"]),
        ({"preference": "A"}, "response.preference", []),
        ({"preference": {"winner": "A", "strength": "better"}, "ranking": ["A", "B"]}, "response.ranking", ["not part of a pairwise"]),
        ({"preference": {"winner": "A", "strength": "better"}, "justification": 3}, "response.justification", ["string"]),
    ],
)
def test_bad_pairwise_answers(answer, field, words):
    assert_names(response_error(answer, clean("pairwise")), field, *words)


def test_ties_can_be_disallowed():
    params = clean("pairwise", allow_ties=False)
    exc = response_error({"preference": {"winner": "tie"}}, params)
    assert_names(exc, "response.preference.winner", "does not allow ties")
    assert_names(response_error({"preference": {"winner": "Z", "strength": "better"}}, params), "response.preference.winner", "'A', 'B'")


def test_strength_forbidden_without_levels():
    params = clean("pairwise", strength_levels=[])
    assert_names(response_error({"preference": {"winner": "A", "strength": "better"}}, params), "response.preference.strength", "no strength")


# ----------------------------------------------------------------------------- ranking answers

def test_good_ranking_answer():
    params = clean("ranking")
    assert PLUGIN.validate_response({"ranking": ["C", "A", "B"]}, params) == {"ranking": ["C", "A", "B"]}


@pytest.mark.parametrize(
    "answer, field, words",
    [
        ({}, "response.ranking", ["required for ranking"]),
        ({"ranking": ["A", "B"]}, "response.ranking", ["every response", "missing 'C'"]),
        ({"ranking": ["A", "B", "D"]}, "response.ranking[2]", ["'D'", "not a response id"]),
        ({"ranking": ["A", "B", "B", "C"]}, "response.ranking[2]", ["more than once"]),
        ({"ranking": "ABC"}, "response.ranking", ["list"]),
        ({"ranking": ["A", "B", "C"], "scores": {}}, "response.scores", ["not part of a ranking"]),
    ],
)
def test_bad_ranking_answers(answer, field, words):
    assert_names(response_error(answer, clean("ranking")), field, *words)


# ----------------------------------------------------------------------------- rubric answers

def rubric_answer() -> dict[str, Any]:
    return {"scores": {
        "A": {"helpfulness": {"score": 5, "justification": "Direct."}, "accuracy": {"score": 3, "justification": "Correct."}, "tone": {"score": 2}},
        "B": {"helpfulness": {"score": 1}, "accuracy": {"score": 1, "justification": "Slicing copies."}, "tone": {"score": 1}},
    }}


def test_good_rubric_answer():
    params = clean("rubric")
    assert PLUGIN.validate_response(rubric_answer(), params) == rubric_answer()


def _edit(path: list[str], value: Any) -> dict[str, Any]:
    answer = rubric_answer()
    target = answer
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return answer


@pytest.mark.parametrize(
    "answer, field, words",
    [
        ({}, "response.scores", ["required for rubric"]),
        (_edit(["scores", "A", "helpfulness", "score"], 6), "response.scores.A.helpfulness.score", ["between 1 and 5"]),
        (_edit(["scores", "B", "accuracy", "score"], 4), "response.scores.B.accuracy.score", ["between 1 and 3"]),
        (_edit(["scores", "A", "helpfulness", "score"], 0), "response.scores.A.helpfulness.score", ["between 1 and 5"]),
        (_edit(["scores", "A", "helpfulness", "score"], 2.5), "response.scores.A.helpfulness.score", ["integer"]),
        (_edit(["scores", "A", "helpfulness", "score"], "4"), "response.scores.A.helpfulness.score", ["integer"]),
        (_edit(["scores", "A", "helpfulness", "score"], KeyError), "response.scores.A.helpfulness.score", ["required"]),
        (_edit(["scores", "A", "accuracy", "justification"], KeyError), "response.scores.A.accuracy.justification", ["required"]),
        (_edit(["scores", "A", "accuracy", "justification"], "  "), "response.scores.A.accuracy.justification", ["required"]),
        (_edit(["scores", "B", "tone", "justification"], "meh"), "response.scores.B.tone.justification", ["no justification"]),
        (_edit(["scores", "B", "tone"], KeyError), "response.scores.B.tone", ["every criterion", "'Tone'"]),
        (_edit(["scores", "B"], KeyError), "response.scores.B", ["every response"]),
        (_edit(["scores", "C"], {}), "response.scores.C", ["not a response id"]),
        (_edit(["scores", "A", "style"], {"score": 1}), "response.scores.A.style", ["not a criterion id"]),
        ({"scores": {"A": 5}}, "response.scores.A", ["dictionary"]),
    ],
)
def test_bad_rubric_answers(answer, field, words):
    assert_names(response_error(answer, clean("rubric")), field, *words)


# ----------------------------------------------------------------------------- ideal response answers

def test_good_ideal_response_answers():
    params = clean("ideal_response")
    for answer in [{"ideal_response": "Use `xs[::-1]` for a copy."}, {"ideal_response": "Use reversed(xs).", "based_on": "A"}]:
        assert PLUGIN.validate_response(answer, params) == answer
    none_given = clean("ideal_response", responses=[], min_characters=None)
    assert PLUGIN.validate_response({"ideal_response": "x"}, none_given) == {"ideal_response": "x"}


@pytest.mark.parametrize(
    "answer, field, words",
    [
        ({}, "response.ideal_response", ["required for ideal_response"]),
        ({"ideal_response": "   \n "}, "response.ideal_response", ["blank"]),
        ({"ideal_response": "  too short  "}, "response.ideal_response", ["at least 10 characters", "has 9"]),
        ({"ideal_response": "Long enough answer.", "based_on": "B"}, "response.based_on", ["'B'", "not a response id"]),
        ({"ideal_response": 5}, "response.ideal_response", ["string"]),
        ({"ideal_response": "Long enough answer.", "preference": {"winner": "A"}}, "response.preference", ["not part of an ideal_response"]),
    ],
)
def test_bad_ideal_response_answers(answer, field, words):
    assert_names(response_error(answer, clean("ideal_response")), field, *words)


def test_based_on_only_in_ideal_response():
    exc = response_error({"ranking": ["A", "B", "C"], "based_on": "A"}, clean("ranking"))
    assert_names(exc, "response.based_on", "not part of a ranking")


def test_response_must_be_object():
    assert_names(response_error(["A"], clean("ranking")), "response")


# ----------------------------------------------------------------------------- hypothesis and synthetic

def test_hypothesis_is_validated_as_an_answer():
    params = {**copy.deepcopy(EXAMPLES["ranking"]), "hypothesis": {"ranking": ["B", "A", "C"]}}
    assert PLUGIN.validate_params(params)["hypothesis"] == {"ranking": ["B", "A", "C"]}
    exc = params_error({**copy.deepcopy(EXAMPLES["ranking"]), "hypothesis": {"ranking": ["B", "A"]}})
    assert_names(exc, "hypothesis.ranking", "missing 'C'")


@pytest.mark.parametrize("mode", sorted(EXAMPLES))
@pytest.mark.parametrize("seed", [0, 1, 2, "5c849c3fe95619006b071dd4"])
def test_synthetic_answers_validate(mode, seed):
    params = clean(mode)
    answer = PLUGIN.synthetic_response(params, random.Random(seed))
    assert PLUGIN.validate_response(answer, params) == answer
    assert PLUGIN.synthetic_response(params, random.Random(seed)) == answer
    PLUGIN.validate_params({**params, "hypothesis": answer})
    key = {"pairwise": "preference", "ranking": "ranking", "rubric": "scores", "ideal_response": "ideal_response"}[mode]
    assert key in answer


_ids = st.lists(st.text(alphabet="abcxyz", min_size=1, max_size=3), min_size=2, max_size=10, unique=True)


@st.composite
def chat_params(draw):
    mode = draw(st.sampled_from(["pairwise", "ranking", "rubric", "ideal_response"]))
    ids = draw(_ids)
    if mode == "pairwise":
        ids = ids[:2]
    responses = [{"id": i, "content": "x"} if draw(st.booleans()) else {"content": "y"} for i in ids]
    params: dict[str, Any] = {"messages": [{"role": "user", "content": "q"}], "responses": responses, "evaluation": mode}
    if mode == "pairwise":
        params["allow_ties"] = draw(st.booleans())
        params["strength_levels"] = draw(st.lists(st.sampled_from(["a", "b", "c"]), unique=True))
    if mode == "rubric":
        params["rubric"] = [{"id": f"c{i}", "title": "T", "scale": draw(st.integers(2, 10)),
                             "justification": draw(st.sampled_from(["none", "optional", "required"]))}
                            for i in range(draw(st.integers(1, 4)))]
    if mode == "ideal_response":
        params["min_characters"] = draw(st.integers(0, 200))
    return params


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(params=chat_params(), seed=st.integers(0, 2**32))
def test_synthetic_answers_always_validate(params, seed):
    try:
        out = PLUGIN.validate_params(params)
    except InvalidRequest as exc:  # generated ids may collide with defaulted letters
        assert "duplicate" in exc.message or "reserved" in exc.message
        return
    answer = PLUGIN.synthetic_response(out, random.Random(seed))
    assert PLUGIN.validate_response(answer, out) == answer


# ----------------------------------------------------------------------------- the tool's view

def test_workbench_params_render_markdown_escaped():
    params = clean("rubric", messages=[
        {"role": "user", "content": "Run `ls`:\n\n```sh\nls -la\n```\n<script>window.__xss=1</script>"},
        {"role": "assistant", "content": '<img src=x onerror="window.__xss=1"> [x](javascript:window.__xss=1)'},
    ])
    view = PLUGIN.workbench_params({**params, "hypothesis": {"scores": {}}})
    assert "hypothesis" not in view
    user, assistant = view["messages"]
    assert '<pre><code class="language-sh">ls -la\n</code></pre>' in user["content_html"]
    assert "<script>" not in user["content_html"] and "&lt;script&gt;" in user["content_html"]
    assert "<img" not in assistant["content_html"] and "&lt;img" in assistant["content_html"]
    assert 'href="javascript:' not in assistant["content_html"]
    assert all("content_html" in r for r in view["responses"])
    assert "<pre><code" in view["responses"][1]["content_html"]
    assert view["rubric"][0]["description_html"] == "<p>Does it <strong>answer</strong> the question?</p>\n"
    assert "description_html" not in view["rubric"][1]
    # the stored params are not touched
    assert "content_html" not in params["messages"][0] and "description_html" not in params["rubric"][0]

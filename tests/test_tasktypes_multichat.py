"""The `multichat` plug-in without a server: params defaults and limits, transcript rules,
red-team harm, preference pairs, flagged content."""

from __future__ import annotations

import random

import pytest

from assay.errors import InvalidRequest
from assay.tasktypes import get_plugin
from assay.tasktypes.multichat import DEFAULT_SEVERITIES

PLUGIN = get_plugin("multichat")


def turn(n, chosen=0, **extra):
    return {"prompt": f"p{n}", "replies": [{"id": f"t{n}r0", "content": f"a{n}"}, {"id": f"t{n}r1", "content": f"b{n}"}],
            "chosen": f"t{n}r{chosen}", **extra}


def check(response, **p):
    return PLUGIN.validate_response(response, {"replies_per_turn": 2, "min_turns": 1, "max_turns": 3, "rating_scale": 5, **p})


def field_of(response, **p) -> str:
    with pytest.raises(InvalidRequest) as exc:
        check(response, **p)
    return exc.value.field


def test_good_transcripts():
    assert check({"turns": [turn(0, ratings={"t0r0": 5}, edited="better")]})["turns"][0]["edited"] == "better"


@pytest.mark.parametrize("response, field", [
    ({"turns": []}, "response.turns"),
    ({"turns": [turn(0), turn(1), turn(2), turn(3)]}, "response.turns"),
    ({"turns": [{**turn(0), "chosen": "t9r9"}]}, "response.turns[0].chosen"),
    ({"turns": [turn(0, ratings={"t0r0": 6})]}, "response.turns[0].ratings.t0r0"),
    ({"turns": [turn(0, ratings={"zz": 1})]}, "response.turns[0].ratings.zz"),
    ({"turns": [turn(0, edited="  ")]}, "response.turns[0].edited"),
    ({"turns": [turn(0)], "harm": {"category": "hate", "severity": "low"}}, "response.harm"),
])
def test_bad_transcripts_name_the_field(response, field):
    assert field_of(response) == field


def test_red_team_harm():
    red = {"red_team": {"harm_category": "hate", "harm_categories": ["hate", "other"], "severity_levels": DEFAULT_SEVERITIES}}
    assert field_of({"turns": [turn(0)]}, **red) == "response.harm"
    assert field_of({"turns": [turn(0)], "harm": {"category": "weapons", "severity": "low"}}, **red) == "response.harm.category"
    assert check({"turns": [turn(0)], "harm": {"category": "hate", "severity": "critical"}}, **red)["harm"]["severity"] == "critical"
    assert PLUGIN.flags_content(red) is True and PLUGIN.flags_content({}) is False


def test_synthetic_answers_pass_validation():
    for p in ({"replies_per_turn": 3, "min_turns": 2, "max_turns": 4, "rating_scale": 5},
              {"replies_per_turn": 1, "min_turns": 1, "max_turns": 1, "rating_scale": 5, "red_team": {"harm_category": "x"}}):
        answer = PLUGIN.synthetic_response(p, random.Random(1))
        PLUGIN.validate_response(answer, p)


def test_preference_pairs_follow_the_conversation():
    p = {"messages": [{"role": "system", "content": "ctx"}]}
    pairs = PLUGIN.preference_pairs(p, {"turns": [turn(0, chosen=1, edited="B0"), turn(1)]})
    assert [(x["chosen"], x["rejected"]) for x in pairs] == [("B0", "a0"), ("a1", "b1")]
    assert pairs[1]["prompt"] == [{"role": "system", "content": "ctx"}, {"role": "user", "content": "p0"},
                                  {"role": "assistant", "content": "B0"}, {"role": "user", "content": "p1"}]

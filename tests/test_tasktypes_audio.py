"""Unit tests of the `audiotranscription` plug-in (no server): params and their 400s,
responses checked against the task's params, synthetic answers."""

from __future__ import annotations

import random
from typing import Any

import pytest

from assay.errors import InvalidRequest
from assay.tasktypes import get_plugin, plugins
from assay.tasktypes.registry import SCALE_TYPES_NOT_ENABLED

AUDIO = "https://example.com/meeting.wav"
PLUGIN = get_plugin("audiotranscription")


def params(**changes: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"attachment": AUDIO}
    out.update(changes)
    return PLUGIN.validate_params(out)


def params_error(raw: dict[str, Any]) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as info:
        PLUGIN.validate_params(raw)
    assert info.value.status_code == 400
    return info.value


def response_error(response: Any, task_params: dict[str, Any]) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as info:
        PLUGIN.validate_response(response, task_params)
    assert info.value.status_code == 400
    return info.value


def assert_names(exc: InvalidRequest, field: str, *words: str) -> None:
    assert exc.message.startswith(f"{field}: "), exc.message
    assert exc.field == field, (exc.field, exc.message)
    for word in words:
        assert word in exc.message, exc.message


SEGMENTED = {"attachment": AUDIO, "segments": True, "speakers": ["Ana", "Ben"]}
GOOD_SEGMENTS = {
    "transcript": "Hello everyone. Hi Ana!",
    "segments": [
        {"start": 0, "end": 1.5, "text": "Hello everyone.", "speaker": "Ana"},
        {"start": 1.5, "end": 3.25, "text": "Hi Ana!", "speaker": "Ben"},
    ],
}


# ----------------------------------------------------------------------------- registry

def test_type_is_registered_and_served():
    assert "audiotranscription" in plugins()
    assert "audiotranscription" not in SCALE_TYPES_NOT_ENABLED
    assert PLUGIN.name == "audiotranscription" and PLUGIN.title == "Audio transcription"


# ----------------------------------------------------------------------------- params

def test_params_defaults_filled_in():
    assert params() == {"attachment": AUDIO, "attachment_type": "audio", "segments": False, "verbatim": False}


def test_params_full_and_extra_keys_kept():
    out = params(attachment="scaledata://org/file1", attachment_type="audio", language="de", speakers=["Ana", "Ben"],
                 segments=True, verbatim=True, custom={"x": 1})
    assert out == {"attachment": "scaledata://org/file1", "attachment_type": "audio", "language": "de",
                   "speakers": ["Ana", "Ben"], "segments": True, "verbatim": True, "custom": {"x": 1}}


def test_attachment_urls_include_the_audio():
    assert PLUGIN.attachment_urls(params(attachment="http://example.com/a.mp3")) == ["http://example.com/a.mp3"]


@pytest.mark.parametrize(("raw", "field", "words"), [
    ({}, "attachment", ("required",)),
    ({"attachment": "meeting.wav"}, "attachment", ("http://", "scaledata://")),
    ({"attachment": "ftp://example.com/a.wav"}, "attachment", ("URL",)),
    ({"attachment": "https://"}, "attachment", ("URL",)),
    ({"attachment": 5}, "attachment", ()),
    ({"attachment": AUDIO, "attachment_type": "video"}, "attachment_type", ("audio",)),
    ({"attachment": AUDIO, "language": ""}, "language", ()),
    ({"attachment": AUDIO, "language": "   "}, "language", ("blank",)),
    ({"attachment": AUDIO, "speakers": "Ana"}, "speakers", ("list",)),
    ({"attachment": AUDIO, "speakers": ["Ana", "Ana"]}, "speakers", ("unique", "'Ana'")),
    ({"attachment": AUDIO, "speakers": ["Ana", " "]}, "speakers[1]", ("blank",)),
    ({"attachment": AUDIO, "speakers": ["Ana", 3]}, "speakers[1]", ()),
    ({"attachment": AUDIO, "segments": "yes"}, "segments", ("boolean",)),
    ({"attachment": AUDIO, "verbatim": 1}, "verbatim", ("boolean",)),
])
def test_bad_params_name_the_field(raw, field, words):
    assert_names(params_error(raw), field, *words)


def test_hypothesis_is_validated_like_a_response():
    good = PLUGIN.validate_params({**SEGMENTED, "hypothesis": GOOD_SEGMENTS})
    assert good["hypothesis"] == GOOD_SEGMENTS
    bad = {**GOOD_SEGMENTS, "segments": [{**GOOD_SEGMENTS["segments"][0], "speaker": "Cleo"}, GOOD_SEGMENTS["segments"][1]]}
    assert_names(params_error({**SEGMENTED, "hypothesis": bad}), "hypothesis.segments[0].speaker", "'Cleo'")


# ----------------------------------------------------------------------------- responses

def test_plain_transcript_accepted():
    assert PLUGIN.validate_response({"transcript": "Hello."}, params()) == {"transcript": "Hello."}


def test_segments_accepted_and_numbers_kept():
    task = PLUGIN.validate_params(SEGMENTED)
    assert PLUGIN.validate_response(GOOD_SEGMENTS, task) == GOOD_SEGMENTS
    no_speaker = {"transcript": "One.", "segments": [{"start": 2, "end": 4, "text": "One."}]}
    assert PLUGIN.validate_response(no_speaker, task) == no_speaker


def test_transcript_whitespace_may_differ_from_the_joined_segments():
    task = PLUGIN.validate_params(SEGMENTED)
    answer = {**GOOD_SEGMENTS, "transcript": "Hello   everyone.\nHi Ana!\n"}
    assert PLUGIN.validate_response(answer, task)["transcript"] == "Hello   everyone.\nHi Ana!\n"


def seg(start, end, text="x", **extra):
    return {"start": start, "end": end, "text": text, **extra}


@pytest.mark.parametrize(("response", "field", "words"), [
    ({}, "response.transcript", ("required",)),
    ({"transcript": ""}, "response.transcript", ("blank",)),
    ({"transcript": " \n "}, "response.transcript", ("blank",)),
    ({"transcript": 4}, "response.transcript", ("string",)),
    ({"transcript": "x"}, "response.segments", ("at least one",)),
    ({"transcript": "x", "segments": []}, "response.segments", ("at least one",)),
    ({"transcript": "x", "segments": "0-1"}, "response.segments", ("list",)),
    ({"transcript": "x", "segments": [{"start": 0, "text": "x"}]}, "response.segments[0].end", ("required",)),
    ({"transcript": "x", "segments": [seg(-1, 1)]}, "response.segments[0].start", ("at least 0",)),
    ({"transcript": "x", "segments": [seg("0", 1)]}, "response.segments[0].start", ("number",)),
    ({"transcript": "x", "segments": [seg(0, True)]}, "response.segments[0].end", ("number",)),
    ({"transcript": "x", "segments": [seg(2, 2)]}, "response.segments[0].end", ("after start",)),
    ({"transcript": "x x", "segments": [seg(0, 1), seg(3, 2)]}, "response.segments[1].end", ("after start",)),
    ({"transcript": "x x", "segments": [seg(0, 2), seg(1.5, 3)]}, "response.segments[1].start", ("overlap",)),
    ({"transcript": "x x", "segments": [seg(5, 6), seg(0, 1)]}, "response.segments[1].start", ("order",)),
    ({"transcript": "x", "segments": [seg(0, 1, " ")]}, "response.segments[0].text", ("blank",)),
    ({"transcript": "x", "segments": [seg(0, 1, "x", speaker="Cleo")]}, "response.segments[0].speaker", ("'Cleo'", "speakers")),
    ({"transcript": "a b c", "segments": [seg(0, 1, "a"), seg(1, 2, "b")]}, "response.transcript", ("joined",)),
    ({"transcript": "b a", "segments": [seg(0, 1, "a"), seg(1, 2, "b")]}, "response.transcript", ("joined",)),
    ("hello", "response", ("JSON object",)),
])
def test_bad_segmented_responses_name_the_field(response, field, words):
    assert_names(response_error(response, PLUGIN.validate_params(SEGMENTED)), field, *words)


def test_segments_refused_when_the_task_does_not_ask_for_them():
    exc = response_error({"transcript": "x", "segments": [seg(0, 1)]}, params())
    assert_names(exc, "response.segments", "does not ask")


def test_speaker_needs_task_speakers():
    task = params(segments=True)
    exc = response_error({"transcript": "x", "segments": [seg(0, 1, speaker="Ana")]}, task)
    assert_names(exc, "response.segments[0].speaker", "no speakers")


def test_touching_segments_are_fine():
    task = PLUGIN.validate_params(SEGMENTED)
    answer = {"transcript": "a b", "segments": [seg(0, 1, "a"), seg(1, 2.5, "b")]}
    assert PLUGIN.validate_response(answer, task) == answer


# ----------------------------------------------------------------------------- synthetic

@pytest.mark.parametrize("raw", [
    {"attachment": AUDIO},
    {"attachment": AUDIO, "segments": True},
    SEGMENTED,
])
def test_synthetic_responses_validate(raw):
    task = PLUGIN.validate_params(raw)
    for seed in range(30):
        answer = PLUGIN.synthetic_response(task, random.Random(seed))
        assert PLUGIN.validate_response(answer, task) == answer
        assert ("segments" in answer) == bool(task["segments"])
        if task.get("speakers"):
            assert {s["speaker"] for s in answer["segments"]} <= set(task["speakers"])


def test_synthetic_is_deterministic_for_a_seed():
    task = PLUGIN.validate_params(SEGMENTED)
    assert PLUGIN.synthetic_response(task, random.Random(7)) == PLUGIN.synthetic_response(task, random.Random(7))

"""Unit tests of the task-type plug-ins (no server): params validation and its 400
messages, response validation against the task's params, and synthetic answers."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assay.errors import InvalidRequest
from assay.tasktypes import get_plugin, plugins

ALL_TYPES = [
    "categorization", "textcollection", "namedentityrecognition", "imageannotation",
    "segmentannotation", "documenttranscription", "videoannotation", "comparison",
]


# ----------------------------------------------------------------------------- helpers

def error(type_name: str, params: dict[str, Any]) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as info:
        get_plugin(type_name).validate_params(params)
    exc = info.value
    assert exc.status_code == 400
    return exc


def response_error(type_name: str, response: Any, params: dict[str, Any]) -> InvalidRequest:
    plugin = get_plugin(type_name)
    with pytest.raises(InvalidRequest) as info:
        plugin.validate_response(response, plugin.validate_params(params))
    exc = info.value
    assert exc.status_code == 400
    return exc


def assert_names(exc: InvalidRequest, field: str, *words: str) -> None:
    """The 400 names the field first (`field: reason`) and in `field`."""
    assert exc.message.startswith(f"{field}: "), exc.message
    assert exc.field == field, (exc.field, exc.message)
    for word in words:
        assert word in exc.message, exc.message


def without(params: dict[str, Any], key: str) -> dict[str, Any]:
    out = copy.deepcopy(params)
    del out[key]
    return out


def with_(params: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(params)
    out.update(changes)
    return out


def check_synthetic(type_name: str, params: dict[str, Any], seed: Any = 0) -> dict[str, Any]:
    plugin = get_plugin(type_name)
    clean = plugin.validate_params(params)
    answer = plugin.synthetic_response(clean, random.Random(seed))
    assert plugin.validate_response(answer, clean) == answer
    # deterministic for a seed
    assert plugin.synthetic_response(clean, random.Random(seed)) == answer
    # and usable as a pre-label (hypothesis has the response's schema)
    plugin.validate_params({**clean, "hypothesis": answer})
    return answer


# ----------------------------------------------------------------------------- examples

CATEGORIZATION = {"attachment": "https://example.com/cat.jpg", "attachment_type": "image", "categories": ["cat", "dog"]}

TEXTCOLLECTION = {
    "attachments": [
        {"type": "text", "content": "The food was great but the service was slow."},
        {"type": "image", "content": "https://example.com/receipt.png"},
    ],
    "fields": [
        {"type": "category", "field_id": "sentiment", "title": "Sentiment", "required": True,
         "choices": [{"label": "Positive", "value": "pos"}, {"label": "Negative", "value": "neg"},
                     {"label": "Mixed", "value": "mixed", "subchoices": [{"label": "Mostly good", "value": "mostly_good"}]}],
         "max_choices": 2},
        {"type": "text", "field_id": "summary", "title": "Summary", "required": True, "min_characters": 5, "max_characters": 50},
        {"type": "number", "field_id": "stars", "title": "Stars", "min": 1, "max": 5},
        {"type": "datetime", "field_id": "visited", "title": "Visit date"},
        {"type": "ranking", "field_id": "aspects", "title": "Rank aspects", "choices": ["food", "service", "price"]},
        {"type": "boolean", "field_id": "again", "title": "Would return?"},
    ],
    "title": "Review",
}

NER = {
    "text": "Alex Wang spoke at Transform in San Francisco.",
    "labels": ["person", {"name": "event", "description": "a named event", "children": ["conference"]},
               {"name": "place", "attributes": {"kind": {"choices": ["city", "country"]}}}],
    "relationships": [{"name": "speaker_at", "source_label": "person", "target_labels": ["event"], "is_directed": True}],
}

IMAGE = {
    "attachment": "https://example.com/street.jpg",
    "geometries": {
        "box": {"objects_to_annotate": ["car", {"choice": "person", "subchoices": ["adult", "child"]}],
                "min_width": 5, "min_height": 5},
        "polygon": {"objects_to_annotate": ["road"], "min_vertices": 4, "max_vertices": 10},
        "line": {"objects_to_annotate": ["lane"]},
        "point": {"objects_to_annotate": ["head"]},
        "ellipse": {"objects_to_annotate": ["wheel"]},
    },
    "annotation_attributes": {"occlusion": {"description": "How occluded?", "choices": ["0%", "50%", "100%"]},
                              "count": {"type": "number", "min": 0, "max": 9}},
}

SEGMENT = {
    "attachment": "https://example.com/street.jpg",
    "labels": ["road", {"choice": "vehicle", "subchoices": ["car", "truck"], "description": "anything with wheels"}],
    "instance_labels": ["car"],
}

DOCUMENT = {
    "attachments": ["https://example.com/page1.png", "https://example.com/page2.png"],
    "features": [{"type": "block", "label": "header", "children": [{"type": "text", "label": "title"}]},
                 {"type": "row", "label": "line_item"}, {"type": "cell", "label": "amount"}],
}

VIDEO_FRAMES = {
    "attachments": ["https://example.com/f0.jpg", "https://example.com/f1.jpg", "https://example.com/f2.jpg"],
    "attachment_type": "image",
    "geometries": {"box": {"objects_to_annotate": ["car"], "min_width": 4}, "point": {"objects_to_annotate": ["light"]}},
    "events_to_annotate": ["crash", "stop"],
}

VIDEO_FILE = {"attachment": "https://example.com/clip.mp4", "geometries": {"polygon": {"objects_to_annotate": ["road"]}}, "frame_rate": 2}

COMPARISON = {"attachments": ["Answer one.", "Answer two."], "choices": ["first", "second"], "fields": {"why": "Why is it better?"}}

EXAMPLES = {
    "categorization": CATEGORIZATION, "textcollection": TEXTCOLLECTION, "namedentityrecognition": NER,
    "imageannotation": IMAGE, "segmentannotation": SEGMENT, "documenttranscription": DOCUMENT,
    "videoannotation": VIDEO_FRAMES, "comparison": COMPARISON,
}


# ----------------------------------------------------------------------------- registry

def test_every_type_is_registered():
    registered = plugins()
    for name in ALL_TYPES:
        assert name in registered
        assert registered[name].name == name and registered[name].title


def test_only_comparison_requires_instruction():
    assert get_plugin("comparison").requires_instruction
    assert not any(get_plugin(n).requires_instruction for n in ALL_TYPES if n != "comparison")


@pytest.mark.parametrize("type_name", ALL_TYPES)
def test_valid_example_params(type_name):
    params = EXAMPLES[type_name]
    clean = get_plugin(type_name).validate_params(copy.deepcopy(params))
    # extra keys are kept; validated params are stable
    clean2 = get_plugin(type_name).validate_params({**clean, "customer_key": {"x": 1}})
    assert clean2["customer_key"] == {"x": 1}
    assert get_plugin(type_name).validate_params(clean) == clean


@pytest.mark.parametrize("type_name", ALL_TYPES)
@pytest.mark.parametrize("seed", [0, 1, 2, "5c849c3fe95619006b071dd4"])
def test_synthetic_response_of_examples(type_name, seed):
    check_synthetic(type_name, EXAMPLES[type_name], seed)


def test_synthetic_video_file():
    answer = check_synthetic("videoannotation", VIDEO_FILE)
    assert len(answer["annotations"]["frames"]) == 3


@pytest.mark.parametrize("type_name", ALL_TYPES)
def test_response_must_be_object(type_name):
    with pytest.raises(InvalidRequest) as info:
        get_plugin(type_name).validate_response(["not", "an", "object"], get_plugin(type_name).validate_params(EXAMPLES[type_name]))
    assert_names(info.value, "response")


@pytest.mark.parametrize("type_name", ALL_TYPES)
def test_bad_hypothesis_is_a_400_on_hypothesis(type_name):
    exc = error(type_name, {**EXAMPLES[type_name], "hypothesis": {"annotations": "nope", "category": 5, "choice": 7}})
    assert exc.message.startswith("hypothesis"), exc.message
    assert exc.field.startswith("hypothesis")


# ----------------------------------------------------------------------------- categorization

@pytest.mark.parametrize("field", ["attachment", "categories"])
def test_categorization_required(field):
    assert_names(error("categorization", without(CATEGORIZATION, field)), field, "required")


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"categories": []}, "categories"),
        ({"categories": ["a", "a"]}, "categories"),
        ({"categories": ["a", " "]}, "categories"),
        ({"attachment_type": "hologram"}, "attachment_type"),
        ({"allow_multiple": "perhaps"}, "allow_multiple"),
    ],
)
def test_categorization_bad_params(changes, field):
    assert_names(error("categorization", with_(CATEGORIZATION, **changes)), field)


def test_categorization_responses():
    plugin = get_plugin("categorization")
    params = plugin.validate_params(CATEGORIZATION)
    assert params["allow_multiple"] is False
    assert plugin.validate_response({"category": "dog"}, params) == {"category": "dog"}
    assert_names(response_error("categorization", {"category": "bird"}, CATEGORIZATION), "response", "bird")
    assert_names(response_error("categorization", {"category": ["cat"]}, CATEGORIZATION), "response", "one category")
    assert_names(response_error("categorization", {}, CATEGORIZATION), "response.category", "required")
    multi = with_(CATEGORIZATION, allow_multiple=True)
    assert get_plugin("categorization").validate_response({"category": ["cat", "dog"]}, plugin.validate_params(multi))


# ----------------------------------------------------------------------------- textcollection

@pytest.mark.parametrize("field", ["attachments", "fields"])
def test_textcollection_required(field):
    assert_names(error("textcollection", without(TEXTCOLLECTION, field)), field, "required")


@pytest.mark.parametrize("key", ["type", "field_id", "title"])
def test_textcollection_field_keys_required(key):
    params = copy.deepcopy(TEXTCOLLECTION)
    del params["fields"][1][key]
    assert_names(error("textcollection", params), f"fields[1].{key}", "required")


@pytest.mark.parametrize("key", ["type", "content"])
def test_textcollection_attachment_keys_required(key):
    params = copy.deepcopy(TEXTCOLLECTION)
    del params["attachments"][0][key]
    assert_names(error("textcollection", params), f"attachments[0].{key}", "required")


def _tc_field(**field: Any) -> dict[str, Any]:
    return {"attachments": [{"type": "text", "content": "hi"}], "fields": [{"field_id": "f", "title": "F", **field}]}


@pytest.mark.parametrize(
    "params, field, word",
    [
        ({"attachments": [], "fields": TEXTCOLLECTION["fields"]}, "attachments", "at least 1"),
        ({"attachments": [{"type": "image", "content": "not a url"}], "fields": TEXTCOLLECTION["fields"]}, "attachments[0].content", "URL"),
        ({"attachments": [{"type": "spreadsheet", "content": "x"}], "fields": TEXTCOLLECTION["fields"]}, "attachments[0].type", "'text'"),
        ({**TEXTCOLLECTION, "fields": []}, "fields", "at least 1"),
        (_tc_field(type="essay"), "fields[0].type", "'category'"),
        (_tc_field(type="category"), "fields[0].choices", "required"),
        (_tc_field(type="category", choices=[]), "fields[0].choices", "at least 1"),
        (_tc_field(type="category", choices=[{"label": "A"}]), "fields[0].choices[0].value", "required"),
        (_tc_field(type="category", choices=["a", "a"]), "fields[0].choices", "unique"),
        (_tc_field(type="category", choices=["a"], min_choices=2), "fields[0].min_choices", "number of choices"),
        (_tc_field(type="category", choices=["a", "b"], min_choices=2, max_choices=1), "fields[0].max_choices", "min_choices"),
        (_tc_field(type="text", max_characters=0), "fields[0].max_characters", "greater than or equal to 1"),
        (_tc_field(type="text", min_characters=9, max_characters=3), "fields[0].max_characters", "min_characters"),
        (_tc_field(type="number", min=5, max=1), "fields[0].max", "min"),
        (_tc_field(type="number", min="low"), "fields[0].min", "number"),
        (_tc_field(type="ranking", choices=["a", "b"], ranks=3), "fields[0].ranks", "more positions"),
        (_tc_field(type="ranking", choices=["a", "b"], ranks=0), "fields[0].ranks", "at least 1"),
        ({**TEXTCOLLECTION, "fields": [TEXTCOLLECTION["fields"][0], {**TEXTCOLLECTION["fields"][1], "field_id": "sentiment"}]},
         "fields[1].field_id", "duplicate"),
        ({**TEXTCOLLECTION, "responses_required": 0}, "responses_required", "greater than or equal to 1"),
    ],
)
def test_textcollection_bad_params(params, field, word):
    assert_names(error("textcollection", params), field, word)


def test_textcollection_normalises_string_choices():
    clean = get_plugin("textcollection").validate_params(_tc_field(type="category", choices=["yes", "no"]))
    assert clean["fields"][0]["choices"] == [{"label": "yes", "value": "yes"}, {"label": "no", "value": "no"}]
    assert clean["fields"][0]["type"] == "category"


def _tc_answer(**answers: Any) -> dict[str, Any]:
    base = {"sentiment": {"type": "category", "field_id": "sentiment", "response": [["pos"]]},
            "summary": {"type": "text", "field_id": "summary", "response": [["Tasty food."]]}}
    base.update({k: {"response": v} for k, v in answers.items()})
    return {"annotations": {k: v for k, v in base.items() if v["response"] is not None}}


def test_textcollection_valid_responses():
    plugin = get_plugin("textcollection")
    params = plugin.validate_params(TEXTCOLLECTION)
    full = _tc_answer(sentiment=[["mostly_good", "neg"]], stars=[[4]], visited=[["2024-03-01T12:00:00Z"]],
                      aspects=[["price", "food", "service"]], again=[[False]])
    out = plugin.validate_response(full, params)
    assert out["annotations"]["stars"] == {"type": "number", "field_id": "stars", "response": [[4]]}
    assert plugin.validate_response(_tc_answer(), params)  # optional fields may be left out


@pytest.mark.parametrize(
    "response, field, word",
    [
        ({"annotations": {}}, "response.annotations.sentiment", "required"),
        (_tc_answer(summary=None), "response.annotations.summary", "required"),
        (_tc_answer(sentiment=[["great"]]), "response.annotations.sentiment.response[0][0]", "great"),
        (_tc_answer(sentiment=[["pos", "neg", "mixed"]]), "response.annotations.sentiment.response[0]", "1 to 2"),
        (_tc_answer(sentiment=[[]]), "response.annotations.sentiment.response[0]", "1 to 2"),
        (_tc_answer(sentiment=[["pos"], ["neg"]]), "response.annotations.sentiment.response", "1 response"),
        (_tc_answer(sentiment=["pos"]), "response.annotations.sentiment.response[0]", "list"),
        (_tc_answer(summary=[["ok"]]), "response.annotations.summary.response[0][0]", "at least 5"),
        (_tc_answer(summary=[["x" * 51]]), "response.annotations.summary.response[0][0]", "at most 50"),
        (_tc_answer(summary=[[42]]), "response.annotations.summary.response[0][0]", "string"),
        (_tc_answer(stars=[[6]]), "response.annotations.stars.response[0][0]", "at most 5"),
        (_tc_answer(stars=[["5"]]), "response.annotations.stars.response[0][0]", "number"),
        (_tc_answer(visited=[["last tuesday"]]), "response.annotations.visited.response[0][0]", "ISO-8601"),
        (_tc_answer(aspects=[["food", "service"]]), "response.annotations.aspects.response[0]", "rank 3"),
        (_tc_answer(aspects=[["food", "food", "price"]]), "response.annotations.aspects.response[0]", "unique"),
        (_tc_answer(aspects=[["food", "service", "ambience"]]), "response.annotations.aspects.response[0][2]", "ambience"),
        (_tc_answer(again=[["yes"]]), "response.annotations.again.response[0][0]", "true or false"),
        (_tc_answer(colour=[["red"]]), "response.annotations.colour", "unknown field_id"),
        ({"annotations": {**_tc_answer()["annotations"], "stars": {"type": "text", "response": [[3]]}}},
         "response.annotations.stars.type", "number"),
        ({"annotations": {**_tc_answer()["annotations"], "stars": {"field_id": "again", "response": [[3]]}}},
         "response.annotations.stars.field_id", "stars"),
        ({"annotations": []}, "response.annotations", "dictionary"),
    ],
)
def test_textcollection_bad_responses(response, field, word):
    assert_names(response_error("textcollection", response, TEXTCOLLECTION), field, word)


def test_textcollection_partial_ranking_and_multiple_responses():
    params = _tc_field(type="ranking", choices=["a", "b", "c"], ranks=["best", "runner-up"], required=True,
                       max_responses_required=2)
    plugin = get_plugin("textcollection")
    clean = plugin.validate_params(params)
    assert plugin.validate_response({"annotations": {"f": {"response": [["c", "a"], ["b", "c"]]}}}, clean)
    assert_names(response_error("textcollection", {"annotations": {"f": {"response": [["c", "a"]] * 3}}}, params),
                 "response.annotations.f.response", "1 to 2")


# ----------------------------------------------------------------------------- namedentityrecognition

@pytest.mark.parametrize("field", ["text", "labels"])
def test_ner_required(field):
    assert_names(error("namedentityrecognition", without(NER, field)), field, "required")


@pytest.mark.parametrize(
    "changes, field, word",
    [
        ({"text": ""}, "text", "at least 1"),
        ({"text": 5}, "text", "string"),
        ({"labels": []}, "labels", "at least 1"),
        ({"labels": ["a", "a"]}, "labels", "unique"),
        ({"labels": [{"name": "a", "children": ["b", "a"]}]}, "labels", "unique"),
        ({"labels": [{"description": "no name"}]}, "labels[0].name", "required"),
        ({"labels": [""]}, "labels[0].name", "at least 1"),
        ({"allow_overlap": "sometimes"}, "allow_overlap", "boolean"),
        ({"relationships": [{"name": "r", "source_labels": ["nobody"]}]}, "relationships[0].source_labels[0]", "nobody"),
        ({"relationships": [{"name": "r", "target_label": "nobody"}]}, "relationships[0].target_label", "nobody"),
        ({"relationships": [{"name": "r"}, {"display_name": "unnamed"}]}, "relationships[1].name", "every relationship"),
        ({"relationships": [{"name": "r"}, {"name": "r"}]}, "relationships", "unique"),
    ],
)
def test_ner_bad_params(changes, field, word):
    assert_names(error("namedentityrecognition", with_(NER, **changes)), field, word)


def test_ner_string_labels_are_normalised():
    clean = get_plugin("namedentityrecognition").validate_params(NER)
    assert clean["labels"][0] == {"name": "person"}
    assert clean["labels"][1]["children"] == [{"name": "conference"}]
    assert clean["allow_overlap"] is False


def _span(text: str, piece: str, label: str, id_: str, **extra: Any) -> dict[str, Any]:
    start = text.index(piece)
    return {"id": id_, "start": start, "end": start + len(piece), "label": label, **extra}


ALEX = _span(NER["text"], "Alex Wang", "person", "a1")
TRANSFORM = _span(NER["text"], "Transform", "conference", "a2")
SF = _span(NER["text"], "San Francisco", "place", "a3", attributes={"kind": "city"})


def test_ner_valid_response_fills_text():
    plugin = get_plugin("namedentityrecognition")
    params = plugin.validate_params(NER)
    out = plugin.validate_response(
        {"annotations": [ALEX, TRANSFORM, SF],
         "relationships": [{"id": "r1", "source_ref": "a1", "target_ref": "a2", "name": "speaker_at"}]}, params)
    assert [a["text"] for a in out["annotations"]] == ["Alex Wang", "Transform", "San Francisco"]
    assert out["relationships"][0]["name"] == "speaker_at"
    assert plugin.validate_response({"annotations": []}, params) == {"annotations": [], "relationships": []}


def test_ner_overlap_allowed_when_asked():
    nested = _span(NER["text"], "Wang", "person", "a9")
    plugin = get_plugin("namedentityrecognition")
    assert plugin.validate_response({"annotations": [ALEX, nested]}, plugin.validate_params(with_(NER, allow_overlap=True)))
    assert_names(response_error("namedentityrecognition", {"annotations": [ALEX, nested]}, NER), "response.annotations[1]", "overlap")


@pytest.mark.parametrize(
    "response, field, word",
    [
        ({"annotations": [{**ALEX, "end": 999}]}, "response.annotations[0].end", "length of the text"),
        ({"annotations": [{**ALEX, "end": ALEX["start"]}]}, "response.annotations[0].end", "greater than start"),
        ({"annotations": [{**ALEX, "start": -1}]}, "response.annotations[0].start", "greater than or equal to 0"),
        ({"annotations": [{**ALEX, "start": "0"}]}, "response.annotations[0].start", "integer"),
        ({"annotations": [{**ALEX, "label": "animal"}]}, "response.annotations[0].label", "animal"),
        ({"annotations": [{**ALEX, "text": "Alex"}]}, "response.annotations[0].text", "does not match"),
        ({"annotations": [{**ALEX, "label": None}]}, "response.annotations[0].label", "string"),
        ({"annotations": [ALEX, {**TRANSFORM, "id": "a1"}]}, "response.annotations[0].id", "duplicate"),
        ({"annotations": [{**SF, "attributes": {"size": "big"}}]}, "response.annotations[0].attributes.size", "no attribute"),
        ({"annotations": [{**SF, "attributes": {"kind": "village"}}]}, "response.annotations[0].attributes.kind", "village"),
        ({"annotations": [ALEX, TRANSFORM], "relationships": [{"source_ref": "a1", "target_ref": "zz", "name": "speaker_at"}]},
         "response.relationships[0].target_ref", "zz"),
        ({"annotations": [ALEX, TRANSFORM], "relationships": [{"source_ref": "a1", "target_ref": "a2", "name": "likes"}]},
         "response.relationships[0].name", "likes"),
        ({"annotations": [ALEX, TRANSFORM], "relationships": [{"source_ref": "a1", "target_ref": "a2"}]},
         "response.relationships[0].name", "required"),
        ({"annotations": [ALEX, TRANSFORM], "relationships": [{"source_ref": "a2", "target_ref": "a1", "name": "speaker_at"}]},
         "response.relationships[0]", "cannot link"),
        ({"annotations": "none"}, "response.annotations", "list"),
    ],
)
def test_ner_bad_responses(response, field, word):
    assert_names(response_error("namedentityrecognition", response, NER), field, word)


def test_ner_relationships_need_definitions():
    params = without(NER, "relationships")
    response = {"annotations": [ALEX, TRANSFORM], "relationships": [{"source_ref": "a1", "target_ref": "a2"}]}
    assert_names(response_error("namedentityrecognition", response, params), "response.relationships[0]", "no relationships")


def test_ner_undirected_unnamed_relationships():
    params = with_(NER, relationships=[{"source_label": "person", "target_label": "place"}])
    plugin = get_plugin("namedentityrecognition")
    clean = plugin.validate_params(params)
    # undirected (is_directed defaults to false): either way round
    assert plugin.validate_response({"annotations": [ALEX, SF], "relationships": [{"source_ref": "a3", "target_ref": "a1"}]}, clean)
    assert_names(response_error("namedentityrecognition", {"annotations": [ALEX, SF], "relationships": [
        {"source_ref": "a3", "target_ref": "a1", "name": "x"}]}, params), "response.relationships[0].name", "unnamed")


# ----------------------------------------------------------------------------- imageannotation

@pytest.mark.parametrize("field", ["attachment", "geometries"])
def test_image_required(field):
    assert_names(error("imageannotation", without(IMAGE, field)), field, "required")


def test_image_geometry_needs_objects():
    assert_names(error("imageannotation", with_(IMAGE, geometries={"box": {"min_width": 3}})),
                 "geometries.box.objects_to_annotate", "required")


@pytest.mark.parametrize(
    "changes, field, word",
    [
        ({"attachment": "street.jpg"}, "attachment", "URL"),
        ({"attachment": "ftp://example.com/a.jpg"}, "attachment", "URL"),
        ({"attachment": "https://"}, "attachment", "URL"),
        ({"attachment_type": "video"}, "attachment_type", "'image'"),
        ({"geometries": {}}, "geometries", "at least one geometry"),
        ({"geometries": []}, "geometries", "dictionary"),
        ({"geometries": {"circle": {"objects_to_annotate": ["x"]}}}, "geometries.circle", "unknown geometry"),
        ({"geometries": {"box": {"objects_to_annotate": []}}}, "geometries.box.objects_to_annotate", "at least 1"),
        ({"geometries": {"box": {"objects_to_annotate": ["a", "a"]}}}, "geometries.box.objects_to_annotate", "unique"),
        ({"geometries": {"box": {"objects_to_annotate": [{"choice": "a", "subchoices": ["a"]}]}}},
         "geometries.box.objects_to_annotate", "unique"),
        ({"geometries": {"box": {"objects_to_annotate": [{"subchoices": ["a"]}]}}},
         "geometries.box.objects_to_annotate[0].choice", "required"),
        ({"geometries": {"box": {"objects_to_annotate": [7]}}}, "geometries.box.objects_to_annotate[0]", "string"),
        ({"geometries": {"box": {"objects_to_annotate": ["a"], "min_width": -1}}}, "geometries.box.min_width", "at least 0"),
        ({"geometries": {"box": {"objects_to_annotate": ["a"], "min_height": "big"}}}, "geometries.box.min_height", "number"),
        ({"geometries": {"polygon": {"objects_to_annotate": ["a"], "max_vertices": 2}}}, "geometries.polygon.max_vertices", "at least 3"),
        ({"geometries": {"line": {"objects_to_annotate": ["a"], "min_vertices": 5, "max_vertices": 4}}},
         "geometries.line.max_vertices", "min_vertices"),
        ({"annotation_attributes": {"occlusion": {"description": "no choices"}}}, "annotation_attributes.occlusion.choices", "at least one"),
        ({"annotation_attributes": {"n": {"type": "number", "min": 3, "max": 1}}}, "annotation_attributes.n.max", "min"),
    ],
)
def test_image_bad_params(changes, field, word):
    assert_names(error("imageannotation", with_(IMAGE, **changes)), field, word)


def test_image_params_defaults_and_urls():
    plugin = get_plugin("imageannotation")
    clean = plugin.validate_params(with_(IMAGE, attachment="scaledata://file/abc"))
    assert clean["attachment_type"] == "image"
    assert clean["geometries"]["box"]["min_width"] == 5  # numbers echoed as given
    assert plugin.attachment_urls(clean) == ["scaledata://file/abc"]


BOX = {"uuid": "b1", "type": "box", "label": "car", "left": 10, "top": 20, "width": 30.5, "height": 40}
POLY = {"uuid": "p1", "type": "polygon", "label": "road", "vertices": [{"x": 0, "y": 0}, {"x": 10, "y": 0}, {"x": 10, "y": 10}, {"x": 0, "y": 10}]}
LINE = {"uuid": "l1", "type": "line", "label": "lane", "vertices": [{"x": 0, "y": 0}, {"x": 5, "y": 50}]}
POINT = {"uuid": "t1", "type": "point", "label": "head", "x": 3, "y": 4}
ELLIPSE = {"uuid": "e1", "type": "ellipse", "label": "wheel",
           "vertices": [{"x": 110, "y": 50}, {"x": 100, "y": 55}, {"x": 90, "y": 50}, {"x": 100, "y": 45}]}


def test_image_valid_response():
    plugin = get_plugin("imageannotation")
    params = plugin.validate_params(IMAGE)
    response = {"annotations": [BOX, {**BOX, "uuid": "b2", "label": "child", "attributes": {"occlusion": "50%", "count": 2}},
                                POLY, LINE, POINT, ELLIPSE], "global_attributes": {"weather": "rain"}}
    assert plugin.validate_response(response, params) == response
    assert plugin.validate_response({"annotations": []}, params) == {"annotations": []}


def test_image_rotated_ellipse_and_box():
    plugin = get_plugin("imageannotation")
    params = plugin.validate_params(with_(IMAGE, geometries={**IMAGE["geometries"], "box": {"objects_to_annotate": ["car"], "can_rotate": True}}))
    # ellipse rotated 45 degrees, rounded to whole pixels
    tilted = {**ELLIPSE, "vertices": [{"x": 107, "y": 107}, {"x": 96, "y": 104}, {"x": 93, "y": 93}, {"x": 104, "y": 96}]}
    assert plugin.validate_response({"annotations": [{**BOX, "rotation": 0.5}, tilted]}, params)


@pytest.mark.parametrize(
    "annotation, field, word",
    [
        ({**BOX, "type": "circle"}, "response.annotations[0].type", "'box'"),
        ({k: v for k, v in BOX.items() if k != "type"}, "response.annotations[0].type", "required"),
        ({k: v for k, v in BOX.items() if k != "uuid"}, "response.annotations[0].uuid", "required"),
        ({k: v for k, v in BOX.items() if k != "width"}, "response.annotations[0].width", "required"),
        ({**BOX, "width": 0}, "response.annotations[0].width", "greater than 0"),
        ({**BOX, "height": -4}, "response.annotations[0].height", "greater than 0"),
        ({**BOX, "left": "10"}, "response.annotations[0].left", "number"),
        ({**BOX, "top": True}, "response.annotations[0].top", "number"),
        ({**BOX, "width": 4}, "response.annotations[0].width", "min_width"),
        ({**BOX, "height": 2}, "response.annotations[0].height", "min_height"),
        ({**BOX, "rotation": 0.3}, "response.annotations[0].rotation", "can_rotate"),
        ({**BOX, "label": "road"}, "response.annotations[0].label", "road"),
        ({**BOX, "label": "person"}, None, None),  # a parent choice is a label too
        ({**POLY, "vertices": POLY["vertices"][:3]}, "response.annotations[0].vertices", "at least 4"),
        ({**POLY, "vertices": POLY["vertices"] * 3}, "response.annotations[0].vertices", "at most 10"),
        ({**POLY, "vertices": [{"x": 1}] * 4}, "response.annotations[0].vertices[0].y", "required"),
        ({**LINE, "vertices": LINE["vertices"][:1]}, "response.annotations[0].vertices", "at least 2"),
        ({**POINT, "x": None}, "response.annotations[0].x", "number"),
        ({**ELLIPSE, "vertices": ELLIPSE["vertices"][:3]}, "response.annotations[0].vertices", "at least 4"),
        ({**ELLIPSE, "vertices": [{"x": 110, "y": 50}, {"x": 100, "y": 55}, {"x": 90, "y": 50}, {"x": 140, "y": 45}]},
         "response.annotations[0].vertices", "midpoints"),
        ({**ELLIPSE, "vertices": [{"x": 110, "y": 50}, {"x": 90, "y": 60}, {"x": 90, "y": 50}, {"x": 110, "y": 40}]},
         "response.annotations[0].vertices", "perpendicular"),
        ({**BOX, "attributes": {"occlusion": "75%"}}, "response.annotations[0].attributes.occlusion", "75%"),
        ({**BOX, "attributes": {"count": 10}}, "response.annotations[0].attributes.count", "at most 9"),
        ({**BOX, "attributes": {"colour": "red"}}, "response.annotations[0].attributes.colour", "unknown attribute"),
        ({**BOX, "type": "cuboid", "vertices": POLY["vertices"]}, "response.annotations[0].type", "did not ask for cuboid"),
        ("box", "response.annotations[0]", "object"),
    ],
)
def test_image_bad_annotations(annotation, field, word):
    if field is None:
        plugin = get_plugin("imageannotation")
        assert plugin.validate_response({"annotations": [annotation]}, plugin.validate_params(IMAGE))
        return
    assert_names(response_error("imageannotation", {"annotations": [annotation]}, IMAGE), field, word)


def test_image_bad_response_shapes():
    assert_names(response_error("imageannotation", {}, IMAGE), "response.annotations", "required")
    assert_names(response_error("imageannotation", {"annotations": [BOX, BOX]}, IMAGE), "response.annotations[1].uuid", "duplicate")


def test_image_cuboid_geometry():
    params = with_(IMAGE, geometries={"cuboid": {"objects_to_annotate": ["truck"]}})
    answer = check_synthetic("imageannotation", params)
    assert {a["type"] for a in answer["annotations"]} == {"cuboid"}


# ----------------------------------------------------------------------------- segmentannotation

@pytest.mark.parametrize("field", ["attachment", "labels"])
def test_segment_required(field):
    assert_names(error("segmentannotation", without(SEGMENT, field)), field, "required")


@pytest.mark.parametrize(
    "changes, field, word",
    [
        ({"attachment": "/tmp/a.png"}, "attachment", "URL"),
        ({"labels": []}, "labels", "at least 1"),
        ({"labels": ["road", "road"]}, "labels", "unique"),
        ({"labels": ["road", {"choice": "vehicle", "subchoices": ["road"]}]}, "labels", "unique"),
        ({"labels": [{"description": "nameless"}]}, "labels[0].choice", "required"),
        ({"instance_labels": ["bicycle"]}, "instance_labels[0]", "bicycle"),
        ({"allow_unlabeled": "sometimes"}, "allow_unlabeled", "boolean"),
    ],
)
def test_segment_bad_params(changes, field, word):
    assert_names(error("segmentannotation", with_(SEGMENT, **changes)), field, word)


COMBINED = {"image": "https://example.com/c.png", "indexedImage": "https://example.com/i.png"}


def _seg(labeled: dict[str, Any], mapping: dict[str, Any], **annotations: Any) -> dict[str, Any]:
    return {"annotations": {"labeled": labeled, "combined": COMBINED, **annotations}, "labelMapping": mapping}


def test_segment_valid_response_keeps_null_unlabeled():
    plugin = get_plugin("segmentannotation")
    params = plugin.validate_params(SEGMENT)
    response = _seg({"road": "https://example.com/road.png", "car": ["https://example.com/c1.png", "https://example.com/c2.png"]},
                    {"road": {"index": 1, "color": "#ff0000"}, "car": [{"index": 2, "color": "#00ff00"}, {"index": 3, "color": "#0000ff"}]},
                    unlabeled=None)
    assert plugin.validate_response(response, params) == response
    assert params["allow_unlabeled"] is False


@pytest.mark.parametrize(
    "response, field, word",
    [
        ({"labelMapping": {}}, "response.annotations", "required"),
        ({"annotations": {"labeled": {}, "combined": COMBINED}}, "response.labelMapping", "required"),
        (_seg({}, {}, combined={"image": "https://x/c.png"}), "response.annotations.combined.indexedImage", "required"),
        (_seg({"boat": "https://x/b.png"}, {"boat": {"index": 1, "color": "#fff"}}), "response.labelMapping.boat", "boat"),
        (_seg({"road": "https://x/r.png"}, {}), "response.annotations.labeled.road", "labelMapping"),
        (_seg({"road": "road.png"}, {"road": {"index": 1, "color": "#fff"}}), "response.annotations.labeled.road", "URL"),
        (_seg({"car": ["https://x/1.png", "x"]}, {"car": [{"index": 1, "color": "#fff"}] * 2}), "response.annotations.labeled.car[1]", "URL"),
        (_seg({}, {"road": {"index": 1, "color": "#fff"}, "car": {"index": 1, "color": "#000"}}), "response.labelMapping.car", "index 1"),
        (_seg({}, {"road": {"index": -1, "color": "#fff"}}), "response.labelMapping.road.index", "greater than or equal to 0"),
        (_seg({}, {"road": {"index": 1}}), "response.labelMapping.road.color", "required"),
        (_seg({"car": ["https://x/1.png"]}, {"car": [{"index": 1, "color": "#fff"}, {"index": 2, "color": "#000"}]}),
         "response.annotations.labeled.car", "1 instance masks but 2"),
    ],
)
def test_segment_bad_responses(response, field, word):
    assert_names(response_error("segmentannotation", response, SEGMENT), field, word)


# ----------------------------------------------------------------------------- documenttranscription

def test_document_required():
    assert_names(error("documenttranscription", without(DOCUMENT, "features")), "features", "required")
    assert_names(error("documenttranscription", without(DOCUMENT, "attachments")), "attachment", "required")


def test_document_single_attachment():
    plugin = get_plugin("documenttranscription")
    clean = plugin.validate_params({"attachment": "https://example.com/doc.pdf", "features": DOCUMENT["features"]})
    assert plugin.attachment_urls(clean) == ["https://example.com/doc.pdf"]
    # a single (PDF) attachment may have any number of pages
    check_synthetic("documenttranscription", clean)
    assert plugin.validate_response({"annotations": [{**DOC_ANN, "page": 7}]}, clean)


@pytest.mark.parametrize(
    "changes, field, word",
    [
        ({"attachments": []}, "attachment", "required"),
        ({"attachments": ["page1.png"]}, "attachments[0]", "URL"),
        ({"attachment": 42}, "attachment", "string"),
        ({"features": []}, "features", "at least 1"),
        ({"features": [{"type": "paragraph", "label": "x"}]}, "features[0].type", "'block'"),
        ({"features": [{"type": "block"}]}, "features[0].label", "required"),
        ({"features": [{"label": "x"}]}, "features[0].type", "required"),
        ({"features": [{"type": "block", "label": "x", "children": [{"type": "cell", "label": "x"}]}]}, "features", "unique"),
    ],
)
def test_document_bad_params(changes, field, word):
    assert_names(error("documenttranscription", with_(DOCUMENT, **changes)), field, word)


DOC_ANN = {"uuid": "d1", "page": 0, "label": "title", "text": "INVOICE",
           "location": {"type": "box", "left": 10, "top": 10, "width": 100, "height": 20}}


def test_document_valid_response():
    plugin = get_plugin("documenttranscription")
    params = plugin.validate_params(DOCUMENT)
    poly = {"uuid": "d2", "page": 1, "label": "amount", "text": "", "refs": ["d1"],
            "location": {"type": "polygon", "vertices": [{"x": 0, "y": 0}, {"x": 5, "y": 0}, {"x": 5, "y": 5}]}}
    response = {"annotations": [DOC_ANN, poly]}
    assert plugin.validate_response(response, params) == response


@pytest.mark.parametrize(
    "annotation, field, word",
    [
        ({**DOC_ANN, "label": "footer"}, "response.annotations[0].label", "footer"),
        ({**DOC_ANN, "page": 2}, "response.annotations[0].page", "number of pages (2)"),
        ({**DOC_ANN, "page": -1}, "response.annotations[0].page", "greater than or equal to 0"),
        ({**DOC_ANN, "page": 1.5}, "response.annotations[0].page", "integer"),
        ({k: v for k, v in DOC_ANN.items() if k != "text"}, "response.annotations[0].text", "required"),
        ({k: v for k, v in DOC_ANN.items() if k != "uuid"}, "response.annotations[0].uuid", "required"),
        ({**DOC_ANN, "location": {"type": "circle"}}, "response.annotations[0].location.type", "'box'"),
        ({**DOC_ANN, "location": {"type": "box", "left": 0, "top": 0, "width": 0, "height": 5}},
         "response.annotations[0].location.width", "greater than 0"),
        ({**DOC_ANN, "location": {"type": "polygon", "vertices": [{"x": 0, "y": 0}]}},
         "response.annotations[0].location.vertices", "at least 3"),
        ({**DOC_ANN, "location": None}, "response.annotations[0].location", "object"),
        ({**DOC_ANN, "refs": ["nope"]}, "response.annotations[0].refs[0]", "nope"),
    ],
)
def test_document_bad_responses(annotation, field, word):
    assert_names(response_error("documenttranscription", {"annotations": [annotation]}, DOCUMENT), field, word)


# ----------------------------------------------------------------------------- videoannotation

def test_video_required():
    assert_names(error("videoannotation", without(VIDEO_FRAMES, "geometries")), "geometries", "required")
    assert_names(error("videoannotation", without(VIDEO_FRAMES, "attachments")), "attachments", "required")


def test_video_attachment_type_defaults():
    plugin = get_plugin("videoannotation")
    assert plugin.validate_params(without(VIDEO_FRAMES, "attachment_type"))["attachment_type"] == "image"
    clean = plugin.validate_params(VIDEO_FILE)
    assert clean["attachment_type"] == "video"
    assert plugin.attachment_urls(clean) == ["https://example.com/clip.mp4"]


@pytest.mark.parametrize(
    "params, field, word",
    [
        (with_(VIDEO_FRAMES, attachments=[]), "attachments", "at least one"),
        (with_(VIDEO_FRAMES, attachments=["f0.jpg"]), "attachments[0]", "URL"),
        (with_(VIDEO_FRAMES, attachment_type="video"), "attachment_type", "'image'"),
        (with_(VIDEO_FRAMES, geometries={}), "geometries", "at least one geometry"),
        (with_(VIDEO_FRAMES, geometries={"box": {}}), "geometries.box.objects_to_annotate", "required"),
        (with_(VIDEO_FRAMES, events_to_annotate=["crash", "crash"]), "events_to_annotate", "unique"),
        (with_(VIDEO_FILE, attachment="clip.mp4"), "attachment", "URL"),
        (with_(VIDEO_FILE, frame_rate=0), "frame_rate", "greater than 0"),
    ],
)
def test_video_bad_params(params, field, word):
    assert_names(error("videoannotation", params), field, word)


VBOX = {"uuid": "car-1", "type": "box", "label": "car", "left": 0, "top": 0, "width": 10, "height": 10}


def _frames(*frames: list[dict[str, Any]]) -> dict[str, Any]:
    return {"annotations": {"frames": [{"annotations": f} for f in frames]}}


def test_video_valid_responses():
    plugin = get_plugin("videoannotation")
    params = plugin.validate_params(VIDEO_FRAMES)
    inline = {**_frames([VBOX], [VBOX], []), "events": [{"label": "crash", "type": "range", "start": 0, "end": 2},
                                                        {"label": "stop", "start": 1}]}
    assert plugin.validate_response(inline, params) == inline
    by_url = {"annotations": {"url": "https://example.com/annotations.json"}, "events": {"url": "https://example.com/events.json"}}
    assert plugin.validate_response(by_url, params) == by_url


@pytest.mark.parametrize(
    "response, field, word",
    [
        ({}, "response.annotations", "required"),
        ({"annotations": {"url": "annotations.json"}}, "response.annotations.url", "URL"),
        ({"annotations": {}}, "response.annotations.url", "required"),
        (_frames([VBOX], [VBOX]), "response.annotations.frames", "one entry per attachment (3)"),
        (_frames([VBOX], [{**VBOX, "label": "bus"}], []), "response.annotations.frames[1].annotations[0].label", "bus"),
        (_frames([VBOX], [{**VBOX, "width": 2}], []), "response.annotations.frames[1].annotations[0].width", "min_width"),
        (_frames([VBOX, VBOX], [], []), "response.annotations.frames[0].annotations[1].uuid", "duplicate"),
        (_frames([{**VBOX, "type": "polygon", "vertices": [{"x": 0, "y": 0}] * 3}], [], []),
         "response.annotations.frames[0].annotations[0].type", "did not ask for polygon"),
        ({**_frames([], [], []), "events": [{"label": "explosion", "start": 0}]}, "response.events[0].label", "explosion"),
        ({**_frames([], [], []), "events": [{"label": "crash", "start": 2, "end": 1}]}, "response.events[0].end", "at least start"),
        ({**_frames([], [], []), "events": [{"label": "crash", "start": 3}]}, "response.events[0].start", "number of frames (3)"),
        ({**_frames([], [], []), "events": [{"label": "crash"}]}, "response.events[0].start", "required"),
        ({**_frames([], [], []), "events": "crash"}, "response.events", "url"),
    ],
)
def test_video_bad_responses(response, field, word):
    assert_names(response_error("videoannotation", response, VIDEO_FRAMES), field, word)


def test_video_events_need_events_to_annotate():
    response = {**_frames([], [], []), "events": [{"label": "crash", "start": 0}]}
    assert_names(response_error("videoannotation", response, without(VIDEO_FRAMES, "events_to_annotate")),
                 "response.events[0]", "no events_to_annotate")


# ----------------------------------------------------------------------------- comparison

def test_comparison_required():
    assert_names(error("comparison", without(COMPARISON, "attachments")), "attachments", "required")
    assert_names(error("comparison", without(without(COMPARISON, "choices"), "fields")), "choices", "required")


@pytest.mark.parametrize(
    "changes, field, word",
    [
        ({"attachments": ["only one"]}, "attachments", "at least 2"),
        ({"attachments": ["a", 3]}, "attachments[1]", "string"),
        ({"attachments": ["a", {"type": "image"}]}, "attachments[1].content", "required"),
        ({"attachments": ["a", {"type": "image", "content": "b.png"}]}, "attachments[1].content", "URL"),
        ({"attachment_type": "image"}, "attachments[0]", "URL"),
        ({"attachment_type": "smell"}, "attachment_type", "'text'"),
        ({"choices": []}, "choices", "at least one"),
        ({"choices": ["a", "a"]}, "choices", "unique"),
        ({"fields": {}}, "fields", "at least one"),
        ({"fields": {"why": 3}}, "fields.why", "string"),
    ],
)
def test_comparison_bad_params(changes, field, word):
    assert_names(error("comparison", with_(COMPARISON, **changes)), field, word)


def test_comparison_params_and_urls():
    plugin = get_plugin("comparison")
    clean = plugin.validate_params(COMPARISON)
    assert clean["attachment_type"] == "text"
    assert plugin.attachment_urls(clean) == []  # text attachments are not URLs
    images = plugin.validate_params({"attachments": ["https://x/a.png", {"type": "image", "content": "https://x/b.png"}],
                                     "attachment_type": "image", "choices": ["a", "b"]})
    assert plugin.attachment_urls(images) == ["https://x/a.png", "https://x/b.png"]


def test_comparison_responses():
    plugin = get_plugin("comparison")
    params = plugin.validate_params(COMPARISON)
    good = {"choice": "second", "fields": {"why": "It cites sources."}}
    assert plugin.validate_response(good, params) == good
    only_choices = plugin.validate_params(without(COMPARISON, "fields"))
    assert plugin.validate_response({"choice": "first"}, only_choices) == {"choice": "first"}
    assert_names(response_error("comparison", {"fields": {"why": "x"}}, COMPARISON), "response.choice", "required")
    assert_names(response_error("comparison", {"choice": "third", "fields": {"why": "x"}}, COMPARISON), "response.choice", "third")
    assert_names(response_error("comparison", {"choice": "first"}, COMPARISON), "response.fields", "required")
    assert_names(response_error("comparison", {"choice": "first", "fields": {}}, COMPARISON), "response.fields.why", "not answered")
    assert_names(response_error("comparison", {"choice": "first", "fields": {"why": " "}}, COMPARISON), "response.fields.why", "blank")
    assert_names(response_error("comparison", {"choice": "first", "fields": {"why": "x", "how": "y"}}, COMPARISON),
                 "response.fields.how", "unknown field")
    assert_names(response_error("comparison", {"choice": "first", "fields": {"why": "x"}}, without(COMPARISON, "choices")),
                 "response.choice", "no choices")


# ----------------------------------------------------------------------------- property tests

names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12).filter(lambda s: s.strip())
unique_names = lambda min_size=1, max_size=6: st.lists(names, min_size=min_size, max_size=max_size, unique=True)  # noqa: E731
urls = st.sampled_from(["https://example.com/a.jpg", "http://example.com/b.png", "scaledata://file/abc123"])
PROPERTY_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def label_tree(draw, key: str, sub_key: str, as_object) -> list[Any]:
    """Unique names arranged as plain strings and objects with sub-items."""
    pool = draw(unique_names(1, 8))
    items: list[Any] = []
    i = 0
    while i < len(pool):
        kind = draw(st.sampled_from(["str", "obj", "nested"]))
        if kind == "str":
            items.append(pool[i])
            i += 1
        elif kind == "obj":
            items.append(as_object({key: pool[i]}))
            i += 1
        else:
            n = draw(st.integers(1, 3))
            items.append(as_object({key: pool[i], sub_key: pool[i + 1:i + 1 + n]}))
            i += 1 + n
    return items


@st.composite
def categorization_params(draw) -> dict[str, Any]:
    attachment_type = draw(st.sampled_from(["text", "image", "website"]))
    return {
        # a media or website attachment is a link (never javascript: or plain words)
        "attachment": draw(urls if attachment_type != "text" else st.one_of(urls, names)),
        "attachment_type": attachment_type,
        "categories": draw(unique_names()),
        "allow_multiple": draw(st.booleans()),
    }


@st.composite
def ner_params(draw) -> dict[str, Any]:
    pool = draw(unique_names(1, 6))
    labels: list[Any] = []
    i = 0
    while i < len(pool):
        name = pool[i]
        shape = draw(st.sampled_from(["str", "obj", "children", "attributes"]))
        if shape == "str":
            labels.append(name)
        elif shape == "obj":
            labels.append({"name": name, "description": "d"})
        elif shape == "children":
            n = draw(st.integers(1, 2))
            labels.append({"name": name, "children": pool[i + 1:i + 1 + n]})
            i += n
        else:
            labels.append({"name": name, "attributes": {"kind": {"choices": draw(unique_names(1, 3))}}})
        i += 1
    params: dict[str, Any] = {
        "text": draw(st.text(min_size=1, max_size=80)),
        "labels": labels,
        "allow_overlap": draw(st.booleans()),
    }
    if draw(st.booleans()):
        named = draw(st.booleans())
        definitions = []
        for j in range(draw(st.integers(1, 3))):
            d: dict[str, Any] = {"name": f"rel{j}"} if named else {}
            if draw(st.booleans()):
                d["source_labels"] = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2, unique=True))
            if draw(st.booleans()):
                d["target_label"] = draw(st.sampled_from(pool))
            if draw(st.booleans()):
                d["is_directed"] = draw(st.booleans())
            definitions.append(d)
        params["relationships"] = definitions
    return params


@st.composite
def geometries(draw) -> dict[str, Any]:
    chosen = draw(st.lists(st.sampled_from(["box", "polygon", "line", "point", "ellipse", "cuboid"]), min_size=1, max_size=6, unique=True))
    out: dict[str, Any] = {}
    for g in chosen:
        spec: dict[str, Any] = {"objects_to_annotate": draw(label_tree("choice", "subchoices", lambda d: d))}
        if g == "box":
            if draw(st.booleans()):
                spec["min_width"] = draw(st.one_of(st.integers(0, 2000), st.floats(0, 2000)))
            if draw(st.booleans()):
                spec["min_height"] = draw(st.one_of(st.integers(0, 2000), st.floats(0, 2000)))
            if draw(st.booleans()):
                spec["can_rotate"] = draw(st.booleans())
        if g in ("polygon", "line"):
            floor = 3 if g == "polygon" else 2
            low = draw(st.one_of(st.none(), st.integers(0, 12)))
            if low is not None:
                spec["min_vertices"] = low
            if draw(st.booleans()):
                spec["max_vertices"] = max(floor, low or 0) + draw(st.integers(0, 20))
        out[g] = spec
    return out


@st.composite
def attribute_specs(draw) -> dict[str, Any] | None:
    if draw(st.booleans()):
        return None
    specs: dict[str, Any] = {}
    for name in draw(unique_names(1, 3)):
        kind = draw(st.sampled_from(["category", None, "number", "angle", "text"]))
        if kind in ("category", None):
            specs[name] = {"choices": draw(unique_names(1, 4))} | ({"type": kind} if kind else {})
        elif kind == "number":
            low = draw(st.integers(-50, 50))
            specs[name] = {"type": "number", "min": low, "max": low + draw(st.integers(0, 30))}
        else:
            specs[name] = {"type": kind}
    return specs


@st.composite
def image_params(draw) -> dict[str, Any]:
    params = {"attachment": draw(urls), "geometries": draw(geometries())}
    attributes = draw(attribute_specs())
    if attributes:
        params["annotation_attributes"] = attributes
    return params


@st.composite
def textcollection_params(draw) -> dict[str, Any]:
    fields = []
    for i in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["category", "text", "number", "datetime", "ranking", "boolean"]))
        f: dict[str, Any] = {"type": kind, "field_id": f"f{i}", "title": f"Field {i}", "required": draw(st.booleans())}
        if kind in ("category", "ranking"):
            values = draw(unique_names(1, 5))
            f["choices"] = [draw(st.sampled_from([v, {"label": v.upper(), "value": v}])) for v in values]
            if kind == "category":
                low = draw(st.integers(0, len(values)))
                if draw(st.booleans()):
                    f["min_choices"] = low
                if draw(st.booleans()):
                    f["max_choices"] = max(1, low) + draw(st.integers(0, 3))
            elif draw(st.booleans()):
                f["ranks"] = draw(st.integers(1, len(values)))
        elif kind == "text":
            low = draw(st.integers(0, 30))
            if draw(st.booleans()):
                f["min_characters"] = low
            if draw(st.booleans()):
                f["max_characters"] = max(1, low) + draw(st.integers(0, 100))
        elif kind == "number":
            bound = st.one_of(st.integers(-1000, 1000), st.floats(-1000, 1000))
            low = draw(bound)
            if draw(st.booleans()):
                f["min"] = low
            if draw(st.booleans()):
                f["max"] = low + draw(st.integers(0, 50))
        if draw(st.booleans()):
            f["min_responses_required"] = draw(st.integers(0, 2))
            f["max_responses_required"] = max(1, f["min_responses_required"]) + draw(st.integers(0, 2))
        fields.append(f)
    return {"attachments": [{"type": "text", "content": "some text"}, {"type": "image", "content": draw(urls)}], "fields": fields}


@st.composite
def segment_params(draw) -> dict[str, Any]:
    labels = draw(label_tree("choice", "subchoices", lambda d: d))
    from assay.tasktypes.fields import choice_names

    all_names = choice_names(labels)
    return {
        "attachment": draw(urls),
        "labels": labels,
        "instance_labels": draw(st.lists(st.sampled_from(all_names), unique=True, max_size=3)),
        "allow_unlabeled": draw(st.booleans()),
    }


@st.composite
def document_params(draw) -> dict[str, Any]:
    pool = draw(unique_names(1, 6))
    features = [{"type": draw(st.sampled_from(["block", "row", "cell", "text"])), "label": n} for n in pool]
    if draw(st.booleans()):
        return {"attachment": draw(urls), "features": features}
    return {"attachments": draw(st.lists(urls, min_size=1, max_size=4)), "features": features}


@st.composite
def video_params(draw) -> dict[str, Any]:
    params: dict[str, Any] = {"geometries": draw(geometries())}
    if draw(st.booleans()):
        params["attachments"] = draw(st.lists(urls, min_size=1, max_size=6))
    else:
        params["attachment"] = "https://example.com/v.mp4"
    if draw(st.booleans()):
        params["events_to_annotate"] = draw(unique_names(1, 3))
    return params


@st.composite
def comparison_params(draw) -> dict[str, Any]:
    params: dict[str, Any] = {"attachments": draw(st.lists(names, min_size=2, max_size=4))}
    which = draw(st.sampled_from(["choices", "fields", "both"]))
    if which in ("choices", "both"):
        params["choices"] = draw(unique_names(1, 4))
    if which in ("fields", "both"):
        params["fields"] = {n: "describe" for n in draw(unique_names(1, 3))}
    return params


STRATEGIES = {
    "categorization": categorization_params(),
    "namedentityrecognition": ner_params(),
    "imageannotation": image_params(),
    "textcollection": textcollection_params(),
    "segmentannotation": segment_params(),
    "documenttranscription": document_params(),
    "videoannotation": video_params(),
    "comparison": comparison_params(),
}


@pytest.mark.parametrize("type_name", sorted(STRATEGIES))
def test_synthetic_response_always_validates(type_name):
    @PROPERTY_SETTINGS
    @given(params=STRATEGIES[type_name], seed=st.integers(0, 2**32))
    def run(params, seed):
        check_synthetic(type_name, params, seed)

    run()

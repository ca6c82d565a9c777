"""The built-in NER span tagger (assay.learning.spantagger, .span_features): recovery of
known entities at exact code-point offsets, the gazetteer and the dictionary baseline, BIO
decoding, scores, validation of predictions by the namedentityrecognition plug-in,
persistence, bad input."""

from __future__ import annotations

import itertools
import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assay.learning.span_features import (
    Gazetteer,
    check_spans,
    gazetteer_features,
    tag_runs,
    tokenize,
    training_features,
    training_tokens,
    word_shape,
)
from assay.learning.spantagger import DictionaryTagger, SpanTagger, _allowed_transitions, _starts_allowed, to_response, viterbi
from assay.tasktypes import get_plugin

FIRST = ["Alice", "Bob", "Carol", "Dan", "Femi", "Hana"]
LAST = ["Smith", "Jones", "White", "Brown", "Okafor", "Sato"]
PEOPLE = [f"{first} {last}" for first in FIRST for last in LAST]
PLACES = ["Paris", "Berlin", "Lima", "Oslo", "Accra", "Kyoto"]
ORGS = ["Acme Corp", "Globex"]
TEMPLATES = [
    "{p} moved to {l} last year .",
    "Yesterday {p} visited {l} with friends",
    "{p} works for {o} in {l}",
    "{o} opened an office in {l} !",
    "I think {p} is great",
]
FILLERS = ["nothing to see here", "we had lunch and went home", "the weather was nice today", "see you later"]
LABELS = ["person", "location", "organization"]


def _render(template: str, p: str, place: str, o: str) -> tuple[str, list[tuple[int, int, str]]]:
    """Fill a template, recording the (start, end, label) of every slot."""
    text, spans, rest = "", [], template
    values = {"p": (p, "person"), "l": (place, "location"), "o": (o, "organization")}
    while "{" in rest:
        before, _, after = rest.partition("{")
        key, _, rest = after.partition("}")
        text += before
        value, label = values[key]
        spans.append((len(text), len(text) + len(value), label))
        text += value
    return text + rest, spans


def _corpus():
    """180 texts: each template with each of 36 people, places and organisations in turn."""
    texts, spans = [], []
    for n, (template, person) in enumerate(itertools.product(TEMPLATES, PEOPLE)):
        text, found = _render(template, person, PLACES[n % len(PLACES)], ORGS[n % len(ORGS)])
        texts.append(text)
        spans.append(found)
    for filler in FILLERS * 3:
        texts.append(filler)
        spans.append([])
    return texts, spans


@pytest.fixture(scope="module")
def corpus():
    return _corpus()


@pytest.fixture(scope="module")
def tagger(corpus):
    return SpanTagger().fit(*corpus)


# ----------------------------------------------------------------------------- pieces


def test_tokenize_offsets_are_code_points_and_cuts_split_tokens():
    text = "🎉 iPhone12 @bob http://x.io/a, #Go!"
    tokens = tokenize(text)
    assert [text[s:e] for s, e in tokens] == ["🎉", "iPhone12", "@bob", "http://x.io/a,", "#Go", "!"]
    assert tokens[1] == (2, 10)  # the emoji is one code point (two UTF-16 units, four UTF-8 bytes)
    assert tokenize("iPhone12", cuts=[6]) == [(0, 6), (6, 8)]
    assert tokenize("iPhone12", cuts=[0, 8]) == [(0, 8)]  # cuts on token edges change nothing
    assert tokenize("a iPhone12Pro b", cuts=[10, 2, 8, 8]) == [(0, 1), (2, 8), (8, 10), (10, 13), (14, 15)]


def test_word_shape():
    assert word_shape("iPhone12") == "xXxd"
    assert word_shape("Paris") == "Xx"
    assert word_shape("U.S.A.") == "X.X.X."
    assert word_shape("Ünïcödé") == "Xx"


def test_tag_runs_repairs_i_without_b():
    tags = ["I-person", "I-person", "O", "B-location", "I-person", "B-org", "I-org"]
    assert tag_runs(tags) == [(0, 2, "person"), (3, 4, "location"), (4, 5, "person"), (5, 7, "org")]


def test_viterbi_keeps_bio_valid_hand_computed():
    tags = ["O", "B-x", "I-x"]
    allowed, start_ok = _allowed_transitions(tags), _starts_allowed(tags)
    # Greedy would say I-x, I-x (an I- cannot start). Valid paths: B,I = 0.4*0.7 = 0.28 is the
    # best (B,O = 0.08, B,B = 0.04, O,O = 0.02, O,B = 0.01).
    proba = np.array([[0.1, 0.4, 0.5], [0.2, 0.1, 0.7]])
    assert viterbi(np.log(proba), allowed, start_ok) == [1, 2]
    # O,I would be 0.36 but I-x cannot follow O: B,I = 0.31*0.6 = 0.186 beats O,O = 0.18 ...
    proba = np.array([[0.6, 0.31, 0.09], [0.3, 0.1, 0.6]])
    assert viterbi(np.log(proba), allowed, start_ok) == [1, 2]
    # ... and loses to it at 0.29*0.6 = 0.174.
    proba = np.array([[0.6, 0.29, 0.11], [0.3, 0.1, 0.6]])
    assert viterbi(np.log(proba), allowed, start_ok) == [0, 0]
    assert viterbi(np.zeros((0, 3)), allowed, start_ok) == []


def test_gazetteer_longest_match_majority_label_and_share():
    words = [["I", "like", "Apple", "pie"], ["Apple", "Music", "rocks"], ["Apple", "shares", "rose"], ["apple", "Music"]]
    tags = [["O", "O", "O", "O"], ["B-product", "I-product", "O"], ["B-org", "O", "O"], ["B-product", "I-product"]]
    gaz = Gazetteer.build(words, tags)
    # "apple" alone: tagged org once, seen 4 times (twice inside "apple music", which is its own entry).
    assert gaz.entry(("apple",)) == ("org", 0.25)
    assert gaz.entry(("apple", "music")) == ("product", 1.0)
    assert gaz.entry(("music",)) is None
    # Leftmost-longest: "Apple Music" wins over "Apple"; case does not matter.
    assert gaz.match(["new", "APPLE", "music", "and", "apple"]) == [(1, 3, "product", 1.0), (4, 5, "org", 0.25)]


def test_dictionary_tagger_offsets_and_min_share():
    texts = ["We love Acme Corp", "acme corp again", "Paris is nice", "the paris hotel"]
    spans = [[(8, 17, "org")], [(0, 9, "org")], [(0, 5, "loc")], []]
    baseline = DictionaryTagger().fit(texts, spans)
    text = "😀 ACME CORP and Paris"
    assert baseline.predict([text]) == [[(2, 11, "org", 1.0), (16, 21, "loc", 0.5)]]
    assert text[2:11] == "ACME CORP" and text[16:21] == "Paris"
    strict = DictionaryTagger(min_share=0.6).fit(texts, spans)
    assert strict.predict([text]) == [[(2, 11, "org", 1.0)]]


# ----------------------------------------------------------------------------- the tagger


def test_recovers_known_entities_at_exact_code_point_offsets(tagger):
    texts = [
        "🎉🎉 Carol White moved to Oslo last year .",
        "Yesterday Dan Brown visited Lima with friends",
        "Bob Jones works for Globex in Berlin",
        "nothing to see here",
    ]
    predicted = [[s[:3] for s in spans] for spans in tagger.predict(texts)]
    # "🎉🎉 " is three code points, so "Carol White" starts at 3 (5 in UTF-16, 9 in UTF-8).
    assert predicted[0] == [(3, 14, "person"), (24, 28, "location")]
    assert texts[0][3:14] == "Carol White" and texts[0][24:28] == "Oslo"
    assert predicted[1] == [(10, 19, "person"), (28, 32, "location")]
    assert predicted[2] == [(0, 9, "person"), (20, 26, "organization"), (30, 36, "location")]
    assert predicted[3] == []


def test_generalises_to_a_new_name_in_a_known_context(tagger):
    # "Erin Gray" never occurs in training; the context and the shape carry it.
    [spans] = tagger.predict(["Yesterday Erin Gray visited Paris with friends"])
    assert [s[:3] for s in spans] == [(10, 19, "person"), (28, 33, "location")]


def test_tagger_gazetteer_holds_training_entities(tagger):
    assert tagger.gazetteer.entry(("acme", "corp")) == ("organization", 1.0)
    assert tagger.gazetteer.entry(("oslo",)) == ("location", 1.0)
    assert tagger.gazetteer.entry(("moved",)) is None
    assert tagger.labels == sorted(LABELS)


def test_gazetteer_and_word_counts_in_training_come_from_other_folds(corpus):
    # An entity string that occurs in one training text only gets no gazetteer feature and a
    # zero word count while training (its own fold cannot see it), so the model does not learn
    # to trust the gazetteer for exactly the strings it memorised. At prediction time it matches.
    texts, spans = list(corpus[0]) + ["Zyx Qwerty spoke"], list(corpus[1]) + [[(0, 10, "person")]]
    words, tags = training_tokens(texts, check_spans(texts, spans))
    features = training_features(words, tags)
    zyx = features[-1][0]
    assert "gaz=none" in zyx and "freq=0" in zyx
    oslo_text = next(k for k, w in enumerate(words) if "Oslo" in w)
    oslo = features[oslo_text][words[oslo_text].index("Oslo")]
    assert "gaz=B-location/hi" in oslo and "freq=5-19" in oslo  # 24 texts name Oslo, 19 of them outside its fold
    fitted = SpanTagger().fit(texts, spans)
    assert gazetteer_features(fitted.gazetteer, ["zyx", "qwerty", "spoke"]) == ["B-person/hi", "I-person/hi", None]


def test_scores_are_probabilities_and_rank_guesses_low(tagger):
    texts = ["🎉🎉 Carol White moved to Oslo last year .", "Yesterday Erin Gray visited Paris with friends", "I think Qqq is great"]
    known, new_name, guess = tagger.predict(texts)
    for start, end, label, score in known + new_name + guess:
        assert 0.0 <= score <= 1.0
    # Names seen in training in a seen context score high; an unseen name lower, and a
    # nonsense word tagged only because "O" is down-weighted lower still.
    assert min(s[3] for s in known) > 0.9
    assert [s[:3] for s in new_name][0] == (10, 19, "person")
    assert new_name[0][3] < 0.5 < new_name[1][3]
    assert all(s[3] < new_name[0][3] for s in guess)


def test_prediction_validates_as_the_plugin_response(tagger):
    plugin = get_plugin("namedentityrecognition")
    text = "🎉🎉 Carol White moved to Oslo last year ."
    [spans] = tagger.predict([text])
    response = to_response(spans, text)
    params = plugin.validate_params({"text": text, "labels": LABELS})
    clean = plugin.validate_response(response, params)
    assert clean["annotations"] == [
        {"start": 3, "end": 14, "text": "Carol White", "label": "person"},
        {"start": 24, "end": 28, "text": "Oslo", "label": "location"},
    ]
    # Without the text the plug-in fills it in; as a hypothesis (pre-label) it validates too.
    assert plugin.validate_response(to_response(spans), params) == clean
    with_hypothesis = plugin.validate_params({"text": text, "labels": LABELS, "hypothesis": response})
    assert with_hypothesis["hypothesis"] == clean


def test_to_response_filters_by_score_and_label():
    spans = [(10, 14, "b", 0.4), (0, 3, "a", 0.9), (5, 8, "c", 0.95)]
    assert to_response(spans) == {"annotations": [{"start": 0, "end": 3, "label": "a"}, {"start": 5, "end": 8, "label": "c"},
                                                  {"start": 10, "end": 14, "label": "b"}], "relationships": []}
    assert to_response(spans, min_score=0.5, labels=["a", "b"])["annotations"] == [{"start": 0, "end": 3, "label": "a"}]
    assert to_response([(0, 3, "a")], text="abcdef")["annotations"] == [{"start": 0, "end": 3, "label": "a", "text": "abc"}]


def test_dumps_loads_round_trip_and_determinism(tagger, corpus):
    texts = ["🎉🎉 Carol White moved to Oslo last year .", "Acme Corp hired Erin Gray", "see you later", ""]
    before = tagger.predict(texts)
    restored = SpanTagger.loads(tagger.dumps())
    assert restored.predict(texts) == before
    assert SpanTagger().fit(*corpus).predict(texts) == before  # same data, same model
    assert before[3] == []
    with pytest.raises(ValueError, match="not a SpanTagger"):
        SpanTagger.loads(pickle.dumps(DictionaryTagger()))


def test_single_label_binary_case():
    # Only O and B-city occur: scikit-learn fits one coefficient row; both tags still get probabilities.
    texts = [f"I flew to {c} today" for c in ["Rome", "Kyiv", "Lagos", "Quito"]] * 3 + ["I flew home today"] * 4
    spans = [[(10, 10 + len(t) - 16, "city")] for t in texts[:12]] + [[]] * 4
    fitted = SpanTagger().fit(texts, spans)
    assert fitted.tags == ["O", "B-city"]
    [found] = fitted.predict(["I flew to Rome today"])
    assert [s[:3] for s in found] == [(10, 14, "city")]
    proba = fitted.tag_proba(["I", "flew", "to", "Rome", "today"])
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert proba[3, 1] > 0.5 > proba[0, 1]


def test_no_entities_in_training_predicts_none():
    fitted = SpanTagger().fit(["a b c", "d e f"], [[], []])
    assert fitted.predict(["a b c", "Paris"]) == [[], []]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(list("ab CDé🎉.,\n'") + ["Oslo ", "Carol White ", "Globex ", "visited "]), max_size=30).map("".join))
def test_any_text_gives_valid_spans(tagger, text):
    [spans] = tagger.predict([text])
    previous_end = 0
    for start, end, label, score in spans:
        assert previous_end <= start < end <= len(text)
        assert text[start:end] == text[start:end].strip()
        assert 0.0 <= score <= 1.0 and label in LABELS
        previous_end = end
    if text.strip():
        plugin = get_plugin("namedentityrecognition")
        params = plugin.validate_params({"text": text, "labels": LABELS})
        assert len(plugin.validate_response(to_response(spans, text), params)["annotations"]) == len(spans)


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("texts, spans, message", [
    (["a b", "c"], [[]], r"differ in length \(2 texts, 1 span lists\)"),
    (["abc"], [[(1, 9, "x")]], r"spans_per_text\[0\]\[0\]: span 1-9 is out of range for texts\[0\] of length 3"),
    (["abc"], [[(-1, 2, "x")]], r"spans_per_text\[0\]\[0\]: span -1-2 is out of range"),
    (["abc", "abcd"], [[], [(0, 2, "x"), (2, 2, "y")]], r"spans_per_text\[1\]\[1\]: end \(2\) must be greater than start \(2\)"),
    (["abc"], [[(2, 1, "x")]], r"end \(1\) must be greater than start \(2\)"),
    (["abcdef"], [[(0, 3, "x"), (2, 5, "y")]], r"spans_per_text\[0\]: spans 0-3 and 2-5 overlap"),
    (["abc"], [[(0, 2, "")]], r"label must be a non-empty string"),
    (["abc"], [[(0.0, 2, "x")]], r"start and end must be integers"),
    (["a  b"], [[(1, 3, "x")]], r"covers only whitespace"),
    ([None], [[]], r"texts\[0\] is not a string"),
    ("abc", [[], [], []], r"not one string"),
])
def test_bad_training_input_is_named(texts, spans, message):
    with pytest.raises(ValueError, match=message):
        SpanTagger().fit(texts, spans)
    with pytest.raises(ValueError, match=message):
        check_spans(texts, spans)


def test_bad_prediction_input_and_unfitted():
    with pytest.raises(ValueError, match="fit the tagger first"):
        SpanTagger().predict(["x"])
    with pytest.raises(ValueError, match="fit the tagger first"):
        DictionaryTagger().predict(["x"])
    with pytest.raises(ValueError, match="no training texts"):
        SpanTagger().fit([], [])
    fitted = SpanTagger().fit(["Paris is big", "Rome is old"], [[(0, 5, "loc")], [(0, 4, "loc")]])
    with pytest.raises(ValueError, match=r"texts\[1\] is not a string"):
        fitted.predict(["ok", 3])
    with pytest.raises(ValueError, match="not one string"):
        fitted.predict("Paris")

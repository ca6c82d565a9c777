"""The formats' pure parts, without a server: COCO RLE against pycocotools for any mask,
BIO tags through the CoNLL import and export for any tagging, ellipse outlines, the CSV's
formula guard, and the import parsers' line numbers (hypothesis property tests where the
input space is large)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from assay.exports.formats import text, vision
from assay.exports.formats.base import Context
from assay.exports.formats.tabular import csv_cell, flatten
from assay.imports.tabular import parse_csv, parse_jsonl
from assay.imports.text import from_tokens, parse_conll


@settings(max_examples=150, deadline=None)
@given(arrays(np.bool_, st.tuples(st.integers(1, 23), st.integers(1, 23))))
def test_rle_matches_pycocotools(mask):
    from pycocotools import mask as mask_utils

    ours = vision.rle_encode(mask)
    theirs = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    assert ours["counts"] == theirs["counts"].decode() and ours["size"] == list(theirs["size"])
    assert (mask_utils.decode({"size": ours["size"], "counts": ours["counts"].encode()}) == mask).all()


LABELS = ["person", "location", "group"]
tokens_st = st.lists(st.text(st.characters(whitelist_categories=("L", "N", "P")), min_size=1, max_size=6), min_size=1, max_size=15)


@st.composite
def tagged(draw):
    tokens = draw(tokens_st)
    tags, inside = [], None
    for _ in tokens:
        choice = draw(st.sampled_from(["O", "B", "I"] if inside else ["O", "B"]))
        if choice == "O":
            tags.append("O")
            inside = None
        elif choice == "B":
            inside = draw(st.sampled_from(LABELS))
            tags.append(f"B-{inside}")
        else:
            tags.append(f"I-{inside}")
    return tokens, tags


@settings(max_examples=200, deadline=None)
@given(tagged())
def test_bio_tags_survive_import_and_export(case):
    tokens, tags = case
    body_text, spans, kept = from_tokens(tokens, tags)
    row = {"task_id": "t", "type": "namedentityrecognition", "params": {"text": body_text}, "metadata": {"tokens": kept},
           "status": "completed", "response": {"annotations": spans}}
    assert text.bio(row) == list(zip(tokens, tags))
    conll = b"".join(text.conll([[row]], Context("p", "namedentityrecognition"))).decode()
    parsed = parse_conll(conll.encode())
    assert not parsed.errors and parsed.rows[0].label == {"annotations": spans} and parsed.rows[0].body["text"] == body_text


@settings(max_examples=100, deadline=None)
@given(st.floats(-500, 500), st.floats(-500, 500), st.floats(1, 200), st.floats(1, 200), st.floats(0, math.pi))
def test_ellipse_outline_stays_on_the_ellipse(cx, cy, a, b, angle):
    u = (a * math.cos(angle), a * math.sin(angle))
    v = (-b * math.sin(angle), b * math.cos(angle))
    vertices = [{"x": cx + u[0], "y": cy + u[1]}, {"x": cx + v[0], "y": cy + v[1]}, {"x": cx - u[0], "y": cy - u[1]}, {"x": cx - v[0], "y": cy - v[1]}]
    for x, y in vision.ellipse_polygon(vertices):
        dx, dy = x - cx, y - cy
        p = (dx * math.cos(angle) + dy * math.sin(angle)) / a
        q = (-dx * math.sin(angle) + dy * math.cos(angle)) / b
        assert abs(p * p + q * q - 1) < 0.05


def test_csv_cells_and_flat_rows():
    assert csv_cell("=1+1") == "'=1+1" and csv_cell("-3") == "'-3" and csv_cell(-3) == -3 and csv_cell(True) == "true" and csv_cell(None) == ""
    flat = flatten({"task_id": "t", "status": "completed", "type": "textcollection", "params": {"attachments": [{"type": "text", "content": "x"}]},
                    "response": {"annotations": {"stars": {"response": [[4]]}, "tags": {"response": [["a", "b"]]}}},
                    "quality": {"confidence": 0.9, "labels": 2, "method": "m"}})
    assert flat["answer.stars"] == 4 and flat["answer.tags"] == "a|b" and flat["confidence"] == 0.9 and flat["labels"] == 2
    assert flat["input.attachments"] == '[{"type":"text","content":"x"}]'


def test_parsers_keep_line_numbers():
    parsed = parse_csv(b'text,label\n"two\nlines",pos\nthird,neg\n', "categorization", {})
    assert [r.line for r in parsed.rows] == [2, 4] and parsed.rows[0].body["attachment"] == "two\nlines"
    parsed = parse_jsonl(b'{"text": "a"}\n\n{bad\n{"text": "b", "label": "x"}\n', "categorization", {"text": "attachment"})
    assert [r.line for r in parsed.rows] == [1, 4] and [e.line for e in parsed.errors] == [3]
    assert parsed.rows[1].body == {"attachment": "b"} and parsed.rows[1].label == {"category": "x"}

"""What the built-in NER span tagger sees: tokens and their BIO tags, the gazetteer of
entity strings seen in training, and the binary features of every token (the lower-cased
word, character 2-4-grams, word shape, prefix and suffix, the neighbouring words, how often
the word occurred in training, and the gazetteer's match).

Spans are ``(start, end, label)`` with Python string offsets (Unicode code points, ``end``
exclusive), the same convention as the ``namedentityrecognition`` task type.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

__all__ = [
    "OUTSIDE",
    "Gazetteer",
    "ScoredSpan",
    "Span",
    "bio_tags",
    "check_spans",
    "check_texts",
    "gazetteer_features",
    "lowercase_word_counts",
    "tag_runs",
    "token_features",
    "tokenize",
    "training_features",
    "training_tokens",
    "word_shape",
]

# ----------------------------------------------------------------------------- tokens and BIO tags

# URLs, @mentions and #hashtags stay whole (their shape is a strong "not an entity" or
# "entity" hint in user-generated text); otherwise runs of word characters, and every
# other non-space character (punctuation, emoji) alone.
TOKEN_RE = re.compile(r"https?://\S+|www\.\S+|[@#]\w+|\w+|[^\w\s]")
OUTSIDE = "O"
GAZETTEER_FOLDS = 5
RELIABLE_SHARE = 0.5  # a gazetteer entry is "reliable" when at least this share of its occurrences was tagged

Span = tuple[int, int, str]
ScoredSpan = tuple[int, int, str, float]


def tokenize(text: str, cuts: Sequence[int] = ()) -> list[tuple[int, int]]:
    """Token ``(start, end)`` offsets of ``text``; every offset in ``cuts`` that falls inside
    a token splits it there (training uses the span boundaries, so labels always align)."""
    inner = sorted(set(cuts))
    tokens: list[tuple[int, int]] = []
    for match in TOKEN_RE.finditer(text):
        start, end = match.span()
        for cut in inner[bisect_right(inner, start):bisect_left(inner, end)]:
            tokens.append((start, cut))
            start = cut
        tokens.append((start, end))
    return tokens


def word_shape(token: str) -> str:
    """Xxxx-style shape with repeats collapsed ("iPhone12" -> "xXxd"), at most 8 characters."""
    out: list[str] = []
    for ch in token:
        kind = "X" if ch.isupper() else "x" if ch.islower() else "d" if ch.isdigit() else "a" if ch.isalpha() else ch
        if not out or out[-1] != kind:
            out.append(kind)
    return "".join(out)[:8]


def check_spans(texts: Sequence[str], spans_per_text: Sequence[Sequence[Span]]) -> list[list[Span]]:
    """Validate training input and return it as sorted lists of ``(start, end, label)``.
    Raises ValueError naming the first bad text or span."""
    if isinstance(texts, str):
        raise ValueError("texts must be a list of strings, not one string")
    if len(texts) != len(spans_per_text):
        raise ValueError(f"texts and spans_per_text differ in length ({len(texts)} texts, {len(spans_per_text)} span lists)")
    out: list[list[Span]] = []
    for i, (text, spans) in enumerate(zip(texts, spans_per_text)):
        if not isinstance(text, str):
            raise ValueError(f"texts[{i}] is not a string")
        clean: list[Span] = []
        for j, span in enumerate(spans):
            where = f"spans_per_text[{i}][{j}]"
            if len(span) < 3:
                raise ValueError(f"{where}: a span is (start, end, label)")
            start, end, label = span[0], span[1], span[2]
            if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (start, end)):
                raise ValueError(f"{where}: start and end must be integers")
            if not isinstance(label, str) or not label:
                raise ValueError(f"{where}: label must be a non-empty string")
            if end <= start:
                raise ValueError(f"{where}: end ({end}) must be greater than start ({start})")
            if start < 0 or end > len(text):
                raise ValueError(f"{where}: span {start}-{end} is out of range for texts[{i}] of length {len(text)}")
            if not text[start:end].strip():
                raise ValueError(f"{where}: span {start}-{end} covers only whitespace")
            clean.append((int(start), int(end), label))
        clean.sort()
        for (s0, e0, _), (s1, e1, _) in zip(clean, clean[1:]):
            if s1 < e0:
                raise ValueError(f"spans_per_text[{i}]: spans {s0}-{e0} and {s1}-{e1} overlap (BIO tagging cannot represent nesting)")
        out.append(clean)
    return out


def check_texts(texts: Sequence[str]) -> None:
    """Texts to predict on: a list of strings (ValueError naming the first that is not)."""
    if isinstance(texts, str):
        raise ValueError("texts must be a list of strings, not one string")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise ValueError(f"texts[{i}] is not a string")


def bio_tags(text: str, spans: Sequence[Span], tokens: Sequence[tuple[int, int]]) -> list[str]:
    """BIO tag of each token: B-label on the first token inside a span, I-label on the rest."""
    tags = [OUTSIDE] * len(tokens)
    starts = [s for s, _ in tokens]
    for start, end, label in spans:
        first = bisect_left(starts, start)
        inside = [k for k in range(first, bisect_left(starts, end)) if tokens[k][1] <= end]
        for n, k in enumerate(inside):
            tags[k] = ("B-" if n == 0 else "I-") + label
    return tags


def training_tokens(texts: Sequence[str], spans_per_text: Sequence[Sequence[Span]]) -> tuple[list[list[str]], list[list[str]]]:
    """Token strings and BIO tags of checked training texts (tokens cut at span boundaries)."""
    words, tags = [], []
    for text, spans in zip(texts, spans_per_text):
        tokens = tokenize(text, [offset for span in spans for offset in span[:2]])
        words.append([text[s:e] for s, e in tokens])
        tags.append(bio_tags(text, spans, tokens))
    return words, tags


def tag_runs(tags: Sequence[str]) -> list[tuple[int, int, str]]:
    """(first token, end token, label) of each B/I run; an I- without a matching B- starts a run."""
    runs: list[tuple[int, int, str]] = []
    current: list[Any] | None = None
    for k, tag in enumerate(tags):
        prefix, _, label = tag.partition("-")
        if prefix == "I" and current is not None and current[2] == label:
            current[1] = k + 1
            continue
        if current is not None:
            runs.append(tuple(current))
            current = None
        if prefix in ("B", "I"):
            current = [k, k + 1, label]
    if current is not None:
        runs.append(tuple(current))
    return runs


# ----------------------------------------------------------------------------- gazetteer


@dataclass
class Gazetteer:
    """Entity surface strings (lower-cased token sequences) with how often each was tagged
    with each label and how often the same tokens occurred at all in the training texts."""

    labels: dict[tuple[str, ...], Counter] = field(default_factory=dict)
    occurrences: Counter = field(default_factory=Counter)
    max_len: int = 0

    @classmethod
    def build(cls, token_lists: Sequence[Sequence[str]], tag_lists: Sequence[Sequence[str]]) -> "Gazetteer":
        gaz = cls()
        for words, tags in zip(token_lists, tag_lists):
            for start, end, label in tag_runs(tags):
                key = tuple(w.lower() for w in words[start:end])
                gaz.labels.setdefault(key, Counter())[label] += 1
        gaz.max_len = max((len(k) for k in gaz.labels), default=0)
        lengths = {len(k) for k in gaz.labels}
        for words in token_lists:
            lowered = [w.lower() for w in words]
            for n in lengths:
                for i in range(len(lowered) - n + 1):
                    key = tuple(lowered[i:i + n])
                    if key in gaz.labels:
                        gaz.occurrences[key] += 1
        return gaz

    def entry(self, key: tuple[str, ...]) -> tuple[str, float] | None:
        """(most frequent label, share of occurrences tagged as an entity) of one entry."""
        counts = self.labels.get(key)
        if not counts:
            return None
        label = max(sorted(counts), key=lambda name: counts[name])  # ties: alphabetical, for determinism
        tagged = sum(counts.values())
        return label, tagged / max(self.occurrences.get(key, 0), tagged)

    def match(self, words: Sequence[str]) -> list[tuple[int, int, str, float]]:
        """Leftmost-longest, non-overlapping matches as (first token, end token, label, share tagged)."""
        lowered = [w.lower() for w in words]
        out = []
        i = 0
        while i < len(lowered):
            for n in range(min(self.max_len, len(lowered) - i), 0, -1):
                found = self.entry(tuple(lowered[i:i + n]))
                if found is not None:
                    out.append((i, i + n, found[0], found[1]))
                    i += n
                    break
            else:
                i += 1
        return out


# ----------------------------------------------------------------------------- features


def gazetteer_features(gaz: Gazetteer | None, words: Sequence[str]) -> list[str | None]:
    """Per token: "B-label/hi" style gazetteer feature (position, label, reliability) or None."""
    marks: list[str | None] = [None] * len(words)
    if gaz is None:
        return marks
    for i, j, label, share in gaz.match(words):
        level = "hi" if share >= RELIABLE_SHARE else "lo"
        for k in range(i, j):
            marks[k] = f"{'B' if k == i else 'I'}-{label}/{level}"
    return marks


def lowercase_word_counts(token_lists) -> Counter:
    """How often each lower-cased word occurs in the token lists."""
    return Counter(w.lower() for words in token_lists for w in words)


def _frequency_bucket(count: int) -> str:
    return "0" if count == 0 else "1" if count == 1 else "2-4" if count < 5 else "5-19" if count < 20 else "20+"


def token_features(words: Sequence[str], gaz_marks: Sequence[str | None], word_counts: Counter | None = None) -> list[list[str]]:
    """Binary feature names of every token of one text. ``word_counts``: how often each
    lower-cased word occurred in the training texts (rare words are more often names)."""
    lowered = [w.lower() for w in words]
    shapes = [word_shape(w) for w in words]
    n = len(words)

    def at(seq: Sequence[str], k: int) -> str:
        return seq[k] if 0 <= k < n else ("<s>" if k < 0 else "</s>")

    out = []
    for i, (word, low, shape) in enumerate(zip(words, lowered, shapes)):
        feats = [
            "w=" + low, "shape=" + shape, "pre=" + low[:3], "suf=" + low[-3:], "pre4=" + low[:4], "suf4=" + low[-4:],
            "w-1=" + at(lowered, i - 1), "w+1=" + at(lowered, i + 1), "w-2=" + at(lowered, i - 2), "w+2=" + at(lowered, i + 2),
            "shape-1=" + at(shapes, i - 1), "shape+1=" + at(shapes, i + 1),
            "w-1|w=" + at(lowered, i - 1) + "|" + low, "w|w+1=" + low + "|" + at(lowered, i + 1),
            "shape-1|shape|shape+1=" + at(shapes, i - 1) + "|" + shape + "|" + at(shapes, i + 1),
        ]
        if i == 0:
            feats.append("first")
        if word[:1].isupper() and word[1:].islower():
            feats.append("title")
        if len(word) > 1 and word.isupper():
            feats.append("upper")
        if any(ch.isdigit() for ch in word):
            feats.append("digit")
        feats.append("len=" + str(min(len(word), 8)))
        if word_counts is not None:
            feats.append("freq=" + _frequency_bucket(word_counts.get(low, 0)))
            feats.append("freq|shape=" + _frequency_bucket(word_counts.get(low, 0)) + "|" + shape[:2])
        padded = "<" + low + ">"
        for size in (2, 3, 4):
            feats.extend("c=" + padded[k:k + size] for k in range(len(padded) - size + 1))
        mark = gaz_marks[i]
        feats.append("gaz=" + (mark or "none"))
        if mark is not None:
            feats.append("gazany=" + mark.split("/")[1])
        feats.append("gaz-1=" + str(gaz_marks[i - 1] if i > 0 else "<s>"))
        feats.append("gaz+1=" + str(gaz_marks[i + 1] if i + 1 < n else "</s>"))
        out.append(feats)
    return out


def training_features(words: Sequence[Sequence[str]], tags: Sequence[Sequence[str]]) -> list[list[list[str]]]:
    """Features of the training tokens (per text, per token). The gazetteer and the word
    counts seen by text k come from the folds without k: built from all of the training
    data, the gazetteer would fire on every training entity (and every word would have been
    seen), and the model would learn to trust both far more than they deserve on new text."""
    per_text: list[list[list[str]]] = [[] for _ in words]
    for fold in range(GAZETTEER_FOLDS):
        others = [k for k in range(len(words)) if k % GAZETTEER_FOLDS != fold]
        gaz = Gazetteer.build([words[k] for k in others], [tags[k] for k in others])
        counts = lowercase_word_counts(words[k] for k in others)
        for k in range(fold, len(words), GAZETTEER_FOLDS):
            per_text[k] = token_features(words[k], gazetteer_features(gaz, words[k]), counts)
    return per_text

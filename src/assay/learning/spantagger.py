"""The built-in span tagger for named-entity recognition: a BIO token classifier over the
hand-made features of :mod:`assay.learning.span_features`, a multinomial logistic
regression, and BIO-constrained Viterbi decoding into spans.

Spans are ``(start, end, label)`` with Python string offsets (Unicode code points, ``end``
exclusive), the same convention as the ``namedentityrecognition`` task type, so that
``to_response`` turns a prediction into a pre-label (``hypothesis``) that the plug-in
validates unchanged.

Pure (numpy, scipy, scikit-learn for fitting only) and deterministic: the same training
data gives the same model and the same predictions. ``DictionaryTagger`` is the
dictionary-only baseline the tagger is measured against (bench/ner_backend.py).
"""

from __future__ import annotations

import io
import pickle
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
from scipy.sparse import csr_matrix

# Gazetteer is also what pickles of fitted taggers from before the split name as
# assay.learning.spantagger.Gazetteer: the import keeps them loadable.
from assay.learning.span_features import (
    OUTSIDE,
    Gazetteer,
    ScoredSpan,
    Span,
    check_spans,
    check_texts,
    gazetteer_features,
    lowercase_word_counts,
    tag_runs,
    token_features,
    tokenize,
    training_features,
    training_tokens,
)

__all__ = ["DictionaryTagger", "SpanTagger", "to_response", "viterbi"]


# ----------------------------------------------------------------------------- the dictionary baseline


@dataclass
class DictionaryTagger:
    """Dictionary-only baseline: tag every leftmost-longest occurrence of an entity string
    seen in training (case-insensitive) with its most frequent label, if at least
    ``min_share`` of that string's occurrences in the training texts were tagged."""

    min_share: float = 0.0
    gazetteer: Gazetteer | None = None

    def fit(self, texts: Sequence[str], spans_per_text: Sequence[Sequence[Span]]) -> "DictionaryTagger":
        spans_per_text = check_spans(texts, spans_per_text)
        words, tags = training_tokens(texts, spans_per_text)
        self.gazetteer = Gazetteer.build(words, tags)
        return self

    def predict(self, texts: Sequence[str]) -> list[list[ScoredSpan]]:
        """Spans with the entry's tagged share as the score."""
        if self.gazetteer is None:
            raise ValueError("fit the tagger first")
        check_texts(texts)
        out = []
        for text in texts:
            tokens = tokenize(text)
            found = self.gazetteer.match([text[s:e] for s, e in tokens])
            out.append([(tokens[i][0], tokens[j - 1][1], label, float(share))
                        for i, j, label, share in found if share >= self.min_share])
        return out


# ----------------------------------------------------------------------------- decoding


def _allowed_transitions(tags: Sequence[str]) -> np.ndarray:
    """allowed[a, b]: may tag b follow tag a? I-x only after B-x or I-x."""
    k = len(tags)
    allowed = np.ones((k, k), dtype=bool)
    for b, tag in enumerate(tags):
        if tag.startswith("I-"):
            label = tag[2:]
            for a, prev in enumerate(tags):
                allowed[a, b] = prev in ("B-" + label, "I-" + label)
    return allowed


def _starts_allowed(tags: Sequence[str]) -> np.ndarray:
    return np.array([not t.startswith("I-") for t in tags])


def viterbi(log_proba: np.ndarray, allowed: np.ndarray, start_ok: np.ndarray) -> list[int]:
    """Most probable tag sequence (sum of per-token log probabilities) among valid BIO sequences."""
    n, k = log_proba.shape
    if n == 0:
        return []
    blocked = np.where(allowed, 0.0, -np.inf)
    score = np.where(start_ok, log_proba[0], -np.inf)
    back = np.zeros((n, k), dtype=np.int64)
    for t in range(1, n):
        total = score[:, None] + blocked  # [previous, next]
        back[t] = total.argmax(axis=0)
        score = total[back[t], np.arange(k)] + log_proba[t]
    path = [int(score.argmax())]
    for t in range(n - 1, 0, -1):
        path.append(int(back[t, path[-1]]))
    return path[::-1]


# ----------------------------------------------------------------------------- the tagger


@dataclass
class SpanTagger:
    """fit(texts, spans_per_text) -> predict(texts) -> [[(start, end, label, score)]].

    ``C``: inverse L2 regularisation of the logistic regression; ``min_count``: features seen
    fewer times in training are dropped; ``outside_weight``: the probability of "O" is
    multiplied by it before decoding. Entity tokens are rare, so a plain argmax finds few
    entities; below 1 it trades precision for recall (the defaults were chosen on the WNUT17
    dev split, see bench/ner_backend.py). Scores are unaffected by it.
    """

    C: float = 0.3
    min_count: int = 2
    outside_weight: float = 0.1
    max_iter: int = 300
    tags: list[str] = field(default_factory=list)
    gazetteer: Gazetteer | None = None
    word_counts: Counter = field(default_factory=Counter, repr=False)
    _vocabulary: dict[str, int] = field(default_factory=dict, repr=False)
    _weights: np.ndarray | None = field(default=None, repr=False)  # (features, tags), float32
    _bias: np.ndarray | None = field(default=None, repr=False)

    @property
    def labels(self) -> list[str]:
        """Entity labels the tagger can predict."""
        return sorted({t[2:] for t in self.tags if t != OUTSIDE})

    def fit(self, texts: Sequence[str], spans_per_text: Sequence[Sequence[Span]]) -> "SpanTagger":
        """Learn from texts and their gold spans ``(start, end, label)`` (code-point offsets,
        non-overlapping). Raises ValueError on bad input, naming it."""
        from sklearn.linear_model import LogisticRegression  # noqa: PLC0415 - sklearn loads only when a tagger trains

        spans_per_text = check_spans(texts, spans_per_text)
        if len(texts) == 0:
            raise ValueError("no training texts")
        words, tags = training_tokens(texts, spans_per_text)
        features = [f for feats in training_features(words, tags) for f in feats]
        self.gazetteer = Gazetteer.build(words, tags)
        self.word_counts = lowercase_word_counts(words)

        seen = Counter(f for feats in features for f in feats)
        self._vocabulary = {}
        for feats in features:
            for f in feats:
                if f not in self._vocabulary and seen[f] >= self.min_count:
                    self._vocabulary[f] = len(self._vocabulary)
        x = self._matrix(features)
        flat_tags = [t for ts in tags for t in ts]
        self.tags = sorted(set(flat_tags), key=lambda t: (t != OUTSIDE, t[2:], t[:1]))
        if len(self.tags) == 1:  # nothing but "O" seen: the tagger can only ever say "no entity"
            self._weights, self._bias = None, None
            return self
        y = np.array([self.tags.index(t) for t in flat_tags])
        model = LogisticRegression(C=self.C, max_iter=self.max_iter, tol=1e-4)
        model.fit(x, y)
        coef, bias = model.coef_, model.intercept_
        if len(self.tags) == 2:  # binary: sklearn keeps one row, for the second class
            coef, bias = np.vstack([-coef / 2, coef / 2]), np.array([-bias[0] / 2, bias[0] / 2])
        self._weights = np.ascontiguousarray(coef.T, dtype=np.float32)
        self._bias = bias.astype(np.float32)
        return self

    def _matrix(self, features: list[list[str]]) -> csr_matrix:
        indptr, indices = [0], []
        for feats in features:
            cols = sorted({self._vocabulary[f] for f in feats if f in self._vocabulary})
            indices.extend(cols)
            indptr.append(len(indices))
        data = np.ones(len(indices), dtype=np.float32)
        return csr_matrix((data, np.array(indices, dtype=np.int64), np.array(indptr)), shape=(len(features), len(self._vocabulary)))

    def tag_proba(self, words: Sequence[str]) -> np.ndarray:
        """(tokens, tags) probabilities of one text's tokens, columns in ``tags`` order."""
        if not words:
            return np.zeros((0, len(self.tags)))
        if self._weights is None:
            return np.ones((len(words), 1))
        x = self._matrix(token_features(words, gazetteer_features(self.gazetteer, words), self.word_counts))
        logits = np.asarray(x @ self._weights, dtype=np.float64) + self._bias
        logits -= logits.max(axis=1, keepdims=True)
        proba = np.exp(logits)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, texts: Sequence[str]) -> list[list[ScoredSpan]]:
        """Spans ``(start, end, label, score)`` per text; score in [0, 1] is the lowest
        probability the model gave to any of the span's tags (B- on the first token, I- on
        the others)."""
        if not self.tags:
            raise ValueError("fit the tagger first")
        check_texts(texts)
        allowed, start_ok = _allowed_transitions(self.tags), _starts_allowed(self.tags)
        out: list[list[ScoredSpan]] = []
        for text in texts:
            tokens = tokenize(text)
            words = [text[s:e] for s, e in tokens]
            proba = self.tag_proba(words)
            if self._weights is None or not tokens:
                out.append([])
                continue
            weighted = proba.copy()
            weighted[:, 0] *= self.outside_weight  # column 0 is "O" (tags sort it first)
            path = viterbi(np.log(np.maximum(weighted, 1e-300)), allowed, start_ok)
            spans = []
            for i, j, label in tag_runs([self.tags[k] for k in path]):
                score = min(float(proba[t, path[t]]) for t in range(i, j))
                spans.append((tokens[i][0], tokens[j - 1][1], label, min(max(score, 0.0), 1.0)))
            out.append(spans)
        return out

    def dumps(self) -> bytes:
        """The fitted tagger as pickle bytes."""
        buf = io.BytesIO()
        pickle.dump(self, buf, protocol=pickle.HIGHEST_PROTOCOL)
        return buf.getvalue()

    @staticmethod
    def loads(blob: bytes) -> "SpanTagger":
        """A tagger from ``dumps`` bytes (only ever our own files: pickle runs code)."""
        tagger = pickle.loads(blob)
        if not isinstance(tagger, SpanTagger):
            raise ValueError("not a SpanTagger")
        return tagger


def to_response(spans: Sequence[Sequence[Any]], text: str | None = None, min_score: float = 0.0,
                labels: Sequence[str] | None = None) -> dict[str, Any]:
    """A ``namedentityrecognition`` response (pre-label) from predicted spans: annotations
    ``{"start", "end", "label"}`` (with ``"text"`` when the task text is given), sorted by
    offset; spans scoring below ``min_score`` or whose label is not in ``labels`` are left out.
    Scores are not part of the response (an accepted pre-label must equal the answer)."""
    annotations = []
    for span in sorted(spans, key=lambda s: (s[0], s[1])):
        start, end, label = int(span[0]), int(span[1]), span[2]
        score = float(span[3]) if len(span) > 3 else 1.0
        if score < min_score or (labels is not None and label not in labels):
            continue
        annotation: dict[str, Any] = {"start": start, "end": end, "label": label}
        if text is not None:
            annotation["text"] = text[start:end]
        annotations.append(annotation)
    return {"annotations": annotations, "relationships": []}

"""Consensus of free-text answers: the weighted medoid under a text similarity (token
Jaccard by default, or character n-gram cosine). Weights and merged identical answers follow
:mod:`assay.quality.answer_groups`."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from assay.quality.answer_groups import checked_weights, group_answers

__all__ = ["MedoidResult", "char_ngram_cosine", "text_medoid", "token_jaccard"]


@dataclass
class MedoidResult:
    """``answer``: the chosen text; ``confidence``: its weighted mean similarity to the
    other labelers' answers; ``similarity[i]``: similarity of answer ``i`` to it;
    ``contributors``: the labelers who gave exactly that text."""

    answer: str
    confidence: float
    contributors: list[int]
    similarity: np.ndarray


_TOKEN = re.compile(r"\w+", re.UNICODE)


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.casefold())


def token_jaccard(a: str, b: str) -> float:
    """Jaccard similarity of the sets of case-folded word tokens (two texts without any
    token are identical: 1)."""
    ta, tb = set(_tokens(a)), set(_tokens(b))
    if not ta and not tb:
        return 1.0
    return len(ta & tb) / len(ta | tb)


def char_ngram_cosine(a: str, b: str, n: int = 3) -> float:
    """Cosine similarity of character n-gram counts of the case-folded, whitespace-collapsed
    texts (padded with a space, so short words still yield n-grams)."""

    def grams(t: str) -> Counter:
        t = " " + " ".join(t.casefold().split()) + " "
        return Counter(t[i : i + n] for i in range(max(1, len(t) - n + 1)))

    ga, gb = grams(a), grams(b)
    dot = sum(c * gb[g] for g, c in ga.items())
    na = math.sqrt(sum(c * c for c in ga.values()))
    nb = math.sqrt(sum(c * c for c in gb.values()))
    return min(1.0, dot / (na * nb)) if na and nb else float(na == nb)


_SIMILARITIES: dict[str, Callable[[str, str], float]] = {"jaccard": token_jaccard, "ngram": char_ngram_cosine}


def text_medoid(texts: Sequence[str], weights=None, similarity: str | Callable[[str, str], float] = "jaccard") -> MedoidResult:
    """The answer most similar to all the others (weighted medoid).

    Chosen: argmax over answers ``i`` of ``sum_j w_j sim(i, j) / W`` with ``sim(i, i) = 1``
    — i.e. the minimiser of the weighted distance ``sum_j w_j (1 - sim(i, j))``. For equal
    weights this is exactly "highest mean similarity to the others"; counting the answer's
    own weight makes a skilled labeler's answer win close calls and makes the choice
    invariant to duplicating labelers. Ties: the larger own weight, then the smaller text.
    ``confidence``: the chosen answer's weighted mean similarity to the *other* labelers'
    answers (excluding one labeler who gave it, the heaviest); 1 when there is no other.
    ``similarity``: ``"jaccard"`` (:func:`token_jaccard`), ``"ngram"``
    (:func:`char_ngram_cosine`) or a symmetric callable into [0, 1].
    """
    sim_fn = _SIMILARITIES[similarity] if isinstance(similarity, str) else similarity
    w = checked_weights(weights, len(texts))
    groups = group_answers([str(t) for t in texts], w)
    G, gw, total = len(groups.keys), groups.weight, groups.total
    S = np.eye(G)
    for a in range(G):
        for b in range(a + 1, G):
            S[a, b] = S[b, a] = min(1.0, max(0.0, float(sim_fn(groups.keys[a], groups.keys[b]))))
    score = S @ gw / total
    best = min(range(G), key=lambda g: (-score[g], -gw[g], groups.keys[g]))
    own = float(max(w[groups.members[best]]))
    others = total - own
    confidence = float((S[best] @ gw - own) / others) if others > 1e-12 * total else 1.0
    sim = np.empty(len(texts))
    for g, mem in enumerate(groups.members):
        sim[mem] = S[best, g]
    return MedoidResult(
        answer=groups.keys[best],
        confidence=min(1.0, max(0.0, confidence)),
        contributors=sorted(groups.members[best]),
        similarity=sim,
    )

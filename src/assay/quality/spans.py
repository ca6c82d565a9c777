"""Consensus of named-entity spans ``(start, end, label)`` by token-level weighted voting.

The text is cut into elementary segments at every boundary any labeler used; each segment is
voted on (a labeler who did not mark it votes "O"); a label wins a segment with > 1/2 of the
weight. Adjacent winning segments of the same label are merged into one span when more than
half of the weight of the labelers who gave that label on either side had ONE span covering
both (so two adjacent entities stay separate when the labelers separated them). Weights and
merged identical answers follow :mod:`assay.quality.answer_groups`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from assay.quality.answer_groups import AnswerGroups, checked_weights, group_answers

__all__ = ["SpanResult", "vote_spans"]


@dataclass
class SpanResult:
    """Consensus spans. ``span_confidence[k]`` is the length-weighted mean winning share of
    the segments of ``answer[k]``; ``confidence`` is their mean (or the mean "O" share of
    the text when no span won)."""

    answer: list[tuple[int, int, str]]
    span_confidence: list[float]
    confidence: float
    contributors: list[int]
    boundaries: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, dtype=np.int64))
    segment_labels: list[str | None] = field(repr=False, default_factory=list)  # winner per segment, None = O
    segment_share: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))


def _span_key(answer, text_length: int) -> tuple:
    spans = []
    for span in answer:
        start, end, label = span
        if int(start) != start or int(end) != end:
            raise ValueError(f"span offsets must be integers: {span!r}")
        start, end = int(start), int(end)
        if not 0 <= start <= end <= text_length:
            raise ValueError(f"span {span!r} outside [0, {text_length}] or reversed")
        if start < end:  # empty spans carry no vote
            spans.append((start, end, label))
    return tuple(sorted(set(spans)))


def _segment_bounds(groups: AnswerGroups, text_length: int) -> np.ndarray:
    """``[0, text_length)`` cut at every start and end of every answer."""
    cuts = {0, text_length}
    for key in groups.keys:
        for s, e, _ in key:
            cuts.update((s, e))
    return np.array(sorted(cuts), dtype=np.int64)


def _segment_votes(groups: AnswerGroups, bounds: np.ndarray, label_id: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """``chosen[g, s]``: global id of the span labeler-group g votes with on segment s (-1 =
    O); ``seg_label[g, s]``: that span's label id (-1 = O)."""
    chosen = np.full((len(groups.keys), len(bounds) - 1), -1, dtype=np.int64)
    span_label: list[int] = []
    for g, key in enumerate(groups.keys):
        # Paint longest first so the innermost span is painted last and wins.
        paint = sorted(key, key=lambda sp: sp[2], reverse=True)
        paint.sort(key=lambda sp: (-(sp[1] - sp[0]), -sp[0]))  # stable: equal ones keep label order
        for s, e, lab in paint:
            lo, hi = np.searchsorted(bounds, [s, e])
            chosen[g, lo:hi] = len(span_label)
            span_label.append(label_id[lab])
    span_label_arr = np.array(span_label + [-1], dtype=np.int64)  # index -1 maps to O
    return chosen, span_label_arr[chosen]


def _segment_winners(gw: np.ndarray, seg_label: np.ndarray, n_labels: int, total: float) -> tuple[np.ndarray, np.ndarray]:
    """Winning label id per segment (-1 = O: no label has a strict majority) and the
    winner's weight share (the O share where O won)."""
    n_seg = seg_label.shape[1]
    onehot = seg_label[:, :, None] == np.arange(n_labels)[None, None, :]
    votes = np.einsum("g,gsl->sl", gw, onehot.astype(np.float64))  # (n_seg, n_labels)
    o_votes = gw @ (seg_label == -1).astype(np.float64)
    best = votes.argmax(axis=1) if n_labels else np.zeros(n_seg, dtype=np.int64)
    best_votes = votes[np.arange(n_seg), best] if n_labels else np.zeros(n_seg)
    won = 2.0 * best_votes > total
    winner = np.where(won, best, -1)
    share = np.where(won, best_votes, o_votes) / total
    return winner, share


def _merge_decisions(gw: np.ndarray, chosen: np.ndarray, seg_label: np.ndarray, winner: np.ndarray) -> np.ndarray:
    """At each inner boundary k | k+1 between two segments won by the same label: merge
    when the weight of the labelers with one span across it is a strict majority of the
    weight of those who gave that label on either side."""
    same = (winner[:-1] == winner[1:]) & (winner[:-1] >= 0)
    lab_l = seg_label[:, :-1] == winner[None, :-1]
    lab_r = seg_label[:, 1:] == winner[None, 1:]
    either = gw @ ((lab_l | lab_r) & same[None, :]).astype(np.float64)
    joined = gw @ ((chosen[:, :-1] == chosen[:, 1:]) & lab_l & same[None, :]).astype(np.float64)
    return same & (2.0 * joined > either)


def _output_spans(bounds: np.ndarray, labels: list[str], winner: np.ndarray, share: np.ndarray, merge: np.ndarray):
    """Runs of won segments joined where ``merge`` says so: the spans, each one's
    length-weighted mean share, and which segments lie in an output span."""
    n_seg = len(winner)
    seg_len = np.diff(bounds).astype(np.float64)
    spans: list[tuple[int, int, str]] = []
    span_conf: list[float] = []
    in_span = np.zeros(n_seg, dtype=bool)
    s = 0
    while s < n_seg:
        if winner[s] < 0:
            s += 1
            continue
        e = s
        while e < n_seg - 1 and merge[e]:
            e += 1
        spans.append((int(bounds[s]), int(bounds[e + 1]), labels[winner[s]]))
        span_conf.append(float(np.dot(share[s : e + 1], seg_len[s : e + 1]) / seg_len[s : e + 1].sum()))
        in_span[s : e + 1] = True
        s = e + 1
    return spans, span_conf, in_span


def vote_spans(text_length: int, answers: Sequence[Sequence[tuple[int, int, str]]], weights=None) -> SpanResult:
    """Token-level weighted voting over named-entity spans (code-point offsets, end exclusive).

    Rules:

    * Elementary segments: ``[0, text_length)`` cut at every start/end of every answer.
    * One vote per labeler per segment. If a labeler's own spans overlap (nested entities),
      the innermost (shortest) covering span votes; among equally long ones the earlier
      start, then the smaller label. Duplicate spans within one answer count once.
    * A label wins a segment with > 1/2 of the total weight, else the segment is "O".
    * Adjacent segments that won the same label are merged when the labelers whose vote was
      that label on either segment, weighted, had one span across the boundary in a strict
      majority (a tie keeps them apart).
    * ``contributors``: labelers who voted the winning label on at least one segment of an
      output span; with no output span, the labelers whose answer is empty.
    """
    text_length = int(text_length)
    if text_length < 0:
        raise ValueError("text_length must be >= 0")
    w = checked_weights(weights, len(answers))
    groups = group_answers([_span_key(a, text_length) for a in answers], w)
    gw, total = groups.weight, groups.total

    bounds = _segment_bounds(groups, text_length)
    labels = sorted({lab for key in groups.keys for _, _, lab in key})
    chosen, seg_label = _segment_votes(groups, bounds, {lab: k for k, lab in enumerate(labels)})
    winner, share = _segment_winners(gw, seg_label, len(labels), total)
    merge = _merge_decisions(gw, chosen, seg_label, winner)
    spans, span_conf, in_span = _output_spans(bounds, labels, winner, share, merge)

    if spans:
        confidence = float(np.mean(span_conf))
        agree = ((seg_label == winner[None, :]) & in_span[None, :]).any(axis=1)
        contributors = groups.original(np.flatnonzero(agree))
    else:
        seg_len = np.diff(bounds).astype(np.float64)
        confidence = float(np.dot(share, seg_len) / text_length) if text_length else 1.0
        contributors = groups.original([g for g, key in enumerate(groups.keys) if not key])
    return SpanResult(
        answer=spans,
        span_confidence=span_conf,
        confidence=min(1.0, max(0.0, confidence)),
        contributors=contributors,
        boundaries=bounds,
        segment_labels=[labels[k] if k >= 0 else None for k in winner],
        segment_share=share,
    )

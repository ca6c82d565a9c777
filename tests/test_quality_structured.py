"""Truth inference for non-categorical answers (assay.quality.structured): hand-computed
cases, tie-breaking, weights, and hypothesis properties (labeler order, unanimity,
duplicated labelers, Bradley-Terry order recovery and relabelling)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq, minimize
from scipy.special import expit

from assay.quality.structured import (
    box_iou,
    bradley_terry,
    char_ngram_cosine,
    cluster_boxes,
    cluster_points,
    polygon_to_box,
    ranking_to_comparisons,
    text_medoid,
    token_jaccard,
    vote_spans,
    weighted_median,
)

PROPS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WEIGHT = st.sampled_from([0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0]) | st.floats(0.0, 1.0)


# ----------------------------------------------------------------------------- spans


def test_vote_spans_hand_computed():
    # Cuts {0,4,5,10,15,20}. [0,4): PER x3 (share 1); [4,5): PER by A,B (2/3) -> PER;
    # [10,15): ORG 1/3, LOC 1/3, O 1/3 -> nothing > 1/2 -> O. Merge at 4: labelers with PER on
    # either side A,B,C (3); one span across: A, B (2) > 3/2 -> merged into (0,5).
    # Span confidence = length-weighted share (4*1 + 1*2/3) / 5 = 14/15.
    answers = [
        [(0, 5, "PER"), (10, 15, "ORG")],
        [(0, 5, "PER")],
        [(0, 4, "PER"), (10, 15, "LOC")],
    ]
    r = vote_spans(20, answers)
    assert r.answer == [(0, 5, "PER")]
    assert r.span_confidence == pytest.approx([14 / 15])
    assert r.confidence == pytest.approx(14 / 15)
    assert r.contributors == [0, 1, 2]  # C voted PER on [0,4)
    assert list(r.boundaries) == [0, 4, 5, 10, 15, 20]
    assert r.segment_labels == ["PER", "PER", None, None, None]


def test_vote_spans_adjacent_entities_stay_separate():
    # Two labelers split "New York" | "Times" into two ORG spans, one joins them: joined
    # weight 1 of 3 -> separate. The reverse (2 join, 1 splits) -> one span.
    split, joined = [(0, 8, "ORG"), (9, 14, "ORG")], [(0, 14, "ORG")]
    # Segments [0,8), [8,9), [9,14): the gap [8,9) is ORG only for `joined` (1/3) -> O, so
    # use a text without a gap to test the merge rule itself.
    split, joined = [(0, 8, "ORG"), (8, 14, "ORG")], [(0, 14, "ORG")]
    assert vote_spans(14, [split, split, joined]).answer == [(0, 8, "ORG"), (8, 14, "ORG")]
    assert vote_spans(14, [joined, joined, split]).answer == [(0, 14, "ORG")]
    # Exact tie (1 joins, 1 splits): a strict majority is needed to merge -> separate.
    assert vote_spans(14, [joined, split]).answer == [(0, 8, "ORG"), (8, 14, "ORG")]
    # Weights break the tie.
    assert vote_spans(14, [joined, split], weights=[1.0, 0.5]).answer == [(0, 14, "ORG")]


def test_vote_spans_weights_and_empty_result():
    # Equal weights: PER on [0,5) has 1/3 -> no span; confidence = mean O share over the
    # text = (5 * 2/3 + 5 * 1) / 10 = 5/6; contributors = labelers with an empty answer.
    answers = [[(0, 5, "PER")], [], []]
    r = vote_spans(10, answers)
    assert r.answer == [] and r.confidence == pytest.approx(5 / 6) and r.contributors == [1, 2]
    # Weights 1, .4, .4: PER share 1 / 1.8 = 0.5556 > 1/2 -> kept.
    r = vote_spans(10, answers, weights=[1.0, 0.4, 0.4])
    assert r.answer == [(0, 5, "PER")] and r.confidence == pytest.approx(1 / 1.8) and r.contributors == [0]
    # A share of exactly 1/2 is not a majority.
    assert vote_spans(10, [[(0, 5, "PER")], []]).answer == []
    # All-zero weights fall back to equal weights.
    assert vote_spans(10, answers, weights=[0, 0, 0]).answer == []


def test_vote_spans_nested_and_validation():
    # One labeler with nested spans: the innermost span votes on [0,3) -> PER, ORG elsewhere.
    r = vote_spans(10, [[(0, 10, "ORG"), (0, 3, "PER")]])
    assert r.answer == [(0, 3, "PER"), (3, 10, "ORG")] and r.confidence == 1.0
    # Same extent, two labels in one answer: the smaller label votes.
    assert vote_spans(5, [[(0, 5, "B"), (0, 5, "A")]]).answer == [(0, 5, "A")]
    assert vote_spans(0, [[], []]).confidence == 1.0
    with pytest.raises(ValueError):
        vote_spans(5, [[(3, 9, "X")]])
    with pytest.raises(ValueError):
        vote_spans(5, [])
    with pytest.raises(ValueError):
        vote_spans(5, [[]], weights=[-1.0])


# ----------------------------------------------------------------------------- boxes & points


def test_box_iou():
    # 10x10 at origin vs the same shifted by 5 in x: overlap 5*10=50, union 150 -> 1/3.
    iou = box_iou([[0, 0, 10, 10]], [[5, 0, 10, 10], [20, 20, 1, 1], [0, 0, 10, 10]])
    assert iou[0] == pytest.approx([1 / 3, 0.0, 1.0])
    assert box_iou([[1, 1, 0, 0]], [[1, 1, 0, 0], [2, 2, 0, 0]])[0].tolist() == [1.0, 0.0]
    assert polygon_to_box([(1, 2), (4, 0), (3, 5)], "roof") == (1.0, 0.0, 3.0, 5.0, "roof")


def test_cluster_boxes_hand_computed():
    # A and B (identical, merged: weight 2) seed the cluster; C's box (0,0,10,20) has IoU
    # 100/200 = 0.5 >= 0.5 with it and joins. Centre = (2*(0,0,10,10) + (0,0,10,20)) / 3 =
    # (0,0,10,40/3). IoU to it: A,B 100/133.3 = 0.75, C 133.3/200 = 2/3; weighted mean
    # (2*0.75 + 2/3)/3 = 13/18. Support 3/3 -> confidence 13/18. Label car 2 : truck 1.
    answers = [[(0, 0, 10, 10, "car")], [(0, 0, 10, 10, "car")], [(0, 0, 10, 20, "truck")]]
    r = cluster_boxes(answers)
    (shape,) = r.shapes
    assert shape.value[:4] == pytest.approx((0, 0, 10, 40 / 3)) and shape.value[4] == "car"
    assert shape.similarity == pytest.approx(13 / 18) and shape.support == 1.0
    assert shape.label_share == pytest.approx(2 / 3)
    assert r.confidence == pytest.approx(13 / 18) and r.contributors == [0, 1, 2]
    # A stricter threshold splits C off; its cluster (1/3 of the weight) is dropped and the
    # car cluster has support 2/3 and IoU 1.
    r = cluster_boxes(answers, iou_threshold=0.6)
    assert r.answer == [(0.0, 0.0, 10.0, 10.0, "car")] and r.confidence == pytest.approx(2 / 3)
    assert r.contributors == [0, 1]


def test_cluster_boxes_one_box_per_labeler_and_weights():
    # Labeler 0 draws two nearly identical boxes; only one may join labeler 1's cluster, the
    # other forms a cluster with 1/2 of the weight, which is not a majority.
    r = cluster_boxes([[(0, 0, 10, 10, "a"), (1, 0, 10, 10, "a")], [(0, 0, 10, 10, "a")]])
    assert r.answer == [(0.0, 0.0, 10.0, 10.0, "a")]
    assert r.shapes[0].members == [0, 1]
    # A box drawn by one labeler of three: dropped with equal weights (confidence = share of
    # labelers who drew nothing, 2/3), kept when that labeler is much more skilled.
    answers = [[(5, 5, 4, 4, "x")], [], []]
    r = cluster_boxes(answers)
    assert r.answer == [] and r.confidence == pytest.approx(2 / 3) and r.contributors == [1, 2]
    r = cluster_boxes(answers, weights=[1.0, 0.3, 0.3])
    assert r.answer == [(5.0, 5.0, 4.0, 4.0, "x")] and r.confidence == pytest.approx(1 / 1.6)
    # Label tie (same box, car vs bus): the smaller label wins; weights change it.
    tie = [[(0, 0, 4, 4, "car")], [(0, 0, 4, 4, "bus")]]
    assert cluster_boxes(tie).answer[0][4] == "bus"
    assert cluster_boxes(tie, weights=[1.0, 0.9]).answer[0][4] == "car"
    # Weighted mean coordinates: weights 3:1 -> left = (3*0 + 1*2)/4 = 0.5.
    r = cluster_boxes([[(0, 0, 10, 10, "a")], [(2, 0, 10, 10, "a")]], weights=[0.75, 0.25])
    assert r.answer[0][:4] == pytest.approx((0.5, 0.0, 10.0, 10.0))


def test_cluster_points_hand_computed():
    # Eyes at (0,0) and (2,0), a nose at (1,1); radius 10. Same-label matching: the eye
    # cluster has 2/3 of the weight, centre (1,0), distances 1 -> similarity 0.9; confidence
    # 2/3 * 0.9 = 0.6. The nose (1/3) is dropped.
    answers = [[(0, 0, "eye")], [(2, 0, "eye")], [(1, 1, "nose")]]
    r = cluster_points(answers, radius=10)
    assert r.answer == [(1.0, 0.0, "eye")] and r.confidence == pytest.approx(0.6) and r.contributors == [0, 1]
    # Ignoring labels all three join: centre (1, 1/3), label eye (2 of 3).
    r = cluster_points(answers, radius=10, same_label=False)
    assert r.answer[0][:2] == pytest.approx((1.0, 1 / 3)) and r.answer[0][2] == "eye"
    # Out of radius: nothing matches, nothing has a majority.
    assert cluster_points([[(0, 0, "p")], [(50, 0, "p")]], radius=10).answer == []


# ----------------------------------------------------------------------------- numbers


def test_weighted_median_hand_computed():
    # [1, 2, 3, 100], equal weights: half the weight (2 of 4) at or below 2 -> lower median 2.
    r = weighted_median([1, 2, 3, 100])
    assert r.answer == 2.0 and r.confidence == 0.25 and r.contributors == [1]
    assert r.mad == 1.0  # deviations 1, 0, 1, 98 -> lower median 1
    # Tolerance 1: 1, 2, 3 are within -> 3/4.
    r = weighted_median([1, 2, 3, 100], abs_tol=1.0)
    assert r.confidence == 0.75 and r.contributors == [0, 1, 2]
    # Exact ties go to the lower value: [1, 2] equal weights -> 1; weights 1,1,2 on 1,2,3:
    # cumulative 1, 2, 4 -> 2 reaches half (2 of 4) -> 2 (the upper median would be 3).
    assert weighted_median([2, 1]).answer == 1.0
    assert weighted_median([1, 2, 3], weights=[1, 1, 2]).answer == 2.0
    # Weights change the result.
    assert weighted_median([1, 2], weights=[1, 3]).answer == 2.0
    # rel_tol scales with |median|: 100 +- 1% -> 99.5 and 101 count, 103 does not.
    assert weighted_median([99.5, 100, 101, 103]).confidence == 0.75
    with pytest.raises(ValueError):
        weighted_median([1.0, float("nan")])


# ----------------------------------------------------------------------------- text


def test_similarities_hand_computed():
    assert token_jaccard("The cat sat", "the CAT sat down") == pytest.approx(3 / 4)
    assert token_jaccard("", "  ") == 1.0 and token_jaccard("a", "") == 0.0
    # " aa " -> {" a", "aa", "a "}; " a " -> {" a", "a "}: dot 2, norms sqrt 3, sqrt 2.
    assert char_ngram_cosine("aa", "A", n=2) == pytest.approx(2 / math.sqrt(6))
    assert char_ngram_cosine("ab", "ba", n=2) == 0.0 and char_ngram_cosine("x y", "x  y") == 1.0


def test_text_medoid_hand_computed():
    # Jaccard: t0-t1 = 3/4, t0-t2 = t1-t2 = 0. Scores (incl. self): t0 = t1 = (1 + 3/4)/3,
    # t2 = 1/3. Tie t0/t1 -> equal own weight -> the smaller text, t0. Confidence = mean
    # similarity to the others = (3/4 + 0) / 2.
    texts = ["the cat sat", "the cat sat down", "a dog"]
    r = text_medoid(texts)
    assert r.answer == "the cat sat" and r.confidence == pytest.approx(0.375) and r.contributors == [0]
    assert r.similarity.tolist() == pytest.approx([1.0, 0.75, 0.0])
    # Weights 1, 2, 1: t1 = (3/4 + 2)/4 beats t0 = (1 + 3/2)/4; confidence (3/4*1 + 0*1)/2.
    r = text_medoid(texts, weights=[1, 2, 1])
    assert r.answer == "the cat sat down" and r.confidence == pytest.approx(0.375)
    # Repeated answers support each other; one answer alone has confidence 1.
    r = text_medoid(["x", "y", "y"])
    assert r.answer == "y" and r.contributors == [1, 2] and r.confidence == pytest.approx(0.5)
    assert text_medoid(["only"]).confidence == 1.0
    r = text_medoid(["colour", "color", "hue"], similarity="ngram")
    assert r.answer in ("colour", "color") and r.contributors != [2]
    assert text_medoid(["a", "b"], similarity=lambda a, b: 0.0).answer == "a"


# ----------------------------------------------------------------------------- Bradley-Terry


def test_bradley_terry_two_items_hand_computed():
    # Item 0 beats item 1 three times, plain BT, prior 1 (half win, half loss against a
    # virtual item at 0). By symmetry theta_0 = -theta_1 = t, where the gradient vanishes:
    # 3 - 3 sigmoid(2t) + (1/2 - sigmoid(t)) = 0.
    t = brentq(lambda t: 3 - 3 * expit(2 * t) + 0.5 - expit(t), 0, 10)
    r = bradley_terry(2, [(0, 1, 1)] * 3, ties=False)
    assert r.scores == pytest.approx([t, -t], abs=1e-9) and r.ranking == [0, 1] and r.converged
    # Observed information: [[3q + s, -3q], [-3q, 3q + s]] with q = s(2t)(1-s(2t)), s = s(t)(1-s(t));
    # the centred score t = (theta_0 - theta_1)/2 has variance (1/4)(v00 + v11 - 2 v01).
    q, s = expit(2 * t) * (1 - expit(2 * t)), expit(t) * (1 - expit(t))
    cov = np.linalg.inv(np.array([[3 * q + s, -3 * q], [-3 * q, 3 * q + s]]))
    se = math.sqrt((cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]) / 4)
    assert r.se == pytest.approx([se, se], rel=1e-6)
    assert r.ci_low[0] == pytest.approx(t - 1.96 * se, rel=1e-6)
    assert r.contributors == [0, 1, 2] and r.tie_strength == 0.0


def _davidson_log_posterior(x, n, comps, w, prior):
    theta, eta = np.append(x[:n], 0.0), x[n]
    total = 0.0
    games = [(i, j, o, wt) for (i, j, o), wt in zip(comps, w)]
    games += [(i, n, o, prior / 3) for i in range(n) for o in (1.0, 0.0, 0.5)]
    for i, j, o, wt in games:
        logits = np.array([theta[i], theta[j], eta + (theta[i] + theta[j]) / 2])
        k = {1.0: 0, 0.0: 1, 0.5: 2}[o]
        total += wt * (logits[k] - np.logaddexp.reduce(logits))
    return total


def test_bradley_terry_davidson_matches_direct_optimisation():
    rng = np.random.default_rng(3)
    n = 4
    comps = [(int(i), int(j), float(rng.choice([0.0, 0.5, 1.0]))) for i, j in rng.integers(0, n, (30, 2)) if i != j]
    w = rng.uniform(0.2, 1.0, len(comps))
    r = bradley_terry(n, comps, weights=w, ties=True)
    ref = minimize(lambda x: -_davidson_log_posterior(x, n, comps, w, 1.0), np.zeros(n + 1), method="BFGS", options={"gtol": 1e-9})
    theta = ref.x[:n] - ref.x[:n].mean()
    assert r.scores == pytest.approx(theta, abs=1e-5)
    assert r.tie_strength == pytest.approx(math.exp(ref.x[n]), rel=1e-4)
    assert r.log_posterior == pytest.approx(-ref.fun, abs=1e-8)
    # Standard errors: finite-difference Hessian of the same log-posterior, theta block of
    # its inverse, projected onto sum-to-zero.
    h, k = 1e-4, n + 1
    H = np.zeros((k, k))
    f = lambda x: _davidson_log_posterior(x, n, comps, w, 1.0)  # noqa: E731
    x0 = ref.x  # the optimum (uncentred: the virtual item pins theta)
    for a in range(k):
        for b in range(k):
            ea, eb = np.eye(k)[a] * h, np.eye(k)[b] * h
            H[a, b] = -(f(x0 + ea + eb) - f(x0 + ea - eb) - f(x0 - ea + eb) + f(x0 - ea - eb)) / (4 * h * h)
    P = np.eye(n) - 1.0 / n
    se = np.sqrt(np.diag(P @ np.linalg.inv(H)[:n, :n] @ P))
    assert r.se == pytest.approx(se, rel=1e-3)


def test_bradley_terry_ties_weights_and_edges():
    # Only ties: equal scores, nu large (ties are the common outcome); ranking by index.
    r = bradley_terry(3, [(0, 1, 0.5), (1, 2, 0.5), (0, 2, 0.5)] * 5)
    assert r.scores == pytest.approx([0, 0, 0], abs=1e-9) and r.ranking == [0, 1, 2] and r.tie_strength > 1
    # Weights decide between one win each way.
    comps = [(0, 1, 1.0), (0, 1, 0.0)]
    assert bradley_terry(2, comps).ranking == [0, 1]
    assert bradley_terry(2, comps, weights=[1.0, 3.0]).ranking == [1, 0]
    # Undefeated and unplayed items stay finite; the unplayed one sits in the middle.
    r = bradley_terry(3, [(0, 1, 1.0)] * 20)
    assert np.all(np.isfinite(r.scores)) and r.ranking == [0, 2, 1] and r.se[2] > 0
    assert bradley_terry(0, []).ranking == [] and bradley_terry(1, []).scores.tolist() == [0.0]
    with pytest.raises(ValueError):
        bradley_terry(2, [(0, 0, 1.0)])
    with pytest.raises(ValueError):
        bradley_terry(2, [(0, 1, 0.7)])


def test_ranking_to_comparisons():
    comps, w = ranking_to_comparisons([[2, 0, 1], [0, 1]], weights=[0.5, 1.0])
    assert comps == [(2, 0, 1.0), (2, 1, 1.0), (0, 1, 1.0), (0, 1, 1.0)]
    assert w.tolist() == [0.5, 0.5, 0.5, 1.0]
    assert bradley_terry(3, comps, w).ranking == [2, 0, 1]
    with pytest.raises(ValueError):
        ranking_to_comparisons([[1, 1]])


# ----------------------------------------------------------------------------- properties

LABELS = st.sampled_from(["A", "B", "C"])


@st.composite
def span_answers(draw, text_length):
    spans = []
    for _ in range(draw(st.integers(0, 3))):
        s = draw(st.integers(0, text_length))
        e = draw(st.integers(s, text_length))
        spans.append((s, e, draw(LABELS)))
    return spans


@st.composite
def disjoint_spans(draw, text_length):
    cuts = sorted(set(draw(st.lists(st.integers(0, text_length), max_size=6))) | {0, text_length})
    return [(a, b, draw(LABELS)) for a, b in zip(cuts, cuts[1:]) if draw(st.booleans())]


@st.composite
def span_case(draw):
    n = draw(st.integers(0, 25))
    k = draw(st.integers(1, 5))
    return n, [draw(span_answers(n)) for _ in range(k)], draw(st.lists(WEIGHT, min_size=k, max_size=k))


BOX = st.tuples(st.integers(0, 20), st.integers(0, 20), st.integers(1, 15), st.integers(1, 15), LABELS)
POINT = st.tuples(st.integers(0, 30), st.integers(0, 30), LABELS)


@st.composite
def labelers(draw, item):
    k = draw(st.integers(1, 5))
    answers = [draw(item) for _ in range(k)]
    return answers, draw(st.lists(WEIGHT, min_size=k, max_size=k))


def _consolidators():
    return {
        "boxes": (st.lists(BOX, max_size=3), lambda a, w: cluster_boxes(a, w)),
        "points": (st.lists(POINT, max_size=3), lambda a, w: cluster_points(a, w, radius=8)),
        "median": (st.integers(-5, 5).map(float) | st.floats(-1e3, 1e3), lambda a, w: weighted_median(a, w, abs_tol=0.5)),
        "text": (st.sampled_from(["a b", "a b c", "b c", "c", "", "a"]), lambda a, w: text_medoid(a, w)),
    }


@PROPS
@given(case=span_case(), data=st.data())
def test_spans_permutation_and_duplication_invariant(case, data):
    n, answers, w = case
    r = vote_spans(n, answers, w)
    perm = data.draw(st.permutations(range(len(answers))))
    rp = vote_spans(n, [answers[p] for p in perm], [w[p] for p in perm])
    assert (rp.answer, rp.confidence, rp.span_confidence) == (r.answer, r.confidence, r.span_confidence)
    assert sorted(perm[k] for k in rp.contributors) == r.contributors
    rd = vote_spans(n, answers + answers, w + w)
    assert (rd.answer, rd.confidence, rd.span_confidence) == (r.answer, r.confidence, r.span_confidence)
    assert sorted({k % len(answers) for k in rd.contributors}) == r.contributors
    assert 0.0 <= r.confidence <= 1.0


@PROPS
@given(n=st.integers(0, 25).flatmap(lambda n: st.tuples(st.just(n), disjoint_spans(n))), k=st.integers(1, 4), data=st.data())
def test_spans_unanimous_recovered(n, k, data):
    text_length, spans = n
    w = data.draw(st.lists(WEIGHT, min_size=k, max_size=k))
    r = vote_spans(text_length, [list(spans)] * k, w)
    assert r.answer == sorted((s, e, lab) for s, e, lab in spans if s < e)
    assert r.confidence == 1.0 and all(c == 1.0 for c in r.span_confidence)
    assert r.contributors == list(range(k))


@pytest.mark.parametrize("kind", ["boxes", "points", "median", "text"])
def test_other_consolidators_properties(kind):
    item, fn = _consolidators()[kind]

    @PROPS
    @given(case=labelers(item), data=st.data())
    def check(case, data):
        answers, w = case
        r = fn(answers, w)
        assert 0.0 <= r.confidence <= 1.0
        # Permuting labelers (with their weights) changes nothing.
        perm = data.draw(st.permutations(range(len(answers))))
        rp = fn([answers[p] for p in perm], [w[p] for p in perm])
        assert rp.answer == r.answer and rp.confidence == r.confidence
        assert sorted(perm[k] for k in rp.contributors) == r.contributors
        # Duplicating every labeler keeps the consolidated answer and its supporters.
        rd = fn(answers + answers, w + w)
        assert rd.answer == r.answer
        assert sorted({k % len(answers) for k in rd.contributors}) == r.contributors
        if kind != "text":  # the medoid's confidence counts a duplicate as another labeler
            assert rd.confidence == r.confidence
        # Unanimous labelers: their answer back, exactly, with confidence 1.
        ru = fn([answers[0]] * len(answers), w)
        assert ru.confidence == 1.0 and ru.contributors == list(range(len(answers)))
        if kind in ("boxes", "points"):
            expect = sorted(tuple(float(c) for c in s[:-1]) + (s[-1],) for s in answers[0])
            assert ru.answer == expect
        else:
            assert ru.answer == answers[0]

    check()


@st.composite
def bt_case(draw):
    n = draw(st.integers(2, 6))
    true_order = draw(st.permutations(range(n)))  # best first
    reps = draw(st.integers(3, 6))
    return n, true_order, reps


@settings(max_examples=25, deadline=None)
@given(case=bt_case(), ties=st.booleans(), data=st.data())
def test_bradley_terry_recovers_order_and_is_label_invariant(case, ties, data):
    n, order, reps = case
    comps = [(order[a], order[b], 1.0) for a in range(n) for b in range(a + 1, n)] * reps
    r = bradley_terry(n, comps, ties=ties)
    assert r.ranking == list(order) and r.converged
    assert np.all(np.diff(r.scores[order]) < 0) and abs(r.scores.sum()) < 1e-9
    assert np.all(r.ci_low <= r.scores) and np.all(r.scores <= r.ci_high)
    # Relabelling items: scores follow the items.
    relabel = data.draw(st.permutations(range(n)))
    rr = bradley_terry(n, [(relabel[i], relabel[j], o) for i, j, o in comps], ties=ties)
    assert rr.scores[list(relabel)] == pytest.approx(r.scores, abs=1e-8)
    assert rr.se[list(relabel)] == pytest.approx(r.se, rel=1e-6)
    # Permuting the comparisons (with their weights) changes nothing, bit for bit.
    w = data.draw(st.lists(WEIGHT, min_size=len(comps), max_size=len(comps)))
    rw = bradley_terry(n, comps, w, ties=ties)
    perm = data.draw(st.permutations(range(len(comps))))
    rp = bradley_terry(n, [comps[p] for p in perm], [w[p] for p in perm], ties=ties)
    np.testing.assert_array_equal(rp.scores, rw.scores)
    assert rp.ranking == rw.ranking
    # Duplicating every comparison is more evidence for the same order.
    assert bradley_terry(n, comps + comps, ties=ties).ranking == list(order)

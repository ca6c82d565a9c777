"""Truth inference for non-categorical answers (assay.quality.spans, .shapes, .geometry,
.numbers, .text, .ranking, .preference): hand-computed cases, tie-breaking, weights, and
hypothesis properties (labeler order, unanimity, duplicated labelers, Bradley-Terry order
recovery and relabelling, polygon IoU against independent references); and the task-type
aggregators built on them (image geometry, chat rankings and pairwise judgements)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq, minimize
from scipy.special import expit

from assay.quality.geometry import box_iou, ellipse_to_polygon, polygon_area, polygon_iou, polygon_overlap, polygon_to_box
from assay.quality.numbers import weighted_median
from assay.quality.preference import pairwise_preference
from assay.quality.ranking import bradley_terry, ranking_to_comparisons
from assay.quality.shapes import cluster_boxes, cluster_ellipses, cluster_points, cluster_polygons
from assay.quality.spans import vote_spans
from assay.quality.text import char_ngram_cosine, text_medoid, token_jaccard
from assay.tasktypes.registry import get_plugin

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
POLYGON = st.tuples(st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), min_size=3, max_size=5), LABELS)


@st.composite
def labelers(draw, item):
    k = draw(st.integers(1, 5))
    answers = [draw(item) for _ in range(k)]
    return answers, draw(st.lists(WEIGHT, min_size=k, max_size=k))


def _consolidators():
    return {
        "boxes": (st.lists(BOX, max_size=3), lambda a, w: cluster_boxes(a, w)),
        "points": (st.lists(POINT, max_size=3), lambda a, w: cluster_points(a, w, radius=8)),
        "polygons": (st.lists(POLYGON, max_size=3), lambda a, w: cluster_polygons(a, w, iou_threshold=0.3)),
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


@pytest.mark.parametrize("kind", ["boxes", "points", "polygons", "median", "text"])
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
        elif kind == "polygons":
            assert ru.answer == sorted((tuple((float(x), float(y)) for x, y in v), label) for v, label in answers[0])
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


# ----------------------------------------------------------------------------- polygons & ellipses

SQUARE = [(0, 0), (2, 0), (2, 2), (0, 2)]
# The unit square's L: [0,2]^2 without its top-right quarter (area 3), and its 180-degree
# rotation about (1, 1): [0,2]^2 without the bottom-left quarter.
L_SHAPE = [(0, 0), (2, 0), (2, 1), (1, 1), (1, 2), (0, 2)]
L_ROTATED = [(2, 2), (0, 2), (0, 1), (1, 1), (1, 0), (2, 0)]


def test_polygon_iou_hand_computed():
    # Squares [0,2]^2 and [1,3]^2: overlap 1, union 4 + 4 - 1 = 7.
    assert polygon_iou(SQUARE, [(1, 1), (3, 1), (3, 3), (1, 3)]) == pytest.approx(1 / 7)
    assert polygon_area(L_SHAPE) == 3.0 and polygon_overlap(L_SHAPE, SQUARE) == pytest.approx((3.0, 4.0, 3.0))
    assert polygon_iou(L_SHAPE, SQUARE) == pytest.approx(3 / 4)
    # [0.5,1.5]^2 (area 1) loses its top-right quarter [1,1.5]^2 to the L's notch: overlap
    # 0.75, union 3 + 1 - 0.75 = 3.25.
    assert polygon_iou(L_SHAPE, [(0.5, 0.5), (1.5, 0.5), (1.5, 1.5), (0.5, 1.5)]) == pytest.approx(0.75 / 3.25)
    # The notch itself only touches the L: IoU 0.
    assert polygon_iou(L_SHAPE, [(1, 1), (2, 1), (2, 2), (1, 2)]) == 0.0
    # Two concave Ls: the intersection is two separate unit squares (what clipping by a
    # convex polygon, Sutherland-Hodgman, cannot produce): 2 / (3 + 3 - 2).
    assert polygon_overlap(L_SHAPE, L_ROTATED) == pytest.approx((3.0, 3.0, 2.0))
    assert polygon_iou(L_SHAPE, L_ROTATED) == pytest.approx(0.5)
    # Orientation and starting vertex do not matter.
    assert polygon_iou(L_SHAPE[::-1], L_ROTATED[2:] + L_ROTATED[:2]) == pytest.approx(0.5)
    # A self-crossing bow-tie is filled by the even-odd rule: two triangles of area 1 each
    # (the shoelace formula would say 0), half of the square they sit in.
    bow_tie = [(0, 0), (2, 2), (2, 0), (0, 2)]
    assert polygon_overlap(bow_tie, bow_tie) == pytest.approx((2.0, 2.0, 2.0))
    assert polygon_iou(bow_tie, SQUARE) == pytest.approx(0.5)
    # Zero-area polygons: identical -> 1, else 0. Far apart -> 0 without computing.
    line = [(0, 0), (1, 1), (2, 2)]
    assert polygon_iou(line, line) == 1.0 and polygon_iou(line, [(0, 0), (1, 1), (3, 3)]) == 0.0
    assert polygon_iou(SQUARE, [(10, 10), (11, 10), (11, 11)]) == 0.0
    with pytest.raises(ValueError):
        polygon_iou([(0, 0), (1, 1)], SQUARE)
    with pytest.raises(ValueError):
        polygon_area([(0, 0), (1, float("nan")), (1, 1)])


def _sutherland_hodgman(subject, convex_clip):
    """Reference for convex polygons only: clip `subject` by each edge of `convex_clip`
    (counter-clockwise)."""
    out = [tuple(map(float, p)) for p in subject]
    clip = [tuple(map(float, p)) for p in convex_clip]
    for (ax, ay), (bx, by) in zip(clip, clip[1:] + clip[:1]):
        side = lambda p: (bx - ax) * (p[1] - ay) - (by - ay) * (p[0] - ax)  # noqa: E731
        kept = []
        for p, q in zip(out, out[1:] + out[:1]):
            sp, sq = side(p), side(q)
            if sp >= 0:
                kept.append(p)
            if (sp >= 0) != (sq >= 0):
                t = sp / (sp - sq)
                kept.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
        out = kept
        if not out:
            return 0.0
    return polygon_area(out) if len(out) >= 3 else 0.0


def _convex_hull(points):
    """Andrew's monotone chain, counter-clockwise, without collinear points."""
    pts = sorted(set(points))
    if len(pts) < 3:
        return pts

    def half(seq):
        hull = []
        for p in seq:
            while len(hull) >= 2 and (hull[-1][0] - hull[-2][0]) * (p[1] - hull[-2][1]) - (hull[-1][1] - hull[-2][1]) * (p[0] - hull[-2][0]) <= 0:
                hull.pop()
            hull.append(p)
        return hull

    return half(pts)[:-1] + half(pts[::-1])[:-1]


CONVEX = st.lists(st.tuples(st.integers(-10, 10), st.integers(-10, 10)), min_size=3, max_size=8).map(_convex_hull).filter(lambda h: len(h) >= 3)


@PROPS
@given(a=CONVEX, b=CONVEX)
def test_polygon_overlap_matches_sutherland_hodgman_on_convex_polygons(a, b):
    area_a, area_b, inter = polygon_overlap(a, b)
    assert area_a == pytest.approx(polygon_area(a), abs=1e-9) and area_b == pytest.approx(polygon_area(b), abs=1e-9)
    assert inter == pytest.approx(_sutherland_hodgman(a, b), abs=1e-9)
    assert polygon_iou(a, b) == pytest.approx(polygon_iou(b, a), abs=1e-12)


def _skyline(heights, x0=0, y0=0, down=False, transpose=False):
    """A rectilinear (generally concave) polygon: unit-wide columns of the given heights
    standing on y = y0 (hanging from it when `down`); `transpose` swaps x and y."""
    sign = -1 if down else 1
    pts = [(x0, y0)]
    for i, h in enumerate(heights):
        pts += [(x0 + i, y0 + sign * h), (x0 + i + 1, y0 + sign * h)]
    pts.append((x0 + len(heights), y0))
    return [(y, x) for x, y in pts] if transpose else pts


def _inside(poly, x, y):
    """Even-odd ray casting (reference point-in-polygon)."""
    inside = False
    for (x1, y1), (x2, y2) in zip(poly, poly[1:] + poly[:1]):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


HEIGHTS = st.lists(st.integers(1, 6), min_size=1, max_size=6)


@PROPS
@given(h1=HEIGHTS, h2=HEIGHTS, shift=st.integers(-3, 3), lift=st.integers(0, 7), down=st.booleans(), transpose=st.booleans())
def test_polygon_overlap_counts_unit_cells_of_concave_rectilinear_polygons(h1, h2, shift, lift, down, transpose):
    # Integer rectilinear polygons cover whole unit cells, so counting cell centres inside
    # both (even-odd ray casting) gives the exact intersection area.
    a = _skyline(h1, transpose=transpose)
    b = _skyline(h2, x0=shift, y0=lift, down=down, transpose=transpose)
    cells = [(x + 0.5, y + 0.5) for x in range(-12, 14) for y in range(-12, 14)]
    expect = sum(_inside(a, *c) and _inside(b, *c) for c in cells)
    area_a, area_b, inter = polygon_overlap(a, b)
    assert (area_a, area_b) == pytest.approx((sum(h1), sum(h2)))
    assert inter == pytest.approx(expect, abs=1e-9)


@PROPS
@given(a=CONVEX, dx=st.integers(-5, 5), dy=st.integers(-5, 5), b=CONVEX)
def test_polygon_iou_properties(a, dx, dy, b):
    assert polygon_iou(a, a) == 1.0
    assert 0.0 <= polygon_iou(a, b) <= 1.0
    moved = lambda p: [(x + dx, y + dy) for x, y in p]  # noqa: E731
    assert polygon_iou(moved(a), moved(b)) == pytest.approx(polygon_iou(a, b), abs=1e-9)
    # Axis-aligned rectangles: the same as box_iou.
    (ax, ay), (bx, by) = a[0], b[0]
    ra = [(ax, ay), (ax + 3, ay), (ax + 3, ay + 2), (ax, ay + 2)]
    rb = [(bx, by), (bx + 2, by), (bx + 2, by + 4), (bx, by + 4)]
    assert polygon_iou(ra, rb) == pytest.approx(box_iou([[ax, ay, 3, 2]], [[bx, by, 2, 4]])[0, 0], abs=1e-12)


BIG = [(0, 0), (10, 0), (10, 10), (0, 10)]  # area 100
NARROW = [(1, 0), (10, 0), (10, 10), (1, 10)]  # area 90, IoU with BIG 0.9
FAR = [(50, 50), (60, 50), (55, 60)]


def test_cluster_polygons_three_labelers_one_outlier():
    answers = [[(BIG, "roof")], [(NARROW, "shed")], [(FAR, "roof")]]
    # Equal weights: BIG seeds (canonical order), NARROW joins (IoU 0.9), FAR is alone with
    # 1/3 of the weight and dropped. Medoid scores BIG = 1 + 0.9 = NARROW -> tie -> equal
    # own weight -> the smaller vertex tuple, BIG. Similarity 1.9 / 2; support 2/3.
    # Label 1:1 -> the smaller label.
    r = cluster_polygons(answers)
    (shape,) = r.shapes
    assert shape.value == (tuple((float(x), float(y)) for x, y in BIG), "roof")
    assert shape.similarity == pytest.approx(0.95) and shape.support == pytest.approx(2 / 3)
    assert r.confidence == pytest.approx(0.95 * 2 / 3) and r.contributors == [0, 1] and shape.members == [0, 1]
    # Weights 0.5, 1, 0.4: medoid scores BIG 0.5 + 0.9 = 1.4, NARROW 0.45 + 1 = 1.45 ->
    # NARROW, label shed (1 : 0.5); confidence = support * similarity = 1.45 / 1.9.
    r = cluster_polygons(answers, weights=[0.5, 1.0, 0.4])
    assert r.answer == [(tuple((float(x), float(y)) for x, y in NARROW), "shed")]
    assert r.confidence == pytest.approx(1.45 / 1.9)
    # The outlier's labeler outweighs the other two: only its triangle has a majority.
    r = cluster_polygons(answers, weights=[0.3, 0.3, 1.0])
    assert r.answer == [(tuple((float(x), float(y)) for x, y in FAR), "roof")] and r.confidence == pytest.approx(1 / 1.6)
    assert r.contributors == [2]
    # Two labelers drew the same polygon: they support it together (merged weight 2).
    r = cluster_polygons([[(NARROW, "a")], [(NARROW, "a")], [(BIG, "a")]])
    assert r.answer[0][0] == tuple((float(x), float(y)) for x, y in NARROW)
    assert r.shapes[0].similarity == pytest.approx((2 + 0.9) / 3)
    # Different vertex counts: the medoid is a drawn polygon, not an average. The pentagon
    # is BIG with one extra vertex on an edge (IoU 1 with BIG): scores pentagon = BIG =
    # 1 + 1 + 0.9 > NARROW 2.8; the tie goes to the smaller vertex tuple, the pentagon's.
    pentagon = [(0, 0), (5, 0), (10, 0), (10, 10), (0, 10)]
    assert polygon_iou(pentagon, BIG) == 1.0
    r = cluster_polygons([[(pentagon, "a")], [(BIG, "a")], [(NARROW, "a")]])
    assert r.answer == [(tuple((float(x), float(y)) for x, y in pentagon), "a")] and r.confidence == pytest.approx(2.9 / 3)


def test_cluster_polygons_matching_rules():
    # A labeler's two polygons never join the same cluster; a cluster with exactly half the
    # weight is dropped.
    r = cluster_polygons([[(BIG, "a"), (NARROW, "a")], [(BIG, "a")]])
    assert r.answer == [(tuple((float(x), float(y)) for x, y in BIG), "a")] and r.shapes[0].members == [0, 1]
    # IoU(BIG, shifted) = 50 / 150: they match with threshold 0.3; with 0.5 they are two
    # clusters of half the weight each, and neither is kept.
    shifted = [(5, 0), (15, 0), (15, 10), (5, 10)]
    assert polygon_iou(BIG, shifted) == pytest.approx(1 / 3)
    assert cluster_polygons([[(BIG, "a")], [(shifted, "a")]], iou_threshold=0.3).shapes[0].members == [0, 1]
    assert cluster_polygons([[(BIG, "a")], [(shifted, "a")]], iou_threshold=0.5).answer == []
    # Matching is on the mean IoU with all the members: 10x10 squares at x = 0, 2, 4. The
    # third has IoU 60/140 = 3/7 with the first and 80/120 = 2/3 with the second: mean
    # 0.548 >= 0.5, it joins; not with threshold 0.55. The medoid of the three is the
    # middle square (2/3 + 1 + 2/3 = 7/3 beats 1 + 2/3 + 3/7), similarity 7/9.
    at = lambda x: [(x, 0), (x + 10, 0), (x + 10, 10), (x, 10)]  # noqa: E731
    r = cluster_polygons([[(at(0), "a")], [(at(2), "a")], [(at(4), "a")]])
    assert r.shapes[0].members == [0, 1, 2] and r.answer[0][0] == tuple(map(lambda p: tuple(map(float, p)), at(2)))
    assert r.confidence == pytest.approx(7 / 9)
    assert cluster_polygons([[(at(0), "a")], [(at(2), "a")], [(at(4), "a")]], iou_threshold=0.55).shapes[0].members == [0, 1]
    # same_label keeps differently labelled polygons apart.
    assert cluster_polygons([[(BIG, "a")], [(BIG, "b")]], same_label=True).answer == []
    # Nobody drew anything: empty answer, confidence 1, everyone agrees.
    r = cluster_polygons([[], []])
    assert r.answer == [] and r.confidence == 1.0 and r.contributors == [0, 1]
    with pytest.raises(ValueError):
        cluster_polygons([[([(0, 0), (1, 1)], "a")]])


def _circle(r, cx=0.0, cy=0.0):
    return [(cx + r, cy), (cx, cy + r), (cx - r, cy), (cx, cy - r)]


def test_cluster_ellipses_hand_computed():
    # Concentric circles r 10 and 8: their inscribed 64-gons are similar, so IoU = 64/100.
    assert polygon_iou(ellipse_to_polygon(_circle(10)), ellipse_to_polygon(_circle(8))) == pytest.approx(0.64)
    # The 64-gon has 64 sin(2 pi / 64) / (2 pi) of the ellipse's area and passes through
    # the axis ends.
    ring = ellipse_to_polygon([(20, 0), (0, 5), (-20, 0), (0, -5)])
    assert polygon_area(ring) == pytest.approx(100 * math.pi * 64 * math.sin(2 * math.pi / 64) / (2 * math.pi))
    assert ring[0] == (20.0, 0.0) and ring[16] == pytest.approx((0.0, 5.0))
    # Two circles agree, a third is elsewhere: medoid tie (1 + 0.64 each) -> the smaller
    # vertex tuple, r = 8; similarity 0.82, support 2/3.
    r = cluster_ellipses([[(_circle(10), "o")], [(_circle(8), "o")], [(_circle(5, 100, 100), "o")]])
    assert r.answer == [(tuple(_circle(8.0)), "o")] and r.confidence == pytest.approx(0.82 * 2 / 3) and r.contributors == [0, 1]


# ----------------------------------------------------------------------------- image annotation aggregate

IMAGE = get_plugin("imageannotation")
IMAGE_PARAMS = IMAGE.validate_params({
    "attachment": "https://example.com/house.jpg",
    "geometries": {"box": {"objects_to_annotate": ["car"]}, "polygon": {"objects_to_annotate": ["roof", "shed"]},
                   "point": {"objects_to_annotate": ["door"]}, "ellipse": {"objects_to_annotate": ["window"]},
                   "line": {"objects_to_annotate": ["wire"]}},
})


def _polygon(vertices, label="roof", uuid="p"):
    return {"uuid": uuid, "type": "polygon", "label": label, "vertices": [{"x": x, "y": y} for x, y in vertices]}


def _point(x, y, label="door", uuid="d"):
    return {"uuid": uuid, "type": "point", "label": label, "x": x, "y": y}


def _box(left, top=0, width=10, height=10, label="car", uuid="b", **extra):
    return {"uuid": uuid, "type": "box", "label": label, "left": left, "top": top, "width": width, "height": height, **extra}


def test_image_aggregate_mixes_polygons_points_and_boxes():
    answers = [
        {"annotations": [_polygon(BIG), _point(100, 100), _box(200)]},
        {"annotations": [_polygon(NARROW, "shed"), _point(104, 100)]},
        {"annotations": [_polygon(FAR), _point(102, 106), _box(202)]},
    ]
    agg = IMAGE.aggregate(answers, [0.8, 0.8, 0.8], IMAGE_PARAMS)
    assert agg.method == "geometry_clustering"
    assert agg.response["annotations"] == [
        {"uuid": "box-1", "type": "box", "label": "car", "left": 201.0, "top": 0.0, "width": 10.0, "height": 10.0},
        {"uuid": "polygon-1", "type": "polygon", "label": "roof", "vertices": [{"x": float(x), "y": float(y)} for x, y in BIG]},
        {"uuid": "point-1", "type": "point", "label": "door", "x": 102.0, "y": 102.0},
    ]
    # Per kept shape, support x similarity: box 2/3 x IoU(10x10 at 200 or 202, at 201) =
    # 90/110; polygon 2/3 x 0.95; point 1 x (1 - mean distance to (102, 102) / 10) with
    # distances sqrt 8, sqrt 8, 4. Confidence: their mean; all three labelers contribute.
    box = 2 / 3 * 90 / 110
    point = 1 - (2 * math.sqrt(8) + 4) / 3 / 10
    assert agg.confidence == pytest.approx((box + 2 / 3 * 0.95 + point) / 3)
    assert agg.contributors == [0, 1, 2]


def test_image_aggregate_boxes_only_and_fallbacks():
    # Only boxes: the method keeps its name and the confidence is cluster_boxes' own.
    answers = [{"annotations": [_box(10)]}, {"annotations": [_box(12)]}, {"annotations": []}]
    agg = IMAGE.aggregate(answers, [0.8, 0.8, 0.8], IMAGE_PARAMS)
    expect = cluster_boxes([[(10, 0, 10, 10, "car")], [(12, 0, 10, 10, "car")], []], [0.8, 0.8, 0.8])
    assert agg.method == "box_clustering" and agg.confidence == expect.confidence and agg.contributors == [0, 1]
    # Ellipses are consolidated too (medoid of the drawn ellipses).
    ellipse = {"uuid": "e", "type": "ellipse", "label": "window", "vertices": [{"x": x, "y": y} for x, y in _circle(10, 50, 50)]}
    agg = IMAGE.aggregate([{"annotations": [ellipse]}] * 2, [0.8, 0.8], IMAGE_PARAMS)
    assert agg.response["annotations"][0]["vertices"] == ellipse["vertices"] and agg.confidence == 1.0
    assert agg.method == "geometry_clustering"
    # A minority point only: nothing is kept; the labelers who drew nothing agree.
    agg = IMAGE.aggregate([{"annotations": [_point(1, 1)]}, {"annotations": []}, {"annotations": []}], [0.8, 0.9, 0.7], IMAGE_PARAMS)
    assert agg.response == {"annotations": []} and agg.contributors == [1, 2] and agg.confidence == pytest.approx(1.6 / 2.4)
    # Lines and rotated boxes are not consolidated shape by shape: whole-answer consensus.
    line = {"uuid": "l", "type": "line", "label": "wire", "vertices": [{"x": 0, "y": 0}, {"x": 5, "y": 5}]}
    assert IMAGE.aggregate([{"annotations": [line]}, {"annotations": []}], [0.8, 0.8], IMAGE_PARAMS) is None
    rotatable = IMAGE.validate_params({"attachment": "https://example.com/a.jpg",
                                       "geometries": {"box": {"objects_to_annotate": ["car"], "can_rotate": True}}})
    assert IMAGE.aggregate([{"annotations": [_box(1, rotation=0.3)]}, {"annotations": [_box(1)]}], [0.8, 0.8], rotatable) is None


# ----------------------------------------------------------------------------- pairwise decisions & chat


def _region_probabilities_by_sampling(result, n=400_000):
    """Reference for pairwise_preference: sample (d, eta) from the same Gaussian and count
    which outcome is the most probable under Davidson's model."""
    raw = result.model.raw_covariance
    T = np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 1.0]])
    mean = np.array([result.model.scores[0] - result.model.scores[1], math.log(result.model.tie_strength)])
    z = np.random.default_rng(7).multivariate_normal(mean, T @ raw @ T.T, size=n)
    d, eta = z[:, 0], z[:, 1]
    return {1.0: np.mean((d > 0) & (d / 2 > eta)), 0.0: np.mean((d < 0) & (-d / 2 > eta)), 0.5: np.mean(eta > np.abs(d) / 2)}


def test_pairwise_preference_decisions_and_posteriors():
    r = pairwise_preference([1, 1, 1], [0.8, 0.8, 0.8])
    assert r.answer == 1.0 and r.contributors == [0, 1, 2] and r.confidence == r.probabilities[1.0]
    assert sum(r.probabilities.values()) == pytest.approx(1.0, abs=1e-12)
    ref = _region_probabilities_by_sampling(r)
    assert all(r.probabilities[k] == pytest.approx(ref[k], abs=0.004) for k in ref)
    assert 0.75 < r.confidence < 0.9  # three labelers at 0.8 are not certainty
    # More agreeing judgements: more confident.
    assert pairwise_preference([1] * 6, [0.8] * 6).confidence > r.confidence
    # Mirror image: swapping the sides swaps the probabilities.
    m = pairwise_preference([0, 0, 0], [0.8, 0.8, 0.8])
    assert m.answer == 0.0 and m.probabilities[0.0] == pytest.approx(r.probabilities[1.0], abs=1e-9)
    # Mostly ties: a tie (with its own sampled reference).
    t = pairwise_preference([0.5, 0.5, 1], [0.8, 0.8, 0.8])
    assert t.answer == 0.5 and t.contributors == [0, 1]
    ref = _region_probabilities_by_sampling(t)
    assert all(t.probabilities[k] == pytest.approx(ref[k], abs=0.004) for k in ref)
    # Skill decides a split: the more skilled labeler's side wins.
    assert pairwise_preference([1, 0], [0.6, 0.9]).answer == 0.0
    # Without ties the posterior is P(d > 0): BT's own pair confidence; ties count half.
    p = pairwise_preference([1, 1, 0.5], [0.8, 0.8, 0.8], ties=False)
    assert p.answer == 1.0 and set(p.probabilities) == {1.0, 0.0}
    assert p.confidence == pytest.approx(p.model.pair_confidence[0], abs=1e-12)


CHAT = get_plugin("chat")
CHAT_MESSAGES = [{"role": "user", "content": "Explain IoU."}]


def test_chat_ranking_bradley_terry_details_for_known_rankings():
    params = CHAT.validate_params({"messages": CHAT_MESSAGES, "responses": [{"content": c} for c in "xyz"], "evaluation": "ranking"})
    rankings = [["A", "B", "C"], ["A", "C", "B"], ["B", "A", "C"]]
    agg = CHAT.aggregate([{"ranking": r, "justification": "why"} for r in rankings], [0.8, 0.8, 0.8], params)
    # A beats B 2:1 and C 3:0, B beats C 2:1: symmetric under (A <-> C, score -> -score),
    # so B scores exactly 0 and A = -C with equal intervals.
    assert agg.response == {"ranking": ["A", "B", "C"]} and agg.method == "bradley_terry"
    assert agg.contributors == [0]  # only the first labeler gave exactly this ranking
    a, b, c = agg.details["scores"]
    assert [a["item"], b["item"], c["item"]] == ["A", "B", "C"]
    assert b["score"] == 0.0 and a["score"] == -c["score"] > 0 and a["high"] - a["low"] == pytest.approx(c["high"] - c["low"], abs=2e-4)
    assert all(s["low"] <= s["score"] <= s["high"] for s in agg.details["scores"])
    # The same comparisons written out by hand, each with its labeler's weight.
    comps = [(0, 1, 1), (0, 2, 1), (1, 2, 1), (0, 2, 1), (0, 1, 1), (2, 1, 1), (1, 0, 1), (1, 2, 1), (0, 2, 1)]
    fit = bradley_terry(3, comps, [0.8] * 9)
    assert agg.details["scores"] == fit.score_table(["A", "B", "C"])
    assert a["score"] == round(float(fit.scores[0]), 4) and a["low"] == round(float(fit.ci_low[0]), 4)
    assert agg.confidence == pytest.approx(fit.confidence)
    assert CHAT.validate_response(agg.response, params) == agg.response


def test_chat_pairwise_decision_strength_and_contributors():
    params = CHAT.validate_params({"messages": CHAT_MESSAGES, "responses": [{"content": "4"}, {"content": "5"}], "evaluation": "pairwise"})
    answers = [{"preference": {"winner": "A", "strength": "much better"}, "justification": "right"},
               {"preference": {"winner": "A", "strength": "better"}},
               {"preference": {"winner": "A", "strength": "much better"}},
               {"preference": {"winner": "tie"}}]
    agg = CHAT.aggregate(answers, [0.8] * 4, params)
    # Strength: lower weighted median of (much better, better, much better) = much better;
    # agreeing = the same judgement as consensus_key sees it (winner and strength).
    assert agg.response == {"preference": {"winner": "A", "strength": "much better"}} and agg.contributors == [0, 2]
    ref = pairwise_preference([1, 1, 1, 0.5], [0.8] * 4)
    # the decision's confidence: the one-coin posterior over the three possible choices
    # (A: 3 judges at 0.8, tie: 1) = 0.8³·0.1 / (0.8³·0.1 + 0.1³·0.8 + 0.1³·0.1)
    assert agg.confidence == pytest.approx(0.8**3 * 0.1 / (0.8**3 * 0.1 + 0.1**3 * 0.8 + 0.1**4))
    assert agg.details["outcomes"] == {
        "A": round(ref.probabilities[1.0], 4), "B": round(ref.probabilities[0.0], 4), "tie": round(ref.probabilities[0.5], 4)}
    assert [s["item"] for s in agg.details["scores"]] == ["A", "B"] and agg.method == "one_coin"
    # Ties not allowed: no tie outcome; a 1:1 split goes to the more skilled labeler.
    strict = CHAT.validate_params({"messages": CHAT_MESSAGES, "responses": [{"content": "4"}, {"content": "5"}], "evaluation": "pairwise",
                                   "allow_ties": False, "strength_levels": []})
    agg = CHAT.aggregate([{"preference": {"winner": "A"}}, {"preference": {"winner": "B"}}], [0.7, 0.9], strict)
    assert agg.response == {"preference": {"winner": "B"}} and set(agg.details["outcomes"]) == {"A", "B"} and agg.contributors == [1]
    # Rubric scores are still compared as whole judgements.
    rubric = CHAT.validate_params({"messages": CHAT_MESSAGES, "responses": [{"content": "4"}], "evaluation": "rubric",
                                   "rubric": [{"id": "ok", "title": "Correct"}]})
    assert CHAT.aggregate([{"scores": {"A": {"ok": {"score": 3}}}}] * 2, [0.8, 0.8], rubric) is None

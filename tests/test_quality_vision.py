"""Pure vision quality math: track interpolation, per-frame IoU matching of tracks, COCO
RLE, per-pixel weighted vote, STAPLE, matched-IoU agreement with its bootstrap interval.
Property tests (hypothesis) where a law holds for every input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from assay.quality.masks import rle_decode, rle_encode, staple, weighted_vote
from assay.quality.shape_agreement import matched_iou, matched_iou_agreement
from assay.quality.tracks import interpolate_track, match_tracks

coord = st.floats(-1000, 1000, allow_nan=False)


@given(st.lists(st.integers(0, 99), min_size=1, max_size=6, unique=True), st.data())
@settings(max_examples=60, deadline=None)
def test_interpolation_passes_through_keyframes_and_stays_between_them(frames, data):
    frames = sorted(frames)
    values = np.array([[data.draw(coord) for _ in range(4)] for _ in frames])
    out, visible = interpolate_track(frames, values, 100)
    assert np.allclose(out[frames], values)
    assert not visible[: frames[0]].any() and visible[frames[0]:].all()
    for k in range(len(frames) - 1):
        seg = out[frames[k]: frames[k + 1] + 1]
        lo, hi = np.minimum(values[k], values[k + 1]), np.maximum(values[k], values[k + 1])
        assert np.all(seg >= lo - 1e-9) and np.all(seg <= hi + 1e-9)


def test_interpolation_middle_frame_and_outside():
    out, visible = interpolate_track([0, 10], np.array([[0, 0, 20, 20], [100, 50, 40, 20]]), 15)
    assert out[5].tolist() == [50, 25, 30, 20]
    assert out[14].tolist() == [100, 50, 40, 20]  # held after the last keyframe
    out, visible = interpolate_track([0, 4, 8], np.array([[0, 0, 1, 1], [4, 0, 1, 1], [8, 0, 1, 1]]), 10, outside=[4])
    assert visible.tolist() == [True] * 4 + [False] * 4 + [True] * 2
    assert out[3].tolist() == [0, 0, 1, 1]  # held: the next keyframe hides it, so nothing to move toward
    with pytest.raises(ValueError):
        interpolate_track([3, 2], np.zeros((2, 4)), 10)


def test_tracks_matched_by_mean_per_frame_iou():
    a1 = interpolate_track([0, 9], np.array([[0, 0, 10, 10], [90, 0, 10, 10]]), 10)
    a2 = interpolate_track([0, 9], np.array([[0, 50, 10, 10], [0, 50, 10, 10]]), 10)
    b1 = interpolate_track([0, 9], np.array([[1, 0, 10, 10], [91, 0, 10, 10]]), 10)
    b2 = interpolate_track([0, 9], np.array([[0, 51, 10, 10], [0, 51, 10, 10]]), 10)
    matches = match_tracks([a1, a2], [b2, b1])
    assert [(i, j) for i, j, _ in matches] == [(0, 1), (1, 0)]
    assert matches[0][2] == pytest.approx(90 / 110)
    assert match_tracks([a1], [b2]) == []


@given(arrays(bool, st.tuples(st.integers(1, 12), st.integers(1, 12))))
@settings(max_examples=80, deadline=None)
def test_rle_round_trip(mask):
    rle = rle_encode(mask)
    assert sum(rle["counts"]) == mask.size and rle["size"] == list(mask.shape)
    assert np.array_equal(rle_decode(rle), mask)


def test_rle_matches_coco_order():
    # COCO: column-major, first run counts zeros
    mask = np.array([[1, 0], [1, 1]], dtype=bool)
    assert rle_encode(mask) == {"size": [2, 2], "counts": [0, 2, 1, 1]}


@given(st.lists(arrays(np.int64, (4, 5), elements=st.integers(0, 3)), min_size=1, max_size=5), st.data())
@settings(max_examples=60, deadline=None)
def test_weighted_vote_agrees_with_unanimity_and_scales(masks, data):
    weights = [data.draw(st.floats(0.1, 5)) for _ in masks]
    winner, share = weighted_vote(masks, weights)
    agree = np.all(np.stack(masks) == masks[0], axis=0)
    assert np.array_equal(winner[agree], masks[0][agree])
    assert np.allclose(share[agree], 1)
    w2, s2 = weighted_vote(masks, [3 * w for w in weights])
    assert np.array_equal(winner, w2) and np.allclose(share, s2)
    assert np.all(share >= 1 / 4 - 1e-9)


def test_staple_finds_the_careless_labeler():
    rng = np.random.default_rng(3)
    truth = np.zeros((40, 40), dtype=bool)
    truth[10:30, 5:25] = True
    good = [truth ^ (rng.random(truth.shape) < 0.02) for _ in range(3)]
    careless = truth ^ (rng.random(truth.shape) < 0.3)
    W, p, q = staple(good + [careless])
    assert ((W >= 0.5) == truth).mean() > 0.99
    assert p[3] < min(p[:3]) and q[3] < min(q[:3])


def test_matched_iou_counts_misses_and_the_interval_brackets_the_mean():
    sums, counts = matched_iou([(0, 0, 10, 10, "a"), (50, 50, 10, 10, "a")], [(0, 0, 10, 10, "a")])
    assert sums == {"a": 1.0} and counts == {"a": 2}
    rng = np.random.default_rng(0)
    images = []
    for _ in range(30):
        x, y = rng.uniform(0, 100, 2)
        images.append([[(x, y, 20, 20, "car")], [(x + rng.uniform(0, 4), y, 20, 20, "car")]])
    result = matched_iou_agreement(images, n_bootstrap=300)
    overall = result["overall"]
    assert 0.8 < overall["mean_iou"] < 1 and overall["low"] <= overall["mean_iou"] <= overall["high"]
    assert result["labels"]["car"]["objects"] == 30


def test_tracks_consolidate_by_per_frame_iou():
    from assay.quality.tracks import consolidate_tracks

    def track(label, x0, frames=10, hidden=()):
        boxes, visible = interpolate_track([0, frames - 1], np.array([[x0, 0, 20, 20], [x0 + 90, 0, 20, 20]]), frames)
        visible[list(hidden)] = False
        return label, boxes, visible

    far = ("bus", *interpolate_track([0], np.array([[0, 200, 20, 20]]), 10))
    answers = [[track("car", 0), far], [track("car", 2, hidden=[9])], [track("truck", 1), track("car", 500)]]
    kept = consolidate_tracks(answers, [1, 1, 1])
    assert len(kept) == 1, "the far and lone tracks lack a majority"
    t = kept[0]
    assert t.label == "car" and t.members == [0, 1, 2] and t.support == 1
    assert t.boxes[0].tolist() == [1, 0, 20, 20]
    assert t.visible.all() and t.boxes[9][0] == pytest.approx((90 + 91) / 2)  # frame 9: labeler 1 hid it
    # a labeler with most of the weight decides the label, and keeps their lone track too
    heavy = consolidate_tracks(answers, [1, 1, 5])
    assert sorted((t.label, t.members) for t in heavy) == [("car", [2]), ("truck", [0, 1, 2])]


def test_video_aggregator_uses_track_matching():
    from assay.tasktypes import get_plugin

    plugin = get_plugin("videoannotation")
    params = {"attachments": [f"https://example.com/{i}.jpg" for i in range(3)], "geometries": {"box": {"objects_to_annotate": ["car"]}}}

    def answer(dx):
        return {"annotations": {"frames": [{"annotations": [{"uuid": "a", "type": "box", "label": "car", "left": 10 + 5 * f + dx, "top": 10,
                                                              "width": 20, "height": 20}]} for f in range(3)]}}

    result = plugin.aggregate([answer(0), answer(2)], [1, 1], params)
    assert result.method == "track_matching" and result.contributors == [0, 1]
    assert [f["annotations"][0]["left"] for f in result.response["annotations"]["frames"]] == [11, 16, 21]
    assert plugin.aggregate([answer(0), {"annotations": {"url": "https://example.com/a.json"}}], [1, 1], params) is None

"""The per-pixel mask vote's pure parts: each labeler's own class numbering mapped to the
task's labels, the vote's confidence and each labeler's IoU with it."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from assay.media.consensus import class_mask, mean_iou, vote_masks

CLASSES = {"car": 1, "road": 2}


def test_class_mask_maps_each_labelers_numbering_and_refuses_unknown_labels():
    indexed = np.array([[0, 1], [2, 3]])
    mapping = {"road": {"index": 1, "color": "#00ff00"}, "car": [{"index": 2, "color": "#f00"}, {"index": 3, "color": "#f00"}]}
    assert class_mask(indexed, mapping, CLASSES).tolist() == [[0, 2], [1, 1]]  # both car instances are car
    assert class_mask(indexed, {"tree": {"index": 1}}, CLASSES) is None
    # an index the mapping does not name is unlabeled
    assert class_mask(np.array([[5]]), {"car": {"index": 1}}, CLASSES).tolist() == [[0]]


def test_vote_weights_decide_and_confidence_counts_painted_pixels():
    a = np.array([[1, 1, 0, 0]])
    b = np.array([[1, 2, 2, 0]])
    winner, confidence, ious = vote_masks([a, b], [0.9, 0.6], 3)
    assert winner.tolist() == [[1, 1, 0, 0]]  # the heavier labeler wins each split pixel
    assert confidence == (1.0 + 0.6 + 0.6) / 3  # three pixels painted by anyone
    assert ious == [1.0, (1 / 2 + 0) / 2]
    # nobody painted anything: certain, and everyone agrees
    empty = np.zeros((2, 2), dtype=int)
    assert vote_masks([empty, empty], [1, 1], 3)[1:] == (1.0, [1.0, 1.0])


@settings(max_examples=60, deadline=None)
@given(arrays(np.int64, (6, 7), elements=st.integers(0, 3)), st.integers(1, 4))
def test_identical_masks_are_their_own_consensus(mask, copies):
    winner, confidence, ious = vote_masks([mask] * copies, [1.0] * copies, 4)
    assert (winner == mask).all() and confidence == 1.0 and ious == [1.0] * copies
    assert mean_iou(mask, mask) == 1.0

"""Active-learning strategies (assay.learning.active): hand-computed uncertainty scores,
properties with hypothesis, the diversity of uncertainty_diversity batches and queues, argument
checks; and the TextClassifier paths the active-learning loop uses (vectorizer fitted once,
linear model retrained, pickling, offline sentence embeddings)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import sparse

from assay.learning.active import (
    GRAM_MAX_ROWS,
    PROJECTION_DIMS,
    STRATEGIES,
    _embed_for_clustering,
    entropy,
    least_confidence,
    margin,
    queue_order,
    select_batch,
    uncertainty,
)
from assay.learning.textmodel import TextClassifier, embeddings_available

MEASURES = {"least_confidence": least_confidence, "margin": margin, "entropy": entropy}


def test_strategy_names():
    assert STRATEGIES == ("as_submitted", "random", "least_confidence", "margin", "entropy", "uncertainty_diversity", "badge",
                          "balanced_margin")


def test_hand_computed_uncertainty():
    proba = np.array([[0.5, 0.3, 0.2], [1.0, 0.0, 0.0], [0.2, 0.2, 0.6], [1 / 3, 1 / 3, 1 / 3]])
    np.testing.assert_allclose(least_confidence(proba), [0.5, 0.0, 0.4, 2 / 3])
    np.testing.assert_allclose(margin(proba), [0.8, 0.0, 0.6, 1.0])
    # -(0.5 ln .5 + .3 ln .3 + .2 ln .2) / ln 3 = 1.029653 / 1.098612
    h1 = -(0.5 * math.log(0.5) + 0.3 * math.log(0.3) + 0.2 * math.log(0.2)) / math.log(3)
    h3 = -(0.4 * math.log(0.2) + 0.6 * math.log(0.6)) / math.log(3)
    np.testing.assert_allclose(entropy(proba), [h1, 0.0, h3, 1.0])
    assert h1 == pytest.approx(0.937231, abs=1e-6)


def test_hand_computed_binary_and_single_class():
    proba = np.array([[0.9, 0.1], [0.4, 0.6]])
    np.testing.assert_allclose(least_confidence(proba), [0.1, 0.4])
    np.testing.assert_allclose(margin(proba), [0.2, 0.8])
    np.testing.assert_allclose(entropy(proba), [0.468996, 0.970951], atol=1e-6)
    one_class = np.ones((3, 1))  # what TextClassifier returns after seeing one class
    for measure in MEASURES.values():
        np.testing.assert_array_equal(measure(one_class), [0.0, 0.0, 0.0])
    np.testing.assert_allclose(uncertainty("margin", proba), [0.2, 0.8])


@st.composite
def probability_matrices(draw, min_rows=1, max_rows=30):
    n = draw(st.integers(min_rows, max_rows))
    c = draw(st.integers(2, 6))
    raw = draw(arrays(np.float64, (n, c), elements=st.floats(0.0, 1.0, allow_nan=False)))
    raw[:, 0] += 1e-3  # no all-zero row
    return raw / raw.sum(axis=1, keepdims=True)


@settings(max_examples=60, deadline=None)
@given(probability_matrices())
def test_scores_in_unit_interval_and_at_most_the_uniform_score(proba):
    c = proba.shape[1]
    uniform = np.full((1, c), 1.0 / c)
    for measure in MEASURES.values():
        scores = measure(proba)
        assert scores.shape == (proba.shape[0],)
        assert np.all(scores >= 0.0) and np.all(scores <= 1.0)
        assert np.all(scores <= measure(uniform)[0] + 1e-9)
    assert margin(uniform)[0] == pytest.approx(1.0)
    assert entropy(uniform)[0] == pytest.approx(1.0)
    assert least_confidence(uniform)[0] == pytest.approx(1.0 - 1.0 / c)


@settings(max_examples=60, deadline=None)
@given(probability_matrices(), st.randoms(use_true_random=False))
def test_uncertainty_is_equivariant_under_row_and_class_permutations(proba, rnd):
    rows = list(range(proba.shape[0]))
    cols = list(range(proba.shape[1]))
    rnd.shuffle(rows)
    rnd.shuffle(cols)
    permuted = proba[rows][:, cols]
    for measure in MEASURES.values():
        np.testing.assert_allclose(measure(permuted), measure(proba)[rows], atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 8), st.integers(0, 7))
def test_one_hot_rows_have_zero_uncertainty(c, hot):
    row = np.zeros((1, c))
    row[0, hot % c] = 1.0
    for measure in MEASURES.values():
        assert measure(row)[0] == 0.0


@settings(max_examples=40, deadline=None)
@given(probability_matrices(min_rows=1, max_rows=40), st.data())
def test_select_batch_returns_k_distinct_valid_indices(proba, data):
    n = proba.shape[0]
    k = data.draw(st.integers(0, n))
    strategy = data.draw(st.sampled_from(STRATEGIES))
    features = data.draw(arrays(np.float64, (n, 3), elements=st.floats(-1, 1, allow_nan=False)))
    picked = select_batch(strategy, proba, k, features=features, rng=np.random.default_rng(data.draw(st.integers(0, 99))))
    assert picked.shape == (k,)
    assert len(set(picked.tolist())) == k
    assert np.all((picked >= 0) & (picked < n))
    if strategy in MEASURES and k:
        scores = MEASURES[strategy](proba)
        # the k picked are the k most uncertain: nothing left out scores higher
        left_out = np.setdiff1d(np.arange(n), picked)
        assert left_out.size == 0 or scores[left_out].max() <= scores[picked].min()


@settings(max_examples=40, deadline=None)
@given(probability_matrices(min_rows=1, max_rows=60), st.sampled_from(STRATEGIES), st.integers(1, 12))
def test_queue_order_is_a_permutation(proba, strategy, batch_size):
    n = proba.shape[0]
    features = np.random.default_rng(n).normal(size=(n, 4))
    order = queue_order(strategy, proba, features=features, batch_size=batch_size, rng=np.random.default_rng(1))
    assert sorted(order.tolist()) == list(range(n))
    if strategy == "as_submitted":
        assert order.tolist() == list(range(n))
    if strategy in MEASURES:
        scores = MEASURES[strategy](proba)[order]
        assert np.all(np.diff(scores) <= 1e-12)  # most uncertain first


def test_uncertainty_strategies_put_the_most_uncertain_first():
    proba = np.array([[0.9, 0.1], [0.5, 0.5], [0.7, 0.3], [0.55, 0.45], [1.0, 0.0]])
    for strategy in MEASURES:
        assert select_batch(strategy, proba, 3).tolist() == [1, 3, 2]
        assert queue_order(strategy, proba).tolist() == [1, 3, 2, 0, 4]
    assert select_batch("as_submitted", proba, 2).tolist() == [0, 1]
    a = select_batch("random", proba, 5, rng=np.random.default_rng(7))
    b = select_batch("random", proba, 5, rng=np.random.default_rng(7))
    assert a.tolist() == b.tolist() and sorted(a.tolist()) == [0, 1, 2, 3, 4]


def near_duplicate_pool(n_clusters=10, per_cluster=8, dims=12, seed=0):
    """Tight clusters of near-duplicates; cluster 0 is the most uncertain, cluster 9 the least."""
    rng = np.random.default_rng(seed)
    centres = np.eye(dims)[:n_clusters] * 5.0
    cluster = np.repeat(np.arange(n_clusters), per_cluster)
    features = centres[cluster] + rng.normal(scale=0.01, size=(len(cluster), dims))
    p1 = 0.5 + 0.03 * cluster + rng.uniform(0, 0.005, size=len(cluster))
    proba = np.column_stack([p1, 1.0 - p1])
    return proba, features, cluster


@pytest.mark.parametrize("seed", range(10))
def test_uncertainty_diversity_covers_clusters_that_margin_repeats(seed):
    proba, features, cluster = near_duplicate_pool(seed=seed)
    k = 5
    by_margin = select_batch("margin", proba, k)
    assert set(cluster[by_margin].tolist()) == {0}  # five near-duplicates from the most uncertain cluster
    diverse = select_batch("uncertainty_diversity", proba, k, features=features, rng=np.random.default_rng(seed))
    assert len(set(cluster[diverse].tolist())) == k  # one per cluster
    assert cluster[diverse[0]] == 0  # and still starting with the most uncertain item
    # the same with sparse features (projected by truncated SVD before clustering)
    diverse_sparse = select_batch("uncertainty_diversity", proba, k, features=sparse.csr_matrix(features), rng=np.random.default_rng(seed))
    assert len(set(cluster[diverse_sparse].tolist())) == k


@pytest.mark.parametrize("rows", [200, GRAM_MAX_ROWS + 500])  # the Gram path and the randomized-SVD path
def test_projection_for_clustering_ignores_columns_no_row_uses(rows):
    """Zero columns (a vocabulary's terms absent from the candidates) change nothing: the
    projection of the candidates with 5,000 mostly unused columns is the one without them."""
    rng = np.random.default_rng(7)
    dense = rng.random((rows, 80)) * (rng.random((rows, 80)) < 0.2)
    padded = np.zeros((rows, 5_000))
    padded[:, np.sort(rng.choice(5_000, size=80, replace=False))] = dense
    plain = _embed_for_clustering(sparse.csr_matrix(dense), np.random.default_rng(1))
    wide = _embed_for_clustering(sparse.csr_matrix(padded), np.random.default_rng(1))
    assert plain.shape == wide.shape == (rows, min(PROJECTION_DIMS, 79))
    np.testing.assert_allclose(wide, plain, atol=1e-9)
    assert np.allclose(np.linalg.norm(wide, axis=1), 1.0)


def test_projection_for_clustering_of_rows_without_any_feature():
    x = _embed_for_clustering(sparse.csr_matrix((4, 100)), np.random.default_rng(0))
    assert x.shape == (4, 1) and not x.any()
    assert len(select_batch("uncertainty_diversity", np.full((4, 2), 0.5), 2, features=sparse.csr_matrix((4, 100)))) == 2


@pytest.mark.parametrize("seed", range(5))
def test_uncertainty_diversity_queue_blocks_are_diverse(seed):
    proba, features, cluster = near_duplicate_pool(seed=seed)  # 10 clusters x 8 near-duplicates
    batch_size = 5
    plain = queue_order("margin", proba)
    # margin order walks through one cluster at a time (8 items each: blocks 0-4, 5-9, ... straddle two at most)
    assert [len(set(cluster[plain[i:i + batch_size]].tolist())) for i in range(0, 30, batch_size)] == [1, 2, 1, 2, 2, 1]
    order = queue_order("uncertainty_diversity", proba, features=features, batch_size=batch_size, rng=np.random.default_rng(seed))
    assert sorted(order.tolist()) == list(range(len(cluster)))
    # the first tier (10 x batch_size most uncertain items) holds clusters 0-6: every block of it
    # takes five different clusters
    assert set(cluster[order[:50]].tolist()) == set(range(7))
    assert [len(set(cluster[order[i:i + batch_size]].tolist())) for i in range(0, 30, batch_size)] == [5] * 6
    assert cluster[order[0]] == 0


def test_uncertainty_diversity_queue_cannot_invent_diversity():
    # 20 near-duplicates per cluster: the 50 most uncertain span only clusters 0-2, and the queue
    # does not reach past them for variety (uncertainty comes first)
    proba, features, cluster = near_duplicate_pool(per_cluster=20)
    order = queue_order("uncertainty_diversity", proba, features=features, batch_size=5, rng=np.random.default_rng(0))
    assert set(cluster[order[:50]].tolist()) == {0, 1, 2}
    assert [len(set(cluster[order[i:i + 5]].tolist())) for i in range(0, 30, 5)] == [3] * 6


@pytest.mark.parametrize(
    "call, argument",
    [
        (lambda: select_batch("smallest", np.full((3, 2), 0.5), 1), "strategy"),
        (lambda: queue_order("smallest", np.full((3, 2), 0.5)), "strategy"),
        (lambda: select_batch("margin", np.full((3, 2), 0.5), 4), "k"),
        (lambda: select_batch("margin", np.full((3, 2), 0.5), -1), "k"),
        (lambda: select_batch("margin", np.full((3, 2), 0.5), 1.5), "k"),
        (lambda: select_batch("margin", np.full(3, 0.5), 1), "proba"),
        (lambda: select_batch("margin", np.full((3, 2), 0.7), 1), "proba"),
        (lambda: select_batch("margin", np.array([[1.5, -0.5]]), 1), "proba"),
        (lambda: margin(np.zeros((2, 2, 2))), "proba"),
        (lambda: select_batch("uncertainty_diversity", np.full((3, 2), 0.5), 1), "features"),
        (lambda: select_batch("uncertainty_diversity", np.full((3, 2), 0.5), 1, features=np.zeros((4, 2))), "features"),
        (lambda: queue_order("uncertainty_diversity", np.full((3, 2), 0.5), features=np.zeros(3)), "features"),
        (lambda: queue_order("margin", np.full((3, 2), 0.5), batch_size=0), "batch_size"),
        (lambda: select_batch("random", np.full((3, 2), 0.5), 1, rng=42), "rng"),
        (lambda: uncertainty("variance", np.full((3, 2), 0.5)), "measure"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(call, argument):
    with pytest.raises(ValueError, match=argument):
        call()


TEXTS = ["a great and moving film", "wonderful acting, great story", "loved every minute", "a dull, boring mess",
         "awful script and bad acting", "boring and far too long", "great fun", "bad, dull film"]
LABELS = ["pos", "pos", "pos", "neg", "neg", "neg", "pos", "neg"]


def test_textclassifier_vector_path_matches_fit():
    whole = TextClassifier().fit(TEXTS, LABELS)
    split = TextClassifier()
    x = split.fit_vectorizer(TEXTS)
    split.fit_vectors(x, LABELS)
    probe = ["great acting", "boring film"]
    np.testing.assert_allclose(split.predict_proba(probe), whole.predict_proba(probe))
    np.testing.assert_allclose(split.predict_proba_vectors(split.transform(probe)), whole.predict_proba(probe))
    assert whole.predict(probe) == ["pos", "neg"]
    # vocabulary from every text, model retrained on a labeled subset only
    split.fit_vectors(x[[0, 3, 4, 6]], [LABELS[i] for i in (0, 3, 4, 6)])
    assert split.classes == ["neg", "pos"]
    assert split.predict_proba(probe).shape == (2, 2)


def test_textclassifier_trains_on_used_columns_only_with_the_same_result():
    from sklearn.linear_model import LogisticRegression

    model = TextClassifier(tol=1e-12)
    x = model.fit_vectorizer(TEXTS)
    subset = [0, 3, 6, 7]  # these rows use only part of the vocabulary
    model.fit_vectors(x[subset], [LABELS[i] for i in subset])
    assert model._columns is not None and 0 < len(model._columns) < x.shape[1]
    reference = LogisticRegression(C=model.C, max_iter=1000, tol=1e-10).fit(x[subset], [LABELS[i] for i in subset])
    np.testing.assert_allclose(model.predict_proba_vectors(x), reference.predict_proba(x), atol=1e-3)
    unused = np.setdiff1d(np.arange(x.shape[1]), model._columns)
    np.testing.assert_allclose(reference.coef_[:, unused], 0.0, atol=1e-6)  # why dropping them is exact


def test_textclassifier_warm_start_reaches_the_same_model():
    cold, warm = TextClassifier(tol=1e-9), TextClassifier(tol=1e-9)
    x = cold.fit_vectorizer(TEXTS)
    warm._vectorizer = cold._vectorizer
    warm.fit_vectors(x, LABELS)
    warm.fit_vectors(x[:7], LABELS[:7], warm_start=True)  # one label fewer: near the old optimum
    cold.fit_vectors(x[:7], LABELS[:7])
    np.testing.assert_allclose(warm.predict_proba(TEXTS), cold.predict_proba(TEXTS), atol=2e-3)
    # (fewer steps from a warm start: tests/test_learning_softmax.py, on a problem big enough to count them)
    # other classes than before: the shared class keeps its weights, the new ones start at 0
    warm.fit_vectors(x[:4], ["pos", "b", "c", "neg"], warm_start=True)
    assert warm.classes == ["b", "c", "neg", "pos"]
    assert warm.predict(["great fun"]) == ["pos"]


def test_textclassifier_warm_from_another_vocabulary_matches_by_term():
    old = TextClassifier(tol=1e-9).fit(TEXTS[:6], LABELS[:6])
    cold = TextClassifier(tol=1e-9).fit(TEXTS, LABELS)
    warm = TextClassifier(tol=1e-9).fit(TEXTS, LABELS, warm_from=old)
    np.testing.assert_allclose(warm.predict_proba(TEXTS), cold.predict_proba(TEXTS), atol=2e-3)
    shared = np.intersect1d(old._vectorizer.feature_names(), warm._vectorizer.feature_names())
    assert 0 < len(shared) < len(warm._vectorizer.feature_names())  # the vocabularies differ: names, not positions


def test_textclassifier_pickles_and_handles_one_class():
    model = TextClassifier().fit(TEXTS, LABELS)
    again = TextClassifier.loads(model.dumps())
    np.testing.assert_allclose(again.predict_proba(TEXTS), model.predict_proba(TEXTS))
    single = TextClassifier().fit(["x y", "y z"], ["only", "only"])
    np.testing.assert_array_equal(single.predict_proba(["q"]), [[1.0]])
    assert single.predict(["q"]) == ["only"]


@pytest.mark.skipif(not embeddings_available(), reason="optional extra assay[embeddings] not installed")
def test_sentence_embeddings_load_offline_and_separate_meanings():
    model = TextClassifier(features="embeddings").fit(TEXTS, LABELS)
    vectors = model.transform(["the film was great", "the movie was wonderful", "the invoice is overdue"])
    assert vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similar, unrelated = vectors[0] @ vectors[1], vectors[0] @ vectors[2]
    assert similar > unrelated + 0.2
    assert model.predict(["great fun, loved it", "dull and boring"]) == ["pos", "neg"]
    again = TextClassifier.loads(model.dumps())
    np.testing.assert_allclose(again.predict_proba(TEXTS), model.predict_proba(TEXTS), atol=1e-6)

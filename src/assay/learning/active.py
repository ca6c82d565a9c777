"""Active-learning strategies: which unlabeled items a model should have labeled next.

Everything works on the model's predicted class probabilities ``proba`` (shape (n, C), one row
per unlabeled item, rows summing to 1) and, for the diversity strategy, the items' feature
vectors (a dense array or a scipy sparse matrix with n rows, e.g. TF-IDF or sentence embeddings).

Uncertainty scores all lie in [0, 1], are 0 for a one-hot row and largest for a uniform row:

* ``least_confidence`` = 1 - max p
* ``margin`` = 1 - (p1 - p2), p1 and p2 the two largest probabilities
* ``entropy`` = -sum p log p / log C

Strategies (:data:`STRATEGIES`): ``as_submitted`` (no reordering), ``random``, the three
uncertainty measures (most uncertain first) and ``uncertainty_diversity``: the most uncertain
candidates by margin, clustered in feature space, one item per cluster, so that a batch is not
k near-duplicates that all teach the model the same thing.

Two entry points: :func:`select_batch` picks the next k items; :func:`queue_order` gives a full
priority order of the pool (what the assignment engine stores as a precomputed rank).
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import sparse
from scipy.linalg import eigh

STRATEGIES = ("as_submitted", "random", "least_confidence", "margin", "entropy", "uncertainty_diversity")
UNCERTAINTY_MEASURES = ("least_confidence", "margin", "entropy")

# How many uncertain candidates per batch slot the diversity strategy clusters: enough choice that
# each cluster has a genuinely uncertain member, few enough that every candidate is still uncertain.
CANDIDATES_PER_SLOT = 10
MIN_CANDIDATES = 50
# Dimensions kept when projecting sparse features (TF-IDF) before k-means.
PROJECTION_DIMS = 50
# Up to this many rows, sparse features are projected through their Gram matrix (rows x rows).
GRAM_MAX_ROWS = 3000


def _check_proba(proba) -> np.ndarray:
    p = np.asarray(proba, dtype=float)
    if p.ndim != 2 or p.shape[1] < 1:
        raise ValueError(f"proba must be a 2-D array of shape (n_items, n_classes), got shape {p.shape}")
    if not np.all(np.isfinite(p)) or np.any(p < -1e-9) or np.any(p > 1 + 1e-9):
        raise ValueError("proba must hold probabilities in [0, 1]")
    if p.shape[0] and not np.allclose(p.sum(axis=1), 1.0, atol=1e-6):
        raise ValueError("proba rows must each sum to 1")
    return np.clip(p, 0.0, 1.0)


def _check_rng(rng) -> np.random.Generator:
    if rng is None:
        return np.random.default_rng(0)  # a fixed seed: the same inputs give the same order
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator or None")
    return rng


def least_confidence(proba) -> np.ndarray:
    """1 - max p per row: 0 for a certain prediction, 1 - 1/C for a uniform one."""
    p = _check_proba(proba)
    return np.clip(1.0 - p.max(axis=1), 0.0, 1.0)


def margin(proba) -> np.ndarray:
    """1 - (p1 - p2) per row, p1 ≥ p2 the two largest probabilities (p2 = 0 with one class)."""
    p = _check_proba(proba)
    if p.shape[1] == 1:
        return np.zeros(p.shape[0])
    top2 = -np.partition(-p, 1, axis=1)[:, :2]
    return np.clip(1.0 - (top2[:, 0] - top2[:, 1]), 0.0, 1.0)


def entropy(proba) -> np.ndarray:
    """Shannon entropy per row divided by log C, so a uniform row scores 1 (0 with one class)."""
    p = _check_proba(proba)
    if p.shape[1] == 1:
        return np.zeros(p.shape[0])
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log(p), 0.0)
    return np.clip(-plogp.sum(axis=1) / np.log(p.shape[1]), 0.0, 1.0)


_MEASURES = {"least_confidence": least_confidence, "margin": margin, "entropy": entropy}


def uncertainty(measure: str, proba) -> np.ndarray:
    """The named uncertainty score per row (``least_confidence``, ``margin`` or ``entropy``)."""
    if measure not in _MEASURES:
        raise ValueError(f"measure must be one of {', '.join(UNCERTAINTY_MEASURES)}, got {measure!r}")
    return _MEASURES[measure](proba)


def _most_uncertain_first(scores: np.ndarray) -> np.ndarray:
    # Stable: ties keep submission order, so equal scores never shuffle between runs.
    return np.argsort(-scores, kind="stable")


def _check_features(features, n: int):
    if features is None:
        raise ValueError("features are required for the uncertainty_diversity strategy")
    if not hasattr(features, "shape") or len(features.shape) != 2:
        features = np.asarray(features, dtype=float)
        if features.ndim != 2:
            raise ValueError(f"features must be a 2-D array or sparse matrix with one row per item, got shape {features.shape}")
    if features.shape[0] != n:
        raise ValueError(f"features must have one row per row of proba: {features.shape[0]} rows for {n} items")
    return features


def _embed_for_clustering(features, rng: np.random.Generator) -> np.ndarray:
    """Dense, L2-normalised vectors to cluster: sparse input (TF-IDF) is projected by truncated SVD
    first, because k-means on raw 10^5-dimensional sparse vectors is slow and distances there are
    dominated by rare n-grams."""
    if sparse.issparse(features):
        n_rows, n_cols = features.shape
        dims = min(PROJECTION_DIMS, n_rows - 1, n_cols - 1)
        if dims < 1:
            x = features.toarray()
        elif n_rows <= GRAM_MAX_ROWS:
            # Few rows, many columns (a batch's candidates over a TF-IDF vocabulary): the top
            # eigenvectors of the rows' Gram matrix give the exact SVD projection U·S, far cheaper
            # than randomized SVD, whose QR steps run over every one of the ~10^5 columns.
            gram = (features @ features.T).toarray()
            values, vectors = eigh(gram, subset_by_index=(n_rows - dims, n_rows - 1))
            x = vectors[:, ::-1] * np.sqrt(np.clip(values[::-1], 0.0, None))
        else:
            from sklearn.decomposition import TruncatedSVD  # noqa: PLC0415 - sklearn loads only for large sparse inputs

            svd = TruncatedSVD(n_components=dims, n_iter=3, random_state=int(rng.integers(2**31 - 1)))
            x = svd.fit_transform(features)
    else:
        x = np.asarray(features, dtype=float)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def _cluster(x: np.ndarray, n_clusters: int, rng: np.random.Generator) -> np.ndarray:
    """k-means cluster label per row (MiniBatchKMeans on large inputs)."""
    from sklearn.cluster import KMeans, MiniBatchKMeans  # noqa: PLC0415 - sklearn loads only when a batch is clustered

    n_clusters = min(n_clusters, x.shape[0])
    if n_clusters <= 1:
        return np.zeros(x.shape[0], dtype=int)
    seed = int(rng.integers(2**31 - 1))
    with warnings.catch_warnings():
        # Fewer distinct points than clusters (exact duplicates) only leaves some clusters empty.
        warnings.simplefilter("ignore")
        if x.shape[0] > 10_000:
            model = MiniBatchKMeans(n_clusters=n_clusters, random_state=seed, n_init=3, batch_size=2048)
        else:
            model = KMeans(n_clusters=n_clusters, random_state=seed, n_init=1)
        return model.fit_predict(x)


def _check_strategy(strategy: str) -> None:
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")


def select_batch(strategy: str, proba, k: int, features=None, rng: np.random.Generator | None = None) -> np.ndarray:
    """Indices (rows of ``proba``) of the k items to label next, most wanted first.

    ``proba``: predicted class probabilities of the unlabeled pool, shape (n, C).
    ``features``: the pool's feature vectors (n rows, dense or sparse); required for
    ``uncertainty_diversity``. ``rng``: numpy Generator for ``random`` and the clustering
    (None: a fixed seed). Raises ValueError naming the bad argument.
    """
    _check_strategy(strategy)
    p = _check_proba(proba)
    n = p.shape[0]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise ValueError(f"k must be an integer, got {k!r}")
    if k < 0 or k > n:
        raise ValueError(f"k must be between 0 and the number of items ({n}), got {k}")
    rng = _check_rng(rng)
    if strategy == "uncertainty_diversity":
        features = _check_features(features, n)
    elif features is not None:
        _check_features(features, n)
    if k == 0:
        return np.zeros(0, dtype=int)
    if strategy == "as_submitted":
        return np.arange(k)
    if strategy == "random":
        return rng.choice(n, size=k, replace=False)
    if strategy in _MEASURES:
        return _most_uncertain_first(_MEASURES[strategy](p))[:k]

    scores = margin(p)
    ranked = _most_uncertain_first(scores)
    n_candidates = min(n, max(CANDIDATES_PER_SLOT * k, MIN_CANDIDATES))
    if n_candidates <= k:
        return ranked[:k]
    candidates = ranked[:n_candidates]
    labels = _cluster(_embed_for_clustering(features[candidates], rng), k, rng)
    chosen, seen = [], set()
    for position, cluster in enumerate(labels):  # candidates are most uncertain first
        if cluster not in seen:
            seen.add(cluster)
            chosen.append(position)
    if len(chosen) < k:  # empty clusters (duplicate points): fill with the next most uncertain
        taken = set(chosen)
        chosen += [i for i in range(n_candidates) if i not in taken][: k - len(chosen)]
    picked = candidates[np.array(sorted(chosen))]
    return picked[:k]


def queue_order(strategy: str, proba, features=None, batch_size: int = 20, rng: np.random.Generator | None = None) -> np.ndarray:
    """A full priority order of all n items: a permutation of 0..n-1, position 0 labeled first.

    For ``uncertainty_diversity`` items are taken most uncertain first (margin) in tiers of
    ``10 × batch_size``; each tier is clustered into ``batch_size`` clusters (k-means in feature
    space) and ordered round-robin across them (every cluster's most uncertain item, then every
    cluster's second, ...). So each consecutive block of ``batch_size`` is what :func:`select_batch`
    would pick from that tier — spread over the clusters instead of near-duplicates of one item.
    Cost: one small k-means per tier, linear in n.
    """
    _check_strategy(strategy)
    p = _check_proba(proba)
    n = p.shape[0]
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    rng = _check_rng(rng)
    if strategy == "uncertainty_diversity":
        features = _check_features(features, n)
    elif features is not None:
        _check_features(features, n)
    if strategy == "as_submitted" or n == 0:
        return np.arange(n)
    if strategy == "random":
        return rng.permutation(n)
    if strategy in _MEASURES:
        return _most_uncertain_first(_MEASURES[strategy](p))

    ranked = _most_uncertain_first(margin(p))
    x = _embed_for_clustering(features, rng)  # one projection for the whole pool
    tier_size = CANDIDATES_PER_SLOT * batch_size
    order = []
    for start in range(0, n, tier_size):
        tier = ranked[start:start + tier_size]  # most uncertain first
        clusters = _cluster(x[tier], batch_size, rng)
        round_robin = np.empty(len(tier), dtype=int)  # an item's round = its rank inside its cluster
        seen: dict[int, int] = {}
        for position, cluster in enumerate(clusters.tolist()):
            round_robin[position] = seen.get(cluster, 0)
            seen[cluster] = round_robin[position] + 1
        order.append(tier[np.lexsort((np.arange(len(tier)), round_robin))])
    return np.concatenate(order)

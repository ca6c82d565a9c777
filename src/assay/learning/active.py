"""Active-learning strategies: which unlabeled items a model should have labeled next.

Everything works on the model's predicted class probabilities ``proba`` (shape (n, C), one row
per unlabeled item, rows summing to 1) and, for the diversity strategy, the items' feature
vectors (a dense array or a scipy sparse matrix with n rows, e.g. TF-IDF or sentence embeddings).

Uncertainty scores all lie in [0, 1], are 0 for a one-hot row and largest for a uniform row:

* ``least_confidence`` = 1 - max p
* ``margin`` = 1 - (p1 - p2), p1 and p2 the two largest probabilities
* ``entropy`` = -sum p log p / log C

Strategies (:data:`STRATEGIES`): ``as_submitted`` (no reordering), ``random``, the three
uncertainty measures (most uncertain first), ``uncertainty_diversity``: the most uncertain
candidates by margin, clustered in feature space, one item per cluster, so that a batch is not
k near-duplicates that all teach the model the same thing; ``badge`` (Ash et al. 2020): k-means++
seeding over the items' gradient embeddings (p - onehot(argmax p)) ⊗ x, whose length is the
model's uncertainty times the item's size and whose distances are diversity in the model's own
terms; ``balanced_margin``: the most uncertain items by margin, taken round-robin over the
predicted classes, classes with the fewest labels so far first (with many classes, uncertainty
alone keeps asking about the few classes the model has already half learned).

:func:`cold_start` picks a first batch before any model exists: one item per k-means cluster of
the pool's features, the item nearest each centre.

Two entry points: :func:`select_batch` picks the next k items; :func:`queue_order` gives a full
priority order of the pool (what the assignment engine stores as a precomputed rank).
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import sparse
from scipy.linalg import eigh

STRATEGIES = ("as_submitted", "random", "least_confidence", "margin", "entropy", "uncertainty_diversity", "badge", "balanced_margin")
NEEDS_FEATURES = ("uncertainty_diversity", "badge")
UNCERTAINTY_MEASURES = ("least_confidence", "margin", "entropy")

# How many uncertain candidates per batch slot the diversity strategy clusters: enough choice that
# each cluster has a genuinely uncertain member, few enough that every candidate is still uncertain.
CANDIDATES_PER_SLOT = 10
MIN_CANDIDATES = 50
# Dimensions kept when projecting sparse features (TF-IDF) before k-means.
PROJECTION_DIMS = 50
# Up to this many rows, sparse features are projected through their Gram matrix (rows x rows).
GRAM_MAX_ROWS = 3000
# badge: how many of the most uncertain rows compete for a batch (its cost is batch × this).
BADGE_CANDIDATES = 5000


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
        # Only the columns some row uses: the same decomposition (an all-zero column adds nothing),
        # and the randomized SVD's dense steps run over ~60k columns instead of ~135k (3x less CPU
        # for 6,000 candidates over a 150-class TF-IDF vocabulary).
        features = sparse.csr_matrix(features)
        features = features[:, np.unique(features.indices)]
        n_rows, n_cols = features.shape
        dims = min(PROJECTION_DIMS, n_rows - 1, n_cols - 1)
        if dims < 1:  # one used column or none (k-means needs at least one)
            x = features.toarray() if n_cols else np.zeros((n_rows, 1))
        elif n_rows <= GRAM_MAX_ROWS:
            # Few rows, many columns (a batch's candidates over a TF-IDF vocabulary): the top
            # eigenvectors of the rows' Gram matrix give the exact SVD projection U·S, far cheaper
            # than randomized SVD, whose QR steps run over every used column.
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


def _check_counts(class_counts, n_classes: int) -> np.ndarray:
    if class_counts is None:
        return np.zeros(n_classes)
    counts = np.asarray(class_counts, dtype=float)
    if counts.shape != (n_classes,) or not np.all(np.isfinite(counts)) or np.any(counts < 0):
        raise ValueError(f"class_counts must hold one non-negative count per class ({n_classes})")
    return counts


def badge(proba: np.ndarray, features, k: int, rng: np.random.Generator, max_candidates: int = BADGE_CANDIDATES) -> np.ndarray:
    """k rows by k-means++ seeding over gradient embeddings g_i = (p_i - e_ŷi) ⊗ x_i, the first the
    longest. Distances come from dot products, never the (features × classes)-long vectors:
    |g_i - g_j|^2 = |x_i|^2 |r_i|^2 + |x_j|^2 |r_j|^2 - 2 (x_i·x_j)(r_i·r_j), r = p - e_ŷ. Only the
    ``max_candidates`` most uncertain rows by margin compete (the rest have near-zero embeddings)."""
    n = proba.shape[0]
    pool = _most_uncertain_first(margin(proba))[: min(n, max(max_candidates, k))]
    p = proba[pool]
    r = p.copy()
    r[np.arange(len(pool)), p.argmax(axis=1)] -= 1.0
    x = features[pool]
    x_sq = np.asarray(x.multiply(x).sum(axis=1)).ravel() if sparse.issparse(x) else np.einsum("ij,ij->i", x, x)
    norms = x_sq * np.einsum("ij,ij->i", r, r)
    chosen = [int(np.argmax(norms))]
    nearest = np.full(len(pool), np.inf)
    while len(chosen) < k:
        c = chosen[-1]
        xc = x @ x[c].T
        xc = np.asarray(xc.toarray() if sparse.issparse(xc) else xc).ravel()
        nearest = np.minimum(nearest, np.clip(norms + norms[c] - 2 * xc * (r @ r[c]), 0.0, None))
        nearest[chosen] = 0.0
        total = nearest.sum()
        if total <= 1e-12:  # every candidate sits on a chosen one: fill with the most uncertain left
            rest = np.setdiff1d(np.arange(len(pool)), chosen)
            chosen += rest[: k - len(chosen)].tolist()
            break
        chosen.append(int(rng.choice(len(pool), p=nearest / total)))
    return pool[np.array(chosen[:k], dtype=int)]


def balanced_margin(proba: np.ndarray, k: int, class_counts: np.ndarray) -> np.ndarray:
    """k rows: the most uncertain by margin, dealt round-robin over their predicted class, the
    classes with the fewest labels so far served first in every round."""
    n = proba.shape[0]
    ranked = _most_uncertain_first(margin(proba))[: min(n, max(CANDIDATES_PER_SLOT * k, MIN_CANDIDATES))]
    predicted = proba[ranked].argmax(axis=1)
    rank_in_class = np.empty(len(ranked), dtype=int)
    seen: dict[int, int] = {}
    for i, c in enumerate(predicted.tolist()):
        rank_in_class[i] = seen.get(c, 0)
        seen[c] = rank_in_class[i] + 1
    order = np.lexsort((np.arange(len(ranked)), class_counts[predicted], rank_in_class))
    return ranked[order[:k]]


def cold_start(features, k: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """k distinct rows that cover the pool: k-means on the (projected, normalised) features, then
    the row nearest each centre; rows of empty clusters are filled with random ones."""
    rng = _check_rng(rng)
    n = features.shape[0] if hasattr(features, "shape") else len(features)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0 or k > n:
        raise ValueError(f"k must be an integer between 0 and the number of items ({n}), got {k!r}")
    if k == 0:
        return np.zeros(0, dtype=int)
    x = _embed_for_clustering(_check_features(features, n), rng)
    labels = _cluster(x, k, rng)
    picked = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        centre = x[members].mean(axis=0)
        picked.append(int(members[np.argmin(((x[members] - centre) ** 2).sum(axis=1))]))
    if len(picked) < k:
        rest = np.setdiff1d(np.arange(n), picked)
        picked += rng.choice(rest, size=k - len(picked), replace=False).tolist()
    return np.array(sorted(picked[:k]), dtype=int)


def _check_strategy(strategy: str) -> None:
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")


def select_batch(strategy: str, proba, k: int, features=None, rng: np.random.Generator | None = None,
                 class_counts=None) -> np.ndarray:
    """Indices (rows of ``proba``) of the k items to label next, most wanted first.

    ``proba``: predicted class probabilities of the unlabeled pool, shape (n, C).
    ``features``: the pool's feature vectors (n rows, dense or sparse); required for
    ``uncertainty_diversity`` and ``badge``. ``rng``: numpy Generator for ``random`` and the
    clustering (None: a fixed seed). ``class_counts``: labels so far per column of ``proba``
    (``balanced_margin``; None: none yet). Raises ValueError naming the bad argument.
    """
    _check_strategy(strategy)
    p = _check_proba(proba)
    n = p.shape[0]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise ValueError(f"k must be an integer, got {k!r}")
    if k < 0 or k > n:
        raise ValueError(f"k must be between 0 and the number of items ({n}), got {k}")
    rng = _check_rng(rng)
    if strategy in NEEDS_FEATURES:
        features = _check_features(features, n)
    elif features is not None:
        _check_features(features, n)
    counts = _check_counts(class_counts, p.shape[1])
    if k == 0:
        return np.zeros(0, dtype=int)
    if strategy == "badge":
        return badge(p, features, k, rng)
    if strategy == "balanced_margin":
        return balanced_margin(p, k, counts)
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


def queue_order(strategy: str, proba, features=None, batch_size: int = 20, rng: np.random.Generator | None = None,
                class_counts=None) -> np.ndarray:
    """A full priority order of all n items: a permutation of 0..n-1, position 0 labeled first.

    For ``uncertainty_diversity`` items are taken most uncertain first (margin) in tiers of
    ``10 × batch_size``; each tier is clustered into ``batch_size`` clusters (k-means in feature
    space) and ordered round-robin across them (every cluster's most uncertain item, then every
    cluster's second, ...). So each consecutive block of ``batch_size`` is what :func:`select_batch`
    would pick from that tier — spread over the clusters instead of near-duplicates of one item.
    Cost: one small k-means per tier, linear in n. For ``badge`` and ``balanced_margin`` the first
    ``10 × batch_size`` positions are that many consecutive batches of :func:`select_batch` (the
    queue is recomputed after every retrain, so the head is what gets labeled) and the rest
    follow by margin.
    """
    _check_strategy(strategy)
    p = _check_proba(proba)
    n = p.shape[0]
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    rng = _check_rng(rng)
    if strategy in NEEDS_FEATURES:
        features = _check_features(features, n)
    elif features is not None:
        _check_features(features, n)
    counts = _check_counts(class_counts, p.shape[1])
    if strategy in ("badge", "balanced_margin") and n:
        return _batched_head(strategy, p, features, batch_size, rng, counts)
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


def _batched_head(strategy: str, p: np.ndarray, features, batch_size: int, rng: np.random.Generator, counts: np.ndarray) -> np.ndarray:
    left = np.arange(p.shape[0])
    head = []
    for _ in range(CANDIDATES_PER_SLOT):
        if not len(left):
            break
        k = min(batch_size, len(left))
        rows = features[left] if features is not None else None
        picked = left[select_batch(strategy, p[left], k, features=rows, rng=rng, class_counts=counts)]
        head.append(picked)
        counts = counts + np.bincount(p[picked].argmax(axis=1), minlength=p.shape[1])  # as if labeled as predicted
        left = np.setdiff1d(left, picked)
    tail = left[_most_uncertain_first(margin(p[left]))] if len(left) else np.zeros(0, dtype=int)
    return np.concatenate(head + [tail]).astype(int)

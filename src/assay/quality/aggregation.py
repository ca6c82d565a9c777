"""Categorical truth inference over a sparse list of answers.

Input everywhere: ``task_idx``, ``worker_idx``, ``label_idx`` — equally long integer arrays,
one entry per answer (a worker may answer a task more than once; every answer counts) — and
the sizes ``n_tasks``, ``n_workers``, ``n_classes`` (default: largest index + 1). Tasks
without any answer get the class prior (uniform for the vote-based methods).

Every method returns an :class:`AggregationResult`: the per-task posterior matrix
(``n_tasks x n_classes``, rows sum to 1), the chosen label (argmax; ties go to the class that
is more frequent overall, then to the lower index — deterministic and independent of the
order of tasks and workers), its confidence (the posterior of the chosen label) and a
per-worker accuracy estimate (``worker_skill``); Dawid-Skene and one-coin Dawid-Skene also
return per-worker confusion matrices (``confusion[w, true, given]``) and the class prior,
which :func:`update_posteriors` uses to re-score a few tasks when new answers arrive
without refitting.

Methods:

* :func:`majority_vote` — vote share, smoothed (``(votes + a) / (n + C a)``).
* :func:`weighted_majority_vote` — worker weight = (smoothed) agreement with the current
  weighted-majority answer, iterated until the answers stop changing (like crowd-kit's Wawa).
* :func:`dawid_skene` — full confusion matrix per worker, EM from the majority vote. The
  M-step is a MAP estimate under a Dirichlet prior centred on the *population* confusion
  matrix (all workers pooled), ``prior_strength`` pseudo-answers per row, so workers with
  few answers borrow strength from everyone instead of collapsing to 0/1 rates.
* :func:`one_coin_dawid_skene` — one accuracy per worker, errors spread evenly over the
  other classes; same shrinkage towards the population accuracy.
* :func:`glad` — Whitehill et al. 2009: P(correct) = sigmoid(ability_w * easiness_t),
  EM with a damped per-coordinate Newton M-step (both blocks are concave), Gaussian priors.

Implementation: the answers are turned once into a sparse one-hot matrix
``A[task, worker * C + label]`` (scipy CSR), so the Dawid-Skene E-step is one sparse-dense
product ``A @ log(confusion)`` and the M-step ``posterior.T @ A``; the other methods use
``np.bincount``. No Python loop runs over answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = [
    "METHODS",
    "AggregationResult",
    "LabelData",
    "aggregate",
    "dawid_skene",
    "glad",
    "majority_vote",
    "one_coin_dawid_skene",
    "update_posteriors",
    "weighted_majority_vote",
]

_TINY = 1e-300


@dataclass
class AggregationResult:
    """What an aggregator found. Arrays are indexed by task / worker / class index."""

    method: str
    posteriors: np.ndarray  # (n_tasks, n_classes), rows sum to 1
    labels: np.ndarray  # (n_tasks,) chosen class index
    confidence: np.ndarray  # (n_tasks,) posterior of the chosen class, in [0, 1]
    worker_skill: np.ndarray  # (n_workers,) estimated accuracy in [0, 1]
    n_labels: np.ndarray  # (n_tasks,) answers per task
    confusion: np.ndarray | None = None  # (n_workers, C, C): P(answer = l | truth = k) at [w, k, l]
    class_prior: np.ndarray | None = None  # (C,)
    population_confusion: np.ndarray | None = None  # (C, C): the prior used for unseen workers
    log_joint: np.ndarray | None = None  # (n_tasks, C): log prior + sum of log-likelihoods
    n_iter: int = 0
    converged: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_tasks(self) -> int:
        return self.posteriors.shape[0]

    @property
    def n_classes(self) -> int:
        return self.posteriors.shape[1]


@dataclass
class LabelData:
    """Validated answers plus lazily built index structures (shared between methods)."""

    task: np.ndarray
    worker: np.ndarray
    label: np.ndarray
    n_tasks: int
    n_workers: int
    n_classes: int
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def build(
        cls,
        task_idx: Any,
        worker_idx: Any,
        label_idx: Any,
        n_tasks: int | None = None,
        n_workers: int | None = None,
        n_classes: int | None = None,
    ) -> "LabelData":
        arrays = []
        for name, values in (("task_idx", task_idx), ("worker_idx", worker_idx), ("label_idx", label_idx)):
            arr = np.asarray(values)
            if arr.ndim != 1:
                raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
            if arr.size and not np.issubdtype(arr.dtype, np.integer):
                if np.issubdtype(arr.dtype, np.floating) and np.all(np.mod(arr, 1) == 0):
                    arr = arr.astype(np.int64)
                else:
                    raise ValueError(f"{name} must hold integer indices, got dtype {arr.dtype}")
            arr = arr.astype(np.int64, copy=False)
            if arr.size and arr.min() < 0:
                raise ValueError(f"{name} holds a negative index")
            arrays.append(arr)
        t, w, lab = arrays
        if not (len(t) == len(w) == len(lab)):
            raise ValueError(f"task_idx, worker_idx and label_idx differ in length: {len(t)}, {len(w)}, {len(lab)}")
        sizes = []
        for name, arr, given in (("n_tasks", t, n_tasks), ("n_workers", w, n_workers), ("n_classes", lab, n_classes)):
            need = int(arr.max()) + 1 if arr.size else 0
            size = need if given is None else int(given)
            if size < need:
                raise ValueError(f"{name}={size} but an index {need - 1} occurs")
            sizes.append(size)
        if sizes[2] < 1:
            raise ValueError("n_classes must be at least 1")
        return cls(t, w, lab, sizes[0], sizes[1], sizes[2])

    @property
    def n(self) -> int:
        return len(self.task)

    def cached(self, key: str, make):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    @property
    def task_label(self) -> np.ndarray:
        """task * C + label (flat index into a tasks x classes matrix)."""
        return self.cached("tl", lambda: self.task * self.n_classes + self.label)

    @property
    def votes(self) -> np.ndarray:
        """(n_tasks, C) answer counts."""
        return self.cached(
            "votes",
            lambda: np.bincount(self.task_label, minlength=self.n_tasks * self.n_classes)
            .reshape(self.n_tasks, self.n_classes)
            .astype(np.float64),
        )

    @property
    def n_per_task(self) -> np.ndarray:
        return self.cached("npt", lambda: np.bincount(self.task, minlength=self.n_tasks))

    @property
    def n_per_worker(self) -> np.ndarray:
        return self.cached("npw", lambda: np.bincount(self.worker, minlength=self.n_workers))

    @property
    def class_score(self) -> np.ndarray:
        """Tie-break score per class: more frequent overall first, then lower index."""

        def make():
            freq = np.bincount(self.label, minlength=self.n_classes)
            order = np.lexsort((np.arange(self.n_classes), -freq))  # most frequent, then lowest index
            score = np.empty(self.n_classes)
            score[order] = -np.arange(self.n_classes, dtype=np.float64)
            return score

        return self.cached("class_score", make)

    @property
    def onehot(self) -> sp.csr_matrix:
        """A[task, worker * C + label] = number of such answers (CSR)."""

        def make():
            cols = self.worker * self.n_classes + self.label
            idx_dtype = np.int32 if max(self.n_tasks, self.n_workers * self.n_classes, self.n) < 2**31 - 1 else np.int64
            return sp.csr_matrix(
                (np.ones(self.n), (self.task.astype(idx_dtype), cols.astype(idx_dtype))),
                shape=(self.n_tasks, self.n_workers * self.n_classes),
            )

        return self.cached("onehot", make)


def _as_data(task_idx, worker_idx, label_idx, n_tasks, n_workers, n_classes) -> LabelData:
    if isinstance(task_idx, LabelData):
        return task_idx
    return LabelData.build(task_idx, worker_idx, label_idx, n_tasks, n_workers, n_classes)


def _choose(post: np.ndarray, class_score: np.ndarray, scores: np.ndarray | None = None) -> np.ndarray:
    """Argmax per row of ``scores`` (default ``post``); ties go to the best class_score."""
    s = post if scores is None else scores
    if s.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    is_max = s >= s.max(axis=1, keepdims=True)
    return np.where(is_max, class_score[None, :], -np.inf).argmax(axis=1).astype(np.int64)


def _finish(method: str, data: LabelData, post: np.ndarray, skill: np.ndarray, **kw) -> AggregationResult:
    labels = _choose(post, data.class_score, kw.pop("scores", None))
    kw.setdefault("extra", {})["tie_break"] = data.class_score
    conf = np.clip(post[np.arange(data.n_tasks), labels], 0.0, 1.0) if data.n_tasks else np.zeros(0)
    return AggregationResult(
        method=method,
        posteriors=post,
        labels=labels,
        confidence=conf,
        worker_skill=np.clip(skill, 0.0, 1.0),
        n_labels=data.n_per_task.copy(),
        **kw,
    )


def _normalise_rows(m: np.ndarray) -> np.ndarray:
    s = m.sum(axis=-1, keepdims=True)
    return m / np.where(s > 0, s, 1.0)


def _row_reduce(ufunc, m: np.ndarray) -> np.ndarray:
    """ufunc-reduce each row of a (rows, C) array. For few columns a loop over the columns
    (each step vectorised over all rows) is several times faster than ``reduce(axis=1)``,
    which pays a per-row overhead."""
    if m.ndim != 2 or m.shape[1] > 16 or m.shape[1] == 0:
        return ufunc.reduce(m, axis=1)
    out = m[:, 0].copy()
    for k in range(1, m.shape[1]):
        ufunc(out, m[:, k], out=out)
    return out


def _softmax_rows(logj: np.ndarray) -> tuple[np.ndarray, float]:
    """Row softmax of log-joint scores and the total log-likelihood (sum of row logsumexp)."""
    m = _row_reduce(np.maximum, logj)
    p = logj - m[:, None]
    np.exp(p, out=p)
    s = _row_reduce(np.add, p)
    p /= s[:, None]
    return p, float(m.sum() + np.log(s).sum())


# --------------------------------------------------------------------------- majority vote


def majority_vote(
    task_idx,
    worker_idx=None,
    label_idx=None,
    n_tasks: int | None = None,
    n_workers: int | None = None,
    n_classes: int | None = None,
    *,
    smoothing: float = 0.5,
) -> AggregationResult:
    """Plurality vote. Posterior = smoothed vote share ``(votes + a) / (n + C a)``.

    Worker skill = smoothed agreement with the majority answer, ``(agree + 1) / (n + 2)``.
    """
    data = _as_data(task_idx, worker_idx, label_idx, n_tasks, n_workers, n_classes)
    votes = data.votes
    post = _normalise_rows(votes + smoothing) if smoothing > 0 else _uniform_if_empty(votes)
    labels = _choose(votes, data.class_score)
    agree = np.bincount(data.worker, weights=(labels[data.task] == data.label), minlength=data.n_workers)
    skill = (agree + 1.0) / (data.n_per_worker + 2.0)
    return _finish("majority_vote", data, post, skill, scores=votes)


def _uniform_if_empty(votes: np.ndarray) -> np.ndarray:
    post = _normalise_rows(votes)
    empty = votes.sum(axis=1) == 0
    post[empty] = 1.0 / votes.shape[1]
    return post


def weighted_majority_vote(
    task_idx,
    worker_idx=None,
    label_idx=None,
    n_tasks: int | None = None,
    n_workers: int | None = None,
    n_classes: int | None = None,
    *,
    max_iter: int = 20,
    smoothing: float = 0.5,
) -> AggregationResult:
    """Majority vote where each worker's vote weighs their (smoothed) agreement with the
    current weighted-majority answers; repeated until the answers stop changing.

    Posterior = smoothed weighted vote share (``smoothing`` in units of the mean weight).
    """
    data = _as_data(task_idx, worker_idx, label_idx, n_tasks, n_workers, n_classes)
    C = data.n_classes
    labels = _choose(data.votes, data.class_score)
    weights = np.ones(data.n_workers)
    wvotes = data.votes
    it = 0
    converged = False
    for it in range(1, max_iter + 1):
        agree = np.bincount(data.worker, weights=(labels[data.task] == data.label), minlength=data.n_workers)
        weights = (agree + 1.0) / (data.n_per_worker + 2.0)
        wvotes = np.bincount(data.task_label, weights=weights[data.worker], minlength=data.n_tasks * C).reshape(
            data.n_tasks, C
        )
        new = _choose(wvotes, data.class_score)
        if np.array_equal(new, labels):
            converged = True
            labels = new
            break
        labels = new
    mean_w = float(weights[data.worker].mean()) if data.n else 1.0
    post = _normalise_rows(wvotes + smoothing * mean_w) if smoothing > 0 else _uniform_if_empty(wvotes)
    return _finish("weighted_majority_vote", data, post, weights, scores=wvotes, n_iter=it, converged=converged)


# --------------------------------------------------------------------------- Dawid-Skene


def _class_prior(post: np.ndarray, has_labels: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    counts = post.sum(axis=0) if has_labels.all() else post[has_labels].sum(axis=0)
    return (counts + alpha) / (counts.sum() + alpha * post.shape[1])


def _ds_confusion(counts: np.ndarray, prior_strength: float, smoothing: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """MAP confusion matrices from expected counts[w, k, l] with a Dirichlet prior centred
    on the pooled (population) confusion matrix."""
    pooled = counts.sum(axis=0) + smoothing
    population = _normalise_rows(pooled)
    conf = _normalise_rows(counts + prior_strength * population[None, :, :])
    return conf, population


def _logpi_stack(conf: np.ndarray) -> np.ndarray:
    """(W, K, C) confusion -> (W*C, K) matrix of log P(answer l | truth k) at row w*C+l."""
    W, K, C = conf.shape
    return np.log(np.maximum(conf, _TINY)).transpose(0, 2, 1).reshape(W * C, K)


def _expected_counts(data: LabelData, post: np.ndarray) -> np.ndarray:
    """counts[w, k, l] = sum over answers (w, t, l) of post[t, k]."""
    W, C = data.n_workers, data.n_classes
    # post.T @ A (dense @ sparse, (K, W*C)) is several times faster in scipy than A.T @ post
    m = np.asarray(post.T @ data.onehot)  # [k, w*C + l]
    return m.reshape(C, W, C).transpose(1, 0, 2)


def _init_posteriors(data: LabelData) -> np.ndarray:
    """Majority-vote shares (uniform for unanswered tasks) — the EM starting point."""
    return _uniform_if_empty(data.votes)


def dawid_skene(
    task_idx,
    worker_idx=None,
    label_idx=None,
    n_tasks: int | None = None,
    n_workers: int | None = None,
    n_classes: int | None = None,
    *,
    max_iter: int = 100,
    tol: float = 1e-6,
    prior_strength: float = 1.0,
    class_prior_alpha: float = 1.0,
    init: np.ndarray | None = None,
) -> AggregationResult:
    """Dawid & Skene (1979) with full per-worker confusion matrices, fitted by EM.

    Starts from majority-vote shares. M-step: ``confusion[w, k] ∝ counts[w, k] +
    prior_strength * population[k]`` where ``population`` is the pooled confusion matrix of
    all workers (add-one smoothed), and the class prior is add-``class_prior_alpha``
    smoothed. Stops when the mean log-likelihood per answer changes by less than ``tol``, or
    after ``max_iter`` iterations. The returned posteriors are from an E-step with the
    returned parameters, so :func:`update_posteriors` continues exactly from them.
    """
    data = _as_data(task_idx, worker_idx, label_idx, n_tasks, n_workers, n_classes)
    C = data.n_classes
    has = data.n_per_task > 0
    post = _init_posteriors(data) if init is None else np.asarray(init, dtype=np.float64)
    if post.shape != (data.n_tasks, C):
        raise ValueError(f"init must have shape (n_tasks, n_classes) = {(data.n_tasks, C)}")
    ll_prev = -np.inf
    converged = False
    it = 0
    conf = population = prior = logj = None
    for it in range(1, max_iter + 1):
        counts = _expected_counts(data, post)
        conf, population = _ds_confusion(counts, prior_strength)
        prior = _class_prior(post, has, class_prior_alpha)
        logj = data.onehot @ _logpi_stack(conf)
        logj += np.log(prior)[None, :]
        post, ll = _softmax_rows(logj)
        if abs(ll - ll_prev) <= tol * max(data.n, 1):
            converged = True
            break
        ll_prev = ll
    if conf is None:  # max_iter < 1: parameters from the initial posteriors, one E-step
        counts = _expected_counts(data, post)
        conf, population = _ds_confusion(counts, prior_strength)
        prior = _class_prior(post, has, class_prior_alpha)
        logj = data.onehot @ _logpi_stack(conf) + np.log(prior)[None, :]
        post, ll = _softmax_rows(logj)
    skill = np.einsum("k,wkk->w", prior, conf) if C > 0 else np.zeros(data.n_workers)
    return _finish(
        "dawid_skene",
        data,
        post,
        skill,
        confusion=conf,
        class_prior=prior,
        population_confusion=population,
        log_joint=logj,
        n_iter=it,
        converged=converged,
        extra={"log_likelihood": ll},
    )


def _symmetric_confusion(acc: np.ndarray, C: int) -> np.ndarray:
    """(W,) accuracies -> (W, C, C) confusion with errors spread evenly."""
    off = (1.0 - acc) / max(C - 1, 1)
    conf = np.repeat(off[:, None, None], C, axis=1).repeat(C, axis=2)
    idx = np.arange(C)
    conf[:, idx, idx] = acc[:, None]
    return conf


def one_coin_dawid_skene(
    task_idx,
    worker_idx=None,
    label_idx=None,
    n_tasks: int | None = None,
    n_workers: int | None = None,
    n_classes: int | None = None,
    *,
    max_iter: int = 100,
    tol: float = 1e-6,
    prior_strength: float = 1.0,
    class_prior_alpha: float = 1.0,
    fit_class_prior: bool = False,
) -> AggregationResult:
    """One-coin Dawid-Skene: worker w answers correctly with probability p_w, otherwise
    uniformly one of the other classes. ``p_w = (expected correct + s * p_pop) / (n_w + s)``
    with ``p_pop`` the pooled accuracy. EM from majority vote like :func:`dawid_skene`.

    The class prior stays uniform unless ``fit_class_prior``: with symmetric errors the model
    cannot express "workers over-use class k", so a fitted prior absorbs that bias and drifts
    towards the over-used class (on trec2010_relevance accuracy falls from 0.48 to 0.19,
    which is also what crowd-kit's OneCoinDawidSkene gets)."""
    data = _as_data(task_idx, worker_idx, label_idx, n_tasks, n_workers, n_classes)
    C = data.n_classes
    has = data.n_per_task > 0
    n_w = data.n_per_worker.astype(np.float64)
    post = _init_posteriors(data)
    ll_prev = -np.inf
    converged = False
    it = 0
    tl = data.task_label
    lo_c = np.log(max(C - 1, 1))

    def m_step(post):
        correct = np.bincount(data.worker, weights=post.ravel()[tl], minlength=data.n_workers)
        p_pop = (correct.sum() + 1.0) / (n_w.sum() + 2.0)
        acc = (correct + prior_strength * p_pop) / (n_w + prior_strength)
        if C == 1:
            acc = np.ones_like(acc)
        prior = _class_prior(post, has, class_prior_alpha) if fit_class_prior else np.full(C, 1.0 / C)
        return np.clip(acc, 1e-9, 1 - 1e-9), p_pop, prior

    def e_step(acc, prior):
        lw = np.log1p(-acc) - lo_c  # log P(a given wrong class)
        lp = np.log(acc)
        base = np.bincount(data.task, weights=lw[data.worker], minlength=data.n_tasks)
        delta = np.bincount(tl, weights=(lp - lw)[data.worker], minlength=data.n_tasks * C).reshape(data.n_tasks, C)
        logj = delta + base[:, None] + np.log(prior)[None, :]
        if C == 1:
            logj = np.zeros((data.n_tasks, 1))
        return logj

    acc = p_pop = prior = logj = None
    for it in range(1, max(max_iter, 1) + 1):
        acc, p_pop, prior = m_step(post)
        logj = e_step(acc, prior)
        post, ll = _softmax_rows(logj)
        if abs(ll - ll_prev) <= tol * max(data.n, 1):
            converged = True
            break
        ll_prev = ll
    conf = _symmetric_confusion(acc, C)
    population = _symmetric_confusion(np.array([p_pop]), C)[0]
    return _finish(
        "one_coin_dawid_skene",
        data,
        post,
        acc,
        confusion=conf,
        class_prior=prior,
        population_confusion=population,
        log_joint=logj,
        n_iter=it,
        converged=converged,
        extra={"log_likelihood": ll},
    )


# --------------------------------------------------------------------------- GLAD


def _log_sigmoid(x: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -x)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.exp(_log_sigmoid(x))


def glad(
    task_idx,
    worker_idx=None,
    label_idx=None,
    n_tasks: int | None = None,
    n_workers: int | None = None,
    n_classes: int | None = None,
    *,
    max_iter: int = 100,
    tol: float = 1e-6,
    newton_steps: int = 2,
    ability_prior: tuple[float, float] = (1.0, 1.0),
    easiness_prior: tuple[float, float] = (float(np.e), 1.0),
    class_prior_alpha: float = 1.0,
    fit_class_prior: bool = False,
) -> AggregationResult:
    """GLAD (Whitehill et al., 2009). P(answer correct) = sigmoid(a_w * b_t), a_w real
    (negative = adversarial), b_t > 0 the task's easiness (1 / difficulty); wrong answers are
    spread evenly over the other classes.

    EM from majority vote. M-step: ``newton_steps`` rounds of exact per-coordinate Newton
    updates, alternating the abilities (tasks fixed) and the easiness values (workers
    fixed); each block is a set of independent one-dimensional concave problems, and
    steps are clipped to ±2, so it cannot diverge. Priors: a_w ~ N(1, 1), b_t ~ N(e, 1)
    truncated at 1e-3 (``ability_prior``, ``easiness_prior`` give (mean, variance); e matches
    crowd-kit's start b = exp(1)). The class prior is uniform (as in the paper and crowd-kit)
    unless ``fit_class_prior`` — see :func:`one_coin_dawid_skene` for why.
    All log-sigmoids use ``logaddexp`` (no overflow for any a * b).
    """
    data = _as_data(task_idx, worker_idx, label_idx, n_tasks, n_workers, n_classes)
    C = data.n_classes
    T, W = data.n_tasks, data.n_workers
    t, w, tl = data.task, data.worker, data.task_label
    has = data.n_per_task > 0
    lo_c = np.log(max(C - 1, 1))
    a_mu, a_var = ability_prior
    b_mu, b_var = easiness_prior
    a = np.full(W, float(a_mu))
    b = np.full(T, float(b_mu))
    post = _init_posteriors(data)
    prior = _class_prior(post, has, class_prior_alpha) if fit_class_prior else np.full(C, 1.0 / C)

    def e_step():
        x = a[w] * b[t]
        ls = _log_sigmoid(x)
        lw = _log_sigmoid(-x) - lo_c
        base = np.bincount(t, weights=lw, minlength=T)
        delta = np.bincount(tl, weights=ls - lw, minlength=T * C).reshape(T, C)
        return delta + base[:, None] + np.log(prior)[None, :]

    if C == 1:
        post = np.ones((T, 1))
        return _finish("glad", data, post, np.ones(W), log_joint=np.zeros((T, 1)), class_prior=np.ones(1))

    ll_prev = -np.inf
    converged = False
    it = 0
    ll = 0.0
    logj = None
    for it in range(1, max_iter + 1):
        q = post.ravel()[tl]  # P(answer correct) under the current posterior
        for _ in range(newton_steps):
            bt = b[t]
            x = a[w] * bt
            s = _sigmoid(x)
            g = np.bincount(w, weights=(q - s) * bt, minlength=W) - (a - a_mu) / a_var
            h = np.bincount(w, weights=s * (1.0 - s) * bt * bt, minlength=W) + 1.0 / a_var
            a = a + np.clip(g / h, -2.0, 2.0)
            aw = a[w]
            x = aw * b[t]
            s = _sigmoid(x)
            g = np.bincount(t, weights=(q - s) * aw, minlength=T) - (b - b_mu) / b_var
            h = np.bincount(t, weights=s * (1.0 - s) * aw * aw, minlength=T) + 1.0 / b_var
            b = np.maximum(b + np.clip(g / h, -2.0, 2.0), 1e-3)
        if fit_class_prior:
            prior = _class_prior(post, has, class_prior_alpha)
        logj = e_step()
        post, ll = _softmax_rows(logj)
        if abs(ll - ll_prev) <= tol * max(data.n, 1):
            converged = True
            break
        ll_prev = ll
    if logj is None:
        logj = e_step()
        post, ll = _softmax_rows(logj)
    x = a[w] * b[t]
    n_w = data.n_per_worker
    skill = np.where(
        n_w > 0,
        np.bincount(w, weights=_sigmoid(x), minlength=W) / np.maximum(n_w, 1),
        _sigmoid(a * b_mu),
    )
    return _finish(
        "glad",
        data,
        post,
        skill,
        class_prior=prior,
        log_joint=logj,
        n_iter=it,
        converged=converged,
        extra={"ability": a, "easiness": b, "log_likelihood": ll},
    )


# --------------------------------------------------------------------------- incremental


def update_posteriors(
    result: AggregationResult,
    task_idx,
    worker_idx,
    label_idx,
    *,
    n_tasks: int | None = None,
    inplace: bool = False,
) -> tuple[AggregationResult, np.ndarray]:
    """Fold a few new answers into a previous Dawid-Skene / one-coin fit without refitting.

    The worker confusion matrices and class prior stay as fitted; only the tasks that
    received answers get a new E-step: their stored log-joint scores gain
    ``log confusion[w, :, label]`` per new answer and their posterior, label and confidence
    are recomputed. Workers the fit has not seen use the population confusion matrix; task
    indices beyond the fit (up to ``n_tasks``) start from the class prior. Exactly equal to an
    E-step over all answers with the fitted parameters (tested). Refit periodically — the
    parameters themselves do not learn from the new answers.

    Returns ``(result, affected_task_indices)``; the input result is left untouched unless
    ``inplace`` (then arrays are updated in place where their size allows).
    """
    if result.confusion is None or result.class_prior is None or result.log_joint is None:
        raise ValueError(f"{result.method} has no confusion matrices; incremental updates need dawid_skene or one_coin")
    C = result.n_classes
    t = np.asarray(task_idx, dtype=np.int64)
    w = np.asarray(worker_idx, dtype=np.int64)
    lab = np.asarray(label_idx, dtype=np.int64)
    if not (t.shape == w.shape == lab.shape) or t.ndim != 1:
        raise ValueError("task_idx, worker_idx and label_idx must be equally long 1-d arrays")
    if t.size and (t.min() < 0 or w.min() < 0 or lab.min() < 0 or lab.max() >= C):
        raise ValueError("index out of range")
    old_T = result.n_tasks
    new_T = max(old_T, int(t.max()) + 1 if t.size else 0, n_tasks or 0)
    W_fit = result.confusion.shape[0]

    res = result if inplace else replace(result, extra=dict(result.extra))
    log_prior = np.log(result.class_prior)
    if new_T > old_T:
        grow = new_T - old_T
        res.log_joint = np.vstack([result.log_joint, np.repeat(log_prior[None, :], grow, axis=0)])
        res.posteriors = np.vstack([result.posteriors, np.repeat(result.class_prior[None, :], grow, axis=0)])
        res.labels = np.concatenate([result.labels, np.full(grow, int(np.argmax(result.class_prior)))])
        res.confidence = np.concatenate([result.confidence, np.full(grow, float(result.class_prior.max()))])
        res.n_labels = np.concatenate([result.n_labels, np.zeros(grow, dtype=result.n_labels.dtype)])
    elif not inplace:
        res.log_joint = result.log_joint.copy()
        res.posteriors = result.posteriors.copy()
        res.labels = result.labels.copy()
        res.confidence = result.confidence.copy()
        res.n_labels = result.n_labels.copy()
    if t.size == 0:
        return res, np.zeros(0, dtype=np.int64)

    known = w < W_fit
    rows = np.empty((t.size, C))
    # log P(answer = lab | truth = k) for every k
    rows[known] = np.log(np.maximum(result.confusion[w[known], :, lab[known]], _TINY))
    pop = result.population_confusion if result.population_confusion is not None else np.full((C, C), 1.0 / C)
    rows[~known] = np.log(np.maximum(pop[:, lab[~known]].T, _TINY))
    np.add.at(res.log_joint, t, rows)
    np.add.at(res.n_labels, t, 1)
    affected = np.unique(t)
    post, _ = _softmax_rows(res.log_joint[affected])
    res.posteriors[affected] = post
    score = result.extra.get("tie_break")
    if score is None:  # tie-break by the fitted class prior
        score = np.empty(C)
        score[np.lexsort((np.arange(C), -result.class_prior))] = -np.arange(C, dtype=np.float64)
    chosen = _choose(post, score)
    res.labels[affected] = chosen
    res.confidence[affected] = post[np.arange(len(affected)), chosen]
    return res, affected


# --------------------------------------------------------------------------- registry

METHODS = {
    "majority_vote": majority_vote,
    "weighted_majority_vote": weighted_majority_vote,
    "dawid_skene": dawid_skene,
    "one_coin_dawid_skene": one_coin_dawid_skene,
    "glad": glad,
}


def aggregate(method: str, task_idx, worker_idx=None, label_idx=None, n_tasks=None, n_workers=None, n_classes=None, **kw):
    """Run the aggregator called ``method`` (a key of :data:`METHODS`)."""
    try:
        fn = METHODS[method]
    except KeyError:
        raise ValueError(f"unknown method {method!r}; choose from {', '.join(METHODS)}") from None
    return fn(task_idx, worker_idx, label_idx, n_tasks, n_workers, n_classes, **kw)

"""Multinomial logistic regression (softmax) for many classes: a small L-BFGS solver over sparse
features, a compute budget that decides which feature columns the model uses, and warm starts
carried between fits by class and feature *name*.

Why not scikit-learn's ``LogisticRegression``: with 150 classes and 10^4 labelled texts over a
10^5-column TF-IDF vocabulary its lbfgs fit took minutes here (each step multiplies the whole
sparse matrix by a dense weight block in float64, and a refit after ten more labels starts from
zero). This solver works in float32 for the two products of each step, starts from the previous
model's weights (matched by name, so a refit after a new vocabulary still reuses them), and caps
the work per step (:func:`select_columns`).

The objective is scikit-learn's: ``sum_i -log p(y_i | x_i) + ||W||^2 / (2 C)``, intercepts not
penalised, so the optimum is the same model (the loss is convex); tests check that.

Pure numpy/scipy: no database or web imports.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.linalg import blas

# Multiply-adds allowed per product (rows' non-zeros kept × classes): ~0.1 s per product in float32
# on one core here. It drops character n-grams only (the most frequent first), never word columns.
# With 2 or 6 classes no column is ever dropped. With 150 classes it does not bind: WEIGHT_BUDGET's
# 13,333 columns all go to the most frequent word columns, so the model keeps no character n-gram
# at all (bench/textmodel_retrain.py, 25k texts: 13,333 of 143k word columns, 0 of 15k character
# ones, 52 M multiply-adds).
WORK_BUDGET = 80_000_000
# Weights allowed (kept columns × classes): bounds the solver's memory (MEMORY pairs of float32
# vectors this long plus a few more, ~0.1 GB) and the time of its vector operations, which at
# 150 classes cost more than the two sparse products of a step (13k columns at 150 classes; at
# 6 classes, 330k: none of the shared text sets is cut).
WEIGHT_BUDGET = 2_000_000
MEMORY = 5
MAX_ITER = 200
# L-BFGS stops after PATIENCE steps in a row that each lower the objective by less than FTOL
# (relative). A single-step rule at 1e-4 stopped trec's 6-class fit at 26 steps, 13 % above the
# optimum (test accuracy 0.856 against 0.873); with these settings it stops within 0.1 % of it.
FTOL = 1e-5
PATIENCE = 3


@dataclass
class SoftmaxFit:
    coef: np.ndarray  # (n_columns, n_classes) float32
    intercept: np.ndarray  # (n_classes,) float64
    n_iter: int
    loss: float


def _check(x, y: np.ndarray, n_classes: int):
    if x.shape[0] != len(y):
        raise ValueError("one label per feature row")
    if n_classes < 2:
        raise ValueError("n_classes must be at least 2")
    if len(y) and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError("labels must be class indices in [0, n_classes)")


def _as_float32(x):
    if sparse.issparse(x):
        return sparse.csr_matrix(x, dtype=np.float32)
    return np.ascontiguousarray(x, dtype=np.float32)


def objective(x, y: np.ndarray, coef: np.ndarray, intercept: np.ndarray, C: float) -> tuple[float, np.ndarray, np.ndarray]:
    """(loss, gradient of coef, gradient of intercept) of the penalised negative log-likelihood."""
    coef = coef.astype(np.float32, copy=False)
    scores = np.asarray(x @ coef, dtype=np.float64) + intercept
    top = scores.max(axis=1, keepdims=True)
    residual = np.exp(scores - top)  # one exp for both the loss and the gradient
    total = residual.sum(axis=1, keepdims=True)
    rows = np.arange(len(y))
    penalty = float(np.dot(coef.reshape(-1), coef.reshape(-1))) / (2 * C)
    loss = float(np.sum(np.log(total[:, 0]) + top[:, 0] - scores[rows, y])) + penalty
    residual /= total
    residual[rows, y] -= 1.0
    grad_coef = x.T @ residual.astype(np.float32)
    grad_coef += coef / np.float32(C)
    return loss, grad_coef, residual.sum(axis=0)


def _axpy(x: np.ndarray, y: np.ndarray, a: float) -> None:
    """y += a * x in place (float32 vectors)."""
    blas.saxpy(x, y, a=a)


def _lbfgs(f, theta: np.ndarray, max_iter: int, ftol: float, memory: int = MEMORY) -> tuple[np.ndarray, float, int]:
    """Minimise ``f`` (θ → (value, gradient)) from ``theta``: limited-memory BFGS (two-loop
    recursion) with a backtracking Armijo line search. Written out because scipy's L-BFGS-B
    spends ~0.15 s per step in its bound-handling code at 10^6 parameters, more than the products.
    Vectors in float32 (halves the memory and the time of every vector operation; the objective
    value is summed in float64). Returns (θ, value, steps)."""
    value, grad = f(theta)
    history: list[tuple[np.ndarray, np.ndarray, float]] = []
    steps = flat = 0
    for steps in range(1, max_iter + 1):
        direction = -grad
        if history:  # two-loop recursion, updates in place (BLAS axpy: no temporaries)
            q = grad.copy()
            alphas = []
            for s, y, rho in reversed(history):
                alpha = rho * float(s @ q)
                _axpy(y, q, a=-alpha)
                alphas.append(alpha)
            s, y, _ = history[-1]
            q *= np.float32(float(s @ y) / float(y @ y))
            for (s, y, rho), alpha in zip(history, reversed(alphas)):
                _axpy(s, q, a=alpha - rho * float(y @ q))
            direction = -q
        slope = float(grad @ direction)
        if slope >= 0:  # not a descent direction (round-off): restart from the gradient
            history.clear()
            direction, slope = -grad, -float(grad @ grad)
        step = 1.0 if history else 1.0 / max(1.0, float(np.sqrt(-slope)))
        while True:
            candidate = theta + np.float32(step) * direction
            new_value, new_grad = f(candidate)
            if new_value <= value + 1e-4 * step * slope or step < 1e-10:
                break
            step *= 0.5
        s_new, y_new = candidate - theta, new_grad - grad
        sy = float(s_new @ y_new)
        if sy > 1e-12:
            history.append((s_new, y_new, 1.0 / sy))
            if len(history) > memory:
                history.pop(0)
        decrease = (value - new_value) / max(abs(value), abs(new_value), 1.0)
        theta, value, grad = candidate, new_value, new_grad
        # One small decrease is no proof of convergence (a short first step, a flat stretch):
        # stop after PATIENCE of them in a row.
        flat = flat + 1 if decrease <= ftol else 0
        if flat >= PATIENCE or step < 1e-10:
            break
    return theta, value, steps


def fit(x, y, n_classes: int, C: float = 4.0, coef0: np.ndarray | None = None, intercept0: np.ndarray | None = None,
        max_iter: int = MAX_ITER, ftol: float | None = None) -> SoftmaxFit:
    """Fit weights (x.shape[1] × n_classes) and intercepts to rows ``x`` with class indices ``y``.

    ``coef0``/``intercept0``: a starting point (e.g. :func:`carry_over` of the previous fit); zeros
    when None. The result does not depend on the start beyond the solver's tolerance."""
    y = np.asarray(y, dtype=np.int64)
    _check(x, y, n_classes)
    if not C > 0:
        raise ValueError("C must be positive")
    x = _as_float32(x)
    d = x.shape[1]
    start = np.zeros((d + 1) * n_classes, dtype=np.float32)
    if coef0 is not None:
        start[: d * n_classes] = np.asarray(coef0, dtype=np.float32).reshape(-1)
    if intercept0 is not None:
        start[d * n_classes:] = intercept0

    def f(theta):
        coef, intercept = theta[: d * n_classes].reshape(d, n_classes), theta[d * n_classes:]
        loss, g_coef, g_intercept = objective(x, y, coef, intercept, C)
        return loss, np.concatenate([g_coef.reshape(-1), g_intercept.astype(np.float32)])

    theta, loss, steps = _lbfgs(f, start, max_iter, FTOL if ftol is None else ftol)
    return SoftmaxFit(coef=theta[: d * n_classes].reshape(d, n_classes).astype(np.float32), intercept=theta[d * n_classes:].astype(np.float64),
                      n_iter=steps, loss=loss)


def predict_proba(x, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    """Class probabilities (rows sum to 1) of rows ``x`` under weights ``coef`` and ``intercept``."""
    scores = np.asarray(_as_float32(x) @ coef, dtype=np.float64) + intercept
    scores -= scores.max(axis=1, keepdims=True)
    p = np.exp(scores)
    return p / p.sum(axis=1, keepdims=True)


def select_columns(x, n_classes: int, budget: int = WORK_BUDGET, weight_budget: int = WEIGHT_BUDGET,
                   always: np.ndarray | None = None) -> np.ndarray:
    """Sorted indices of the columns a model of ``n_classes`` classes trains on.

    Only columns non-zero in some row of ``x`` count (a column that is zero in every training row
    gets weight exactly 0 at the L2 optimum, so leaving it out changes nothing). Two budgets bound
    a step's cost: at most ``weight_budget / n_classes`` columns, the ones in the most rows first,
    those flagged in ``always`` (e.g. word features) ahead of the rest; then, while the kept
    columns' non-zeros × classes exceed ``budget``, the unflagged column in the most rows goes (a
    character n-gram in every text costs the most and tells classes apart the least). With a few
    classes neither budget binds and every used column stays."""
    if budget <= 0 or weight_budget <= 0:
        raise ValueError("budgets must be positive")
    k = max(n_classes, 1)
    x = sparse.csc_matrix(x)
    df = np.diff(x.indptr)
    used = np.flatnonzero(df)
    forced = np.zeros(x.shape[1], dtype=bool) if always is None else np.asarray(always, dtype=bool)
    if forced.shape != (x.shape[1],):
        raise ValueError("always must flag each column")
    if len(used) * k <= weight_budget and df.sum() * k <= budget:
        return used
    first, rest = used[forced[used]], used[~forced[used]]
    first = first[np.argsort(-df[first], kind="stable")][: weight_budget // k]
    rest = rest[np.argsort(-df[rest], kind="stable")][: max(0, weight_budget // k - len(first))]
    excess = (df[first].sum() + df[rest].sum()) * k - budget
    if excess > 0:  # drop the most frequent unflagged columns until the work fits
        dropped = int(np.searchsorted(np.cumsum(df[rest]) * k, excess, side="left")) + 1
        rest = rest[dropped:]
    return np.sort(np.concatenate([first, rest]))


def carry_over(old_names, old_classes, old_coef: np.ndarray, old_intercept: np.ndarray, names, classes):
    """Starting weights for a fit over feature ``names`` × ``classes`` from a previous fit's:
    each (feature, class) pair both fits share keeps its weight, every other starts at 0 (a class
    new since, a feature new since). Names are matched exactly (e.g. TF-IDF terms, labels)."""
    old_names = np.asarray(old_names, dtype=object)
    names = np.asarray(names, dtype=object)
    coef = np.zeros((len(names), len(classes)), dtype=np.float32)
    intercept = np.zeros(len(classes))
    old_class_index = {c: i for i, c in enumerate(old_classes)}
    new_cols = [i for i, c in enumerate(classes) if c in old_class_index]
    if not new_cols or not len(names) or not len(old_names):
        return coef, intercept
    old_cols = [old_class_index[classes[i]] for i in new_cols]
    row_of = {name: i for i, name in enumerate(old_names.tolist())}
    pairs = [(i, row_of[name]) for i, name in enumerate(names.tolist()) if name in row_of]
    if pairs:
        new_rows, old_rows = np.array(pairs).T
        coef[np.ix_(new_rows, new_cols)] = np.asarray(old_coef)[np.ix_(old_rows, old_cols)]
    intercept[new_cols] = np.asarray(old_intercept)[old_cols]
    # A class absent before starts at the old classes' mean intercept, not above them all.
    missing = np.setdiff1d(np.arange(len(classes)), new_cols)
    intercept[missing] = intercept[new_cols].mean()
    return coef, intercept

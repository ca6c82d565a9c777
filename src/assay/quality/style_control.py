"""Style control for leaderboards (as Chatbot Arena does it): the same Bradley-Terry /
Davidson fit over models with each judgement's style differences as covariates, so a
model is not rewarded for being long or heavily formatted when judges prefer that.

A judgement's covariates are normalised differences between its two responses,
``(a - b) / (a + b)`` per feature (length in words, Markdown headers, list items, bold
spans), in [-1, 1]. The strength of a response is ``theta_model + beta . z / 2`` for a and
``- beta . z / 2`` for b; ``beta`` is fitted with the model strengths, and the models'
scores are what is left once style is accounted for."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from scipy.special import ndtri

__all__ = ["STYLE_FEATURES", "StyleControlResult", "fit_style_controlled", "style_covariates", "text_style"]

STYLE_FEATURES = ("length", "headers", "list_items", "bold")
_HEADER = re.compile(r"^\s{0,3}#{1,6}\s", re.M)
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+", re.M)
RIDGE = 1e-4  # a weak Gaussian prior on the style coefficients: a covariate that never varies stays at 0
_BOLD = re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__")


def text_style(text: str) -> tuple[int, int, int, int]:
    """A response's style features: words, Markdown headers, list items, bold spans."""
    return (len(text.split()), len(_HEADER.findall(text)), len(_LIST_ITEM.findall(text)), len(_BOLD.findall(text)))


def style_covariates(style_a: np.ndarray, style_b: np.ndarray) -> np.ndarray:
    """Normalised differences ``(a - b) / (a + b)`` per feature (0 where both are 0):
    (n_judgements, n_features) from two arrays of style features of that shape."""
    sa, sb = np.asarray(style_a, dtype=np.float64), np.asarray(style_b, dtype=np.float64)
    total = sa + sb
    return np.divide(sa - sb, total, out=np.zeros_like(total), where=total > 0)


@dataclass
class StyleControlResult:
    """``scores``: log-strengths of models with style held equal (mean 0); ``ci_low`` /
    ``ci_high``: normal intervals on the bootstrap standard error (observed information
    without a bootstrap); ``coefficients``: the fitted style effects (``beta``, one per
    covariate, on the log-odds scale) with their standard errors."""

    scores: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    coefficients: np.ndarray
    coefficient_se: np.ndarray
    tie_strength: float
    n_judgements: int
    n_bootstrap: int
    converged: bool
    replicates: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((0, 0)))


class _Design:
    """Judgements plus one virtual judgement per model against an average model (index
    n_models, strength 0) carrying the prior, as in :mod:`assay.quality.ranking`."""

    def __init__(self, n_models: int, a, b, outcome, z, ties: bool, prior: float):
        n = n_models
        out = np.asarray(outcome, dtype=np.float64)
        self.n, self.k, self.ties = n, z.shape[1], ties
        y = np.column_stack([out == 1.0, out == 0.0, out == 0.5]).astype(np.float64) if ties else np.column_stack([out, 1.0 - out])
        share = prior / y.shape[1]
        self.a = np.concatenate([a, np.arange(n)]).astype(np.int64)
        self.b = np.concatenate([b, np.full(n, n)]).astype(np.int64)
        self.y = np.vstack([y, np.full((n, y.shape[1]), share)])
        self.z = np.vstack([z, np.zeros((n, self.k))])
        self.n_real = len(out)
        # d(logits)/d(theta_a, theta_b, eta, u) with u = beta . z
        self.J = np.array([[1.0, 0.0, 0.0, 0.5], [0.0, 1.0, 0.0, -0.5], [0.5, 0.5, 1.0, 0.0]]) if ties else \
            np.array([[1.0, 0.0, 0.0, 0.5], [0.0, 1.0, 0.0, -0.5]])
        self.outer = np.stack([np.outer(row, row).ravel() for row in self.J])  # (K, 16)
        self.n_par = n + (1 if ties else 0) + self.k

    def split(self, x: np.ndarray):
        n = self.n
        theta = np.append(x[:n], 0.0)
        eta = x[n] if self.ties else 0.0
        return theta, eta, x[n + (1 if self.ties else 0):]

    def __call__(self, x: np.ndarray, weights: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """Weighted log-posterior, gradient and information (minus the Hessian)."""
        theta, eta, beta = self.split(x)
        ta, tb, u = theta[self.a], theta[self.b], self.z @ beta
        cols = [ta + 0.5 * u, tb - 0.5 * u] + ([eta + 0.5 * (ta + tb)] if self.ties else [])
        logits = np.column_stack(cols)
        mx = logits.max(axis=1, keepdims=True)
        ex = np.exp(logits - mx)
        p = ex / ex.sum(axis=1, keepdims=True)
        y = self.y * weights[:, None]
        total = y.sum(axis=1)
        loglik = float(np.sum(y * logits) - np.dot(total, (mx[:, 0] + np.log(ex.sum(axis=1)))))
        g = (y - total[:, None] * p) @ self.J  # (rows, 4)
        # J' (diag p - p p') J per row, without a (rows, K, K) array: sum_k p_k J_k J_k' - v v'
        v = p @ self.J
        info = ((p @ self.outer).reshape(-1, 4, 4) - v[:, :, None] * v[:, None, :]) * total[:, None, None]
        loglik -= 0.5 * RIDGE * float(beta @ beta)
        grad, H = self._gradient(g), self._information(info)
        off = self.n_par - self.k
        grad[off:] -= RIDGE * beta
        H[off:, off:] += RIDGE * np.eye(self.k)
        return loglik, grad, H

    def _gradient(self, g: np.ndarray) -> np.ndarray:
        n, size = self.n, self.n + 1
        grad_theta = np.bincount(self.a, g[:, 0], size) + np.bincount(self.b, g[:, 1], size)
        parts = [grad_theta[:n]] + ([np.array([g[:, 2].sum()])] if self.ties else []) + [self.z.T @ g[:, 3]]
        return np.concatenate(parts)

    def _information(self, info: np.ndarray) -> np.ndarray:
        n, size, z = self.n, self.n + 1, self.z
        a, b = self.a, self.b
        theta = (np.bincount(a * size + a, info[:, 0, 0], size * size) + np.bincount(b * size + b, info[:, 1, 1], size * size)
                 + np.bincount(a * size + b, info[:, 0, 1], size * size) + np.bincount(b * size + a, info[:, 1, 0], size * size))
        H = np.zeros((self.n_par, self.n_par))
        H[:n, :n] = theta.reshape(size, size)[:n, :n]
        off = n
        if self.ties:
            eta_theta = np.bincount(a, info[:, 0, 2], size) + np.bincount(b, info[:, 1, 2], size)
            H[:n, n] = H[n, :n] = eta_theta[:n]
            H[n, n] = info[:, 2, 2].sum()
            off = n + 1
        for f in range(self.k):
            col = np.bincount(a, info[:, 0, 3] * z[:, f], size) + np.bincount(b, info[:, 1, 3] * z[:, f], size)
            H[:n, off + f] = H[off + f, :n] = col[:n]
            if self.ties:
                H[n, off + f] = H[off + f, n] = float(info[:, 2, 3] @ z[:, f])
        H[off:, off:] = z.T @ (info[:, 3, 3][:, None] * z)
        return H


def _newton(design: _Design, weights: np.ndarray, start: np.ndarray, max_iter: int, tol: float):
    x = start.copy()
    loglik, grad, info = design(x, weights)
    scale = 1.0 + float(weights.sum())
    converged = False
    for _ in range(max_iter):
        if np.max(np.abs(grad)) <= tol * scale:
            converged = True
            break
        step = np.linalg.solve(info, grad)
        t = 1.0
        while True:
            new = design(x + t * step, weights)
            if new[0] >= loglik - 1e-12 * abs(loglik) or t < 1e-10:
                break
            t *= 0.5
        x = x + t * step
        loglik, grad, info = new
    return x, info, converged or bool(np.max(np.abs(grad)) <= tol * scale * 1e3)


def fit_style_controlled(n_models: int, model_a, model_b, outcome, covariates, *, ties: bool = True, prior: float = 1.0,
                         n_bootstrap: int = 0, clusters: Sequence | None = None, confidence: float = 0.95, seed: int = 0,
                         max_iter: int = 100, tol: float = 1e-9) -> StyleControlResult:
    """Fit model strengths and style coefficients together (see the module docstring).
    ``covariates``: (n_judgements, n_features), e.g. :func:`style_covariates`."""
    a, b = np.asarray(model_a, dtype=np.int64).reshape(-1), np.asarray(model_b, dtype=np.int64).reshape(-1)
    z = np.asarray(covariates, dtype=np.float64).reshape(len(a), -1)
    out = np.asarray(outcome, dtype=np.float64).reshape(-1)
    if not (a.shape == b.shape == out.shape) or not np.all(np.isfinite(z)):
        raise ValueError("model_a, model_b, outcome and covariates must be equally long and finite")
    if len(a) and (min(a.min(), b.min()) < 0 or max(a.max(), b.max()) >= n_models or np.any(a == b)):
        raise ValueError(f"model indices must be distinct and in [0, {n_models})")
    if not np.all(np.isin(out, (0.0, 0.5, 1.0))):
        raise ValueError("outcomes must be 1 (a wins), 0 (b wins) or 0.5 (tie)")
    design = _Design(n_models, a, b, out, z, ties, prior)
    ones = np.ones(len(design.y))
    x, info, converged = _newton(design, ones, np.zeros(design.n_par), max_iter, tol)
    cov = np.linalg.pinv(info)
    P = np.eye(n_models) - 1.0 / n_models
    se = np.sqrt(np.clip(np.diag(P @ cov[:n_models, :n_models] @ P), 0, None))
    off = n_models + (1 if ties else 0)
    beta_se = np.sqrt(np.clip(np.diag(cov)[off:], 0, None))
    reps = np.zeros((0, n_models))
    if n_bootstrap > 0 and len(a):
        reps = _bootstrap(design, x, n_bootstrap, clusters, seed, max_iter, tol)
        se = reps.std(axis=0, ddof=1)
    theta = x[:n_models] - x[:n_models].mean()
    z_crit = float(ndtri(0.5 + confidence / 2))
    return StyleControlResult(scores=theta, se=se, ci_low=theta - z_crit * se, ci_high=theta + z_crit * se, coefficients=x[off:].copy(),
                              coefficient_se=beta_se, tie_strength=float(np.exp(x[n_models])) if ties else 0.0, n_judgements=len(a),
                              n_bootstrap=n_bootstrap if len(a) else 0, converged=converged, replicates=reps)


def _bootstrap(design: _Design, x: np.ndarray, n_bootstrap: int, clusters, seed: int, max_iter: int, tol: float) -> np.ndarray:
    """Replicates of the centred scores: judgements (or clusters) drawn with replacement,
    each refit from the full fit."""
    rng = np.random.default_rng(seed)
    n_real, n = design.n_real, design.n
    index = np.arange(n_real) if clusters is None else np.unique(np.asarray(clusters).reshape(-1), return_inverse=True)[1]
    n_units = int(index.max()) + 1
    reps = np.empty((n_bootstrap, n))
    for r in range(n_bootstrap):
        drawn = np.bincount(rng.integers(0, n_units, n_units), minlength=n_units).astype(np.float64)
        weights = np.concatenate([drawn[index], np.ones(n)])
        xb = _newton(design, weights, x, max_iter, tol)[0][:n]
        reps[r] = xb - xb.mean()
    return reps

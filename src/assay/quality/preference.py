"""Consensus of one pairwise judgement (first item, second item, or a tie) given by several
labelers: a two-item Bradley-Terry / Davidson fit (:mod:`assay.quality.ranking`) turned into
one decision with its posterior probability. Weights follow
:mod:`assay.quality.answer_groups`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy.integrate import quad
from scipy.special import ndtr

from assay.quality.answer_groups import checked_weights
from assay.quality.ranking import BradleyTerryResult, bradley_terry

__all__ = ["PreferenceResult", "pairwise_preference"]


@dataclass
class PreferenceResult:
    """One pairwise judgement consolidated. ``answer``: 1.0 (the first item is preferred),
    0.0 (the second) or 0.5 (a tie); ``probabilities``: posterior probability of each
    decision, ``{1.0: .., 0.0: .., 0.5: ..}`` (no 0.5 without ties; they sum to 1);
    ``confidence``: that of ``answer``; ``contributors``: the judgements that gave
    ``answer``; ``model``: the fitted two-item Bradley-Terry / Davidson model."""

    answer: float
    confidence: float
    probabilities: dict[float, float]
    contributors: list[int]
    model: BradleyTerryResult


def _both_positive(mean: np.ndarray, cov: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """P(a.z > 0 and b.z > 0) for z ~ N(mean, cov): a one-dimensional integral over a.z
    (scipy's quad; deterministic, unlike scipy's multivariate normal CDF)."""
    sa, sb = math.sqrt(float(a @ cov @ a)), math.sqrt(float(b @ cov @ b))
    h, k = float(a @ mean) / sa, float(b @ mean) / sb
    rho = min(1.0, max(-1.0, float(a @ cov @ b) / (sa * sb)))
    rest = math.sqrt(max(1.0 - rho * rho, 1e-24))
    # z_a = standardised a.z >= -h; then b.z > 0 has probability ndtr((k + rho z_a) / rest).
    value, _ = quad(lambda t: math.exp(-0.5 * t * t) / math.sqrt(2.0 * math.pi) * float(ndtr((k + rho * t) / rest)), -h, np.inf,
                    epsabs=1e-12, epsrel=1e-10, limit=200)
    return min(1.0, max(0.0, value))


def pairwise_preference(outcomes: Sequence[float], weights=None, ties: bool = True, prior: float = 1.0) -> PreferenceResult:
    """Several judgements of the same pair (first vs second item) consolidated by a
    two-item :func:`bradley_terry` fit (Davidson's model when ``ties``), each judgement
    weighted by its labeler's skill. ``outcomes``: 1 = the first is better, 0 = the second,
    0.5 = a tie (counted half each way when not ``ties``).

    The decision is the outcome a judge most probably gives under the model: with
    d = theta_1 - theta_2 and eta = log nu, the first wins when d > 0 and d / 2 > eta, the
    second when d < 0 and -d / 2 > eta, a tie when eta > |d| / 2. Each decision's
    probability is the posterior mass of its region under the Laplace (Gaussian)
    approximation of (d, eta); the most probable decision is the answer (on an exact tie:
    the first item, then the second, then a tie). Without ties it is P(d > 0) against
    P(d < 0). All-zero weights count as 1 each.
    """
    o = np.asarray(outcomes, dtype=np.float64).reshape(-1)
    w = checked_weights(weights, len(o))
    model = bradley_terry(2, [(0, 1, float(x)) for x in o], w, ties=ties, prior=prior)
    raw = model.raw_covariance  # covariance of (theta_0, theta_1[, eta])
    fitted_d = float(model.scores[0] - model.scores[1])
    if ties:
        eta = math.log(model.tie_strength)
        mean = np.array([fitted_d, eta])
        to_d_eta = np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 1.0]])
        cov = to_d_eta @ raw @ to_d_eta.T
        first = _both_positive(mean, cov, np.array([1.0, 0.0]), np.array([1.0, -2.0]))
        second = _both_positive(mean, cov, np.array([-1.0, 0.0]), np.array([-1.0, -2.0]))
        tie = _both_positive(mean, cov, np.array([-1.0, 2.0]), np.array([1.0, 2.0]))
        total = first + second + tie  # 1 up to quadrature error; renormalise exactly
        probabilities = {1.0: first / total, 0.0: second / total, 0.5: tie / total}
    else:
        var = float(raw[0, 0] + raw[1, 1] - 2.0 * raw[0, 1])
        first = float(ndtr(fitted_d / math.sqrt(var))) if var > 0 else float(fitted_d > 0) + 0.5 * float(fitted_d == 0)
        probabilities = {1.0: first, 0.0: 1.0 - first}
    answer = max(probabilities, key=lambda k: (probabilities[k], {1.0: 2, 0.0: 1, 0.5: 0}[k]))
    return PreferenceResult(
        answer=answer,
        confidence=probabilities[answer],
        probabilities=probabilities,
        contributors=[int(i) for i in np.flatnonzero(o == answer)],
        model=model,
    )

"""Leaderboard fit time: Bradley-Terry / Davidson over models with bootstrap intervals
(quality/leaderboard.py), and the style-controlled fit (quality/style_control.py), on
simulated judgements.

Synthetic data: ``--models`` models with log-strengths evenly spread over [-2, 2], each
judgement a random pair of distinct models, the outcome drawn from Davidson's model with
nu = 0.3 (about 13 % ties); for style control, response lengths from a lognormal per model
and a length effect of 0.8 on the log-odds. Times exclude data generation and are medians
of ``--repeats`` runs in this process; the recovery (Kendall's tau of the fitted against
the true strengths) is printed as a sanity check.

usage: python bench/leaderboard.py [--judgements 1000000] [--models 50] [--bootstrap 200]
                                   [--style-judgements 1000000] [--style-bootstrap 10] [--repeats 3]
Writes bench/results/leaderboard.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import kendalltau

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
RESULTS = ROOT / "bench" / "results"

from assay.quality.leaderboard import fit_leaderboard  # noqa: E402
from assay.quality.style_control import fit_style_controlled, style_covariates  # noqa: E402


def simulate(n: int, m: int, seed: int = 0, length_effect: float = 0.0):
    rng = np.random.default_rng(seed)
    theta = np.linspace(-2, 2, m)
    a = rng.integers(0, m, n)
    b = (a + rng.integers(1, m, n)) % m
    lengths = rng.uniform(100, 800, m)
    z = style_covariates(rng.lognormal(np.log(lengths[a]), 0.3)[:, None], rng.lognormal(np.log(lengths[b]), 0.3)[:, None])
    u = length_effect * z[:, 0]
    pa, pb = np.exp(theta[a] + u / 2), np.exp(theta[b] - u / 2)
    pt = 0.3 * np.sqrt(pa * pb)
    s = pa + pb + pt
    draw = rng.random(n)
    out = np.where(draw < pa / s, 1.0, np.where(draw < (pa + pb) / s, 0.0, 0.5))
    return theta, a, b, out, z


def timed(fn, repeats: int):
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--judgements", type=int, default=1_000_000)
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--bootstrap", type=int, default=200)
    parser.add_argument("--style-judgements", type=int, default=1_000_000)
    parser.add_argument("--style-bootstrap", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    n, m = args.judgements, args.models
    theta, a, b, out, _ = simulate(n, m)
    runs = {}
    median, times, res = timed(lambda: fit_leaderboard(m, a, b, out, n_bootstrap=0), args.repeats)
    runs["fit"] = {"judgements": n, "models": m, "bootstrap": 0, "median_s": round(median, 3), "times_s": [round(t, 3) for t in times],
                   "kendall_tau": round(float(kendalltau(res.scores, theta).statistic), 4)}
    print(f"fit, {n:,} judgements, {m} models: {median:.3f} s (tau {runs['fit']['kendall_tau']})")
    median, times, res = timed(lambda: fit_leaderboard(m, a, b, out, n_bootstrap=args.bootstrap), args.repeats)
    runs["fit_bootstrap"] = {"judgements": n, "models": m, "bootstrap": args.bootstrap, "median_s": round(median, 3),
                             "times_s": [round(t, 3) for t in times], "kendall_tau": round(float(kendalltau(res.scores, theta).statistic), 4),
                             "mean_interval_width": round(float(np.mean(res.ci_high - res.ci_low)), 4)}
    print(f"fit + {args.bootstrap} bootstrap replicates: {median:.3f} s")
    clusters = np.arange(n) // 3  # three judgements per task, resampled together
    median, times, res = timed(lambda: fit_leaderboard(m, a, b, out, clusters=clusters, n_bootstrap=args.bootstrap), args.repeats)
    runs["fit_cluster_bootstrap"] = {"judgements": n, "models": m, "bootstrap": args.bootstrap, "clusters": int(clusters[-1]) + 1,
                                     "median_s": round(median, 3), "times_s": [round(t, 3) for t in times]}
    print(f"fit + {args.bootstrap} cluster-bootstrap replicates ({int(clusters[-1]) + 1:,} tasks): {median:.3f} s")
    ns = args.style_judgements
    theta, a, b, out, z = simulate(ns, m, seed=1, length_effect=0.8)
    median, times, res = timed(lambda: fit_style_controlled(m, a, b, out, z, n_bootstrap=0), 1 if ns >= 500_000 else args.repeats)
    runs["style_control"] = {"judgements": ns, "models": m, "bootstrap": 0, "median_s": round(median, 3), "times_s": [round(t, 3) for t in times],
                             "kendall_tau": round(float(kendalltau(res.scores, theta).statistic), 4),
                             "length_coefficient": round(float(res.coefficients[0]), 4)}
    print(f"style control, {ns:,} judgements: {median:.3f} s (tau {runs['style_control']['kendall_tau']}, length effect "
          f"{res.coefficients[0]:.3f}, planted 0.8)")
    if args.style_bootstrap:
        median, times, res = timed(lambda: fit_style_controlled(m, a, b, out, z, n_bootstrap=args.style_bootstrap), 1)
        runs["style_control_bootstrap"] = {"judgements": ns, "models": m, "bootstrap": args.style_bootstrap, "median_s": round(median, 3)}
        print(f"style control + {args.style_bootstrap} bootstrap replicates: {median:.3f} s")
    RESULTS.mkdir(parents=True, exist_ok=True)
    report = {"benchmark": "leaderboard", "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                                      "load_average": os.getloadavg()[0]}, "runs": runs}
    (RESULTS / "leaderboard.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {RESULTS / 'leaderboard.json'}")


if __name__ == "__main__":
    main()

"""Speed and memory of the aggregators on synthetic label sets (1M and 10M answers).

Synthetic data: 5 answers per task (so 200k / 2M tasks), 4 classes with a skewed class
prior, workers whose confusion matrices are drawn at random (most 60-95 % accurate with
class-dependent errors, 10 % near-random spammers), each task answered by 5 distinct random
workers. Each aggregator runs in a fresh subprocess (``--one``) so that its peak RSS
(``ru_maxrss``, the whole process: Python + numpy + data) is its own; the fit time excludes
data generation. Times are medians of ``--repeats`` fits in that process. Accuracy against
the simulated truth is printed as a sanity check.

usage: python bench/aggregate.py [--sizes 1000000,10000000] [--repeats 3] [--glad-max 10000000]
Writes bench/results/aggregate.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
METHOD_NAMES = ["majority_vote", "weighted_majority_vote", "dawid_skene", "one_coin_dawid_skene", "glad", "bayesian_dawid_skene",
                "community_dawid_skene", "mace", "auto"]


def synthetic(n_labels: int, labels_per_task: int = 5, n_classes: int = 4, seed: int = 0):
    """(task, worker, label, truth, n_workers) with random worker confusion matrices."""
    rng = np.random.default_rng(seed)
    n_tasks = n_labels // labels_per_task
    n_workers = max(50, n_labels // 500)
    prior = rng.dirichlet(np.full(n_classes, 4.0))
    truth = rng.choice(n_classes, size=n_tasks, p=prior)
    acc = rng.uniform(0.6, 0.95, size=n_workers)
    spam = rng.random(n_workers) < 0.1
    acc[spam] = 1.0 / n_classes + rng.uniform(0, 0.05, size=spam.sum())
    conf = np.empty((n_workers, n_classes, n_classes))
    for k in range(n_classes):  # small loop over classes only
        off = rng.dirichlet(np.ones(n_classes - 1), size=n_workers) * (1 - acc)[:, None]
        conf[:, k, :k] = off[:, :k]
        conf[:, k, k] = acc
        conf[:, k, k + 1 :] = off[:, k:]
    task = np.repeat(np.arange(n_tasks), labels_per_task)
    # distinct workers per task: a random offset plus a stride pattern, modulo n_workers
    base = rng.integers(0, n_workers, size=n_tasks)
    stride = rng.integers(1, n_workers // labels_per_task, size=n_tasks)
    worker = (base[:, None] + stride[:, None] * np.arange(labels_per_task)[None, :]) % n_workers
    worker = worker.ravel()
    # sample each answer from its worker's row for the task's truth (inverse CDF, vectorised)
    cdf = np.cumsum(conf[worker, truth[task]], axis=1)
    u = rng.random(task.size)[:, None]
    label = np.minimum((u > cdf).sum(axis=1), n_classes - 1)
    return task, worker.astype(np.int64), label.astype(np.int64), truth, n_workers, n_classes


def run_one(method: str, n_labels: int, repeats: int) -> dict:
    from assay.quality.aggregation import METHODS  # noqa: PLC0415 - each --one subprocess measures its own peak memory
    from assay.quality.label_data import LabelData  # noqa: PLC0415 - each --one subprocess measures its own peak memory

    task, worker, label, truth, n_workers, n_classes = synthetic(n_labels)
    times = []
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        data = LabelData.build(task, worker, label, int(task.max()) + 1, n_workers, n_classes)
        result = METHODS[method](data)
        times.append(time.perf_counter() - start)
        del data
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    return {
        "method": method,
        "n_labels": n_labels,
        "seconds": statistics.median(times),
        "seconds_all": times,
        "peak_rss_mb": rss / 2**20,
        "iterations": result.n_iter,
        "converged": bool(result.converged),
        "accuracy_vs_simulated_truth": float(np.mean(result.labels == truth)),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000000,10000000")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--methods", default=",".join(METHOD_NAMES))
    ap.add_argument("--glad-max", type=int, default=10_000_000, help="skip GLAD above this many answers")
    ap.add_argument("--one", nargs=2, metavar=("METHOD", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one[0], int(args.one[1]), args.repeats)))
        return

    # baseline RSS of a process that only generated the data (no aggregation)
    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        for method in args.methods.split(","):
            if method == "glad" and n > args.glad_max:
                rows.append({"method": method, "n_labels": n, "skipped": f"GLAD above --glad-max={args.glad_max}"})
                print(f"{n:>10,} {method:24s} skipped (--glad-max)", flush=True)
                continue
            repeats = args.repeats if n <= 2_000_000 else max(1, min(args.repeats, 3))
            proc = subprocess.run(
                [sys.executable, __file__, "--one", method, str(n), "--repeats", str(repeats)],
                capture_output=True,
                text=True,
            )
            if proc.returncode != 0:
                rows.append({"method": method, "n_labels": n, "error": proc.stderr[-2000:]})
                print(f"{n:>10,} {method:24s} FAILED: {proc.stderr[-300:]}", flush=True)
                continue
            row = json.loads(proc.stdout)
            row["repeats"] = repeats
            rows.append(row)
            print(
                f"{n:>10,} {method:24s} {row['seconds']:8.2f} s  peak RSS {row['peak_rss_mb']:7.0f} MB  "
                f"iters {row['iterations']:3d}  acc {row['accuracy_vs_simulated_truth']:.4f}",
                flush=True,
            )
    out = {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "numpy": np.__version__,
        },
        "note": "median of `repeats` fits in a fresh process per method; peak RSS is the whole process "
        "(includes the generated data, ~3 int64 arrays of n_labels)",
        "results": rows,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "aggregate.json").write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {RESULTS / 'aggregate.json'}")


if __name__ == "__main__":
    main()

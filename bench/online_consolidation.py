"""What a submission costs under a named truth model, versus refitting the world.

A project with `aggregation: dawid_skene` (or one_coin_dawid_skene, glad) is refitted in the
background every ASSAY_TRUTH_REFIT_LABELS labels; a task that completes in between is scored
with the fitted parameters (`quality.online.posterior_given`, one E-step over its own
answers). This measures both on the synthetic data of bench/aggregate.py (5 answers per
task, 4 classes, 10 % spammers): the full fit at each size, and the per-task scoring of
1,000 new tasks with the fitted parameters (median microseconds per task), plus the
accuracy on those new tasks of (a) scoring with the fit and (b) majority vote.

usage: python bench/online_consolidation.py [--sizes 10000,100000,1000000]
Writes bench/results/online_consolidation.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from aggregate import synthetic  # noqa: E402

from assay.quality.aggregation import aggregate  # noqa: E402
from assay.quality.online import fitted_parameters, posterior_given  # noqa: E402

METHODS = ["dawid_skene", "one_coin_dawid_skene", "glad"]
NEW_TASKS = 1000


def run(n_labels: int) -> dict:
    task, worker, label, truth, n_workers, C = synthetic(n_labels + NEW_TASKS * 5, seed=1)
    n_tasks = truth.size

    old = task < n_tasks - NEW_TASKS  # the fit sees all but the last NEW_TASKS tasks
    new_ids = np.arange(n_tasks - NEW_TASKS, n_tasks)
    by_task = {t: np.flatnonzero(task == t) for t in new_ids}
    majority = np.array([np.bincount(label[by_task[t]], minlength=C).argmax() for t in new_ids])
    out = {"labels_fitted": int(old.sum()), "tasks_fitted": int(n_tasks - NEW_TASKS), "workers": int(n_workers), "classes": C,
           "majority_vote_accuracy_new": float((majority == truth[new_ids]).mean()), "methods": {}}
    for method in METHODS:
        started = time.perf_counter()
        result = aggregate(method, task[old], worker[old], label[old], n_tasks - NEW_TASKS, n_workers, C)
        params = fitted_parameters(result, np.bincount(worker[old], minlength=n_workers))
        fit_seconds = time.perf_counter() - started
        per_task, correct = [], 0
        for t in new_ids:
            idx = by_task[t]
            w, lab = worker[idx].tolist(), label[idx].tolist()
            t0 = time.perf_counter()
            post = posterior_given(params, w, lab)
            per_task.append(time.perf_counter() - t0)
            correct += int(post.argmax() == truth[t])
        out["methods"][method] = {"fit_seconds": round(fit_seconds, 3), "score_one_task_us_median": round(statistics.median(per_task) * 1e6, 1),
                                  "accuracy_new_tasks": correct / NEW_TASKS,
                                  "fit_accuracy": float((result.labels == truth[: n_tasks - NEW_TASKS]).mean())}
        print(f"{n_labels:>9,} labels  {method:<22} fit {fit_seconds:7.3f} s   score one task "
              f"{out['methods'][method]['score_one_task_us_median']:6.1f} µs   new-task accuracy {correct / NEW_TASKS:.3f} "
              f"(majority vote {out['majority_vote_accuracy_new']:.3f})", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    args = parser.parse_args()
    results = {"machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version()}, "new_tasks": NEW_TASKS,
               "sizes": {}}
    for size in [int(s) for s in args.sizes.split(",")]:
        results["sizes"][str(size)] = run(size)
    path = ROOT / "bench" / "results" / "online_consolidation.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

"""Can confident learning find wrong labels? Known label flips on real text sets.

For each dataset folder (items.csv: id,text,label) and each seed: flip --flip of the labels
(chosen at random, each to a different class drawn uniformly), compute 5-fold out-of-fold
probabilities with the built-in TextClassifier (TF-IDF word+char n-grams, logistic regression)
trained on the noisy labels, rank the items by cleanlab's label quality (self-confidence: the
out-of-fold probability of the given label; assay.learning.label_errors), and score:
  * precision and recall of the top k suspects for k = 0.5 m, m, 2 m (m = number flipped);
  * precision and recall of cleanlab's own flagged set (confident learning, prune_by_noise_rate).
A random ranking has precision = --flip. The datasets' own labels are not perfect: a real error
that the ranking finds counts as a false positive here, so precision is a lower bound.

sentiment_polarity also has real crowd answers: its extra "crowd" row uses the majority vote of
each item's MTurk answers (ties broken at random, seeded) as the noisy labels and the gold
labels as truth — real, not simulated, label errors (m = the items whose vote is wrong).

usage: python bench/label_errors.py DIR [DIR ...] | --all  [--json] [--flip 0.05] [--seeds 3] [--folds 5] [--jobs 2]
Writes bench/results/label_errors.json with --all, else bench/results/label_errors_<name>.json.
Medians over seeds.
"""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT / "src"))

import os  # noqa: E402

# One BLAS thread per process: --jobs processes already fill the cores, and idle BLAS threads
# spinning against each other cost more than they bring (the logistic regression is small).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections import Counter, defaultdict  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402

import numpy as np  # noqa: E402

from assay.learning.label_errors import out_of_fold_probabilities, rank_label_issues  # noqa: E402

DATA = Path(os.environ.get("ASSAY_DATASETS") or Path(__file__).resolve().parents[2] / "shared" / "datasets")
RESULTS = ROOT / "bench" / "results"
ALL = ["text/rt_polarity", "text/sms_spam", "text/trec", "text/bbc_news", "sentiment_polarity"]
K_FACTORS = (0.5, 1.0, 2.0)

csv.field_size_limit(10_000_000)  # bbc_news articles


def load(folder: Path) -> dict:
    with open(folder / "items.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    data = {"name": folder.name, "texts": [r["text"] for r in rows], "truth": [r["label"] for r in rows], "crowd": None}
    if (folder / "labels.csv").exists():
        answers: dict[str, list[str]] = defaultdict(list)
        with open(folder / "labels.csv", newline="", encoding="utf-8") as f:
            for r in csv.DictReader(f):
                answers[r["task"]].append(r["label"])
        rng = np.random.default_rng(12345)
        crowd = []
        for row in rows:
            counts = Counter(answers.get(row["id"], []))
            if not counts:
                crowd.append(row["label"])
                continue
            top = max(counts.values())
            tied = sorted(c for c, v in counts.items() if v == top)
            crowd.append(tied[rng.integers(len(tied))])
        data["crowd"] = crowd
    return data


def flip_labels(truth: list, share: float, seed: int) -> tuple[list, np.ndarray]:
    """A known ``share`` of the labels changed to another class (uniformly among the others)."""
    rng = np.random.default_rng(seed)
    classes = sorted(set(truth), key=str)
    count = int(round(share * len(truth)))
    flipped = np.sort(rng.choice(len(truth), size=count, replace=False))
    noisy = list(truth)
    for i in flipped:
        others = [c for c in classes if c != truth[i]]
        noisy[i] = others[rng.integers(len(others))]
    return noisy, flipped


def score(issues, wrong: np.ndarray, n: int) -> dict:
    wrong_mask = np.zeros(n, dtype=bool)
    wrong_mask[wrong] = True
    m = len(wrong)
    out = {"wrong": m}
    for factor in K_FACTORS:
        k = max(int(round(factor * m)), 1)
        hits = int(wrong_mask[issues.top(k)].sum())
        out[f"top_{factor:g}m"] = {"k": k, "precision": hits / k, "recall": hits / m if m else None}
    hits = int(wrong_mask[issues.flagged].sum())
    flagged = int(issues.flagged.sum())
    out["flagged"] = {"k": flagged, "precision": hits / flagged if flagged else None, "recall": hits / m if m else None}
    return out


def run_one(args) -> dict:
    data, mode, seed, opts = args
    if mode == "flip":
        labels, wrong = flip_labels(data["truth"], opts["flip"], seed)
    else:  # the crowd's majority vote against the gold labels: real errors
        labels = data["crowd"]
        wrong = np.flatnonzero(np.array(labels) != np.array(data["truth"]))
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn/cleanlab notes on small classes
        probs, classes = out_of_fold_probabilities(data["texts"], labels, folds=opts["folds"], seed=seed)
        oof_seconds = time.perf_counter() - t0
        t1 = time.perf_counter()
        issues = rank_label_issues(labels, probs, classes=classes)
        rank_seconds = time.perf_counter() - t1
    oof_accuracy_truth = float(np.mean(np.array(classes)[probs.argmax(axis=1)] == np.array(data["truth"])))
    return {
        "dataset": data["name"],
        "mode": mode,
        "seed": seed,
        "items": len(labels),
        "oof_accuracy_vs_truth": oof_accuracy_truth,
        "oof_seconds": oof_seconds,
        "rank_seconds": rank_seconds,
        **score(issues, wrong, len(labels)),
    }


def median(values) -> float | None:
    values = [v for v in values if v is not None]
    return float(np.median(values)) if values else None


def summarise(rows: list[dict]) -> dict:
    keys = [f"top_{f:g}m" for f in K_FACTORS] + ["flagged"]
    out = {
        "items": rows[0]["items"],
        "wrong_median": median(r["wrong"] for r in rows),
        "seeds": [r["seed"] for r in rows],
        "oof_accuracy_vs_truth_median": median(r["oof_accuracy_vs_truth"] for r in rows),
        "oof_seconds_median": median(r["oof_seconds"] for r in rows),
        "rank_seconds_median": median(r["rank_seconds"] for r in rows),
    }
    for key in keys:
        out[key] = {
            "k_median": median(r[key]["k"] for r in rows),
            "precision_median": median(r[key]["precision"] for r in rows),
            "recall_median": median(r[key]["recall"] for r in rows),
        }
    out["runs"] = rows
    return out


def pct(v) -> str:
    return "–" if v is None else f"{100 * v:.0f} %"


def print_table(results: dict) -> None:
    head = "| dataset | labels | items | wrong (m) | OOF acc. | top 0.5m P / R | top m P / R | top 2m P / R | flagged: count, P / R |"
    print(head)
    print("|---" * (head.count("|") - 1) + "|")
    for (name, mode), r in results.items():
        cells = [f"{pct(r[k]['precision_median'])} / {pct(r[k]['recall_median'])}" for k in ("top_0.5m", "top_1m", "top_2m")]
        f = r["flagged"]
        print(
            f"| {name} | {mode} | {r['items']} | {r['wrong_median']:.0f} | {pct(r['oof_accuracy_vs_truth_median'])} | "
            + " | ".join(cells)
            + f" | {f['k_median']:.0f}, {pct(f['precision_median'])} / {pct(f['recall_median'])} |"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dirs", nargs="*", help="dataset folders with items.csv")
    ap.add_argument("--all", action="store_true", help="every dataset: " + ", ".join(ALL))
    ap.add_argument("--json", action="store_true", help="print the summary as JSON instead of a table")
    ap.add_argument("--flip", type=float, default=0.05, help="share of labels flipped")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=2, help="processes (one dataset × seed each)")
    ns = ap.parse_args()
    folders = [DATA / d for d in ALL] if ns.all else [Path(d) for d in ns.dirs]
    if not folders:
        ap.error("give dataset folders or --all")
    if not 0 < ns.flip < 1:
        ap.error("--flip must be between 0 and 1")
    opts = {"flip": ns.flip, "seeds": ns.seeds, "folds": ns.folds}

    started = time.perf_counter()
    datasets = [load(f) for f in folders]
    jobs = [(d, "flip", seed, opts) for d in datasets for seed in range(ns.seeds)]
    jobs += [(d, "crowd", 0, opts) for d in datasets if d["crowd"] is not None]
    # Longest texts first so the two processes finish together.
    jobs.sort(key=lambda j: -sum(len(t) for t in j[0]["texts"]))
    with ProcessPoolExecutor(max_workers=ns.jobs) as pool:
        runs = list(pool.map(run_one, jobs))
    grouped: dict[tuple, list] = defaultdict(list)
    for run in runs:
        grouped[(run["dataset"], run["mode"])].append(run)
    order = [(d["name"], mode) for d in datasets for mode in ("flip", "crowd") if (d["name"], mode) in grouped]
    results = {key: summarise(grouped[key]) for key in order}
    seconds = time.perf_counter() - started

    report = {
        "benchmark": "label_errors",
        "options": opts,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "processes": ns.jobs},
        "seconds": seconds,
        "datasets": {f"{name}/{mode}": r for (name, mode), r in results.items()},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "label_errors.json" if ns.all else "label_errors_" + "_".join(d["name"] for d in datasets) + ".json"
    (RESULTS / name).write_text(json.dumps(report, indent=1) + "\n")
    if ns.json:
        brief = {k: {kk: vv for kk, vv in v.items() if kk != "runs"} for k, v in report["datasets"].items()}
        print(json.dumps({**report, "datasets": brief}, indent=1))
    else:
        print(f"flip {ns.flip}, {ns.seeds} seeds, {ns.folds}-fold out-of-fold probabilities; medians over seeds")
        print_table(results)
        print(f"\n{seconds:.0f} s in all ({ns.jobs} processes); wrote {RESULTS / name}")


if __name__ == "__main__":
    main()

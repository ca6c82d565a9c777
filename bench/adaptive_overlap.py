"""Adaptive overlap vs fixed-K majority vote on the real crowdsourced label sets.

For every categorical folder under the shared datasets (labels.csv + truth.csv; numeric
score sets skipped) it replays, on the gold tasks, the one stop rule used everywhere
(``assay.quality.adaptive.StopRule()``: K = 5 where the median task has >= 5 answers, else
the median) against the majority vote of the first K answers, and reports per dataset the
labels used, the saving, both accuracies and their difference. Then the same for
neighbours of every setting (one changed at a time) and for arrival order (no routing),
so the choice can be judged by how flat the results are around it, and the main rule
with three fold seeds (the cross-fitting split is random).

usage: python bench/adaptive_overlap.py [--datasets a,b]
Writes bench/results/adaptive_overlap.json and, on a full run, the measured table of
docs/quality.md (between the adaptive:start/end markers).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
from assay.quality.adaptive import StopRule  # noqa: E402
from assay.quality.evaluate import _canonical_numbers, load_dataset, replay, typical_labels_per_task  # noqa: E402

DATA = Path(os.environ.get("ASSAY_DATASETS") or Path(__file__).resolve().parents[2] / "shared" / "datasets")
RESULTS = ROOT / "bench" / "results"
DOCS = ROOT / "docs" / "quality.md"
DOC_START, DOC_END = "<!-- adaptive:start -->", "<!-- adaptive:end -->"
NEIGHBOURS = {"target": [0.95, 0.99], "credible": [0.025, 0.1], "accuracy_cap": [0.85, 0.95], "margin": [0.03, 0.08, None],
              "route": [False], "route_within_first_k": [True], "min_labels": [2]}


def load_sets(names: list[str] | None):
    out = {}
    for folder in sorted(DATA.iterdir()):
        if not ((folder / "labels.csv").is_file() and (folder / "truth.csv").is_file()) or (names and folder.name not in names):
            continue
        ds = load_dataset(folder)
        if _canonical_numbers(set(ds.classes)) is not None and ds.n_classes > 20:  # a score, not a category
            continue
        out[folder.name] = ds
    return out


def run(sets: dict, rule: StopRule, seed: int = 0) -> dict:
    rows = {}
    for name, ds in sets.items():
        k = min(rule.max_labels, typical_labels_per_task(ds))
        t0 = time.perf_counter()
        rep = replay(ds, dataclasses.replace(rule, max_labels=k), seed=seed)
        rows[name] = {"k": k, "five_per_task": typical_labels_per_task(ds) >= 5, "tasks": int(ds.gold.size),
                      "labels_adaptive": int(rep["adaptive"]["labels"]), "labels_fixed": int(rep["fixed"]["labels"]),
                      "saved": float(rep["saved"]), "accuracy_adaptive": float(rep["adaptive"]["accuracy"]),
                      "accuracy_fixed": float(rep["fixed"]["accuracy"]), "difference": float(rep["accuracy_change"]),
                      "saved_counted": float(rep["saved_counted"]), "seconds": time.perf_counter() - t0}
    five = [r for r in rows.values() if r["five_per_task"]]
    summary = {"sets_five_per_task": len(five), "mean_saved": float(np.mean([r["saved"] for r in five])),
               "mean_saved_counted": float(np.mean([r["saved_counted"] for r in five])),
               "at_least_fixed": sum(r["difference"] >= 0 for r in five),
               "saved_40_and_at_least_fixed": sum(r["difference"] >= 0 and r["saved"] >= 0.4 for r in five),
               "worst_difference": float(min(r["difference"] for r in five)), "min_saved": float(min(r["saved"] for r in five))}
    return {"rule": dataclasses.asdict(rule), "seed": seed, "datasets": rows, "summary": summary}


def describe(s: dict) -> str:
    return (f"mean saved {s['mean_saved']:.1%}, counted {s['mean_saved_counted']:.1%}, >= fixed on {s['at_least_fixed']}/"
            f"{s['sets_five_per_task']}, both targets on {s['saved_40_and_at_least_fixed']}, worst {s['worst_difference'] * 100:+.1f} "
            f"points, least saved {s['min_saved']:.1%}")


def table(main_run: dict) -> list[str]:
    L = ["| dataset | K | gold tasks | labels: adaptive / fixed-K | saved | adaptive acc | fixed-K MV acc | difference (points) |",
         "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r in main_run["datasets"].items():
        flag = "" if r["five_per_task"] else " (< 5 per task)"
        L.append(f"| {name}{flag} | {r['k']} | {r['tasks']:,} | {r['labels_adaptive']:,} / {r['labels_fixed']:,} | {r['saved']:.1%} | "
                 f"{r['accuracy_adaptive']:.4f} | {r['accuracy_fixed']:.4f} | {r['difference'] * 100:+.1f} |")
    return L


def write_docs(main_run: dict, seeds: list[dict], variants: list[dict], meta: dict) -> None:
    s = main_run["summary"]
    L = [DOC_START, "", f"`python bench/adaptive_overlap.py` on {meta['machine']}, load average {meta['load_average']:.1f}; "
         "gold tasks only; labels = answers used on them; `StopRule()` defaults on every set.", ""]
    L += table(main_run)
    L += ["", f"On the {s['sets_five_per_task']} sets with ≥ 5 answers per task: mean saving **{s['mean_saved']:.1%}**, accuracy ≥ "
          f"fixed-5 majority vote on {s['at_least_fixed']} of them, both (≥ 40 % saved and accuracy ≥ fixed) on "
          f"{s['saved_40_and_at_least_fixed']}; counted honestly (no saving where accuracy drops) **{s['mean_saved_counted']:.1%}**; "
          f"worst difference {s['worst_difference'] * 100:+.1f} points, least saving {s['min_saved']:.1%}.", "",
          "Around the chosen point (the same sets; one setting changed at a time, or another fold seed):", "",
          "| changed | mean saved | counted honestly | accuracy ≥ fixed | both targets | worst difference | least saved |",
          "|---|---:|---:|---:|---:|---:|---:|"]
    for label, v in [("none (the rule above)", main_run)] + [(f"fold seed {x['seed']}", x) for x in seeds] + \
            [(", ".join(f"{k} = {val}" for k, val in x["changed"].items()), x) for x in variants]:
        vs = v["summary"]
        L.append(f"| {label} | {vs['mean_saved']:.1%} | {vs['mean_saved_counted']:.1%} | {vs['at_least_fixed']}/{vs['sets_five_per_task']} | "
                 f"{vs['saved_40_and_at_least_fixed']}/{vs['sets_five_per_task']} | {vs['worst_difference'] * 100:+.1f} | {vs['min_saved']:.1%} |")
    L += ["", DOC_END]
    text = DOCS.read_text()
    before, rest = text.split(DOC_START, 1)
    DOCS.write_text(before + "\n".join(L) + rest.split(DOC_END, 1)[1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", help="comma-separated folder names (default: all categorical)")
    args = ap.parse_args()
    sets = load_sets(args.datasets.split(",") if args.datasets else None)
    main_run = run(sets, StopRule())
    print("\n".join(table(main_run)))
    print("main rule:", describe(main_run["summary"]))
    seeds = [main_run] + [run(sets, StopRule(), seed=s) for s in (1, 2)]
    for s in seeds[1:]:
        print(f"fold seed {s['seed']}:", describe(s["summary"]))
    variants = []
    for field, values in NEIGHBOURS.items():
        for value in values:
            v = run(sets, dataclasses.replace(StopRule(), **{field: value}))
            v["changed"] = {field: value}
            variants.append(v)
            print(f"{field}={value}:", describe(v["summary"]))
    RESULTS.mkdir(exist_ok=True)
    meta = {"machine": f"{os.cpu_count()} CPU cores ({platform.machine()}), shared with other jobs, Python "
            f"{platform.python_version()}, numpy {np.__version__}", "load_average": os.getloadavg()[0]}
    print(f"{meta['machine']}; load average {meta['load_average']:.1f} at the end of the run")
    (RESULTS / "adaptive_overlap.json").write_text(json.dumps({"meta": meta, "main": main_run, "seeds": seeds[1:], "variants": variants},
                                                              indent=1) + "\n")
    if not args.datasets:
        write_docs(main_run, seeds[1:], variants, meta)


if __name__ == "__main__":
    main()

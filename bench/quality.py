"""Quality-engine benchmark on the real crowdsourced label sets, side by side with crowd-kit.

For every categorical dataset under /work/shared/datasets (a folder with labels.csv and
truth.csv; numeric ones such as emotion_numeric are skipped):
  * accuracy (on the gold tasks) and fit time (median of --repeats) of each of our
    aggregators — the same code path as ``assay quality eval``;
  * crowd-kit's MV, Wawa, DS, one-coin DS, GLAD (and DS forced to 100 iterations), run in a
    separate virtual environment via subprocess (bench/crowdkit_runner.py): crowd-kit is not
    a dependency of assay. crowd-kit's GLAD is skipped above --ck-glad-max answers (it takes
    minutes per 10k answers);
  * adaptive-overlap replay (``assay quality replay``) at --target vs fixed-K majority vote,
    K = 5 where the median task has >= 5 answers, else the median; plus a sweep over targets
    reporting the largest saving whose accuracy is >= fixed-K MV (chosen with the truth, so
    optimistic — quoted separately);
  * calibration of the reported confidences on the gold tasks.

usage: python bench/quality.py [--datasets a,b] [--repeats 5] [--ck-python /tmp/ck/bin/python]
Writes bench/results/quality.json and the "Quality engine" section of bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import binomtest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
from assay.quality.adaptive import StopRule  # noqa: E402
from assay.quality.calibration import expected_calibration_error  # noqa: E402
from assay.quality.evaluate import (  # noqa: E402
    _canonical_numbers,
    evaluate,
    load_dataset,
    replay,
    typical_labels_per_task,
)

DATA = Path(os.environ.get("ASSAY_DATASETS") or Path(__file__).resolve().parents[2] / "shared" / "datasets")
RESULTS = ROOT / "bench" / "results"
README = ROOT / "bench" / "README.md"
START = "<!-- quality-engine:start -->"
END = "<!-- quality-engine:end -->"
OURS = ["majority_vote", "weighted_majority_vote", "dawid_skene", "one_coin_dawid_skene", "glad", "bayesian_dawid_skene",
        "community_dawid_skene", "mace", "auto"]
SHORT = {
    "majority_vote": "MV",
    "weighted_majority_vote": "WMV",
    "dawid_skene": "DS",
    "one_coin_dawid_skene": "1-coin",
    "glad": "GLAD",
    "bayesian_dawid_skene": "BDS",
    "community_dawid_skene": "CDS",
    "mace": "MACE",
    "auto": "auto",
}
CK = ["MV", "Wawa", "DS", "OneCoinDS", "GLAD", "DS100"]
BINS = [0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0 + 1e-9]
SWEEP = [0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.999]


def categorical_datasets() -> list[Path]:
    out = []
    for folder in sorted(DATA.iterdir()):
        if not ((folder / "labels.csv").is_file() and (folder / "truth.csv").is_file()):
            continue
        ds = load_dataset(folder)
        numeric = _canonical_numbers(set(ds.classes)) is not None
        if numeric and ds.n_classes > 20:  # a score, not a category (emotion_numeric)
            print(f"skip {folder.name}: numeric labels ({ds.n_classes} distinct values)", flush=True)
            continue
        out.append(folder)
    return out


def canon_map(ds) -> callable:
    numeric = _canonical_numbers(set(ds.classes)) is not None

    def canon(v: str | None) -> str | None:
        if v is None:
            return None
        v = str(v).strip()
        if numeric:
            try:
                x = float(v)
                return str(int(x)) if x.is_integer() else repr(x)
            except ValueError:
                return v
        return v

    return canon


def run_crowdkit(folder: Path, ds, args) -> dict:
    methods = list(CK)
    if ds.task.size > args.ck_glad_max:
        methods.remove("GLAD")
    cmd = [args.ck_python, str(ROOT / "bench" / "crowdkit_runner.py"), str(folder), "--repeats", str(args.ck_repeats),
           "--methods", ",".join(methods), "--timed", "DS"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": proc.stderr[-2000:]}
    raw = json.loads(proc.stdout)
    canon = canon_map(ds)
    gold = ds.gold
    truth = {ds.task_names[i]: (ds.classes[ds.truth[i]] if ds.truth[i] >= 0 else None) for i in gold}
    out = {"version": raw.get("crowdkit_version"), "wall_seconds": time.perf_counter() - start, "methods": {}}
    for name in CK:
        if name not in raw["methods"]:
            out["methods"][name] = {"skipped": f"more than {args.ck_glad_max} answers"}
            continue
        e = raw["methods"][name]
        if e.get("error"):
            out["methods"][name] = {"error": e["error"]}
            continue
        labels = e["labels"]
        correct = sum(1 for t, g in truth.items() if g is not None and canon(labels.get(t)) == g)
        if name == "DS":
            out["_ds_correct"] = np.array([g is not None and canon(labels.get(t)) == g for t, g in truth.items()])
        out["methods"][name] = {
            "accuracy": correct / len(gold),
            "seconds": float(np.median(e["seconds"])),
            "seconds_all": e["seconds"],
            "iterations": e.get("iterations"),
        }
    return out


def calibration(conf: np.ndarray, correct: np.ndarray) -> dict:
    rows = []
    for lo, hi in zip(BINS[:-1], BINS[1:]):
        m = (conf >= lo) & (conf < hi)
        rows.append({"bin": [lo, min(hi, 1.0)], "n": int(m.sum()), "accuracy": float(correct[m].mean()) if m.any() else None,
                     "mean_confidence": float(conf[m].mean()) if m.any() else None})
    hi = conf >= 0.9
    ece = expected_calibration_error(conf, correct)  # 10 equal-width bins, as `assay quality eval`
    return {
        "bins": rows,
        "at_least_0.9": {"n": int(hi.sum()), "share_of_tasks": float(hi.mean()),
                         "accuracy": float(correct[hi].mean()) if hi.any() else None},
        "ece": ece,
    }


def bench_dataset(folder: Path, args) -> dict:
    ds = load_dataset(folder)
    gold = ds.gold
    per_task = np.bincount(ds.task, minlength=ds.n_tasks)
    typical = typical_labels_per_task(ds)
    K = 5 if typical >= 5 else typical
    print(f"== {folder.name}: {ds.task.size} answers, {ds.n_tasks} tasks, {gold.size} gold, K={K}", flush=True)
    report = evaluate(ds, repeats=args.repeats)
    ours = {}
    for name, r in report["methods"].items():
        res = r["result"]
        correct = res.labels[gold] == ds.truth[gold]
        ours[name] = {
            "accuracy": r["accuracy"],
            "seconds": r["seconds"],
            "iterations": res.n_iter,
            "calibration": calibration(res.confidence[gold], correct),
        }
        if name == "auto":
            ours[name].update(chosen=res.extra["chosen"], weights=res.extra["weights"], scores=res.extra["scores"],
                              temperature=res.extra["temperature"])
        print(f"   ours {name:24s} acc {r['accuracy']:.4f}  {r['seconds']:.3f}s", flush=True)
    rep = replay(ds, StopRule(target=args.target, max_labels=K))
    fixed = rep["fixed"]
    main_rep = {
        "target": args.target,
        "k": K,
        "adaptive": {"accuracy": rep["adaptive"]["accuracy"], "labels": rep["adaptive"]["labels"]},
        "fixed": {"accuracy": fixed["accuracy"], "labels": fixed["labels"]},
        "saved": 1.0 - rep["adaptive"]["labels"] / fixed["labels"],
    }
    sweep = []
    for tg in SWEEP:
        r = rep if tg == args.target else replay(ds, StopRule(target=tg, max_labels=K))
        sweep.append({"target": tg, "accuracy": r["adaptive"]["accuracy"], "labels": r["adaptive"]["labels"],
                      "saved": 1.0 - r["adaptive"]["labels"] / fixed["labels"]})
    ok = [s for s in sweep if s["accuracy"] >= fixed["accuracy"] - 1e-12]
    best = max(ok, key=lambda s: s["saved"]) if ok else None
    print(f"   replay K={K}: adaptive {main_rep['adaptive']} fixed {main_rep['fixed']} saved {main_rep['saved']:.1%}"
          f"; best at >= fixed accuracy: {best}", flush=True)
    if args.ck_python:
        ck = run_crowdkit(folder, ds, args)
    else:  # crowd-kit's answers do not change with ours: reuse the last run's (its DS paired test included)
        ck = dict(args.saved_crowdkit.get(folder.name) or {"error": "not run"})
    for name, e in ck.get("methods", {}).items():
        print(f"   crowd-kit {name:10s} {e}", flush=True)
    ck_correct = ck.pop("_ds_correct", None)
    if ck_correct is not None:  # paired comparison of the two DS answers on the gold tasks
        ours_correct = report["methods"]["dawid_skene"]["result"].labels[gold] == ds.truth[gold]
        only_ours = int(np.sum(ours_correct & ~ck_correct))
        only_ck = int(np.sum(~ours_correct & ck_correct))
        p = float(binomtest(only_ours, only_ours + only_ck).pvalue) if only_ours + only_ck else 1.0
        ck["ds_paired"] = {"only_ours_right": only_ours, "only_crowdkit_right": only_ck, "sign_test_p": p}
        print(f"   DS paired: only ours right {only_ours}, only crowd-kit right {only_ck}, p={p:.3g}", flush=True)
    return {
        "n_labels": int(ds.task.size),
        "n_tasks": ds.n_tasks,
        "n_workers": ds.n_workers,
        "n_classes": ds.n_classes,
        "n_gold": int(gold.size),
        "median_labels_per_task": float(np.median(per_task)),
        "ours": ours,
        "crowdkit": ck,
        "replay": main_rep,
        "replay_sweep": sweep,
        "replay_best_at_fixed_accuracy": best,
    }


def mix(o: dict) -> str:
    """auto's weights, largest first ("MACE .59 + DS .21 + …")."""
    weights = o.get("weights") or ({o["chosen"]: 1.0} if o.get("chosen") else {})
    return " + ".join(f"{SHORT.get(m, m)} {w:.2f}".replace(" 0.", " .") for m, w in sorted(weights.items(), key=lambda x: -x[1])) \
        or "—"


def fmt(x, spec=".3f", none="—"):
    return none if x is None else format(x, spec)


def markdown(results: dict, meta: dict) -> str:
    L = [START, "## Quality engine", ""]
    L.append(
        f"Measured by `python bench/quality.py` on {meta['machine']}. Times are medians of {meta['repeats']} fits "
        f"(ours) and {meta['ck_repeats']} fits (crowd-kit {meta['crowdkit_version']} DS); every other figure is "
        "a single deterministic run. Accuracy is on the tasks that have gold labels. Our times include building "
        "the index structures from the integer arrays; crowd-kit's are `fit_predict` on a pandas DataFrame. "
        "Raw numbers: `bench/results/quality.json`; synthetic-scale timings: `bench/results/aggregate.json`."
    )
    L.append("")
    L.append("### Accuracy (gold tasks)")
    L.append("")
    L.append("| dataset | answers | gold | " + " | ".join(SHORT[m] for m in OURS) + " | auto's mix "
             "| ck MV | ck Wawa | ck DS | ck DS 100 it. | ck 1-coin | ck GLAD "
             "| DS vs ck DS: only ours / only ck right (sign test p) | DS time ours / ck | DS speed-up |")
    L.append("|---|---:|---:|" + "---:|" * len(OURS) + "---|" + "---:|" * 9)
    for name, r in results.items():
        o = r["ours"]
        ck = r["crowdkit"].get("methods", {})

        def ckacc(m):
            e = ck.get(m, {})
            return fmt(e.get("accuracy"), ".4f", "skipped" if "skipped" in e else ("error" if "error" in e else "—"))

        ds_ck = ck.get("DS", {}).get("seconds")
        ds_us = o["dawid_skene"]["seconds"]
        L.append(
            f"| {name} | {r['n_labels']:,} | {r['n_gold']:,} | "
            + " | ".join(fmt(o[m]["accuracy"], ".4f") for m in OURS)
            + f" | {mix(o['auto'])} | "
            + " | ".join(ckacc(m) for m in ["MV", "Wawa", "DS", "DS100", "OneCoinDS", "GLAD"])
            + " | "
            + (lambda pr: f"{pr['only_ours_right']} / {pr['only_crowdkit_right']} ({pr['sign_test_p']:.2g})" if pr else "—")(
                r["crowdkit"].get("ds_paired"))
            + f" | {ds_us * 1000:.1f} ms / {fmt(ds_ck and ds_ck * 1000, '.0f')} ms | "
            + (f"{ds_ck / ds_us:.0f}×" if ds_ck else "—")
            + " |"
        )
    L.append("")
    a = meta.get("auto_summary")
    if a:
        L.append(
            f"**auto** (chosen without gold) mean accuracy {a['auto_mean']:.4f} over {a['n']} datasets; best of ours "
            f"picked in hindsight with the gold {a['ours_best_mean']:.4f}; crowd-kit's best in hindsight "
            f"{fmt(a['ck_best_mean'], '.4f')}; majority vote {a['mv_mean']:.4f}. Datasets where auto is more than 0.5 point "
            f"below majority vote: {', '.join(a['below_mv']) or 'none'}."
        )
        L.append("")
    L.append("### Adaptive overlap replay")
    L.append("")
    L.append(
        "Adaptive: the stop rule of quality/adaptive.py (StopRule defaults except the target: one-coin posterior with "
        "each worker's accuracy at its 5 % credible lower bound, capped at 0.9; stop when the vote leader reaches "
        "min(target, expected fixed-K MV accuracy + 0.05), or the majority is decided; next answer from the most "
        "reliable worker who answered the task; answer = majority vote of the answers used; worker models "
        "cross-fitted, no task's own answers or truth used). Fixed takes the first K answers and majority-votes them. "
        "Labels = answers consumed on the gold tasks."
    )
    L.append("")
    t = meta["target"]
    L.append(f"| dataset | K | fixed-K MV acc | fixed labels | adaptive acc (target {t}) | adaptive labels | saved | "
             "best saving at ≥ fixed acc (target) |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        rp = r["replay"]
        best = r["replay_best_at_fixed_accuracy"]
        flag = "" if rp["adaptive"]["accuracy"] >= rp["fixed"]["accuracy"] else " (lower acc)"
        L.append(
            f"| {name} | {rp['k']} | {rp['fixed']['accuracy']:.4f} | {rp['fixed']['labels']:,} | "
            f"{rp['adaptive']['accuracy']:.4f} | {rp['adaptive']['labels']:,} | {rp['saved']:.1%}{flag} | "
            + (f"{best['saved']:.1%} ({best['target']})" if best else "none")
            + " |"
        )
    L.append("")
    s = meta["replay_summary"]
    L.append(
        f"Datasets with ≥ 5 answers per task ({s['n']}): mean saving at target {t}: **{s['mean_saved']:.1%}**; "
        f"at equal-or-better accuracy on {s['n_ge']}/{s['n']} of them. Mean of the best saving at ≥ fixed accuracy "
        f"(target picked per dataset with the truth, so optimistic): {fmt(s['mean_best'], '.1%')} "
        f"(datasets where no target reaches fixed-K accuracy count as 0 %)."
    )
    L.append("")
    L.append("### Calibration (auto's confidences on gold tasks)")
    L.append("")
    bins = [f"{lo:g}–{min(hi, 1):g}" for lo, hi in zip(BINS[:-1], BINS[1:])]
    L.append("| dataset | conf ≥ 0.9: tasks | accuracy | ECE | " + " | ".join(bins) + " |")
    L.append("|---|---:|---:|---:|" + "---:|" * len(bins))
    for name, r in results.items():
        c = r["ours"]["auto"]["calibration"]
        cells = [f"{fmt(b['accuracy'], '.2f')} ({b['n']})" if b["n"] else "—" for b in c["bins"]]
        L.append(
            f"| {name} | {c['at_least_0.9']['n']} ({c['at_least_0.9']['share_of_tasks']:.0%}) | "
            f"{fmt(c['at_least_0.9']['accuracy'], '.3f')} | {c['ece']:.3f} | " + " | ".join(cells) + " |"
        )
    L.append("")
    L.append("Share correct among answers reported with confidence ≥ 0.9, every method (pooled over datasets):")
    L.append("")
    L.append("| method | tasks with conf ≥ 0.9 | accuracy |")
    L.append("|---|---:|---:|")
    for m in OURS:
        n = sum(r["ours"][m]["calibration"]["at_least_0.9"]["n"] for r in results.values())
        k = sum((r["ours"][m]["calibration"]["at_least_0.9"]["accuracy"] or 0) * r["ours"][m]["calibration"]["at_least_0.9"]["n"]
                for r in results.values())
        L.append(f"| {m} | {n:,} | {fmt(k / n if n else None, '.3f')} |")
    L.append("")
    agg_path = RESULTS / "aggregate.json"
    if agg_path.exists():
        agg = json.loads(agg_path.read_text())
        L.append("### Scale (synthetic, `bench/aggregate.py`)")
        L.append("")
        L.append(
            "5 answers per task, 4 classes, random worker confusion matrices (10 % spammers); each method in a "
            f"fresh process, fit time = median of the runs shown, peak RSS of the whole process. {agg.get('note', '')}."
        )
        L.append("")
        L.append("| answers | method | fit time (s) | runs | iterations | peak RSS (MB) | accuracy vs simulated truth |")
        L.append("|---:|---|---:|---:|---:|---:|---:|")
        for row in agg["results"]:
            if "seconds" not in row:
                L.append(f"| {row['n_labels']:,} | {row['method']} | {row.get('skipped') or 'failed'} | | | | |")
                continue
            L.append(
                f"| {row['n_labels']:,} | {row['method']} | {row['seconds']:.2f} | {row.get('repeats', '')} | "
                f"{row['iterations']} | {row['peak_rss_mb']:.0f} | {row['accuracy_vs_simulated_truth']:.4f} |"
            )
        L.append("")
    L.append("### Notes")
    L.append("")
    below = []
    for name, r in results.items():
        ck_ds = r["crowdkit"].get("methods", {}).get("DS", {}).get("accuracy")
        ours_ds = r["ours"]["dawid_skene"]["accuracy"]
        if ck_ds is not None and ours_ds < ck_ds - 1e-12:
            pr = r["crowdkit"].get("ds_paired") or {}
            below.append(
                f"{name} ({ours_ds:.4f} vs {ck_ds:.4f}: {pr.get('only_ours_right', '?')} tasks only ours right, "
                f"{pr.get('only_crowdkit_right', '?')} only crowd-kit's, sign test p = {pr.get('sign_test_p', float('nan')):.2g})"
            )
    if below:
        L.append("* **Where our Dawid-Skene is below crowd-kit's:** " + "; ".join(below) + ". Explanations follow.")
    else:
        L.append("* Our Dawid-Skene is at least as accurate as crowd-kit's on every dataset.")
    for note in meta["notes"]:
        L.append(f"* {note}")
    L.append("")
    L.append(END)
    return "\n".join(L) + "\n"


def summarise_auto(results: dict) -> dict:
    """auto's mean accuracy against majority vote and the best-in-hindsight picks (ours, crowd-kit)."""
    ck_best = []
    for r in results.values():
        accs = [e.get("accuracy") for e in r["crowdkit"].get("methods", {}).values() if e.get("accuracy") is not None]
        ck_best.append(max(accs) if accs else None)
    return {
        "n": len(results),
        "auto_mean": float(np.mean([r["ours"]["auto"]["accuracy"] for r in results.values()])),
        "mv_mean": float(np.mean([r["ours"]["majority_vote"]["accuracy"] for r in results.values()])),
        "ours_best_mean": float(np.mean([max(r["ours"][m]["accuracy"] for m in OURS if m != "auto") for r in results.values()])),
        "ck_best_mean": float(np.mean(ck_best)) if ck_best and all(x is not None for x in ck_best) else None,
        "below_mv": [f"{name} ({r['ours']['auto']['accuracy']:.4f} vs {r['ours']['majority_vote']['accuracy']:.4f})"
                     for name, r in results.items()
                     if r["ours"]["auto"]["accuracy"] < r["ours"]["majority_vote"]["accuracy"] - 0.005],
    }


DOCS = ROOT / "docs" / "quality.md"
DOC_START, DOC_END = "<!-- measured:start -->", "<!-- measured:end -->"


def docs_table(results: dict, meta: dict) -> str:
    """docs/quality.md's measured table: accuracy of every method, auto's choice, its
    calibration (adaptive overlap has its own table, bench/adaptive_overlap.py)."""
    L = [DOC_START, "", f"`python bench/quality.py` on {meta['machine']}{meta.get('load', '')}; accuracy on the gold tasks; "
         "ECE over 10 equal-width confidence bins; *auto s*: auto's fit time (median of the repeats), cross-validation "
         f"included; crowd-kit {meta['crowdkit_version']}.", ""]
    L.append("| dataset | " + " | ".join(SHORT[m] for m in OURS) + " | auto's mix | auto s | ck best | auto ECE "
             "| auto ≥ 0.9: n (right) |")
    L.append("|---|" + "---:|" * len(OURS) + "---|---:|---:|---:|---:|")
    for name, r in results.items():
        o = r["ours"]
        ck = [e.get("accuracy") for e in r["crowdkit"].get("methods", {}).values() if e.get("accuracy") is not None]
        cal = o["auto"]["calibration"]
        hi = cal["at_least_0.9"]
        L.append(f"| {name} | " + " | ".join(fmt(o[m]["accuracy"], ".4f") for m in OURS)
                 + f" | {mix(o['auto'])} | {o['auto']['seconds']:.1f} | {fmt(max(ck) if ck else None, '.4f')} | {cal['ece']:.3f} | "
                 f"{hi['n']} ({fmt(hi['accuracy'], '.3f')}) |")
    a = meta.get("auto_summary")
    if a:
        L += ["", f"Means over {a['n']} sets: auto **{a['auto_mean']:.4f}**, majority vote {a['mv_mean']:.4f}, best of ours "
              f"in hindsight {a['ours_best_mean']:.4f}, crowd-kit's best in hindsight {fmt(a['ck_best_mean'], '.4f')}. "
              f"auto more than 0.5 point below MV: {', '.join(a['below_mv']) or 'none'}."]
    L += ["", "Adaptive overlap: its own table under [Adaptive overlap](#adaptive-overlap).", "", DOC_END]
    return "\n".join(L)


def write_docs(table: str) -> None:
    if DOCS.exists():
        text = DOCS.read_text()
        if DOC_START in text and DOC_END in text:
            before, rest = text.split(DOC_START, 1)
            DOCS.write_text(before + table + rest.split(DOC_END, 1)[1])


def write_readme(section: str) -> None:
    if README.exists():
        text = README.read_text()
        if START in text and END in text:
            before, rest = text.split(START, 1)
            _, after = rest.split(END, 1)
            text = before + section.rstrip("\n") + after
        else:
            text = text.rstrip("\n") + "\n\n" + section
    else:
        text = "# Benchmarks\n\n" + section
    README.write_text(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", default="", help="comma-separated folder names (default: all categorical)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--ck-repeats", type=int, default=3)
    ap.add_argument("--ck-python", default="/tmp/ck/bin/python",
                    help="python of the crowd-kit venv ('' = reuse crowd-kit's results from the saved quality.json)")
    ap.add_argument("--ck-glad-max", type=int, default=40_000, help="skip crowd-kit GLAD above this many answers")
    ap.add_argument("--target", type=float, default=StopRule.target)
    ap.add_argument("--no-readme", action="store_true")
    ap.add_argument("--from-json", action="store_true", help="only rewrite the README section from the saved JSON")
    args = ap.parse_args()
    if args.from_json:
        saved = json.loads((RESULTS / "quality.json").read_text())
        saved["meta"]["notes"] = NOTES
        saved["meta"]["auto_summary"] = summarise_auto(saved["datasets"])
        write_readme(markdown(saved["datasets"], saved["meta"]))
        write_docs(docs_table(saved["datasets"], saved["meta"]))
        print(f"rewrote the Quality engine section of {README}")
        return
    if not DATA.is_dir():
        sys.exit(f"{DATA} not found (set ASSAY_DATASETS)")
    if args.ck_python and not Path(args.ck_python).exists():
        sys.exit(f"{args.ck_python} not found: python3 -m venv /tmp/ck && /tmp/ck/bin/pip install crowd-kit "
                 "scikit-learn==1.5.2 pandas   (or pass --ck-python '')")
    saved_path = RESULTS / "quality.json"
    saved = json.loads(saved_path.read_text()) if saved_path.exists() else {"meta": {}, "datasets": {}}
    args.saved_crowdkit = {name: r.get("crowdkit") for name, r in saved["datasets"].items()}
    folders = categorical_datasets()
    if args.datasets:
        wanted = set(args.datasets.split(","))
        folders = [f for f in folders if f.name in wanted]
    results = {f.name: bench_dataset(f, args) for f in folders}

    five = [r for r in results.values() if r["median_labels_per_task"] >= 5]
    summary = {
        "n": len(five),
        "mean_saved": float(np.mean([r["replay"]["saved"] for r in five])) if five else None,
        "n_ge": sum(r["replay"]["adaptive"]["accuracy"] >= r["replay"]["fixed"]["accuracy"] for r in five),
        "mean_best": float(np.mean([(r["replay_best_at_fixed_accuracy"] or {"saved": 0.0})["saved"] for r in five]))
        if five else None,
    }
    auto_summary = summarise_auto(results)
    ck_version = next((r["crowdkit"].get("version") for r in results.values() if r["crowdkit"].get("version")), "n/a")
    if not args.ck_python:
        ck_version += " (results of the previous run, reused: crowd-kit not installed here)"
    meta = {
        "load": f", load average {os.getloadavg()[0]:.1f} at the end of the run",
        "machine": f"{os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}), shared with other jobs, "
        f"Python {platform.python_version()}, numpy {np.__version__}",
        "repeats": args.repeats,
        "ck_repeats": args.ck_repeats,
        "crowdkit_version": ck_version,
        "target": args.target,
        "replay_summary": summary,
        "auto_summary": auto_summary,
        "notes": NOTES,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "quality.json").write_text(json.dumps({"meta": meta, "datasets": results}, indent=2) + "\n")
    print(f"wrote {RESULTS / 'quality.json'}")
    if not args.no_readme:
        write_readme(markdown(results, meta))
        write_docs(docs_table(results, meta))
        print(f"wrote the Quality engine section of {README}")


NOTES = [
    "**auto on fact_eval.** Every model with class-dependent confusion matrices (DS, BDS, CDS, MACE) calls "
    "3-to-2 'yes' tasks 'no' there: workers rarely say 'no' to a true 'yes' (2.7 %) but often 'yes' to a true "
    "'no' (17 %), so two 'no' votes outweigh three 'yes'. The gold is 92 % 'yes' (531 of 576) against about 60 % "
    "of all tasks by any method, so the gold set over-represents exactly the tasks this rule gets wrong; the "
    "held-out labels cannot see that: on the tasks where BDS/MACE and majority vote disagree, the held-out answers "
    "agree with BDS's label 61 % of the time and with majority vote's 39 %, and the richer models predict those "
    "answers better (paired difference 6.5 standard errors, clustered by worker). auto excludes DS and CDS there "
    "(not identifiable: a class nobody answers holds their 'ambiguous' cluster) and mixes BDS and MACE. A model "
    "with easy and hard tasks was tried (hard: every worker answers from their own truth-free distribution); one "
    "of its EM optima has 92 % 'yes' tasks and MV's accuracy, the other BDS's, and which one a fit reaches "
    "depends on the data split, so it did not earn a place in auto.",
    "**fact_eval, DS below crowd-kit and below MV.** crowd-kit's DawidSkene stops when its evidence lower bound "
    "goes *down* between iterations; on fact_eval that happens after 2 iterations, so its 0.89 is essentially "
    "majority vote plus one EM step. Run to 100 iterations (column *ck DS 100 it.*) crowd-kit gets exactly our "
    "converged figure. The cause is a rare class: 'skip' is 0.14 % of the answers, and converged EM re-purposes "
    "that latent class as an 'ambiguous task' cluster (its prior rises to ~13 %), pulling genuinely-class-1 "
    "tasks with split votes into it.",
    "Elsewhere the two DS implementations differ by a handful of tasks (paired counts and sign-test p-values "
    "above and in the table). The models differ in our Dirichlet smoothing towards the "
    "population confusion matrix (`prior_strength=1` pseudo-answer per row; crowd-kit has none) and in the "
    "stopping rule; no single strength is ahead on every dataset (we tried 0-8 and did not tune per dataset).",
    "MV differs from crowd-kit's MV only in ties: we give a tie to the class answered more often overall "
    "(crowd-kit: the smallest label). On trec2010_relevance and temp the more-answered class is the less "
    "frequent true class, so crowd-kit's rule happens to win there; the fixed-K baseline uses our rule.",
    "**Calibration.** Dawid-Skene (and one-coin, GLAD) multiply per-answer likelihoods as if workers erred "
    "independently, so their posteriors are over-confident where errors are correlated or tasks vary in "
    "difficulty (barzan_mozafari, trec*: of the answers reported at ≥ 0.9, 74-77 % are right). Use the "
    "confidence to rank and to decide when to stop asking, not as a probability, unless recalibrated on gold. "
    "Majority vote's smoothed share rarely reaches 0.9 (only for near-unanimous tasks with many answers).",
    "One-coin DS and GLAD keep a uniform class prior (as GLAD's paper and crowd-kit's GLAD do): with "
    "symmetric errors a fitted prior absorbs the workers' over-use of a class — crowd-kit's OneCoinDawidSkene, "
    "which fits it, collapses to 0.19 on trec2010_relevance.",
    "hitspam_crowdflower has 100 gold tasks, 34 of them answered unanimously; every method ties there.",
    "crowd-kit GLAD is skipped on the datasets with more than 40,000 answers: it needs minutes per 10k "
    "answers on this machine (web, 15.6k answers: ~160 s).",
]


if __name__ == "__main__":
    main()

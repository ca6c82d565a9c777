"""Does the auto-accept guarantee hold? A simulation on real labelled text sets.

For each dataset folder (items.csv: id,text,label) and each random split:
  1. "humans" label a random --train share of the items; the built-in TextClassifier (TF-IDF
     word+char n-grams, logistic regression) is trained on those answers;
  2. humans also answer a random --calibration share; the model's top probability and whether
     its answer equals the human one calibrate the threshold (assay.learning.autoaccept:
     lowest threshold whose one-sided Clopper-Pearson bound at --confidence reaches --target);
  3. on the rest, items scoring at or above the threshold would be auto-accepted, except an
     --audit share (hash of the item id, as in production) that still goes to humans.
     Realised accuracy = the model's accuracy on the auto-accepted items against the true labels.

The guarantee is about the accuracy *above the threshold in the population*, with probability
≈ --confidence over the draw of the calibration items; on a finite "rest" the realised
accuracy scatters around that, so "held" below counts splits whose realised accuracy ≥ target.

"Human" answers are the true labels, except for sentiment_polarity, which has real crowd
answers (labels.csv): there "human" is the majority vote of each item's 4-10 MTurk answers
(ties broken at random, seeded), so the guarantee is about agreement with the crowd's majority;
both agreement with the crowd and accuracy against the truth are reported.

A model is trained per --models draw of the human-labelled part; each is reused for
--splits / --models random calibration/rest partitions of the remaining items (the guarantee
is conditional on the model, so re-drawing the calibration set is what tests it). Both
threshold rules are run on every split: "lowest" (the default) and "fixed_sequence".

A synthetic check follows (no model): calibration sets drawn from known score → accuracy
curves, where the population accuracy above the chosen threshold is known exactly, so the
guarantee itself is measured without the scatter of a finite "rest".

usage: python bench/autoaccept.py DIR [DIR ...] | --all  [--json] [--target 0.95,0.9] [--confidence 0.95]
       [--splits 50] [--models 5] [--train 0.3] [--calibration 0.2] [--audit 0.05] [--jobs 2]
       [--synthetic-draws 1000] [--synthetic-n 1000]
Writes bench/results/autoaccept.json with --all, else bench/results/autoaccept_<name>.json.
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
from collections import Counter, defaultdict  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402

import numpy as np  # noqa: E402

from assay.learning.autoaccept import RULES, accept_mask, audit_selected, calibrate_threshold, clopper_pearson  # noqa: E402
from assay.learning.textmodel import TextClassifier  # noqa: E402

DATA = Path(os.environ.get("ASSAY_DATASETS") or Path(__file__).resolve().parents[2] / "shared" / "datasets")
RESULTS = ROOT / "bench" / "results"
ALL = ["text/rt_polarity", "text/sms_spam", "text/trec", "text/bbc_news", "sentiment_polarity"]

csv.field_size_limit(10_000_000)  # bbc_news articles


def load(folder: Path) -> dict:
    """ids, texts, true labels, and the "human" answers (crowd majority vote where labels.csv exists)."""
    with open(folder / "items.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    ids = [r["id"] for r in rows]
    texts = [r["text"] for r in rows]
    truth = [r["label"] for r in rows]
    human, source = list(truth), "true labels"
    if (folder / "labels.csv").exists():
        answers: dict[str, list[str]] = defaultdict(list)
        with open(folder / "labels.csv", newline="", encoding="utf-8") as f:
            for r in csv.DictReader(f):
                answers[r["task"]].append(r["label"])
        rng = np.random.default_rng(12345)
        human = []
        for item_id, true_label in zip(ids, truth):
            counts = Counter(answers.get(item_id, []))
            if not counts:  # no crowd answer: nothing else to go on
                human.append(true_label)
                continue
            top = max(counts.values())
            tied = sorted(c for c, v in counts.items() if v == top)
            human.append(tied[rng.integers(len(tied))])
        source = "crowd majority vote (labels.csv)"
    return {"name": folder.name, "ids": ids, "texts": texts, "truth": np.array(truth), "human": np.array(human), "human_source": source}


def run_model(args) -> list[dict]:
    """Train one model on a random human-labelled part, then evaluate many calibration/rest splits."""
    data, model_index, splits, opts = args
    n = len(data["texts"])
    rng = np.random.default_rng(1000 + model_index)
    order = rng.permutation(n)
    n_train, n_cal = int(round(opts["train"] * n)), int(round(opts["calibration"] * n))
    train, pool = order[:n_train], order[n_train:]
    t0 = time.perf_counter()
    model = TextClassifier().fit([data["texts"][i] for i in train], data["human"][train].tolist())
    proba = model.predict_proba([data["texts"][i] for i in pool])
    model_seconds = time.perf_counter() - t0
    score = proba.max(axis=1)
    predicted = np.array(model.classes)[proba.argmax(axis=1)]
    agrees_human = predicted == data["human"][pool]
    agrees_truth = predicted == data["truth"][pool]
    ids = np.array(data["ids"])[pool]

    records = []
    for split in range(splits):
        split_id = model_index * splits + split
        perm = np.random.default_rng(50_000 + split_id).permutation(len(pool))
        cal, rest = perm[:n_cal], perm[n_cal:]
        audited = np.array([audit_selected(str(i), opts["audit"], salt=f"split-{split_id}") for i in ids[rest]], dtype=bool)
        record = {
            "split": split_id,
            "model": model_index,
            "model_seconds": model_seconds if split == 0 else None,
            "model_accuracy_rest": float(agrees_truth[rest].mean()),
            "model_agreement_human_rest": float(agrees_human[rest].mean()),
        }
        for target, rule in [(t, r) for t in opts["targets"] for r in RULES]:
            t1 = time.perf_counter()
            cal_result = calibrate_threshold(score[cal], agrees_human[cal], target, opts["confidence"], rule=rule)
            calibrate_ms = (time.perf_counter() - t1) * 1000
            would = accept_mask(score[rest], cal_result.threshold)
            above = accept_mask(score, cal_result.threshold)  # over the whole pool the calibration set was drawn from
            accepted = would & ~audited
            audit_items = would & audited
            out = {
                "threshold": cal_result.threshold,
                "calibration_lower_bound": cal_result.lower_bound,
                "calibration_accuracy": cal_result.accuracy,
                "calibration_n_above": cal_result.n,
                "calibrate_ms": calibrate_ms,
                "accepted": int(accepted.sum()),
                "share_accepted": float(accepted.mean()),
                "audited": int(audit_items.sum()),
                "accuracy": float(agrees_truth[rest][accepted].mean()) if accepted.any() else None,
                "agreement_human": float(agrees_human[rest][accepted].mean()) if accepted.any() else None,
                "population_agreement_human": float(agrees_human[above].mean()) if above.any() else None,
                "population_accuracy": float(agrees_truth[above].mean()) if above.any() else None,
                "correct_truth": int(agrees_truth[rest][accepted].sum()),
                "correct_human": int(agrees_human[rest][accepted].sum()),
                "audit_agreement_human": float(agrees_human[rest][audit_items].mean()) if audit_items.any() else None,
            }
            records.append({**record, "target": target, "rule": rule, **out})
    return records


def median(values) -> float | None:
    values = [v for v in values if v is not None]
    return float(np.median(values)) if values else None


def guarantee_summary(rows: list[dict], target: float, correct_key: str, accuracy_key: str, population_key: str) -> dict:
    """How often realised accuracy on the auto-accepted items reached the target.

    A split that accepts nothing keeps the promise trivially: it counts as held (the guarantee
    is a statement over all draws of the calibration set), and the count is shown. A miss is
    "clear" when even the one-sided 95 % Clopper-Pearson upper bound of the accepted items'
    accuracy is below the target (so it is not just the scatter of a finite set of accepted items).
    "Population" is what the guarantee is about: the calibration set is a random sample of the
    model's pool (every item it was not trained on), so the accuracy of the whole pool above the
    threshold is the quantity that should be ≥ target in ≥ confidence of the splits.
    """
    accepting = [r for r in rows if r["accepted"] > 0]
    held = [r[accuracy_key] >= target for r in accepting]
    misses = [r for r in accepting if r[accuracy_key] < target]
    clear = [r for r in misses if clopper_pearson(r[correct_key], r["accepted"], 0.95, side="upper") < target]
    n_held = sum(held) + (len(rows) - len(accepting))
    population_held = sum(r[population_key] is None or r[population_key] >= target for r in rows)
    return {
        "population_held_fraction": population_held / len(rows) if rows else None,
        "population_held_count": f"{population_held}/{len(rows)}",
        "population_accuracy_median": median(r[population_key] for r in rows),
        "held_fraction": n_held / len(rows) if rows else None,
        "held_count": f"{n_held}/{len(rows)}",
        "held_fraction_when_accepting": float(np.mean(held)) if accepting else None,
        "misses": len(misses),
        "clear_misses": len(clear),
        "realised_accuracy_median": median(r[accuracy_key] for r in accepting),
        "realised_accuracy_min": min((r[accuracy_key] for r in accepting), default=None),
    }


def summarise(data: dict, records: list[dict], opts: dict) -> dict:
    n = len(data["texts"])
    crowd = data["human_source"] != "true labels"
    n_train, n_cal = int(round(opts["train"] * n)), int(round(opts["calibration"] * n))
    out = {
        "items": n,
        "classes": sorted(set(data["truth"].tolist())),
        "human_answers": data["human_source"],
        "human_accuracy": float((data["human"] == data["truth"]).mean()),
        "sizes": {"train": n_train, "calibration": n_cal, "rest": n - n_train - n_cal},
        "model_seconds_median": median(r["model_seconds"] for r in records),
        "model_accuracy_rest_median": median(r["model_accuracy_rest"] for r in records),
        "model_agreement_human_rest_median": median(r["model_agreement_human_rest"] for r in records),
        "results": [],
    }
    for target in opts["targets"]:
        for rule in RULES:
            rows = [r for r in records if r["rule"] == rule and r["target"] == target]
            summary = {
                "target": target,
                "rule": rule,
                "splits": len(rows),
                "splits_accepting_nothing": sum(r["accepted"] == 0 for r in rows),
                # "human" = the answers calibration used: the guarantee is about agreeing with them
                **guarantee_summary(rows, target, "correct_human", "agreement_human", "population_agreement_human"),
                "share_accepted_median": median(r["share_accepted"] for r in rows),
                "accepted_median": median(r["accepted"] for r in rows),
                "threshold_median": median(r["threshold"] for r in rows),
                "calibration_lower_bound_median": median(r["calibration_lower_bound"] for r in rows),
                "audited_median": median(r["audited"] for r in rows),
                "audit_agreement_median": median(r["audit_agreement_human"] for r in rows),
                "calibrate_ms_median": median(r["calibrate_ms"] for r in rows),
            }
            if crowd:  # calibrated against the crowd: how did it fare against the truth?
                summary["vs_truth"] = guarantee_summary(rows, target, "correct_truth", "accuracy", "population_accuracy")
            out["results"].append(summary)
    # Every split, as a table (one list per split) to keep the file small.
    columns = [k for k in records[0] if k != "model_seconds"] if records else []
    out["splits"] = {
        "columns": columns,
        "rows": [[round(r[c], 5) if isinstance(r[c], float) else r[c] for c in columns] for r in records],
    }
    return out


# P(model right | score) for scores uniform on [0.5, 1] (a binary classifier's top probability):
SYNTHETIC_CURVES = {
    "calibrated": lambda s: s,  # accuracy above t = (1 + t) / 2
    "plateau_0.96": lambda s: np.minimum(s, 0.96),  # accuracy hovers just above 0.95 over a wide range
    "overconfident_top": lambda s: np.where(s >= 0.98, 0.85, s),  # the surest 4 % are worse than their neighbours
}


def synthetic_check(targets: list[float], confidence: float, n_calibration: int, draws: int, seed: int = 7) -> dict:
    """The guarantee with known ground truth: draw calibration sets from a known score → accuracy
    curve, choose the threshold, and compute the exact population accuracy above it (a fine grid
    of the curve). Counts how often that is ≥ target, per rule, against the best possible share."""
    grid = np.linspace(0.5, 1.0, 200_001)
    rng = np.random.default_rng(seed)
    out = {}
    for name, curve in SYNTHETIC_CURVES.items():
        p_grid = curve(grid)
        # accuracy of the population above grid[i] = mean of p over grid[i:]
        above_mean = np.cumsum(p_grid[::-1])[::-1] / np.arange(len(grid), 0, -1)
        for target in targets:
            ok = np.flatnonzero(above_mean >= target)
            oracle_share = float((1.0 - grid[ok[0]]) / 0.5) if len(ok) else 0.0
            calibrations = []
            for _ in range(draws):
                scores = rng.uniform(0.5, 1.0, n_calibration)
                correct = rng.random(n_calibration) < curve(scores)
                calibrations.append((scores, correct))
            for rule in RULES:
                held, shares, accuracies = 0, [], []
                for scores, correct in calibrations:
                    t = calibrate_threshold(scores, correct, target, confidence, rule=rule).threshold
                    if t is None:
                        held += 1
                        shares.append(0.0)
                        continue
                    i = min(int(np.searchsorted(grid, t)), len(grid) - 1)
                    accuracies.append(float(above_mean[i]))
                    held += above_mean[i] >= target
                    shares.append(float((1.0 - t) / 0.5))
                out[f"{name}/{target}/{rule}"] = {
                    "curve": name,
                    "target": target,
                    "rule": rule,
                    "draws": draws,
                    "calibration_items": n_calibration,
                    "held_fraction": held / draws,
                    "share_accepted_median": median(shares),
                    "oracle_share": oracle_share,
                    "population_accuracy_median": median(accuracies),
                    "population_accuracy_min": min(accuracies, default=None),
                    "splits_accepting_nothing": sum(x == 0.0 for x in shares),
                }
    return out


def time_calibration(size: int = 100_000, repeats: int = 5) -> dict:
    """Median wall time of calibrate_threshold on ``size`` items with distinct scores (every one a candidate)."""
    rng = np.random.default_rng(3)
    scores = rng.random(size)
    correct = rng.random(size) < 0.7 + 0.3 * scores
    out = {"items": size}
    for rule in RULES:
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            calibrate_threshold(scores, correct, 0.95, 0.95, rule=rule)
            times.append((time.perf_counter() - t0) * 1000)
        out[f"{rule}_ms_median"] = float(np.median(times))
    return out


def fmt(v, pct=True, digits=1):
    if v is None:
        return "–"
    return f"{100 * v:.{digits}f} %" if pct else f"{v:.3f}"


def print_table(results: dict, opts: dict) -> None:
    print(f"\nconfidence {opts['confidence']}, audit {opts['audit']}, {opts['splits']} splits per dataset and target")
    head = (
        "| dataset | items (train/cal/rest) | model acc. | target | rule | held on rest (none accepted) | misses (clear) "
        "| held on pool | realised acc. median / min | auto-accepted median | threshold median |"
    )
    print(head)
    print("|---" * (head.count("|") - 1) + "|")
    for name, r in results.items():
        s = r["sizes"]
        for x in r["results"]:
            rows = [(name, x)] + ([(name + " vs truth", {**x, **x["vs_truth"]})] if "vs_truth" in x else [])
            for label, y in rows:
                print(
                    f"| {label} | {r['items']} ({s['train']}/{s['calibration']}/{s['rest']}) | {fmt(r['model_accuracy_rest_median'])} | "
                    f"{y['target']} | {y['rule']} | {y['held_count']} ({y['splits_accepting_nothing']}) | {y['misses']} ({y['clear_misses']}) | "
                    f"{y['population_held_count']} | "
                    f"{fmt(y['realised_accuracy_median'])} / {fmt(y['realised_accuracy_min'])} | {fmt(y['share_accepted_median'])} | "
                    f"{fmt(y['threshold_median'], pct=False)} |"
                )


def print_synthetic(synthetic: dict) -> None:
    first = next(iter(synthetic.values()))
    print(f"\nsynthetic: {first['draws']} calibration sets of {first['calibration_items']} items per case; exact population accuracy")
    head = (
        "| curve | target | rule | held | accepting nothing | population acc. median / min | share accepted median | best possible share |"
    )
    print(head)
    print("|---" * (head.count("|") - 1) + "|")
    for x in synthetic.values():
        print(
            f"| {x['curve']} | {x['target']} | {x['rule']} | {fmt(x['held_fraction'])} | {x['splits_accepting_nothing']} | "
            f"{fmt(x['population_accuracy_median'], digits=2)} / {fmt(x['population_accuracy_min'], digits=2)} | "
            f"{fmt(x['share_accepted_median'])} | {fmt(x['oracle_share'])} |"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dirs", nargs="*", help="dataset folders with items.csv")
    ap.add_argument("--all", action="store_true", help="every dataset: " + ", ".join(ALL))
    ap.add_argument("--json", action="store_true", help="print the summary as JSON instead of a table")
    ap.add_argument("--target", default="0.95,0.9", help="target accuracy; several, comma-separated, share the models")
    ap.add_argument("--confidence", type=float, default=0.95)
    ap.add_argument("--splits", type=int, default=50)
    ap.add_argument("--models", type=int, default=5, help="models trained per dataset (splits are shared among them)")
    ap.add_argument("--train", type=float, default=0.3, help="share of items labelled by humans to train on")
    ap.add_argument("--calibration", type=float, default=0.2, help="share of items labelled by humans to calibrate on")
    ap.add_argument("--audit", type=float, default=0.05)
    ap.add_argument("--jobs", type=int, default=2, help="processes (one model each)")
    ap.add_argument("--synthetic-draws", type=int, default=1000, help="calibration sets drawn per synthetic case (0 = skip)")
    ap.add_argument("--synthetic-n", type=int, default=1000, help="calibration items per synthetic draw")
    opts_ns = ap.parse_args()
    folders = [DATA / d for d in ALL] if opts_ns.all else [Path(d) for d in opts_ns.dirs]
    if not folders:
        ap.error("give dataset folders or --all")
    if opts_ns.splits % opts_ns.models:
        ap.error("--splits must be a multiple of --models")
    opts = {k: getattr(opts_ns, k) for k in ("confidence", "splits", "models", "train", "calibration", "audit")}
    opts["targets"] = [float(t) for t in opts_ns.target.split(",")]

    started = time.perf_counter()
    datasets = [load(f) for f in folders]
    jobs = [(d, m, opts["splits"] // opts["models"], opts) for d in datasets for m in range(opts["models"])]
    with ProcessPoolExecutor(max_workers=opts_ns.jobs) as pool:
        futures = [pool.submit(run_model, job) for job in jobs]
        synthetic = (
            synthetic_check(opts["targets"], opts["confidence"], opts_ns.synthetic_n, opts_ns.synthetic_draws)
            if opts_ns.synthetic_draws
            else {}
        )
        outputs = [f.result() for f in futures]
    records: dict[str, list] = defaultdict(list)
    for (d, *_), recs in zip(jobs, outputs):
        records[d["name"]].extend(recs)
    results = {d["name"]: summarise(d, records[d["name"]], opts) for d in datasets}
    seconds = time.perf_counter() - started

    report = {
        "benchmark": "autoaccept",
        "options": opts,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "processes": opts_ns.jobs},
        "seconds": seconds,
        "datasets": results,
        "synthetic": synthetic,
        "calibration_speed": time_calibration(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "autoaccept.json" if opts_ns.all else "autoaccept_" + "_".join(d["name"] for d in datasets) + ".json"
    (RESULTS / name).write_text(json.dumps(report, indent=1) + "\n")
    if opts_ns.json:
        brief = {k: {kk: vv for kk, vv in v.items() if kk != "splits"} for k, v in results.items()}
        print(json.dumps({**report, "datasets": brief}, indent=1))
    else:
        print_table(results, opts)
        if synthetic:
            print_synthetic(synthetic)
        speed = report["calibration_speed"]
        print(
            f"\ncalibrate_threshold on {speed['items']:,} items: "
            + ", ".join(f"{k[:-10]} {v:.0f} ms" for k, v in speed.items() if k != "items")
        )
        print(f"{seconds:.0f} s in all ({opts_ns.jobs} processes); wrote {RESULTS / name}")


if __name__ == "__main__":
    main()

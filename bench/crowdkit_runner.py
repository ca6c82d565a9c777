"""Run crowd-kit aggregators on one labels.csv; print one JSON object on stdout.

Runs inside a separate virtual environment that has crowd-kit (never assay's):
    /tmp/ck/bin/python bench/crowdkit_runner.py DIR [--repeats N] [--methods DS,OneCoinDS,GLAD,MV]
Output: {"crowdkit_version": str, "methods": {name: {"seconds": [..], "labels": {task: label},
"confidence": {task: p} | null, "iterations": int, "error": str | null}}}. Labels are read as strings.
"""

import argparse
import json
import sys
import time
import warnings

import pandas as pd

warnings.filterwarnings("ignore")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--methods", default="MV,Wawa,DS,OneCoinDS,GLAD")
    ap.add_argument("--timed", default="DS", help="methods fitted --repeats times (others once)")
    args = ap.parse_args()

    import crowdkit
    from crowdkit.aggregation import GLAD, DawidSkene, MajorityVote, OneCoinDawidSkene, Wawa

    makers = {
        "MV": MajorityVote,
        "Wawa": Wawa,
        "DS": lambda: DawidSkene(n_iter=100),
        "OneCoinDS": lambda: OneCoinDawidSkene(n_iter=100),
        "GLAD": lambda: GLAD(n_iter=100, silent=True),
        # DS run for all 100 iterations: crowd-kit's DS stops as soon as its ELBO goes down,
        # which on some data is after 2 iterations
        "DS100": lambda: DawidSkene(n_iter=100, tol=-1e300),
    }
    timed = set(args.timed.split(","))
    df = pd.read_csv(f"{args.folder}/labels.csv", dtype=str, keep_default_na=False)[["worker", "task", "label"]]
    df = df.apply(lambda s: s.str.strip())
    out = {"crowdkit_version": getattr(crowdkit, "__version__", "?"), "methods": {}}
    for name in args.methods.split(","):
        entry = {"seconds": [], "labels": None, "confidence": None, "error": None}
        try:
            for _ in range(args.repeats if name in timed else 1):
                model = makers[name]()
                start = time.perf_counter()
                labels = model.fit_predict(df)
                entry["seconds"].append(time.perf_counter() - start)
            entry["labels"] = {str(k): str(v) for k, v in labels.items()}
            entry["iterations"] = len(getattr(model, "loss_history_", []) or [])
            probas = getattr(model, "probas_", None)
            if probas is not None:
                entry["confidence"] = {str(k): float(v) for k, v in probas.max(axis=1).items()}
        except Exception as exc:  # noqa: BLE001 - report, do not crash the benchmark
            entry["error"] = f"{type(exc).__name__}: {exc}"
        out["methods"][name] = entry
        print(f"  crowd-kit {name}: {entry['seconds']} {entry['error'] or ''}", file=sys.stderr, flush=True)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()

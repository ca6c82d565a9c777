"""Throughput of the built-in text backend, and how long a new model takes to serve.

1. Predictions per second of the built-in text classifier (in process, batches of 500, the
   way the background round calls it), for both feature sets: TF-IDF (word + character
   n-grams, logistic regression) and sentence embeddings (MiniLM, `assay[embeddings]`, when
   installed). Training time on 2,000 labelled texts for each. Data: rt_polarity
   (`../shared/datasets/text/rt_polarity/items.csv`, movie-review sentences).
2. End to end through a real `assay serve` (SQLite, the default background-job interval of
   2 s): a categorization project with 1,000 tasks people finished (answers through the
   native answers endpoint) and 2,000 pending ones, the built-in model attached with
   `retrain_every` = 200. Measured: the time from attaching to every pending task having a
   prediction (train + predict 2,000), then the time from the 200th new label (the
   submission that makes a retrain due) to every pending task carrying a prediction of the
   new model version — "N new labels → retrained model serving new pre-labels".

usage: python bench/model_backend.py [--repeats 3] [--dataset DIR]
Writes bench/results/model_backend.json.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import httpx  # noqa: E402

from tests.browser import Org  # noqa: E402
from tests.support import Server  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "datasets" / "text" / "rt_polarity"


def load(folder: Path) -> list[tuple[str, str]]:
    with open(folder / "items.csv", newline="") as f:
        rows = [(r["text"], r["label"]) for r in csv.DictReader(f)]
    random.Random(0).shuffle(rows)
    return rows


def in_process(rows, repeats: int) -> dict:
    from assay.learning.textmodel import TextClassifier

    out = {}
    train, test = rows[:2000], [t for t, _ in rows[2000:7000]]
    for features in ("tfidf", "embeddings"):
        try:
            started = time.perf_counter()
            model = TextClassifier(features=features).fit([t for t, _ in train], [label for _, label in train])
            fit = time.perf_counter() - started
        except Exception as exc:  # the extra is not installed
            out[features] = {"skipped": f"{exc.__class__.__name__}: {exc}"}
            print(f"{features:>10}: skipped ({exc})")
            continue
        rates = []
        for _ in range(repeats):
            started = time.perf_counter()
            for i in range(0, len(test), 500):
                model.predict_proba(test[i:i + 500])
            rates.append(len(test) / (time.perf_counter() - started))
        accuracy = sum(p == label for p, (_, label) in zip(model.predict(test[:2000]), rows[2000:4000])) / 2000
        out[features] = {"train_texts": len(train), "fit_seconds": round(fit, 2), "predictions_per_second_median": round(statistics.median(rates)),
                         "runs": repeats, "accuracy_on_2000_held_out": round(accuracy, 4)}
        print(f"{features:>10}: fit {fit:6.2f} s on {len(train)} texts; {statistics.median(rates):8.0f} predictions/s "
              f"(median of {repeats}); held-out accuracy {accuracy:.3f}", flush=True)
    return out


def end_to_end(rows) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="assay-bench-model-"))
    srv = Server(data_dir=tmp / "data", database_url="", env_overrides={"ASSAY_LOG_LEVEL": "warning"}).start()
    try:
        admin = httpx.Client(base_url=srv.url, headers={"authorization": f"Bearer {srv.live_key}"}, timeout=120)
        name = "bench model"
        admin.post("/v1/projects", json={"type": "categorization", "name": name, "params": {"instruction": "Sentiment?", "labels_per_task": 1}})
        pid = admin.get(f"/v1/projects/{name}").json()["id"]
        org = Org(srv)
        person = org.person("annotator")
        org.add_member(pid, person)
        annotator = org.login(person)
        done, pending, later = rows[:1000], rows[1000:3000], rows[3000:3200]

        def bulk(items):
            body = {"type": "categorization", "project": name,
                    "tasks": [{"attachment": t, "attachment_type": "text", "categories": ["pos", "neg"]} for t, _ in items]}
            r = admin.post("/api/tasks/bulk", json=body)
            assert r.status_code == 200, r.text
            return r.json()["task_ids"]

        def answer(ids, items):
            for task_id, (_, label) in zip(ids, items):
                r = annotator.post(f"/api/tasks/{task_id}/answers", json={"response": {"category": label}})
                assert r.status_code == 200, r.text

        answer(bulk(done), done)
        pending_ids = bulk(pending)
        started = time.perf_counter()
        r = admin.put(f"/api/projects/{pid}/model", json={"backend": "builtin", "min_train_labels": 10, "retrain_every": 200})
        assert r.status_code == 200, r.text

        def wait_for(version: int) -> float:
            while True:
                state = admin.get(f"/api/projects/{pid}/model").json()
                if state["version"] >= version:
                    # every 50th pending task (and the last): the round predicts in id order
                    versions = [admin.get(f"/api/tasks/{t}").json()["prediction"] for t in [*pending_ids[::50], pending_ids[-1]]]
                    if all(p and p["model_version"] >= version for p in versions) and _all_predicted(admin, pid, version, len(pending_ids)):
                        return time.perf_counter()
                time.sleep(0.1)

        first = wait_for(1) - started
        print(f"attach → model v1 trained on 1,000 labels and 2,000 pending tasks predicted: {first:.1f} s", flush=True)
        later_ids = bulk(later)
        answer(later_ids[:199], later[:199])
        t0 = time.perf_counter()
        answer(later_ids[199:200], later[199:200])  # the 200th new label: a retrain is due
        retrain = wait_for(2) - t0
        state = admin.get(f"/api/projects/{pid}/model").json()
        print(f"200th new label → model v2 (train {state['train_seconds']:.1f} s) serving new pre-labels on all pending tasks: {retrain:.1f} s",
              flush=True)
        return {"finished_tasks": 1000, "pending_tasks": 2000, "retrain_every": 200, "jobs_poll_seconds": 2.0,
                "attach_to_all_predicted_seconds": round(first, 2), "label_to_new_prelabels_seconds": round(retrain, 2),
                "train_seconds_v2": state["train_seconds"], "database": "sqlite"}
    finally:
        srv.stop()


def _all_predicted(admin, pid, version, pending) -> bool:
    state = admin.get(f"/api/projects/{pid}/model").json()
    return state["version"] >= version and state["predictions"] >= pending


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dataset", type=Path, default=Path(os.environ.get("ASSAY_BENCH_TEXTS", DEFAULT_DATA)))
    args = parser.parse_args()
    rows = load(args.dataset)
    results = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version()}, "dataset": args.dataset.name,
               "in_process": in_process(rows, args.repeats), "end_to_end": end_to_end(rows)}
    path = ROOT / "bench" / "results" / "model_backend.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

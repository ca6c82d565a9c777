"""Importing tasks that already carry answers: one bulk request with `answers` against a
plain bulk import followed by one direct answer per task (`POST /api/tasks/{id}/answers`),
on SQLite and PostgreSQL.

Starts a real `assay serve` per backend (fresh database), makes a categorization project
with `labels_per_task` = 1 and one labeler, then
  * answered bulk: N tasks with one answer each, 10,000 tasks a request;
  * direct: M tasks bulk-imported, then answered one request each from C concurrent clients.
Both end with completed, consolidated tasks. Prints tasks/s of each and writes
bench/results/answers_import.json.

usage: python bench/answers_import.py [--backends sqlite,postgres] [--tasks 100000] [--direct 2000] [--clients 8]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402

import httpx  # noqa: E402
import orjson  # noqa: E402

from tests.queue_support import CATEGORIES, Admin  # noqa: E402
from tests.support import Server, create_pg_database, drop_pg_database, postgres_available  # noqa: E402

RESULTS = ROOT / "bench" / "results"
CHUNK = 10_000


def _task(i: int) -> dict:
    return {"attachment": f"item {i}: the quick brown fox jumps over the lazy dog", "attachment_type": "text", "categories": CATEGORIES,
            "metadata": {"i": i}}


def answered_bulk(admin: Admin, project: str, email: str, n: int) -> dict:
    t0 = time.perf_counter()
    for start in range(0, n, CHUNK):
        tasks = [{**_task(i), "answers": [{"labeler": email, "response": {"category": CATEGORIES[i % 3]}, "active_seconds": 3.0}]}
                 for i in range(start, min(n, start + CHUNK))]
        r = admin.http.post("/api/tasks/bulk", content=orjson.dumps({"type": "categorization", "project": project, "tasks": tasks}),
                            headers={"content-type": "application/json"})
        assert r.status_code == 200, r.text[:300]
    elapsed = time.perf_counter() - t0
    return {"tasks": n, "seconds": round(elapsed, 2), "tasks_per_s": round(n / elapsed, 1)}


def direct(server: Server, admin: Admin, project: str, n: int, clients: int) -> dict:
    t0 = time.perf_counter()
    ids = admin.bulk(project, n)
    imported = time.perf_counter() - t0

    def answer(chunk: list[str]) -> None:
        with httpx.Client(base_url=server.url, auth=(server.live_key, ""), timeout=60) as http:
            for k, task_id in enumerate(chunk):
                r = http.post(f"/api/tasks/{task_id}/answers", json={"response": {"category": CATEGORIES[k % 3]}, "active_seconds": 3.0})
                assert r.status_code == 200, r.text[:300]

    t1 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(answer, [ids[i::clients] for i in range(clients)]))
    answering = time.perf_counter() - t1
    total = imported + answering
    return {"tasks": n, "clients": clients, "import_seconds": round(imported, 2), "answer_seconds": round(answering, 2),
            "answers_per_s": round(n / answering, 1), "tasks_per_s": round(n / total, 1)}


def run_backend(backend: str, args) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix=f"assay-bench-answers-{backend}-"))
    db_url = create_pg_database() if backend == "postgres" else ""
    server = Server(data_dir=tmp / "data", database_url=db_url, env_overrides={"ASSAY_LOG_LEVEL": "warning"}).start()
    try:
        admin = Admin(server)
        pid = admin.project("answered", labels_per_task=1)
        email = admin.annotator(pid, "imported")
        admin.project("direct", labels_per_task=1)
        out = {"backend": backend, "answered_bulk": answered_bulk(admin, "answered", email, args.tasks)}
        print(f"[{backend}] bulk with answers: {out['answered_bulk']}", flush=True)
        out["direct"] = direct(server, admin, "direct", args.direct, args.clients)
        print(f"[{backend}] bulk + one direct answer per task: {out['direct']}", flush=True)
        admin.close()
    finally:
        server.stop()
        if db_url:
            drop_pg_database(db_url)
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--tasks", type=int, default=100_000, help="tasks imported with their answers")
    parser.add_argument("--direct", type=int, default=2_000, help="tasks answered one request each")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients of the direct answers")
    args = parser.parse_args()
    results = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "cpus": os.cpu_count(),
               "loadavg_at_start": [round(x, 2) for x in os.getloadavg()], "sizes": vars(args), "backends": []}
    for backend in args.backends.split(","):
        if backend == "postgres" and postgres_available():
            print(f"skipping postgres: {postgres_available()}")
            continue
        results["backends"].append(run_backend(backend, args))
    results["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "answers_import.json").write_text(json.dumps(results, indent=2))
    print(f"wrote {RESULTS / 'answers_import.json'}")


if __name__ == "__main__":
    main()

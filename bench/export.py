"""Export benchmark: tasks/s and the server's peak RSS for JSON lines, CSV, Parquet and
COCO, at 10k and 100k completed tasks, on SQLite and PostgreSQL.

Starts a real `assay serve` per backend (fresh database), creates a categorization and an
image-box project through the API, stores N completed tasks in each straight into the
database (the export is what is measured, not labeling), then downloads
`GET /api/projects/{id}/export?format=…` over HTTP, timing the whole download and sampling
the server's RSS (a freshly started server for each format and size, so each peak is
that export's alone). Writes bench/results/export.json.

usage: python bench/export.py [--backends sqlite,postgres] [--sizes 10000,100000] [--repeat 3] [--formats jsonl,csv,parquet,coco]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from ingest import RssSampler  # noqa: E402

from tests.support import Server, create_pg_database, drop_pg_database, postgres_available  # noqa: E402

RESULTS = ROOT / "bench" / "results"
CATEGORIES = ["positive", "negative", "neutral"]


def seed(server: Server, project_name: str, kind: str, n: int, start: int) -> None:
    """n completed tasks of one project, inserted in chunks of 5,000 (Core executemany)."""
    from sqlalchemy import insert, select

    from assay.db import new_public_id
    from assay.projects.models import Project
    from assay.tasks.models import Task

    rng = random.Random(start)
    db = server.database()
    with db.read() as session:
        project = session.scalar(select(Project).where(Project.name == project_name))
    base = datetime(2026, 1, 1)
    for offset in range(0, n, 5000):
        rows = []
        for i in range(offset, min(n, offset + 5000)):
            at = base + timedelta(seconds=start + i)
            if kind == "categorization":
                params = {"attachment": f"benchmark item {i}: the quick brown fox jumps over the lazy dog", "attachment_type": "text",
                          "categories": CATEGORIES, "allow_multiple": False}
                response = {"category": rng.choice(CATEGORIES)}
            else:
                params = {"attachment": f"https://example.com/images/{i}.jpg", "attachment_type": "image",
                          "geometries": {"box": {"objects_to_annotate": ["car", "person"]}}}
                response = {"annotations": [{"uuid": f"b{k}", "type": "box", "label": rng.choice(["car", "person"]), "left": rng.randint(0, 500),
                                             "top": rng.randint(0, 300), "width": rng.randint(10, 200), "height": rng.randint(10, 200)}
                                            for k in range(rng.randint(1, 4))]}
            rows.append({"public_id": new_public_id(), "org_id": project.org_id, "project_id": project.id, "is_test": False, "type": kind,
                         "status": "completed", "instruction": "", "params": params, "metadata": {"i": i, "width": 800, "height": 600},
                         "response": response, "quality": {"confidence": round(rng.uniform(0.5, 1), 4), "labels": 3, "agreeing": 2,
                                                           "method": "one_coin"},
                         "audits": [], "required_labels": 3, "open_slots": 0, "queue_rank": 0, "created_at": at, "updated_at": at,
                         "completed_at": at, "kind": "task", "clear_unique_id_on_error": False})
        with db.write() as session:
            session.execute(insert(Task.__table__), rows)


def download(server: Server, project_id: str, fmt: str, key: str) -> tuple[float, int, int]:
    sampler = RssSampler(server.proc.pid)
    sampler.thread.start()
    t0 = time.perf_counter()
    size = 0
    with httpx.stream("GET", f"{server.url}/api/projects/{project_id}/export", params={"format": fmt},
                      headers={"authorization": f"Bearer {key}"}, timeout=600) as r:
        assert r.status_code == 200, r.read()[:300]
        for chunk in r.iter_bytes():
            size += len(chunk)
    seconds = time.perf_counter() - t0
    sampler.stop.set()
    sampler.thread.join()
    return seconds, size, sampler.peak


def run_backend(backend: str, sizes: list[int], repeat: int, formats: list[str]) -> dict:
    url = ""
    if backend == "postgres":
        reason = postgres_available()
        if reason:
            return {"skipped": reason}
        url = create_pg_database()
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(data_dir=Path(tmp) / "data", database_url=url).start()
        try:
            http = httpx.Client(base_url=server.url, headers={"authorization": f"Bearer {server.live_key}"}, timeout=60)
            projects = {}
            for kind, name in (("categorization", "bench-text"), ("imageannotation", "bench-boxes")):
                r = http.post("/v1/projects", json={"type": kind, "name": name, "params": {}})
                projects[kind] = r.json()["id"]
            stored = 0
            for size in sizes:
                for kind in projects:
                    seed(server, "bench-text" if kind == "categorization" else "bench-boxes", kind, size - stored, stored)
                stored = size
                if backend == "postgres":
                    # what autovacuum does after a bulk load (statistics, hint bits), so the
                    # first export measured is not the one that pays for it
                    from sqlalchemy import text
                    with server.database().engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                        conn.execute(text("VACUUM ANALYZE tasks"))
                for fmt, kind in (("jsonl", "categorization"), ("csv", "categorization"), ("parquet", "categorization"),
                                  ("coco", "imageannotation")):
                    if fmt not in formats:
                        continue
                    # a fresh server per format: its peak RSS is this export's alone (memory
                    # an earlier export took is never given back to the OS)
                    server.stop()
                    server.start()
                    idle = RssSampler(server.proc.pid).current()
                    runs = [download(server, projects[kind], fmt, server.live_key) for _ in range(repeat)]
                    seconds = statistics.median(r[0] for r in runs)
                    entry = {"tasks": size, "seconds_median": round(seconds, 3), "tasks_per_s": round(size / seconds),
                             "bytes": runs[0][1], "server_rss_peak_mb": round(max(r[2] for r in runs) / 2**20, 1),
                             "server_rss_before_mb": round(idle / 2**20, 1), "runs": [round(r[0], 3) for r in runs]}
                    out[f"{fmt}@{size}"] = entry
                    print(f"{backend:8} {fmt:8} {size:>7} tasks: {seconds:6.2f} s median of {repeat}, {size / seconds:8.0f} tasks/s, "
                          f"{runs[0][1] / 2**20:6.1f} MB, server RSS peak {entry['server_rss_peak_mb']} MB", flush=True)
        finally:
            server.stop()
            if url:
                drop_pg_database(url)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--formats", default="jsonl,csv,parquet,coco")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {"machine": {"cpus": 2, "python": platform.python_version(), "note": "client and server share the machine"},
               "sizes": sizes, "repeat": args.repeat, "date": time.strftime("%Y-%m-%d")}
    for backend in args.backends.split(","):
        results[backend] = run_backend(backend, sizes, args.repeat, args.formats.split(","))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "export.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS / 'export.json'}")


if __name__ == "__main__":
    main()

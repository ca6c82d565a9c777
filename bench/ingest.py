"""Ingest and read benchmark of the task API, on SQLite and PostgreSQL.

Starts a real `assay serve` per backend (fresh database), then measures through HTTP:
  * single creates (POST /v1/task/categorization) with 1, 8 and 32 concurrent clients;
  * bulk import (POST /api/tasks/bulk, 10k tasks a request) of 10k and 100k tasks;
  * with 100k+ tasks stored: GET /v1/task/{id} and one 100-task /v1/tasks page (p50/p99);
  * paging through all 100k tasks of a project with next_token;
  * server RSS idle and peak.
Prints a table and writes bench/results/ingest.json. Timings are wall-clock on this
machine; the client runs in this process (asyncio + httpx) and shares the CPUs.

usage: python bench/ingest.py [--backends sqlite,postgres] [--single N] [--bulk N] [--phases single,bulk,reads]
                              [--pg-workers N] [--out FILE]
--pg-workers N serves PostgreSQL with N app processes (`assay serve --workers N`; SQLite is
served by one); the RSS figures are then the first process's only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import orjson
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.support import Server, create_pg_database, drop_pg_database, postgres_available  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = min(len(values) - 1, max(0, int(round(q / 100 * (len(values) - 1)))))
    return values[k]


class RssSampler:
    def __init__(self, pid: int):
        self.proc = psutil.Process(pid)
        self.peak = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def current(self) -> int:
        return self.proc.memory_info().rss

    def run(self):
        while not self.stop.is_set():
            try:
                self.peak = max(self.peak, self.current())
            except psutil.Error:
                return
            time.sleep(0.05)


def task_body(project: str, i: int) -> dict:
    return {"project": project, "attachment": f"benchmark item {i}: the quick brown fox jumps over the lazy dog",
            "attachment_type": "text", "categories": ["positive", "negative", "neutral"], "metadata": {"i": i}}


async def single_creates(url: str, key: str, project: str, total: int, concurrency: int) -> dict:
    latencies: list[float] = []
    counter = iter(range(total))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, auth=(key, ""), limits=limits, timeout=60) as client:
        async def worker():
            for i in counter:
                t0 = time.perf_counter()
                r = await client.post("/v1/task/categorization", json=task_body(project, i))
                latencies.append(time.perf_counter() - t0)
                if r.status_code != 200:
                    raise RuntimeError(r.text)
        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - t0
    return {"tasks": total, "clients": concurrency, "seconds": round(elapsed, 3), "tasks_per_s": round(total / elapsed, 1),
            "p50_ms": round(pct(latencies, 50) * 1000, 2), "p99_ms": round(pct(latencies, 99) * 1000, 2)}


def bulk_import(url: str, key: str, project: str, total: int, chunk: int = 10_000) -> dict:
    start_i = random.randint(0, 10**9)
    with httpx.Client(base_url=url, auth=(key, ""), timeout=600) as client:
        t0 = time.perf_counter()
        done = 0
        while done < total:
            n = min(chunk, total - done)
            tasks = [{k: v for k, v in task_body(project, start_i + done + j).items() if k != "project"} for j in range(n)]
            # a bulk loader sends pre-encoded JSON (orjson), as a real importer would
            r = client.post("/api/tasks/bulk", content=orjson.dumps({"type": "categorization", "project": project, "tasks": tasks}),
                            headers={"content-type": "application/json"})
            if r.status_code != 200:
                raise RuntimeError(r.text[:500])
            done += n
        elapsed = time.perf_counter() - t0
    return {"tasks": total, "request_size": chunk, "seconds": round(elapsed, 3), "tasks_per_s": round(total / elapsed, 1)}


def read_latencies(url: str, key: str, project: str, ids: list[str], n: int = 2000) -> dict:
    out = {}
    with httpx.Client(base_url=url, auth=(key, ""), timeout=60) as client:
        sample = random.sample(ids, min(n, len(ids)))
        for task_id in sample[:50]:
            client.get(f"/v1/task/{task_id}")  # warm up
        lat = []
        for task_id in sample:
            t0 = time.perf_counter()
            r = client.get(f"/v1/task/{task_id}")
            lat.append(time.perf_counter() - t0)
            assert r.status_code == 200
        out["get_task"] = {"requests": len(lat), "p50_ms": round(pct(lat, 50) * 1000, 2), "p99_ms": round(pct(lat, 99) * 1000, 2)}
        lat = []
        for i in range(500):
            t0 = time.perf_counter()
            r = client.get("/v1/tasks", params={"project": project, "limit": 100})
            lat.append(time.perf_counter() - t0)
            assert r.status_code == 200 and len(r.json()["docs"]) == 100
        out["list_page_100"] = {"requests": len(lat), "p50_ms": round(pct(lat, 50) * 1000, 2), "p99_ms": round(pct(lat, 99) * 1000, 2)}
        lat = []
        first = client.get("/v1/tasks", params={"project": project, "limit": 100}).json()
        token = first["next_token"]
        for i in range(300):  # deep pages via the cursor
            t0 = time.perf_counter()
            r = client.get("/v1/tasks", params={"project": project, "limit": 100, "next_token": token})
            lat.append(time.perf_counter() - t0)
            token = r.json()["next_token"]
        out["list_page_100_cursor"] = {"requests": len(lat), "p50_ms": round(pct(lat, 50) * 1000, 2), "p99_ms": round(pct(lat, 99) * 1000, 2)}
    return out


def page_through(url: str, key: str, project: str) -> dict:
    with httpx.Client(base_url=url, auth=(key, ""), timeout=60) as client:
        t0 = time.perf_counter()
        seen = 0
        token = None
        pages = 0
        while True:
            params = {"project": project, "limit": 100}
            if token:
                params["next_token"] = token
            body = client.get("/v1/tasks", params=params).json()
            seen += len(body["docs"])
            pages += 1
            if not body["has_more"]:
                break
            token = body["next_token"]
        elapsed = time.perf_counter() - t0
    return {"tasks": seen, "pages": pages, "seconds": round(elapsed, 3), "tasks_per_s": round(seen / elapsed, 1)}


def run_backend(backend: str, args) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix=f"assay-bench-{backend}-"))
    db_url = create_pg_database() if backend == "postgres" else ""
    workers = args.pg_workers if backend == "postgres" else 1
    server = Server(data_dir=tmp / "data", database_url=db_url, env_overrides={"ASSAY_LOG_LEVEL": "warning"},
                    extra_args=["--workers", str(workers)] if workers > 1 else []).start()
    result: dict = {"backend": backend, "app_processes": workers}
    try:
        time.sleep(2)
        sampler = RssSampler(server.proc.pid)
        result["idle_rss_mb"] = round(sampler.current() / 2**20, 1)
        sampler.thread.start()
        key = server.live_key
        client = server.client()
        import scaleapi

        client.create_project(project_name="bench single", task_type=scaleapi.tasks.TaskType.Categorization)
        client.create_project(project_name="bench bulk", task_type=scaleapi.tasks.TaskType.Categorization)
        result["single_create"] = []
        for concurrency in (1, 8, 32) if "single" in args.phases else ():
            n = args.single if concurrency > 1 else max(args.single // 4, 500)
            r = asyncio.run(single_creates(server.url, key, "bench single", n, concurrency))
            print(f"[{backend}] single creates, {concurrency:>2} clients: {r}", flush=True)
            result["single_create"].append(r)
        result["bulk_import"] = []
        for total in (10_000, args.bulk) if "bulk" in args.phases else ():
            r = bulk_import(server.url, key, "bench bulk", total)
            print(f"[{backend}] bulk import {total}: {r}", flush=True)
            result["bulk_import"].append(r)
        ids = []
        if "reads" not in args.phases:
            sampler.stop.set()
            result["peak_rss_mb"] = round(sampler.peak / 2**20, 1)
            return result
        with httpx.Client(base_url=server.url, auth=(key, ""), timeout=60) as c:
            token = None
            while len(ids) < 5000:
                params = {"project": "bench bulk", "limit": 100, **({"next_token": token} if token else {})}
                body = c.get("/v1/tasks", params=params).json()
                ids += [d["task_id"] for d in body["docs"]]
                token = body["next_token"]
            stored = c.get("/v1/tasks", params={"limit": 1}).json()["total"]
        result["tasks_stored"] = stored
        r = read_latencies(server.url, key, "bench bulk", ids)
        print(f"[{backend}] reads with {stored} tasks stored: {r}", flush=True)
        result["reads"] = r
        r = page_through(server.url, key, "bench bulk")
        print(f"[{backend}] paging through the bulk project: {r}", flush=True)
        result["page_through"] = r
        sampler.stop.set()
        result["peak_rss_mb"] = round(sampler.peak / 2**20, 1)
        print(f"[{backend}] server RSS idle {result['idle_rss_mb']} MB, peak {result['peak_rss_mb']} MB", flush=True)
    finally:
        server.stop()
        if db_url:
            drop_pg_database(db_url)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--single", type=int, default=10_000, help="tasks per concurrency level (1 client: a quarter)")
    parser.add_argument("--bulk", type=int, default=100_000, help="size of the large bulk import")
    parser.add_argument("--phases", default="single,bulk,reads", help="which parts to run (reads need bulk)")
    parser.add_argument("--pg-workers", type=int, default=1, help="app processes on PostgreSQL (`assay serve --workers N`)")
    parser.add_argument("--out", default="ingest.json", help="file under bench/results/ to write")
    args = parser.parse_args()
    results = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "memory_gb": round(psutil.virtual_memory().total / 2**30, 1)},
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "backends": [],
    }
    for backend in args.backends.split(","):
        if backend == "postgres" and postgres_available():
            print(f"skipping postgres: {postgres_available()}")
            continue
        results["backends"].append(run_backend(backend, args))
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / args.out
    # keep the other backends' figures when only some backends were run
    if path.exists():
        ran = {b["backend"] for b in results["backends"]}
        kept = [b for b in json.loads(path.read_text()).get("backends", []) if b["backend"] not in ran]
        results["backends"] = sorted(kept + results["backends"], key=lambda b: b["backend"] != "sqlite")
    path.write_text(json.dumps(results, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

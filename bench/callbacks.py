"""Callback delivery isolation benchmark: how long a prompt receiver waits for its
callbacks while other organizations' receivers are slow or trickle their headers.

Starts a real `assay serve` per backend (fresh database, production delivery settings:
10 s deadline, 20 attempts over 24 h, 0.5 s poll), then on 127.0.0.1:
  * 10 receivers that answer every request with a status line and then one header byte
    every 0.2 s, never finishing (organization "trickle", 10 callbacks each);
  * one receiver that answers each request after 9 s (organization "slow", 40 callbacks);
  * once those deliveries are under way, organization "prompt" creates 100 tasks with a
    test key (test-mode tasks complete on creation, writing their callback in the same
    transaction), one every 0.1 s, each with a callback to a receiver that answers at once.
Latency is from just before the create request is sent (so it includes the create itself)
to the callback's arrival at the prompt receiver; p50/p99 over the 100 callbacks.
Prints the figures and writes bench/results/callbacks.json.

usage: python bench/callbacks.py [--backends sqlite,postgres] [--assay-src DIR] [--label NAME] [--wait SECONDS]
  --assay-src runs the server from another checkout's src/ (e.g. the code before this change).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.security.receivers import TricklingReceiver  # noqa: E402
from tests.support import Server, create_pg_database, drop_pg_database, postgres_available  # noqa: E402

RESULTS = ROOT / "bench" / "results"
PROMPT_CALLBACKS = 100
SLOW_CALLBACKS = 40
SLOW_ANSWER_SECONDS = 9.0
TRICKLING_RECEIVERS = 10
CALLBACKS_PER_TRICKLER = 10

# production defaults, not the test servers' short ones
DELIVERY_ENV = {
    "ASSAY_CALLBACK_TIMEOUT_SECONDS": "10",
    "ASSAY_CALLBACK_MAX_ATTEMPTS": "20",
    "ASSAY_CALLBACK_RETRY_WINDOW_SECONDS": "86400",
    "ASSAY_WORKER_POLL_SECONDS": "0.5",
    "ASSAY_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8",
    "ASSAY_LOG_LEVEL": "warning",
}


def pct(values: list[float], q: float) -> float | None:
    values = sorted(values)
    if not values:
        return None
    k = min(len(values) - 1, max(0, int(round(q / 100 * (len(values) - 1)))))
    return values[k]


def seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


class Receiver:
    """Answers POSTs after `delay` seconds; records when each task's callback arrived."""

    def __init__(self, delay: float = 0.0):
        self.arrivals: dict[str, float] = {}
        self.requests = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                arrived = time.perf_counter()
                with receiver.lock:
                    receiver.requests += 1
                    task_id = json.loads(raw).get("task_id")
                    receiver.arrivals.setdefault(task_id, arrived)
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(200)
                    self.send_header("content-length", "0")
                    self.end_headers()
                except OSError:
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def make_project(server: Server, key: str) -> None:
    r = httpx.post(f"{server.url}/v1/projects", auth=(key, ""), timeout=30,
                   json={"type": "categorization", "name": "bench", "params": {"instruction": "Pick."}})
    assert r.status_code == 200, r.text


def bulk_completed(server: Server, key: str, urls: list[str]) -> None:
    tasks = [{"attachment": f"item {i}", "attachment_type": "text", "categories": ["a", "b"], "callback_url": url} for i, url in enumerate(urls)]
    r = httpx.post(f"{server.url}/api/tasks/bulk", auth=(key, ""), timeout=60, json={"type": "categorization", "project": "bench", "tasks": tasks})
    assert r.status_code == 200, r.text


def run_backend(backend: str, args) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix=f"assay-bench-callbacks-{backend}-"))
    db_url = create_pg_database() if backend == "postgres" else ""
    env = dict(DELIVERY_ENV)
    if args.assay_src:
        env["PYTHONPATH"] = str(Path(args.assay_src).resolve())
    server = Server(data_dir=tmp / "data", database_url=db_url, env_overrides=env).start()
    trickling = [TricklingReceiver(interval=0.2) for _ in range(TRICKLING_RECEIVERS)]
    slow, prompt = Receiver(delay=SLOW_ANSWER_SECONDS), Receiver()
    try:
        keys = {org: server.new_key(f"{org} org", test=True) for org in ("trickle", "slow", "prompt")}
        for key in keys.values():
            make_project(server, key)
        bulk_completed(server, keys["trickle"], [t.url(f"/t/{i}") for t in trickling for i in range(CALLBACKS_PER_TRICKLER)])
        bulk_completed(server, keys["slow"], [slow.url(f"/s/{i}") for i in range(SLOW_CALLBACKS)])
        # the blocking deliveries are under way before the measured ones start
        deadline = time.time() + 30
        while time.time() < deadline and not (slow.requests and all(t.connections for t in trickling)):
            time.sleep(0.05)
        blocked_at_start = {"slow_requests": slow.requests, "trickling_connections": sum(t.connections for t in trickling)}

        sent: dict[str, float] = {}
        create_ms: list[float] = []
        with httpx.Client(base_url=server.url, auth=(keys["prompt"], ""), timeout=30) as client:
            for i in range(PROMPT_CALLBACKS):
                started = time.perf_counter()
                r = client.post("/v1/task/categorization", json={"project": "bench", "attachment": f"prompt {i}", "attachment_type": "text",
                                                                 "categories": ["a", "b"], "callback_url": prompt.url(f"/p/{i}")})
                assert r.status_code == 200 and r.json()["status"] == "completed", r.text
                sent[r.json()["task_id"]] = started
                create_ms.append((time.perf_counter() - started) * 1000)
                time.sleep(max(0.0, 0.1 - (time.perf_counter() - started)))
        wait_until = time.time() + args.wait
        while time.time() < wait_until:
            with prompt.lock:
                if len(prompt.arrivals) >= len(sent):
                    break
            time.sleep(0.05)
        with prompt.lock:
            latencies = [prompt.arrivals[t] - s for t, s in sent.items() if t in prompt.arrivals]
        missing = len(sent) - len(latencies)
        result = {
            "backend": backend,
            "code": args.label,
            "prompt_callbacks": len(sent),
            "arrived": len(latencies),
            "missing_after_s": args.wait if missing else None,
            "latency_s": {"p50": seconds(pct(latencies, 50)), "p99": seconds(pct(latencies, 99)), "max": seconds(max(latencies, default=None))},
            "create_ms": {"p50": round(pct(create_ms, 50), 1), "p99": round(pct(create_ms, 99), 1)},
            "load": {"trickling_receivers": TRICKLING_RECEIVERS, "trickling_callbacks": TRICKLING_RECEIVERS * CALLBACKS_PER_TRICKLER,
                     "slow_callbacks": SLOW_CALLBACKS, "slow_answer_s": SLOW_ANSWER_SECONDS, **blocked_at_start},
            "during_run": {"slow_requests": slow.requests, "trickling_connections": sum(t.connections for t in trickling)},
        }
        print(f"{backend} ({args.label}): {len(latencies)}/{len(sent)} prompt callbacks arrived; latency p50 {result['latency_s']['p50']} s, "
              f"p99 {result['latency_s']['p99']} s, max {result['latency_s']['max']} s (create p50 {result['create_ms']['p50']} ms); "
              f"meanwhile the slow receiver got {slow.requests} requests and the trickling ones "
              f"{result['during_run']['trickling_connections']} connections")
        return result
    finally:
        server.stop()
        for t in trickling:
            t.close()
        slow.close()
        prompt.close()
        if db_url:
            drop_pg_database(db_url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--assay-src", default="", help="run the server from this src/ directory instead of this checkout's")
    parser.add_argument("--label", default="this checkout", help="names the code under test in the results")
    parser.add_argument("--wait", type=float, default=300.0, help="seconds to wait for the prompt callbacks after the last create")
    args = parser.parse_args()
    results = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "memory_gb": round(psutil.virtual_memory().total / 2**30, 1)},
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "runs": [],
    }
    for backend in args.backends.split(","):
        if backend == "postgres" and postgres_available():
            print(f"skipping postgres: {postgres_available()}")
            continue
        results["runs"].append(run_backend(backend, args))
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "callbacks.json"
    # keep the figures of other backends and code versions when only some were run
    if path.exists():
        ran = {(r["backend"], r["code"]) for r in results["runs"]}
        kept = [r for r in json.loads(path.read_text()).get("runs", []) if (r["backend"], r["code"]) not in ran]
        results["runs"] = kept + results["runs"]
    path.write_text(json.dumps(results, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

"""Does a faster server stack cut assay's per-request overhead?

One assay app (SQLite, a data directory bootstrapped by `assay serve`, one stored task),
and a bare ASGI app that answers `{}` (what the stack itself costs), served in turn by uvicorn with uvloop + httptools, uvicorn with asyncio + h11, and — when
`--granian PATH` names a granian binary in a throwaway venv that sees assay's packages —
granian. The stacks alternate within each round (the order flips every round) so that the
shared machine's load falls on all of them alike. Per stack and endpoint (`bare /`;
assay's `GET /api/health`: no auth, one `SELECT 1` in a thread-pool thread;
`GET /v1/task/{id}`: API key, one Core read on the event loop):

  * latency: one keep-alive connection (http.client), requests one after another — median
    and p99 in ms;
  * throughput: `--connections` keep-alive connections (a raw asyncio client) for
    `--seconds` — requests/s, and the server's CPU per request (user + system time of its
    processes), the figure least disturbed by other work on the machine;
  * the load average before each run.

Prints a table and writes bench/results/server_stack.json (medians over the rounds).

usage: python bench/server_stack.py [--rounds 5] [--requests 2000] [--seconds 4] [--connections 8]
                                    [--granian /tmp/granian-venv/bin/granian]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import http.client
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
from scaleapi.tasks import TaskType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.support import Server, free_port  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, int(round(q / 100 * (len(values) - 1)))))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children (granian serves from a worker
    process), threads included."""
    root = psutil.Process(pid)
    return sum(sum(p.cpu_times()[:2]) for p in [root, *root.children(recursive=True)])


APPS = {"assay": "assay.app:create_app", "bare": "bench.server_stack:bare_app"}


async def bare_app(scope, receive, send) -> None:
    """The least an ASGI app can do: what a stack costs on its own."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json"), (b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"{}"})


def stack_command(name: str, app: str, port: int, granian: str | None) -> list[str]:
    factory = ["--factory"] if app == "assay" else []
    if name == "granian":
        return [granian, "--interface", "asgi", *factory, "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
                "--log-level", "warning", "--no-ws", APPS[app]]
    loop, protocol = {"uvloop+httptools": ("uvloop", "httptools"), "asyncio+h11": ("asyncio", "h11")}[name]
    return [sys.executable, "-m", "uvicorn", APPS[app], *factory, "--host", "127.0.0.1", "--port", str(port),
            "--loop", loop, "--http", protocol, "--no-access-log", "--log-level", "warning", "--lifespan", "on"]


def start(name: str, app: str, env: dict, granian: str | None, log: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**env, "ASSAY_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    proc = subprocess.Popen(stack_command(name, app, port, granian), env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/{'api/health' if app == 'assay' else ''}", timeout=1).status_code == 200:
                return proc, port
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{name} did not start: {log.read_text()[-2000:]}")


def sequential(port: int, path: str, headers: dict, n: int) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    out = []
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            out.append(time.perf_counter() - t0)
            if response.status != 200:
                raise RuntimeError(f"GET {path}: {response.status}")
    finally:
        conn.close()
    return out


async def _hammer(port: int, request: bytes, until: float) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    done = 0
    try:
        while time.perf_counter() < until:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(head[:200])
            length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
            await reader.readexactly(length)
            done += 1
    finally:
        writer.close()
    return done


def throughput(port: int, path: str, headers: dict, connections: int, seconds: float) -> int:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()

    async def run() -> int:
        until = time.perf_counter() + seconds
        return sum(await asyncio.gather(*(_hammer(port, request, until) for _ in range(connections))))

    return asyncio.run(run())


def measure(name: str, env: dict, paths: dict, headers: dict, args, log: Path) -> dict:
    """Both apps under one stack: the bare ASGI app, then assay."""
    out = {}
    for app in ("bare", "assay"):
        out.update(_measure_app(name, app, env, {k: v for k, v in paths.items() if (k == "bare /") == (app == "bare")}, headers, args, log))
    return out


def _measure_app(name: str, app: str, env: dict, paths: dict, headers: dict, args, log: Path) -> dict:
    proc, port = start(name, app, env, args.granian, log)
    try:
        out = {}
        for label, path in paths.items():
            sequential(port, path, headers, 300)  # warm: caches, first queries, JIT-free but lazy imports
            load = os.getloadavg()[0]
            latencies = sequential(port, path, headers, args.requests)
            cpu0 = cpu_seconds(proc.pid)
            t0 = time.perf_counter()
            count = throughput(port, path, headers, args.connections, args.seconds)
            elapsed = time.perf_counter() - t0
            cpu = cpu_seconds(proc.pid) - cpu0
            out[label] = {"median_ms": statistics.median(latencies) * 1000, "p99_ms": pct(latencies, 99) * 1000,
                          "requests_per_s": count / elapsed, "server_cpu_us_per_request": cpu / count * 1e6, "load_1min": load}
        return out
    finally:
        proc.terminate()
        proc.wait(15)


def summarize(runs: dict[str, list[dict]]) -> dict:
    summary = {}
    for name, rounds in runs.items():
        summary[name] = {}
        for label in rounds[0]:
            summary[name][label] = {key: round(statistics.median(r[label][key] for r in rounds), 3) for key in rounds[0][label]}
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=2000, help="sequential requests per endpoint and round")
    parser.add_argument("--seconds", type=float, default=4.0, help="throughput run per endpoint and round")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--granian", default="", help="a granian binary whose Python sees assay (optional)")
    args = parser.parse_args()
    stacks = ["uvloop+httptools", "asyncio+h11"] + (["granian"] if args.granian else [])
    with tempfile.TemporaryDirectory() as tmp:
        boot = Server(data_dir=Path(tmp) / "data", database_url="", env_overrides={"ASSAY_WORKER_IN_PROCESS": "false"}).start()
        boot.client().create_project(project_name="bench", task_type=TaskType.Categorization, params={"instruction": "Pick."})
        task = boot.client().create_task(TaskType.Categorization, project="bench", attachment="hello", attachment_type="text", categories=["a", "b"])
        env = {**boot.env(), "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"}
        key = boot.live_key
        boot.stop()
        headers = {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}
        paths = {"bare /": "/", "GET /api/health": "/api/health", "GET /v1/task/{id}": f"/v1/task/{task.id}"}
        runs: dict[str, list[dict]] = {name: [] for name in stacks}
        for r in range(args.rounds):
            for name in stacks if r % 2 == 0 else list(reversed(stacks)):
                result = measure(name, env, paths, headers, args, Path(tmp) / f"{name}.log")
                runs[name].append(result)
                print(f"round {r + 1} {name:18s} " + "  ".join(
                    f"{label}: p50 {v['median_ms']:.3f} ms p99 {v['p99_ms']:.3f} ms {v['requests_per_s']:.0f}/s "
                    f"cpu {v['server_cpu_us_per_request']:.0f} µs (load {v['load_1min']:.2f})" for label, v in result.items()), flush=True)
    summary = summarize(runs)
    print("\nmedians over rounds:")
    print(f"{'stack':18s} {'endpoint':18s} {'p50 ms':>8s} {'p99 ms':>8s} {'req/s':>8s} {'CPU µs/req':>11s} {'load':>6s}")
    for name, endpoints in summary.items():
        for label, v in endpoints.items():
            print(f"{name:18s} {label:18s} {v['median_ms']:8.3f} {v['p99_ms']:8.3f} {v['requests_per_s']:8.0f} "
                  f"{v['server_cpu_us_per_request']:11.0f} {v['load_1min']:6.2f}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
           "settings": vars(args), "stacks": stacks, "summary": summary, "rounds": runs}
    (RESULTS / "server_stack.json").write_text(json.dumps(out, indent=2))
    print(f"\nwrote {RESULTS / 'server_stack.json'}")


if __name__ == "__main__":
    main()

"""Assignment-queue benchmark: annotators pulling and submitting tasks, on SQLite and PostgreSQL.

Starts a real `assay serve` per backend (fresh database), bulk-imports categorization tasks
into a project with `labels_per_task` labels each, then for each concurrency level runs that
many annotators (fresh accounts, signed in with browser sessions: cookie + X-CSRF-Token, as
the page does), each looping POST /api/projects/{id}/next → POST /api/assignments/{id}/submit
for the given seconds. Annotators are threads spread over several client processes, so the
client gets its own share of the CPUs; client and server CPU time are both reported.

Per backend and level: submissions/s, client-side p50/p99 of next and of submit, the
double assignments found in the database afterwards (answers beyond required, a person
answering a task twice, leases + answers beyond required: tests/queue_support.py), and the
server's peak RSS. With --profile, py-spy samples the server during the highest level and
the top functions of next (`claim`) and submit are printed and stored.

Prints a table and writes bench/results/queue.json.

usage: python bench/assignment_queue.py [--backends sqlite,postgres] [--tasks 100000] [--seconds 60]
                             [--concurrency 1,8,32] [--labels 3] [--paced-rate 40] [--client-procs 4] [--pg-workers 2] [--profile]
                             [--out FILE]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402

import psutil  # noqa: E402

from tests.queue_support import CATEGORIES, Admin, Annotator, double_assignments, queue_violations, status_counts  # noqa: E402
from tests.support import Server, create_pg_database, drop_pg_database, postgres_available  # noqa: E402

RESULTS = ROOT / "bench" / "results"
PROFILE_RATE = 100


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
        """The server's RSS with its app processes (`--workers N`)."""
        rss = self.proc.memory_info().rss
        for child in self.proc.children(recursive=True):
            try:
                rss += child.memory_info().rss
            except psutil.Error:
                pass
        return rss

    def run(self):
        while not self.stop.is_set():
            try:
                self.peak = max(self.peak, self.current())
            except psutil.Error:
                return
            time.sleep(0.05)


def _tree_cpu(proc: psutil.Process) -> float:
    """CPU seconds of the server and its app processes (`--workers N`)."""
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


# ----------------------------------------------------------------------------- client processes

def _annotator_loop(annotator: Annotator, project_id: str, end: float, seed: int, out: dict, lock: threading.Lock, period: float = 0.0) -> None:
    """next → submit until `end`. With `period` > 0 the annotator paces itself to one loop
    per `period` seconds on average (think time, jittered), like a person would."""
    rng = random.Random(seed)
    nexts: list[float] = []
    submits: list[float] = []
    statuses: Counter = Counter()
    done = empty = 0
    if period:
        time.sleep(rng.uniform(0, period))  # people do not all start in the same millisecond
    while time.monotonic() < end:
        loop_start = time.perf_counter()
        target = period * rng.uniform(0.5, 1.5) if period else 0.0
        t0 = time.perf_counter()
        r = annotator.next(project_id)
        nexts.append(time.perf_counter() - t0)
        if r.status != 200:
            statuses[f"next {r.status}"] += 1
            time.sleep(0.05)
            continue
        if r.body["assignment"] is None:
            empty += 1
            time.sleep(0.05)
            continue
        t0 = time.perf_counter()
        s = annotator.submit(r.body["assignment"]["id"], rng.choice(CATEGORIES), active_seconds=round(rng.uniform(1, 20), 1))
        submits.append(time.perf_counter() - t0)
        if s.status == 200:
            done += 1
        else:
            statuses[f"submit {s.status}"] += 1
        if target:
            left = target - (time.perf_counter() - loop_start)
            if left > 0:
                time.sleep(left)
    with lock:
        out["next"] += nexts
        out["submit"] += submits
        out["submitted"] += done
        out["empty"] += empty
        for k, v in statuses.items():
            out["errors"][k] = out["errors"].get(k, 0) + v


def client_process(url: str, project_id: str, emails: list[str], seconds: float, barrier, out_path: str, period: float = 0.0) -> None:
    """One client process: signs its annotators in, waits for the others, then runs one
    thread per annotator for `seconds`; writes latencies and its CPU time to out_path."""
    annotators = [Annotator(url, e) for e in emails]
    barrier.wait()
    usage0 = resource.getrusage(resource.RUSAGE_SELF)
    end = time.monotonic() + seconds
    out = {"next": [], "submit": [], "submitted": 0, "empty": 0, "errors": {}}
    lock = threading.Lock()
    threads = [threading.Thread(target=_annotator_loop, args=(a, project_id, end, hash(a.email), out, lock, period)) for a in annotators]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    usage1 = resource.getrusage(resource.RUSAGE_SELF)
    out["cpu_s"] = (usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime)
    for a in annotators:
        a.close()
    Path(out_path).write_text(json.dumps(out))


# ----------------------------------------------------------------------------- profile

_FRAME = re.compile(r"^(?P<fn>[^ ]+) \((?P<file>[^:)]+)")


def _short(frame: str) -> str:
    m = _FRAME.match(frame)
    if not m:
        return frame
    file = m["file"]
    for marker in ("site-packages/", "/src/", "lib/python3.11/"):
        if marker in file:
            file = file.split(marker, 1)[1]
            break
    return f"{m['fn']} ({file})"


# leaf frames of threads that wait for work (py-spy's idle detection misses some in containers)
# (psycopg's Connection.wait is time waiting for PostgreSQL's answer, not this process's CPU)
_IDLE = ("Condition.wait (threading.py)", "Runner.run (asyncio/runners.py)", "EpollSelector.select (selectors.py)",
         "BaseEventLoop._run_once (asyncio/base_events.py)", "Event.wait (threading.py)", "Connection.wait (psycopg/connection.py)",
         "_PollLikeSelector.select (selectors.py)")
# a stack belongs to the first group one of whose frames it holds
_GROUPS = (("next", "next_task (assay/queue/views.py)"), ("submit", "submit_answer (assay/queue/views.py)"),
           ("jobs", "BackgroundJobs.run_once (assay/jobs.py)"))


def summarize_profile(raw: Path, rate: int, requests: dict[str, int], top: int = 15) -> dict:
    """py-spy collapsed stacks → per endpoint (next = stacks inside the handler of
    POST /api/projects/{id}/next, submit = inside that of /api/assignments/{id}/submit, jobs =
    the background jobs thread, other =
    HTTP parsing, auth, response writing, the event loop): sampled milliseconds per request,
    our functions (assay/) by inclusive share, and the leaf functions by self share. Stacks of
    idle threads are counted apart."""
    groups: dict[str, dict] = {k: {"samples": 0, "inclusive": Counter(), "self": Counter()} for k in ("next", "submit", "jobs", "other")}
    total = idle = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [_short(f) for f in stack.split(";")]
        total += n
        if frames[-1] in _IDLE:
            idle += n
            continue
        key = next((k for k, marker in _GROUPS if marker in frames), "other")
        g = groups[key]
        g["samples"] += n
        for f in set(frames):
            if f.split(" (", 1)[-1].startswith("assay/"):
                g["inclusive"][f] += n
        g["self"][frames[-1]] += n
    busy = total - idle
    out: dict = {"rate_hz": rate, "total_samples": total, "idle_samples": idle}
    all_requests = sum(requests.values()) or 1
    for key, g in groups.items():
        s = g["samples"] or 1
        per = requests.get(key) or all_requests
        out[key] = {
            "share_of_busy_samples": round(g["samples"] / (busy or 1), 3),
            "ms_per_request": round(g["samples"] * 1000 / rate / per, 2),
            "top_inclusive_assay": [(f, round(c / s, 3)) for f, c in g["inclusive"].most_common(top)],
            "top_self": [(f, round(c / s, 3)) for f, c in g["self"].most_common(top)],
        }
    return out


def print_profile(backend: str, summary: dict) -> None:
    print(f"\n[{backend}] server profile (py-spy at {summary['rate_hz']} Hz, {summary['total_samples']} samples, "
          f"{summary['idle_samples']} idle); shares are of each group's samples")
    for key, label in (("next", "next"), ("submit", "submit"), ("jobs", "background jobs; per request"),
                       ("other", "other: HTTP, auth, event loop; per request")):
        g = summary[key]
        print(f"  {label}: {g['share_of_busy_samples']:.0%} of busy samples, {g['ms_per_request']} ms sampled per request")
        print("    ours (inclusive): " + "; ".join(f"{f} {c:.0%}" for f, c in g["top_inclusive_assay"][:12]))
        print("    leaf (self):      " + "; ".join(f"{f} {c:.0%}" for f, c in g["top_self"][:10]))


# ----------------------------------------------------------------------------- one backend

def run_level(server: Server, admin: Admin, project_id: str, concurrency: int, args, sampler: RssSampler, profile_to: Path | None,
              paced_rate: float = 0.0) -> dict:
    emails = [admin.annotator(project_id, prefix=f"bench{concurrency}") for _ in range(concurrency)]
    procs_n = max(1, min(args.client_procs, concurrency))
    chunks = [emails[i::procs_n] for i in range(procs_n)]
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(procs_n + 1)
    tmp = Path(tempfile.mkdtemp(prefix="assay-bench-queue-"))
    period = concurrency / paced_rate if paced_rate else 0.0
    procs = [ctx.Process(target=client_process, args=(server.url, project_id, chunk, args.seconds, barrier, str(tmp / f"c{i}.json"), period))
             for i, chunk in enumerate(chunks)]
    for p in procs:
        p.start()
    barrier.wait(timeout=600)
    server_proc = psutil.Process(server.proc.pid)
    cpu0 = _tree_cpu(server_proc)
    sampler.peak = sampler.current()
    spy = None
    if profile_to is not None:
        spy = subprocess.Popen([args.py_spy, "record", "--pid", str(server.proc.pid), "--subprocesses", "--format", "raw", "--function", "--nonblocking",
                                "--rate", str(PROFILE_RATE), "--duration", str(max(1, int(args.seconds))), "-o", str(profile_to)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    t0 = time.perf_counter()
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - t0
    cpu1 = _tree_cpu(server_proc)
    if spy is not None:
        try:
            _, err = spy.communicate(timeout=60)
            if spy.returncode != 0:
                print(f"py-spy failed: {err.decode(errors='replace')[-500:]}")
        except subprocess.TimeoutExpired:
            spy.kill()
    merged = {"next": [], "submit": [], "submitted": 0, "empty": 0, "errors": {}, "cpu_s": 0.0}
    for i, p in enumerate(procs):
        if p.exitcode != 0:
            raise RuntimeError(f"client process {i} exited with {p.exitcode}")
        part = json.loads((tmp / f"c{i}.json").read_text())
        for k in ("next", "submit"):
            merged[k] += part[k]
        for k in ("submitted", "empty", "cpu_s"):
            merged[k] += part[k]
        for k, v in part["errors"].items():
            merged["errors"][k] = merged["errors"].get(k, 0) + v
    shutil.rmtree(tmp, ignore_errors=True)
    seconds = args.seconds
    violations = queue_violations(server, project_id)
    server_cpu = cpu1 - cpu0
    return {
        "concurrency": concurrency, "paced_rate": paced_rate or None, "client_processes": procs_n, "seconds": round(elapsed, 2),
        "submissions": merged["submitted"], "throughput_per_s": round(merged["submitted"] / seconds, 1),
        "next_requests": len(merged["next"]), "next_empty": merged["empty"],
        "next_p50_ms": round(pct(merged["next"], 50) * 1000, 2), "next_p99_ms": round(pct(merged["next"], 99) * 1000, 2),
        "submit_p50_ms": round(pct(merged["submit"], 50) * 1000, 2), "submit_p99_ms": round(pct(merged["submit"], 99) * 1000, 2),
        "errors": merged["errors"],
        "double_assignments": double_assignments(violations),
        "violations": {k: len(v) for k, v in violations.items()},
        "peak_rss_mb": round(sampler.peak / 2**20, 1),
        "server_cpu_s": round(server_cpu, 2), "server_cpu_pct": round(100 * server_cpu / elapsed, 1),
        "client_cpu_s": round(merged["cpu_s"], 2), "client_cpu_pct": round(100 * merged["cpu_s"] / elapsed, 1),
    }


def run_backend(backend: str, args) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix=f"assay-bench-queue-{backend}-"))
    db_url = create_pg_database() if backend == "postgres" else ""
    workers = args.pg_workers if backend == "postgres" else 1
    server = Server(data_dir=tmp / "data", database_url=db_url, env_overrides={"ASSAY_LOG_LEVEL": "warning"},
                    extra_args=["--workers", str(workers)] if workers > 1 else []).start()
    result: dict = {"backend": backend, "app_processes": workers, "tasks": args.tasks, "labels_per_task": args.labels, "levels": []}
    try:
        sampler = RssSampler(server.proc.pid)
        result["idle_rss_mb"] = round(sampler.current() / 2**20, 1)
        sampler.thread.start()
        admin = Admin(server)
        name = "bench queue"
        project_id = admin.project(name, labels_per_task=args.labels)
        t0 = time.perf_counter()
        admin.bulk(name, args.tasks)
        result["import_seconds"] = round(time.perf_counter() - t0, 2)
        print(f"[{backend}] imported {args.tasks} tasks ({args.labels} labels each) in {result['import_seconds']} s", flush=True)
        levels = [int(c) for c in args.concurrency.split(",")]
        for c in levels:
            profile_to = None
            if args.profile and c == max(levels):
                profile_to = tmp / "profile.txt"
            r = run_level(server, admin, project_id, c, args, sampler, profile_to)
            print(f"[{backend}] {c:>2} annotators: {r}", flush=True)
            result["levels"].append(r)
            if profile_to is not None and profile_to.exists():
                summary = summarize_profile(profile_to, PROFILE_RATE, {"next": r["next_requests"], "submit": r["submissions"]})
                summary["concurrency"] = c
                result["profile"] = summary
                print_profile(backend, summary)
                if args.keep_profile:
                    dest = RESULTS / f"queue-profile-{backend}.txt"
                    shutil.copy(profile_to, dest)
                    print(f"[{backend}] raw py-spy stacks: {dest}")
        if args.paced_rate:
            # the same annotators as people work: each paced (think time), the server not saturated
            r = run_level(server, admin, project_id, max(levels), args, sampler, None, paced_rate=args.paced_rate)
            print(f"[{backend}] {max(levels):>2} annotators paced at {args.paced_rate:g}/s: {r}", flush=True)
            result["levels"].append(r)
        result["task_status"] = status_counts(server, project_id)
        sampler.stop.set()
        admin.close()
    finally:
        server.stop()
        if db_url:
            drop_pg_database(db_url)
        shutil.rmtree(tmp, ignore_errors=True)
    return result


def print_table(results: dict) -> None:
    head = ("backend", "annot.", "submits/s", "next p50/p99 ms", "submit p50/p99 ms", "double", "peak RSS MB", "server CPU %",
            "client CPU %", "errors")
    rows = [head]
    for b in results["backends"]:
        for r in b["levels"]:
            label = f"{r['concurrency']} @{r['paced_rate']:g}/s" if r.get("paced_rate") else str(r["concurrency"])
            rows.append((b["backend"], label, f"{r['throughput_per_s']:.1f}", f"{r['next_p50_ms']:.1f} / {r['next_p99_ms']:.1f}",
                         f"{r['submit_p50_ms']:.1f} / {r['submit_p99_ms']:.1f}", str(r["double_assignments"]), f"{r['peak_rss_mb']:.0f}",
                         f"{r['server_cpu_pct']:.0f}", f"{r['client_cpu_pct']:.0f}", str(sum(r["errors"].values()))))
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    for i, row in enumerate(rows):
        print("  ".join(cell.rjust(w) if j else cell.ljust(w) for j, (cell, w) in enumerate(zip(row, widths))))
        if i == 0:
            print("  ".join("-" * w for w in widths))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--tasks", type=int, default=100_000, help="tasks imported per backend")
    parser.add_argument("--labels", type=int, default=3, help="labels_per_task of the project")
    parser.add_argument("--seconds", type=float, default=60, help="measured seconds per concurrency level")
    parser.add_argument("--concurrency", default="1,8,32", help="annotators per level (fresh accounts each level)")
    parser.add_argument("--paced-rate", type=float, default=40.0,
                        help="after the closed loops, run the highest concurrency once more with each annotator paced so that all "
                             "together offer this many submissions/s (0: skip)")
    parser.add_argument("--pg-workers", type=int, default=1, help="app processes on PostgreSQL (`assay serve --workers N`)")
    parser.add_argument("--client-procs", type=int, default=4, help="client processes the annotators are spread over")
    parser.add_argument("--profile", action="store_true", help="sample the server with py-spy during the highest level")
    parser.add_argument("--keep-profile", action="store_true", help="also keep the raw py-spy stacks in bench/results/")
    parser.add_argument("--out", type=Path, default=None, help="write the figures here instead of bench/results/queue.json")
    parser.add_argument("--py-spy", default=shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy"))
    args = parser.parse_args()
    if args.profile and not Path(args.py_spy).exists():
        parser.error(f"--profile needs py-spy (pip install py-spy); not found at {args.py_spy}")
    load = os.getloadavg()
    results = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "memory_gb": round(psutil.virtual_memory().total / 2**30, 1), "loadavg_at_start": [round(x, 2) for x in load]},
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "sizes": {"tasks": args.tasks, "labels_per_task": args.labels, "seconds": args.seconds, "concurrency": args.concurrency,
                  "client_procs": args.client_procs},
        "backends": [],
    }
    for backend in args.backends.split(","):
        if backend == "postgres" and postgres_available():
            print(f"skipping postgres: {postgres_available()}")
            continue
        results["backends"].append(run_backend(backend, args))
    print()
    print_table(results)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = args.out or RESULTS / "queue.json"
    # keep the other backends' figures when only some backends were run
    if path.exists():
        ran = {b["backend"] for b in results["backends"]}
        kept = [b for b in json.loads(path.read_text()).get("backends", []) if b["backend"] not in ran]
        results["backends"] = sorted(kept + results["backends"], key=lambda b: b["backend"] != "sqlite")
    path.write_text(json.dumps(results, indent=2))
    print(f"wrote {path}")
    if any(r["double_assignments"] for b in results["backends"] for r in b["levels"]):
        sys.exit("double assignments found: see the 'violations' of each level in the JSON")


if __name__ == "__main__":
    main()

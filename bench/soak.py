"""Soak: mixed traffic for N minutes against the production layout, one app process
SIGKILLed every minute, then every invariant checked from the database and the receiver.

Layout (all on this machine): PostgreSQL (a fresh database), SeaweedFS as the S3 store
(tests/s3_support.py), `assay serve --workers 2` (uvicorn's supervisor and two app
processes on one port, ASSAY_WORKER_IN_PROCESS=false) and one `assay worker` (callbacks,
export jobs, counter roll-ups), a callback receiver (tests/support.py CallbackReceiver).

Traffic (bench/soak_traffic.py): a backlog bulk-imported at the start; 32 annotators
(browser sessions, in client processes) paced to offer --label-rate submissions/s in all;
creates through /v1 at --create-rate with a callback each, in a new batch every minute (the
previous one finalized: its batch callback comes when it is done), each with a unique_id so a
create cut by a kill is sent again and a 409 names the task it had made; listing and paging;
a streamed export and a CSV export job (file in the bucket, fetched by its presigned link)
every 30 s; an upload to the bucket and an image task on it every 10 s.

Kills: every --kill-every seconds (first at half of it) one app process of the supervisor
gets SIGKILL and uvicorn's supervisor starts its replacement (measured). --kill busiest (the
default) kills the process holding most client connections: clients keep their connections
alive, so after a restart the other process carries all the traffic until it is killed in
turn. --kill youngest kills the last replacement, so one process lives through the whole run
(its memory comparable from first to last minute), but after the first kill the victim is a
fresh process that holds almost no connections.

Checks, after the traffic stops and the outbox is drained: every task the client created is
stored once (no task lost or doubled; pending ones are still in the queue's accounting), no
double assignment (tests/queue_support.py queue_violations), every answer the server
acknowledged is stored, every completed task's callback arrived (the outbox promises
at-least-once, with one X-Assay-Delivery id per delivery; duplicates are counted) and every
completed batch's callback, every client failure classified (a connection in flight when a
process was killed, or anything else), RSS of every process sampled every few seconds.

usage: python bench/soak.py [--minutes 10] [--smoke] [--annotators 32] [--create-rate 5] [--label-rate 16]
Writes bench/results/soak.json (bench/results/soak-smoke.json with --smoke).
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
import shutil  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

import psutil  # noqa: E402

from bench.soak_traffic import Customer, annotator_process, merge  # noqa: E402
from tests.db_access import query  # noqa: E402
from tests.queue_support import Admin, double_assignments, queue_violations, status_counts  # noqa: E402
from tests.s3_support import start_s3  # noqa: E402
from tests.support import CallbackReceiver, Server, create_pg_database, drop_pg_database, postgres_available  # noqa: E402

RESULTS = ROOT / "bench" / "results"
PROJECT = "soak"
SAMPLE_SECONDS = 3.0
# production-like delivery: a callback is retried for an hour, never given up during the run
DELIVERY_ENV = {"ASSAY_CALLBACK_TIMEOUT_SECONDS": "10", "ASSAY_CALLBACK_MAX_ATTEMPTS": "20", "ASSAY_CALLBACK_RETRY_WINDOW_SECONDS": "3600",
                "ASSAY_WORKER_POLL_SECONDS": "0.2", "ASSAY_JOBS_POLL_SECONDS": "1", "ASSAY_WORKER_IN_PROCESS": "false"}


def pct(values: list[float], q: float) -> float | None:
    values = sorted(values)
    if not values:
        return None
    return values[min(len(values) - 1, max(0, int(round(q / 100 * (len(values) - 1)))))]


def app_processes(server: Server) -> list[psutil.Process]:
    """uvicorn's app processes under the supervisor (multiprocessing spawn children; not
    the resource tracker)."""
    out = []
    for child in psutil.Process(server.proc.pid).children():
        try:
            if any("spawn_main" in part for part in child.cmdline()):
                out.append(child)
        except psutil.Error:
            pass
    return out


class Sampler:
    """RSS of every process of the layout every SAMPLE_SECONDS, and the load average."""

    def __init__(self, roles: dict[str, int], server: Server):
        self.roles, self.server = roles, server
        self.samples: list[dict] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.is_set():
            sample = {"t": time.time(), "load1": os.getloadavg()[0], "rss_mb": {}, "cpu_s": {}, "clients": {}}
            pids = dict(self.roles)
            for p in app_processes(self.server):
                pids[f"app {p.pid}"] = p.pid
            for role, pid in pids.items():
                try:
                    proc = psutil.Process(pid)
                    sample["rss_mb"][role] = round(proc.memory_info().rss / 2**20, 1)
                    times = proc.cpu_times()
                    sample["cpu_s"][role] = round(times.user + times.system, 2)
                    if role.startswith("app "):  # connections it serves: a replacement that takes traffic
                        sample["clients"][role] = sum(1 for c in proc.net_connections("tcp")
                                                      if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == self.server.port)
                except psutil.Error:
                    pass
            self.samples.append(sample)
            self.stop.wait(SAMPLE_SECONDS)


class Killer:
    """SIGKILL one app process (by --kill policy) every `every` seconds (first at every/2) and time
    how long the supervisor takes to start its replacement."""

    def __init__(self, server: Server, start: float, end: float, every: float, policy: str):
        self.server, self.start, self.end, self.every, self.policy = server, start, end, every, policy
        self.kills: list[dict] = []
        self.thread = threading.Thread(target=self.run, daemon=True)

    def choose(self, proc: psutil.Process) -> tuple:
        """--kill busiest: the app process holding most client connections (clients keep
        theirs alive, so after a restart one process may carry all the traffic);
        youngest: the last replacement, so the other lives through the run."""
        try:
            busy = sum(1 for c in proc.net_connections("tcp") if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == self.server.port)
        except psutil.Error:
            busy = 0
        return (busy, proc.create_time()) if self.policy == "busiest" else (proc.create_time(),)

    def run(self) -> None:
        at = self.start + self.every / 2
        while at < self.end - 5:
            time.sleep(max(0.0, at - time.time()))
            before = app_processes(self.server)
            if not before:
                self.kills.append({"at": time.time(), "error": "no app process to kill"})
                break
            victim = max(before, key=self.choose)
            killed_at = time.time()
            victim.send_signal(signal.SIGKILL)
            replacement = None
            while time.time() < killed_at + 60 and replacement is None:
                time.sleep(0.05)
                replacement = next((p for p in app_processes(self.server) if p.pid not in {b.pid for b in before}), None)
            self.kills.append({"at": killed_at, "pid": victim.pid, "replacement_pid": replacement.pid if replacement else None,
                               "replaced_after_s": round(time.time() - killed_at, 2) if replacement else None})
            print(f"  killed app process {victim.pid} at +{killed_at - self.start:.0f} s; replacement "
                  f"{replacement.pid if replacement else 'NONE'}", flush=True)
            at += self.every


def classify_failures(failures: list, kills: list[dict], slack: float = 1.0) -> dict:
    """A failure is 'cut by a kill' when its connection broke while a kill happened (the
    request was in flight on the killed process); everything else is unexplained."""
    cut, other = [], []
    kill_times = [k["at"] for k in kills]
    for t0, t1, endpoint, what in failures:
        if what.startswith("cut ") and any(t0 - slack <= k <= t1 + slack for k in kill_times):
            cut.append((endpoint, what))
        else:
            other.append({"at": round(t0, 2), "endpoint": endpoint, "what": what})
    by_kind: dict[str, int] = {}
    for endpoint, what in cut:
        key = f"{endpoint}: {what}"
        by_kind[key] = by_kind.get(key, 0) + 1
    return {"cut_by_kill": len(cut), "cut_by_kill_by_kind": by_kind, "other": len(other), "other_examples": other[:30]}


def memory_report(samples: list[dict], kills: list[dict], window: float) -> dict:
    """First-window vs last-window median RSS per long-lived process; the replaced app
    processes by their peak."""
    t_start, t_end = samples[0]["t"], samples[-1]["t"]
    killed = {k.get("pid") for k in kills}
    roles = {r for s in samples for r in s["rss_mb"]}
    out: dict = {}
    for role in sorted(roles):
        series = [(s["t"], s["rss_mb"][role]) for s in samples if role in s["rss_mb"]]
        pid = int(role.split()[1]) if role.startswith("app ") else None
        lived_through = series[0][0] - t_start < 2 * SAMPLE_SECONDS and t_end - series[-1][0] < 2 * SAMPLE_SECONDS
        if pid is not None and (pid in killed or not lived_through):
            served = max((s["clients"].get(role, 0) for s in samples), default=0)
            out.setdefault("replaced app processes", []).append({"pid": pid, "lived_s": round(series[-1][0] - series[0][0]),
                                                                 "peak_mb": max(v for _, v in series), "max_client_connections_seen": served})
            continue
        first = [v for t, v in series if t - t_start <= window]
        last = [v for t, v in series if t_end - t <= window]
        name = "app process that lived through the run" if pid is not None else role
        out[name] = {"pid": pid, "first_median_mb": statistics.median(first), "last_median_mb": statistics.median(last),
                     "growth_pct": round(100 * (statistics.median(last) / statistics.median(first) - 1), 1), "peak_mb": max(v for _, v in series)}
    return out


def start_layout(tmp: Path, args) -> tuple:
    """SeaweedFS, a fresh PostgreSQL database, `assay serve --workers 2`, `assay worker`."""
    s3 = start_s3(tmp / "s3")
    bucket = s3.bucket()
    db_url = create_pg_database()
    env = {**DELIVERY_ENV, **s3.env(bucket, "soak")}
    server = Server(data_dir=tmp / "app", database_url=db_url, env_overrides=env, extra_args=["--workers", str(args.app_processes)]).start()
    worker_log = open(tmp / "worker.log", "ab")
    worker = subprocess.Popen([sys.executable, "-m", "assay", "worker"], env={**server.env(), "ASSAY_DATA_DIR": str(tmp / "worker")},
                              stdout=worker_log, stderr=subprocess.STDOUT)
    return s3, bucket, db_url, server, worker


def setup_project(server: Server, receiver: CallbackReceiver, args) -> tuple[Admin, str, list[str], dict[str, str]]:
    """The project, the annotators, and the backlog (bulk import with callbacks)."""
    admin = Admin(server)
    project_id = admin.project(PROJECT, labels_per_task=args.labels)
    emails = [admin.annotator(project_id, "soak") for _ in range(args.annotators)]
    backlog = admin.bulk(PROJECT, args.backlog, callback_url=receiver.url("/task")) if args.backlog else []
    return admin, project_id, emails, {f"backlog-{i}": t for i, t in enumerate(backlog)}


def run_traffic(server: Server, admin: Admin, project_id: str, emails: list[str], receiver: CallbackReceiver, args, tmp: Path) -> tuple:
    start = time.time() + 2
    end = start + args.minutes * 60
    customer = Customer(server.url, server.live_key, PROJECT, project_id, receiver.url("/task"), end)
    ctx = multiprocessing.get_context("spawn")
    n = max(1, min(args.client_procs, len(emails)))
    period = len(emails) / args.label_rate
    procs = [ctx.Process(target=annotator_process, args=(server.url, project_id, emails[i::n], end, period, str(tmp / f"annotators{i}.json")))
             for i in range(n)]
    for p in procs:
        p.start()
    killer = Killer(server, start, end, args.kill_every, args.kill)
    time.sleep(max(0.0, start - time.time()))
    customer.new_batch("minute-0")
    threads = [threading.Thread(target=customer.creates, args=(args.create_rate,)), threading.Thread(target=customer.reads, args=(0.5,)),
               threading.Thread(target=customer.exports_loop, args=(30.0,)), threading.Thread(target=customer.uploads_loop, args=(10.0,))]
    for t in threads:
        t.start()
    killer.thread.start()
    minute = 0
    while time.time() < end - 1:
        time.sleep(min(1.0, max(0.0, end - time.time())))
        if time.time() - start >= (minute + 1) * 60 and time.time() < end - 5:
            minute += 1
            customer.new_batch(f"minute-{minute}")
    for t in threads:
        t.join()
    for p in procs:
        p.join(300)
    killer.thread.join(70)
    # the last batch is finalized too: its callback comes once its tasks are labeled
    if customer.batch:
        customer.log.call("batch finalize", lambda: customer.http.post(f"/v1/batches/{customer.batch}/finalize"))
    parts = [json.loads((tmp / f"annotators{i}.json").read_text()) for i in range(n) if (tmp / f"annotators{i}.json").exists()]
    return start, end, customer, parts, killer.kills, [p.exitcode for p in procs]


def wait_for_outbox(server: Server, timeout: float) -> dict:
    deadline = time.time() + timeout
    counts: dict = {}
    while time.time() < deadline:
        counts = dict(query(server, "SELECT status, COUNT(*) FROM outbox GROUP BY status"))
        if not counts.get("pending"):
            break
        time.sleep(1)
    return counts


def check_tasks(server: Server, project_id: str, customer: Customer, backlog: dict[str, str]) -> dict:
    """Every task the client knows is stored once; no stored task the client does not know."""
    known = {**backlog, **customer.tasks}
    pk = query(server, "SELECT id FROM projects WHERE public_id = ?", (project_id,))[0][0]
    rows = query(server, "SELECT public_id, unique_id, status FROM tasks WHERE project_id = ?", (pk,))
    stored = {r[0] for r in rows}
    per_uid: dict[str, int] = {}
    for _, uid, _ in rows:
        if uid:
            per_uid[uid] = per_uid.get(uid, 0) + 1
    unresolved_stored = [u for u in customer.unresolved if u in per_uid]
    return {"created_known_to_client": len(known), "stored": len(rows), "lost": sorted(set(known.values()) - stored)[:20],
            "lost_count": len(set(known.values()) - stored), "stored_unknown_to_client": len(stored - set(known.values())),
            "creates_never_answered": len(customer.unresolved), "of_which_stored": len(unresolved_stored),
            "unique_id_stored_twice": sum(1 for n in per_uid.values() if n > 1), "status": status_counts(server, project_id)}


def check_answers(server: Server, project_id: str, parts: list[dict]) -> dict:
    """Every submit the server acknowledged (200) is a submitted assignment in the database."""
    pk = query(server, "SELECT id FROM projects WHERE public_id = ?", (project_id,))[0][0]
    stored = {r[0] for r in query(server, "SELECT public_id FROM assignments WHERE project_id = ? AND kind = 'label' AND status = 'submitted'", (pk,))}
    acknowledged = {a for part in parts for a in part["submitted"]}
    return {"acknowledged": len(acknowledged), "stored_submitted": len(stored), "acknowledged_not_stored": len(acknowledged - stored),
            "stored_not_acknowledged": len(stored - acknowledged)}


def check_callbacks(server: Server, project_id: str, receiver: CallbackReceiver) -> dict:
    """Each completed task's callback and each completed batch's: arrived, how often, and
    whether repeats were retries of one delivery (same X-Assay-Delivery) or two deliveries."""
    pk = query(server, "SELECT id FROM projects WHERE public_id = ?", (project_id,))[0][0]
    completed = {r[0] for r in query(server, "SELECT public_id FROM tasks WHERE project_id = ? AND status = 'completed'", (pk,))}
    with receiver.lock:
        received = list(receiver.received)
    deliveries: dict[str, list[str]] = {}
    batches: dict[str, int] = {}
    for r in received:
        if r.path == "/task":
            deliveries.setdefault(r.body["task_id"], []).append(r.headers.get("x-assay-delivery", ""))
        elif r.path == "/batch":
            batches[r.body["batch"]["name"]] = batches.get(r.body["batch"]["name"], 0) + 1
    completed_batches = {r[0] for r in query(server, "SELECT name FROM batches WHERE project_id = ? AND status = 'completed'", (pk,))}
    repeated = [t for t, v in deliveries.items() if len(set(v)) > 1]
    return {"repeated_distinct_details": [repeat_details(server, t, [r for r in received if r.path == "/task" and r.body["task_id"] == t])
                                          for t in repeated[:10]],
        "semantics": "at-least-once (outbox row marked delivered on a 2xx; X-Assay-Delivery repeats on a retry)",
        "completed_tasks": len(completed), "task_callbacks_received": sum(len(v) for v in deliveries.values()),
        "lost": len(completed - set(deliveries)), "for_tasks_not_completed": len(set(deliveries) - completed),
        "repeated_same_delivery": sum(1 for v in deliveries.values() if len(v) > 1 and len(set(v)) == 1),
        "repeated_distinct_deliveries": sum(1 for v in deliveries.values() if len(set(v)) > 1),
        "completed_batches": len(completed_batches), "batch_callbacks": sum(batches.values()),
        "batches_lost": len(completed_batches - set(batches)), "batches_repeated": sum(1 for n in batches.values() if n > 1),
        "outbox": dict(query(server, "SELECT status, COUNT(*) FROM outbox GROUP BY status")),
    }


def repeat_details(server: Server, task_id: str, received: list) -> dict:
    """What the database says about a task that got two distinct deliveries: its outbox
    rows and label assignments, and what each callback carried."""
    pk = query(server, "SELECT id FROM tasks WHERE public_id = ?", (task_id,))[0][0]
    outbox = query(server, "SELECT id, kind, status, attempts, created_at, delivered_at FROM outbox WHERE task_id = ? ORDER BY id", (pk,))
    assignments = query(server, "SELECT public_id, user_id, status, created_at, updated_at FROM assignments WHERE task_id = ? ORDER BY id", (pk,))
    answers = query(server, "SELECT id, user_id, source, active, created_at FROM task_answers WHERE task_id = ? ORDER BY id", (pk,))
    return {"task_id": task_id, "outbox": [[str(x) for x in r] for r in outbox], "assignments": [[str(x) for x in r] for r in assignments],
            "answers": [[str(x) for x in r] for r in answers],
            "callbacks": [{"delivery": r.headers.get("x-assay-delivery"), "status": r.body["task"].get("status"),
                           "completed_at": r.body["task"].get("completed_at"), "response": r.body.get("response")} for r in received]}


def check_bucket(s3, bucket: str, customer: Customer) -> dict:
    keys = []
    for page in s3.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="soak/"):
        keys += [o["Key"] for o in page.get("Contents", [])]
    jobs = [e["job"] for e in customer.exports if "job" in e]
    streams = [e["stream"] for e in customer.exports if "stream" in e]
    return {"uploads_acknowledged": len(customer.uploads), "uploads_in_bucket": sum(1 for u in customer.uploads if any(k.endswith(f"/{u}") for k in keys)),
            "export_jobs": len(jobs), "export_jobs_done_and_fetched": sum(1 for j in jobs if j.get("from_bucket")),
            "export_job_rows": [j.get("rows") for j in jobs], "export_job_wait_s": [j.get("waited_s") for j in jobs],
            "streamed_exports": len(streams), "streamed_lines_equal_matched": all(s["lines"] == s["matched"] for s in streams),
            "streamed_lines_and_matched": [(s["lines"], s["matched"]) for s in streams]}


def latency_table(log: dict) -> dict:
    return {endpoint: {"ok": len(v), "p50_ms": round(pct(v, 50) * 1000, 1), "p99_ms": round(pct(v, 99) * 1000, 1)}
            for endpoint, v in sorted(log["latencies"].items()) if v}


def verdicts(result: dict) -> dict:
    t, a, c, e = result["tasks"], result["answers"], result["callbacks"], result["client_errors"]
    flat = [m for k, m in result["memory"].items() if isinstance(m, dict) and k != "weed (S3 store)"]
    return {"lost_tasks": t["lost_count"] + t["unique_id_stored_twice"], "double_assignments": result["double_assignments"],
            "lost_answers": a["acknowledged_not_stored"], "lost_callbacks": c["lost"] + c["batches_lost"],
            "errors_other_than_cut_connections": e["other"], "kills_without_replacement": sum(1 for k in result["kills"] if not k.get("replacement_pid")),
            "max_rss_growth_pct_first_to_last_window": max((m["growth_pct"] for m in flat), default=None)}


def breached(v: dict) -> bool:
    return bool(v["lost_tasks"] or v["double_assignments"] or v["lost_answers"] or v["lost_callbacks"] or v["errors_other_than_cut_connections"])


def run(args, tmp: Path) -> dict:
    receiver = CallbackReceiver()
    s3, bucket, db_url, server, worker = start_layout(tmp, args)
    sampler = None
    keep_db = False
    try:
        admin, project_id, emails, backlog = setup_project(server, receiver, args)
        print(f"layout up: {len(app_processes(server))} app processes, worker {worker.pid}; {len(backlog)} backlog tasks; "
              f"{len(emails)} annotators", flush=True)
        sampler = Sampler({"supervisor": server.proc.pid, "worker": worker.pid, "weed (S3 store)": s3.proc.pid}, server)
        sampler.thread.start()
        load_start = os.getloadavg()
        start, end, customer, parts, kills, exitcodes = run_traffic(server, admin, project_id, emails, receiver, args, tmp)
        load_end = os.getloadavg()
        sampler.stop.set()
        print("traffic stopped; waiting for the outbox to drain", flush=True)
        outbox = wait_for_outbox(server, 180)
        time.sleep(3)  # a repeated delivery would arrive now
        log = merge([customer.log.dump(), *parts])
        violations = queue_violations(server, project_id)
        window = min(60.0, args.minutes * 60 / 3)
        result = {
            "tasks": check_tasks(server, project_id, customer, backlog), "answers": check_answers(server, project_id, parts),
            "double_assignments": double_assignments(violations), "violations": {k: len(v) for k, v in violations.items()},
            "callbacks": check_callbacks(server, project_id, receiver), "outbox_after_drain": outbox,
            "bucket": check_bucket(s3, bucket, customer), "batches_created": len(customer.batches),
            "kills": [{**k, "at_s": round(k["at"] - start, 1)} for k in kills],
            "client_errors": {**classify_failures(log["failures"], kills), "outcomes": log["outcomes"]},
            "latency": latency_table(log), "annotator_processes_exit": exitcodes, "annotators_signed_in": sum(p["signed_in"] for p in parts),
            "memory_window_s": window, "memory": memory_report(sampler.samples, kills, window),
            "load_average": {"start": [round(x, 2) for x in load_start], "end": [round(x, 2) for x in load_end],
                             "median_1min_during": round(statistics.median(s["load1"] for s in sampler.samples), 2)},
            "rss_samples": [{"t": round(s["t"] - start, 1), **s["rss_mb"]} for s in sampler.samples],
        }
        result["verdict"] = verdicts(result)
        if breached(result["verdict"]) or result["callbacks"]["repeated_distinct_deliveries"]:
            keep_db = True
            result["database_kept"] = db_url
        admin.close()
        customer.close()
        return result
    finally:
        if sampler is not None:
            sampler.stop.set()
        worker.terminate()
        worker.wait(15)
        server.stop()
        s3.stop()
        receiver.close()
        if not keep_db:  # kept for a post-mortem when the soak found a breach
            drop_pg_database(db_url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--smoke", action="store_true", help="a 1-minute run (one kill), written to soak-smoke.json")
    parser.add_argument("--annotators", type=int, default=32)
    parser.add_argument("--labels", type=int, default=2, help="labels_per_task of the project")
    parser.add_argument("--create-rate", type=float, default=5.0, help="single creates per second through /v1")
    parser.add_argument("--label-rate", type=float, default=16.0, help="submissions per second offered by all annotators together")
    parser.add_argument("--backlog", type=int, default=1000, help="tasks bulk-imported before the traffic starts")
    parser.add_argument("--kill-every", type=float, default=60.0, help="seconds between two SIGKILLs of an app process")
    parser.add_argument("--kill", choices=("busiest", "youngest"), default="busiest",
                        help="which app process to kill: the one holding most client connections, or the last replacement")
    parser.add_argument("--app-processes", type=int, default=2, help="`assay serve --workers N`")
    parser.add_argument("--client-procs", type=int, default=2, help="client processes the annotators are spread over")
    args = parser.parse_args()
    if args.smoke:
        args.minutes = 1.0
    if postgres_available():
        sys.exit(postgres_available())
    tmp = Path(tempfile.mkdtemp(prefix="assay-soak-"))
    results = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "memory_gb": round(psutil.virtual_memory().total / 2**30, 1)},
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "sizes": {k: getattr(args, k) for k in ("minutes", "annotators", "labels", "create_rate", "label_rate", "backlog", "kill_every",
                                                 "app_processes", "client_procs")},
        "kill_method": f"SIGKILL to the {args.kill} app process of `assay serve --workers N`; uvicorn's supervisor starts the replacement",
    }
    results.update(run(args, tmp))  # on an exception the logs stay in tmp
    shutil.rmtree(tmp, ignore_errors=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / ("soak-smoke.json" if args.smoke else "soak.json")
    path.write_text(json.dumps(results, indent=2))
    print(json.dumps({k: results[k] for k in ("verdict", "tasks", "answers", "callbacks", "bucket", "kills", "memory", "load_average", "latency")},
                     indent=1))
    print(f"client errors: {json.dumps({k: v for k, v in results['client_errors'].items() if k != 'outcomes'}, indent=1)}")
    print(f"wrote {path}")
    if breached(results["verdict"]):
        sys.exit("the soak found a breach: see 'verdict' in the JSON")


if __name__ == "__main__":
    main()

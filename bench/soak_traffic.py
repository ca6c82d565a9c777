"""The client side of bench/soak.py: every request timed and classified, annotators in
their own processes, and the mixed traffic of an integrating customer (creates with
idempotent retries, listing and paging, exports, uploads) as threads.

A request whose connection breaks (the app process serving it was SIGKILLed) is recorded
with its start and end (wall clock, shared by every process), so the orchestrator can tell
a connection cut by a kill from any other failure."""

from __future__ import annotations

import csv
import io
import json
import random
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from tests.queue_support import CATEGORIES, Annotator

# 1×1 PNG: the uploads exercise the object store, not image decoding
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


class Log:
    """Outcomes per endpoint (`"200"`, `"409 retry"`, `"cut RemoteProtocolError"`), latencies
    of the successful requests, and every failed request as (start, end, endpoint, what)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.outcomes: dict[str, Counter] = {}
        self.latencies: dict[str, list[float]] = {}
        self.failures: list[tuple[float, float, str, str]] = []

    def call(self, endpoint: str, send, ok: tuple[int, ...] = (200,), retry: bool = False) -> httpx.Response | None:
        """send() once; None when the connection failed. A status outside `ok` is a failure."""
        t0 = time.time()
        try:
            r = send()
        except httpx.TransportError as exc:
            self._record(endpoint, f"cut {type(exc).__name__}", t0, failed=True)
            return None
        what = f"{r.status_code}{' retry' if retry else ''}"
        self._record(endpoint, what, t0, failed=r.status_code not in ok, detail=r.text[:200] if r.status_code not in ok else "")
        return r

    def _record(self, endpoint: str, what: str, t0: float, failed: bool, detail: str = "") -> None:
        t1 = time.time()
        with self.lock:
            self.outcomes.setdefault(endpoint, Counter())[what] += 1
            if failed:
                self.failures.append((t0, t1, endpoint, f"{what} {detail}".strip()))
            else:
                self.latencies.setdefault(endpoint, []).append(t1 - t0)

    def dump(self) -> dict:
        with self.lock:
            return {"outcomes": {k: dict(v) for k, v in self.outcomes.items()}, "latencies": self.latencies, "failures": self.failures}


def merge(parts: list[dict]) -> dict:
    out: dict = {"outcomes": {}, "latencies": {}, "failures": []}
    for part in parts:
        for endpoint, counts in part["outcomes"].items():
            merged = out["outcomes"].setdefault(endpoint, {})
            for k, v in counts.items():
                merged[k] = merged.get(k, 0) + v
        for endpoint, values in part["latencies"].items():
            out["latencies"].setdefault(endpoint, []).extend(values)
        out["failures"] += [tuple(f) for f in part["failures"]]
    return out


# ----------------------------------------------------------------------------- annotators

def _sign_in(url: str, email: str, end: float) -> Annotator | None:
    """Sign in, again while the connection is cut by a kill."""
    while time.time() < end:
        try:
            return Annotator(url, email, timeout=30)
        except (httpx.TransportError, AttributeError, AssertionError):
            time.sleep(0.5)
    return None


def _label(person: Annotator, log: Log, project_id: str, end: float, period: float, rng: random.Random, submitted: list[str]) -> None:
    """next → submit, paced to one loop per `period` seconds on average. A submit whose
    connection was cut is sent once more: 200 (it had not been stored) or 409 (it had)."""
    time.sleep(rng.uniform(0, period))
    while time.time() < end:
        started = time.time()
        r = log.call("next", lambda: person.http.post(f"/api/projects/{project_id}/next", json={"holding": []}))
        if r is None or r.status_code != 200 or r.json()["assignment"] is None:
            time.sleep(0.5)
            continue
        assignment = r.json()["assignment"]["id"]
        body = {"response": {"category": rng.choice(CATEGORIES)}, "active_seconds": round(rng.uniform(1, 20), 1)}
        s = log.call("submit", lambda: person.http.post(f"/api/assignments/{assignment}/submit", json=body))
        if s is None:
            s = log.call("submit", lambda: person.http.post(f"/api/assignments/{assignment}/submit", json=body), ok=(200, 409), retry=True)
        if s is not None and s.status_code == 200:
            submitted.append(assignment)
        left = period * rng.uniform(0.5, 1.5) - (time.time() - started)
        if left > 0:
            time.sleep(left)


def annotator_process(url: str, project_id: str, emails: list[str], end: float, period: float, out_path: str) -> None:
    """One client process: a thread per annotator until `end` (wall clock); writes its log
    and the assignments the server acknowledged to out_path."""
    log, submitted = Log(), []
    people = [p for p in (_sign_in(url, e, end) for e in emails) if p is not None]
    threads = [threading.Thread(target=_label, args=(p, log, project_id, end, period, random.Random(p.email), submitted)) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for p in people:
        p.close()
    Path(out_path).write_text(json.dumps({**log.dump(), "signed_in": len(people), "submitted": submitted}))


# ----------------------------------------------------------------------------- the customer

class Customer:
    """An integration through the API key: creates tasks (each with a unique_id, so a create
    whose connection was cut is sent again and a 409 names the task it had made), lists and
    pages, exports (streamed, and as a background job whose file is in the bucket), uploads."""

    def __init__(self, url: str, key: str, project: str, project_id: str, callback: str, end: float):
        self.http = httpx.Client(base_url=url, auth=(key, ""), timeout=60)
        self.project, self.project_id, self.callback, self.end = project, project_id, callback, end
        self.log = Log()
        self.tasks: dict[str, str] = {}  # unique_id → task_id
        self.unresolved: list[str] = []  # unique_ids whose create never got an answer
        self.batch = ""
        self.batches: list[str] = []
        self.exports: list[dict] = []
        self.uploads: list[str] = []
        self.lock = threading.Lock()
        self.n = 0

    def _until_answered(self, endpoint: str, send, ok: tuple[int, ...]) -> httpx.Response | None:
        """send() until a response arrives (a cut connection is sent again, as a client would)."""
        r = self.log.call(endpoint, send, ok=ok)
        for _ in range(20):
            if r is not None:
                return r
            time.sleep(0.3)
            r = self.log.call(endpoint, send, ok=ok + (409,), retry=True)
        return r

    def create(self, body: dict) -> None:
        with self.lock:
            self.n += 1
            uid = f"soak-{self.n}"
        body = {"project": self.project, "callback_url": self.callback, "unique_id": uid, **({"batch": self.batch} if self.batch else {}), **body}
        r = self._until_answered("create", lambda: self.http.post("/v1/task/categorization", json=body), ok=(200,))
        task_id = r.json().get("task_id") if r is not None and r.status_code in (200, 409) else None
        with self.lock:
            if task_id:
                self.tasks[uid] = task_id
            else:
                self.unresolved.append(uid)

    def new_batch(self, name: str) -> None:
        """Start putting creates in batch `name` and finalize the previous one (its callback
        comes once all its tasks are done)."""
        if self._until_answered("batch create", lambda: self.http.post("/v1/batches", json={"project": self.project, "name": name,
                                                                                              "callback": self.callback.replace("/task", "/batch")}),
                                ok=(200,)) is None:
            return
        previous, self.batch = self.batch, name
        self.batches.append(name)
        if previous:
            self._until_answered("batch finalize", lambda: self.http.post(f"/v1/batches/{previous}/finalize"), ok=(200,))

    def creates(self, rate: float) -> None:
        rng = random.Random(1)
        while time.time() < self.end:
            started = time.time()
            self.create({"attachment": f"soak item {self.n}: {rng.random()}", "attachment_type": "text", "categories": CATEGORIES,
                         "metadata": {"soak": True}})
            time.sleep(max(0.0, rng.expovariate(rate) - (time.time() - started)))

    def reads(self, period: float) -> None:
        """A first page with its total, a few pages deeper by next_token, and one task by id."""
        rng = random.Random(2)
        while time.time() < self.end:
            params = {"project": self.project, "limit": 100}
            for _ in range(rng.randint(1, 4)):
                r = self.log.call("list", lambda p=dict(params): self.http.get("/v1/tasks", params=p))
                if r is None or r.status_code != 200 or not r.json().get("next_token"):
                    break
                params["next_token"] = r.json()["next_token"]
            with self.lock:
                known = list(self.tasks.values())
            if known:
                task_id = rng.choice(known)
                self.log.call("get", lambda: self.http.get(f"/v1/task/{task_id}"))
            time.sleep(period)

    def uploads_loop(self, period: float) -> None:
        """A file into the bucket, then an image task on it."""
        while time.time() < self.end:
            time.sleep(period)
            r = self.log.call("upload", lambda: self.http.post("/v1/files/upload", files={"file": ("pixel.png", io.BytesIO(PNG), "image/png")},
                                                                data={"project_name": self.project}))
            if r is not None and r.status_code == 200:
                self.uploads.append(r.json()["id"])
                self.create({"attachment": r.json()["attachment_url"], "attachment_type": "image", "categories": CATEGORIES})

    def exports_loop(self, period: float) -> None:
        while time.time() < self.end:
            time.sleep(period)
            self.export_once()

    def export_once(self) -> None:
        """A streamed JSON-lines export (lines == X-Export-Matched) and a CSV export job whose
        download is a presigned link to the bucket."""
        record: dict = {"at": time.time()}
        r = self.log.call("export stream", lambda: self.http.get(f"/api/projects/{self.project_id}/export", params={"format": "jsonl"}))
        if r is not None and r.status_code == 200:
            lines = [x for x in r.text.splitlines() if x.strip()]
            record["stream"] = {"lines": len(lines), "matched": int(r.headers.get("x-export-matched", -1))}
        job = self.log.call("export job", lambda: self.http.post(f"/api/projects/{self.project_id}/exports", json={"format": "csv"}), ok=(202,))
        if job is not None and job.status_code == 202:
            record["job"] = self._finish_job(job.json()["id"])
        self.exports.append(record)

    def _finish_job(self, job_id: str) -> dict:
        deadline = time.time() + 120
        state: dict = {}
        while time.time() < deadline:
            r = self.log.call("export poll", lambda: self.http.get(f"/api/exports/{job_id}"))
            if r is not None and r.status_code == 200:
                state = r.json()
                if state["status"] in ("done", "failed"):
                    break
            time.sleep(1)
        out = {"status": state.get("status"), "total": state.get("total"), "waited_s": round(120 - (deadline - time.time()), 1)}
        if state.get("status") == "done":
            link = self.log.call("export download", lambda: self.http.get(f"/api/exports/{job_id}/download", follow_redirects=False), ok=(307,))
            if link is not None and link.status_code == 307:
                got = self.log.call("bucket get", lambda: httpx.get(link.headers["location"], timeout=60))
                if got is not None and got.status_code == 200:
                    out["rows"] = max(0, len(list(csv.reader(io.StringIO(got.text)))) - 1)
                    out["from_bucket"] = True
        return out

    def close(self) -> None:
        self.http.close()

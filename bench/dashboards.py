"""Dashboard benchmark: server time of the cockpit's pages over a large project.

Starts a real `assay serve` per backend (fresh database), stores a project with N answers
(N/2 tasks, 2 labels each, answered by 40 people over the last 14 days: tasks, answers,
task counters and the activity rollups written straight into the database, as the server
would have), then times over HTTP on 127.0.0.1 with a signed-in admin's session:
the projects list page and its JSON twin, the task browser (filtered by project and
status; by a metadata value; by text) and the charts page with its twin. Each is
requested R times; p50 and p95 of the round trip (client and server on the same 2 cores).

Prints a table and writes bench/results/dashboards.json.

usage: python bench/dashboards.py [--backends sqlite,postgres] [--answers 100000,1000000] [--repeat 30] [--only confidence]

A run updates the figures it measured in the JSON and keeps the others.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections import defaultdict  # noqa: E402
from datetime import datetime, timedelta  # noqa: E402

import orjson  # noqa: E402

from tests.queue_support import PASSWORD, Admin, Annotator  # noqa: E402
from tests.support import Server, create_pg_database, drop_pg_database  # noqa: E402

PEOPLE = 40
CHUNK = 20_000


def _fill(server: Server, project_pk: int, org_id: int, answers: int, user_ids: list[int]) -> None:
    """Tasks, answers, counters and rollups as the server writes them, in bulk."""
    from sqlalchemy import insert, text

    from assay.tasks.models import ActivityRollup, Task, TaskAnswer, TaskCount

    rng = random.Random(7)
    now = datetime.utcnow().replace(microsecond=0)
    tasks = answers // 2
    rollups: dict[tuple, list] = defaultdict(lambda: [0, 0, 0.0, 0, 0, 0])
    db = server.database()
    T, A = Task.__table__, TaskAnswer.__table__
    with db.engine.begin() as conn:
        next_id = (conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM tasks")).scalar() or 0) + 1
        for start in range(0, tasks, CHUNK):
            rows, answer_rows = [], []
            for i in range(start, min(tasks, start + CHUNK)):
                at = now - timedelta(seconds=rng.randrange(14 * 86400))
                done = rng.random() < 0.8
                category = rng.choice(["positive", "negative", "neutral"])
                rows.append({"id": next_id + i, "public_id": uuid.uuid4().hex[:24], "org_id": org_id, "project_id": project_pk, "is_test": False,
                             "type": "categorization", "status": "completed" if done else "pending", "instruction": "",
                             "params": {"attachment": f"item {i} the quick brown fox", "attachment_type": "text", "categories": ["positive", "negative", "neutral"]},
                             "metadata": {"source": rng.choice(["web", "app", "mail"]), "i": i}, "tags": None, "audits": [],
                             "response": {"category": category} if done else None, "required_labels": 2, "open_slots": 0 if done else 2,
                             "queue_rank": 999_999, "kind": "task", "clear_unique_id_on_error": False, "required_level": 1,
                             "quality": {"confidence": (conf := round(rng.random(), 3)), "labels": 2, "agreeing": rng.choice([1, 2])} if done else None,
                             "confidence": conf if done else None,
                             "created_at": at, "updated_at": at, "completed_at": at + timedelta(minutes=5) if done else None})
                for _ in range(2 if done else 0):
                    user = rng.choice(user_ids)
                    seconds = rng.uniform(3, 40)
                    answer_rows.append({"org_id": org_id, "task_id": next_id + i, "user_id": user, "source": "human", "response": {"category": category},
                                        "active_seconds": seconds, "active": True, "created_at": at})
                    r = rollups[(user, at.date(), at.hour)]
                    r[0] += 1
                    r[1] += 1
                    r[2] += seconds
                if done:
                    p = rollups[(0, at.date(), at.hour)]
                    p[3] += 1
                p = rollups[(0, at.date(), at.hour)]
                p[4] += 1
            conn.execute(insert(T), rows)
            if answer_rows:
                conn.execute(insert(A), answer_rows)
        done_n = conn.execute(text("SELECT COUNT(*) FROM tasks WHERE project_id = :p AND status = 'completed'"), {"p": project_pk}).scalar()
        conn.execute(text("DELETE FROM task_counts WHERE project_id = :p"), {"p": project_pk})
        conn.execute(insert(TaskCount.__table__), [
            {"org_id": org_id, "is_test": False, "project_id": project_pk, "batch_id": 0, "status": "completed", "n": done_n},
            {"org_id": org_id, "is_test": False, "project_id": project_pk, "batch_id": 0, "status": "pending", "n": tasks - done_n}])
        conn.execute(insert(ActivityRollup.__table__), [
            {"project_id": project_pk, "user_id": u, "day": d, "hour": h, "org_id": org_id, "labels": v[0], "annotations": v[1],
             "active_seconds": v[2], "held_seconds": v[2] * 1.2, "completed": v[3], "created": v[4], "consolidated": v[0], "agreed": v[0] * 3 // 4}
            for (u, d, h), v in rollups.items()])
        conn.execute(text("ANALYZE"))  # as a server that has run a while (SQLite: sqlite_stat1 for the planner)


def _time(http, path: str, repeat: int) -> dict:
    http.get(path)  # warm
    took = []
    for _ in range(repeat):
        start = time.perf_counter()
        r = http.get(path)
        took.append((time.perf_counter() - start) * 1000)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
    took.sort()
    return {"p50_ms": round(statistics.median(took), 1), "p95_ms": round(took[int(0.95 * (len(took) - 1))], 1), "n": repeat}


def run(backend: str, answers: int, repeat: int, only: str = "") -> dict:
    url = create_pg_database() if backend == "postgres" else ""
    server = Server(data_dir=Path(tempfile.mkdtemp(prefix="bench-dash-")), database_url=url).start()
    try:
        admin = Admin(server)
        name = f"dashboards {uuid.uuid4().hex[:6]}"
        pid = admin.project(name, 2)
        people = [admin.annotator(pid, f"p{i}") for i in range(PEOPLE)]
        ids = {u["email"]: u["id"] for u in admin.http.get("/api/users").json()["users"]}
        from sqlalchemy import text
        with server.database().engine.connect() as conn:
            project_pk, org_id = conn.execute(text("SELECT id, org_id FROM projects WHERE public_id = :p"), {"p": pid}).one()
        start = time.perf_counter()
        _fill(server, project_pk, org_id, answers, [ids[e] for e in people])
        fill_s = time.perf_counter() - start
        lead_email = f"lead-{uuid.uuid4().hex[:6]}@example.com"
        admin.http.post("/api/users", json={"email": lead_email, "role": "admin", "password": PASSWORD})
        lead = Annotator(server.url, lead_email, PASSWORD)
        paths = {
            "projects page": "/admin/projects", "projects JSON": "/api/insights/projects",
            "task browser: project + status": f"/admin/tasks?project={pid}&status=completed",
            "task browser JSON: project + status": f"/api/tasks/browse?project={pid}&status=completed",
            "task browser JSON: metadata source=web": f"/api/tasks/browse?project={pid}&meta_key=source&meta_value=web",
            "task browser JSON: confidence 0.2-0.4, by confidence": f"/api/tasks/browse?project={pid}&confidence_min=0.2&confidence_max=0.4&sort=confidence",
            "charts page (8 SVG charts)": f"/admin/charts?project_id={pid}", "charts JSON": f"/api/insights/charts?project_id={pid}",
        }
        figures = {label: _time(lead.http, path, repeat) for label, path in paths.items() if not only or only in label}
        return {"backend": backend, "answers": answers, "tasks": answers // 2, "people": PEOPLE, "fill_seconds": round(fill_s, 1), "pages": figures}
    finally:
        server.stop()
        if url:
            drop_pg_database(url)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--answers", default="100000,1000000")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--only", default="", help="Time only the pages whose label contains this (e.g. confidence).")
    args = parser.parse_args()
    results = []
    for answers in [int(a) for a in args.answers.split(",")]:
        for backend in args.backends.split(","):
            result = run(backend, answers, args.repeat, args.only)
            result["load_average"] = [round(x, 2) for x in __import__("os").getloadavg()]
            if args.only:  # a partial run: its conditions go with the figures it replaces
                for figure in result["pages"].values():
                    figure.update({"fill_seconds": result["fill_seconds"], "load_average": result["load_average"],
                                   "at": datetime.utcnow().isoformat(timespec="seconds")})
            results.append(result)
            print(f"\n{backend}, {answers:,} answers ({result['tasks']:,} tasks; filled in {result['fill_seconds']} s)")
            for label, f in result["pages"].items():
                print(f"  {label:55s} p50 {f['p50_ms']:7.1f} ms   p95 {f['p95_ms']:7.1f} ms")
    out = ROOT / "bench" / "results" / "dashboards.json"
    # a run replaces the figures it measured (same backend, size and page); the others stay
    kept = orjson.loads(out.read_bytes())["runs"] if out.exists() else []
    for result in results:
        old = next((r for r in kept if (r["backend"], r["answers"]) == (result["backend"], result["answers"])), None)
        if old is None:
            kept.append(result)
        else:
            if not any("at" in f for f in result["pages"].values()):  # a full run replaces the run's own figures too
                old.update({k: v for k, v in result.items() if k != "pages"})
            old["pages"].update(result["pages"])
    out.write_bytes(orjson.dumps({"machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores", "python": platform.python_version(),
                                  "at": datetime.utcnow().isoformat(timespec="seconds"), "runs": kept}, option=orjson.OPT_INDENT_2))
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()

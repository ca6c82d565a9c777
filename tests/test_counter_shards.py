"""The task counters and a project's activity row are sharded on PostgreSQL (no hot row)
and folded back in the background: under concurrent creates, answers, cancels and folds,
every count read must equal a COUNT(*) over the tasks themselves, on both databases."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from scaleapi.tasks import TaskStatus, TaskType
from sqlalchemy import text

from assay.db import Database
from assay.jobs import BackgroundJobs
from assay.projects import service as projects
from assay.tasks import counts, rollups
from tests import local_http
from tests.db_access import query

THREADS = 8
TASKS = 160


def _database(server) -> Database:
    return Database(server.database_url or f"sqlite:///{server.data_dir / 'assay.db'}")


def _project_pk(server, name: str) -> int:
    return query(server, "SELECT id FROM projects WHERE name = ?", (name,))[0][0]


def _counted(server, pid: int) -> dict[tuple[int, str], int]:
    rows = query(server, "SELECT batch_id, status, SUM(n) FROM task_counts WHERE project_id = ? AND is_test = ? "
                         "GROUP BY batch_id, status", (pid, False))
    return {(b, s): int(n) for b, s, n in rows if n}


def _recounted(server, pid: int) -> dict[tuple[int, str], int]:
    rows = query(server, "SELECT COALESCE(batch_id, 0), status, COUNT(*) FROM tasks WHERE project_id = ? AND is_test = ? "
                         "GROUP BY COALESCE(batch_id, 0), status", (pid, False))
    return {(b, s): int(n) for b, s, n in rows}


def _project_activity(server, pid: int) -> tuple[int, int]:
    created, completed = query(server, "SELECT COALESCE(SUM(created), 0), COALESCE(SUM(completed), 0) FROM activity_rollups "
                                       "WHERE project_id = ? AND user_id = 0", (pid,))[0]
    return int(created), int(completed)


def test_counts_exact_under_concurrent_writers_and_folds(server, client, uniq):
    name = f"shards {uniq}"
    client.create_project(project_name=name, task_type=TaskType.Categorization, params={"instruction": "x"})
    batch = client.create_batch(project=name, batch_name=f"shards-b {uniq}").name
    auth = (server.live_key, "")
    r = local_http.post(f"{server.url}/api/tasks/bulk", auth=auth, timeout=60, json={
        "type": "categorization", "project": name, "batch": batch,
        "tasks": [{"attachment": f"t{i}", "attachment_type": "text", "categories": ["a", "b"]} for i in range(TASKS)]})
    assert r.status_code == 200, r.text
    ids = r.json()["task_ids"]
    db = _database(server)
    stop = threading.Event()
    folds: list[int] = []

    def fold_loop() -> None:
        while not stop.is_set():
            folds.append(counts.fold_shards(db) + rollups.fold_shards(db))

    def work(i: int) -> list[int]:
        codes = []
        with local_http.Client(base_url=server.url, auth=auth, timeout=60) as http:
            for k, task_id in enumerate(ids[i::THREADS]):
                if k % 4 == 3:
                    codes.append(http.post(f"/v1/task/{task_id}/cancel").status_code)
                else:
                    codes.append(http.post(f"/api/tasks/{task_id}/answers", json={"response": {"category": "ab"[k % 2]}}).status_code)
                if k % 5 == 0:  # single creates join the same counters meanwhile
                    codes.append(http.post("/v1/task/categorization", json={
                        "project": name, "attachment": f"new{i}-{k}", "attachment_type": "text", "categories": ["a", "b"]}).status_code)
        return codes

    folder = threading.Thread(target=fold_loop)
    folder.start()
    try:
        with ThreadPoolExecutor(THREADS) as pool:
            codes = [c for chunk in pool.map(work, range(THREADS)) for c in chunk]
    finally:
        stop.set()
        folder.join()
    assert set(codes) == {200}, sorted(set(codes))
    pid = _project_pk(server, name)
    expected = _recounted(server, pid)
    assert sum(expected.values()) == TASKS + sum(1 for i in range(THREADS) for k in range(len(ids[i::THREADS])) if k % 5 == 0)
    assert _counted(server, pid) == expected
    completed = sum(n for (_, s), n in expected.items() if s == "completed")
    assert completed == sum(1 for i in range(THREADS) for k in range(len(ids[i::THREADS])) if k % 4 != 3)
    assert _project_activity(server, pid) == (sum(expected.values()), completed)
    # what the API says is the same exact count
    assert client.get_tasks_count(project_name=name, status=TaskStatus.Completed) == completed
    assert client.get_tasks_count(project_name=name, batch_name=batch) == TASKS
    if server.database_url:
        assert folds, "the fold loop never ran"
    # a last fold leaves one row per key and the same counts
    counts.fold_shards(db)
    rollups.fold_shards(db)
    assert query(server, "SELECT COUNT(*) FROM task_counts WHERE project_id = ? AND shard > 0", (pid,))[0][0] == 0
    assert query(server, "SELECT COUNT(*) FROM activity_rollups WHERE project_id = ? AND shard > 0", (pid,))[0][0] == 0
    assert _counted(server, pid) == expected
    assert _project_activity(server, pid) == (sum(expected.values()), completed)
    db.dispose()


def test_postgres_writers_spread_over_shards(server_factory, uniq):
    """Many small transactions in one project land on several shard rows on PostgreSQL
    (the point: no single hot row), and on one row on SQLite; both sum exactly. (No
    background jobs in this server: nothing folds the shards behind the test's back.)"""
    server = server_factory(ASSAY_WORKER_IN_PROCESS="false")
    client = server.client()
    name = f"spread {uniq}"
    client.create_project(project_name=name, task_type=TaskType.Categorization, params={"instruction": "x"})

    def create(i: int) -> int:
        return local_http.post(f"{server.url}/v1/task/categorization", auth=(server.live_key, ""), timeout=60, json={
            "project": name, "attachment": f"s{i}", "attachment_type": "text", "categories": ["a", "b"]}).status_code

    with ThreadPoolExecutor(4) as pool:
        assert set(pool.map(create, range(40))) == {200}
    pid = _project_pk(server, name)
    shards = {s for (s,) in query(server, "SELECT shard FROM task_counts WHERE project_id = ? AND status = ?", (pid, "pending"))}
    if server.database_url:
        assert len(shards) > 1, shards
    else:
        assert shards == {0}
    assert _counted(server, pid) == _recounted(server, pid) == {(0, "pending"): 40}
    db = _database(server)
    folded = counts.fold_shards(db)
    assert folded == (1 if server.database_url else 0)
    assert {s for (s,) in query(server, "SELECT shard FROM task_counts WHERE project_id = ?", (pid,))} == {0}
    assert _counted(server, pid) == {(0, "pending"): 40}
    db.dispose()


def test_background_jobs_fold_the_shards(service_world):
    """The jobs loop (in `assay serve` or `assay worker`) folds counter and rollup shards
    into shard 0 without changing a sum; SQLite has nothing to fold."""
    db, org = service_world.db, service_world.org
    with db.write() as session:
        pid = projects.create_project(session, service_world.admin, {"type": "categorization", "name": "fold", "params": {}}).id
    with db.write() as session:
        for shard, n in [(0, 4), (5, 3), (9, -2)] if not db.is_sqlite else [(0, 5)]:
            session.execute(text("INSERT INTO task_counts (org_id, is_test, project_id, batch_id, status, shard, n) "
                                 "VALUES (:o, :f, :p, 0, 'pending', :s, :n)"), {"o": org.id, "f": False, "p": pid, "s": shard, "n": n})
            session.execute(text("INSERT INTO activity_rollups (project_id, user_id, day, hour, shard, org_id, created, completed) "
                                 "VALUES (:p, 0, '2030-01-01', 9, :s, :o, :n, 1)"), {"o": org.id, "p": pid, "s": shard, "n": n})
    done = BackgroundJobs(poll_seconds=3600).run_once()
    assert done["fold-counts"] == (0 if db.is_sqlite else 1) and done["fold-rollups"] == (0 if db.is_sqlite else 1)
    with db.read() as session:
        assert session.execute(text("SELECT shard, n FROM task_counts WHERE project_id = :p"), {"p": pid}).all() == [(0, 5)]
        assert session.execute(text("SELECT shard, created, completed FROM activity_rollups WHERE project_id = :p"), {"p": pid}).all() == [
            (0, 5, 1 if db.is_sqlite else 3)]

"""Many processes on one PostgreSQL database: `assay serve --workers 2` on one port, a
second `assay serve` on another (its own data directory: nothing shared but the
database), and one `assay worker` delivering callbacks. Annotators on both servers label
one project at once; every invariant of the assignment engine holds, no answer is lost or
doubled, every task and batch callback arrives exactly once, and a session and a signed
made by one server works on the other. SQLite refuses several app processes."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from tests.conftest import require_postgres
from tests.queue_support import CATEGORIES, Admin, Annotator, queue_violations, status_counts
from tests.support import Server, create_pg_database, drop_pg_database, run_cli, wait_until

TASKS = 40
LABELS = 2
PEOPLE = 6


def _label_until_empty(person: Annotator, project_id: str, tally: dict, lock: threading.Lock) -> None:
    empty_since = None
    while True:
        r = person.next(project_id)
        if r.status != 200:
            with lock:
                tally[f"next {r.status}"] = tally.get(f"next {r.status}", 0) + 1
            time.sleep(0.05)
            continue
        if r.body["assignment"] is None:
            empty_since = empty_since or time.monotonic()
            if time.monotonic() - empty_since > 3:
                return
            time.sleep(0.1)
            continue
        empty_since = None
        s = person.submit(r.body["assignment"]["id"], CATEGORIES[0])
        with lock:
            tally[f"submit {s.status}"] = tally.get(f"submit {s.status}", 0) + 1


def test_two_servers_and_a_worker_on_one_database(tmp_path, receiver):
    require_postgres()
    url = create_pg_database()
    env = {"ASSAY_WORKER_IN_PROCESS": "false"}
    one = Server(data_dir=tmp_path / "one", database_url=url, env_overrides=env, extra_args=["--workers", "2"])
    two = Server(data_dir=tmp_path / "two", database_url=url, env_overrides=env)
    worker = None
    try:
        one.start()
        two.live_key, two.test_key, two.password = one.live_key, one.test_key, one.password
        two.start()
        worker = subprocess.Popen([sys.executable, "-m", "assay", "worker"], env=one.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        admin = Admin(one)
        pid = admin.project("scale out", labels_per_task=LABELS)
        admin.batch("scale out", "b1", callback=receiver.url("/batch"))
        ids = admin.bulk("scale out", TASKS, batch="b1", callback_url=receiver.url("/task"))
        admin.finalize("b1")
        emails = [admin.annotator(pid, f"so{i}") for i in range(PEOPLE)]
        people = [Annotator((one if i % 2 else two).url, e) for i, e in enumerate(emails)]
        # a session made by one server is good on the other (sessions live in the database)
        people[0].http.base_url = one.url
        tally: dict = {}
        lock = threading.Lock()
        threads = [threading.Thread(target=_label_until_empty, args=(p, pid, tally, lock)) for p in people]
        for t in threads:
            t.start()
        for t in threads:
            t.join(180)
        assert status_counts(one, pid) == {"completed": TASKS}, tally
        assert tally.get(f"submit {200}") == TASKS * LABELS, tally
        assert set(tally) <= {"submit 200", "submit 404", "submit 409"}, tally
        assert not any(queue_violations(one, pid).values()), queue_violations(one, pid)

        assert wait_until(lambda: len([r for r in receiver.received if r.path == "/task"]) >= TASKS and
                          any(r.path == "/batch" for r in receiver.received), timeout=60)
        time.sleep(1.5)  # a second delivery would arrive now
        task_calls = sorted(r.body["task_id"] for r in receiver.received if r.path == "/task")
        assert task_calls == sorted(ids)
        assert len([r for r in receiver.received if r.path == "/batch"]) == 1
        # one secret for every process, kept in the database, not in a data directory
        assert not (tmp_path / "one" / "secret_key").exists() and not (tmp_path / "two" / "secret_key").exists()
        for p in people:
            p.close()
        admin.close()
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(15)
        one.stop()
        two.stop()
        drop_pg_database(url)


def test_sqlite_refuses_several_app_processes(tmp_path):
    proc = run_cli(Server(data_dir=tmp_path / "d", database_url="").env(), "serve", "--workers", "2", "--port", "0")
    assert proc.returncode != 0
    assert "--workers > 1 needs PostgreSQL" in proc.stdout + proc.stderr


@pytest.mark.parametrize("workers", ["0", "-1"])
def test_workers_must_be_positive(tmp_path, workers):
    proc = run_cli(Server(data_dir=tmp_path / "d", database_url="").env(), "serve", "--workers", workers, "--port", "0")
    assert proc.returncode != 0

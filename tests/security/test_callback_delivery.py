"""Delivery isolation: a slow or trickling receiver holds only its own delivery slots,
every attempt ends by its deadline, and at most ASSAY_CALLBACK_PER_DESTINATION
deliveries run at once against one receiver. Real `assay serve` on SQLite and
PostgreSQL, real receivers on 127.0.0.1."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from scaleapi.tasks import TaskType

from tests import local_http
from tests.db_access import query
from tests.security.receivers import BlockingReceiver, TricklingReceiver
from tests.support import wait_until


@pytest.fixture()
def blocking():
    made: list[BlockingReceiver] = []

    def make(**kw) -> BlockingReceiver:
        made.append(BlockingReceiver(**kw))
        return made[-1]

    yield make
    for r in made:
        r.close()


@pytest.fixture()
def trickling():
    r = TricklingReceiver()
    yield r
    r.close()


def completed_tasks(srv, key: str, project: str, callback_urls: list[str]) -> list[str]:
    """Tasks created with a test key complete at once, so each writes its callback now."""
    client = srv.client(key)
    if project not in {p.name for p in client.get_projects()}:
        client.create_project(project_name=project, task_type=TaskType.Categorization, params={"instruction": "Pick."})
    tasks = [{"attachment": f"text {i}", "attachment_type": "text", "categories": ["a", "b"], "callback_url": url}
             for i, url in enumerate(callback_urls)]
    r = local_http.post(f"{srv.url}/api/tasks/bulk", json={"type": "categorization", "project": project, "tasks": tasks}, auth=(key, ""), timeout=60)
    assert r.status_code == 200, r.text
    ids = r.json()["task_ids"]
    assert len(ids) == len(callback_urls)
    return ids


def outbox(srv, task_ids: list[str]) -> list[tuple]:
    marks = ",".join("?" * len(task_ids))
    return query(srv, f"SELECT t.public_id, o.status, o.attempts, o.last_error FROM outbox o JOIN tasks t ON t.id = o.task_id "
                      f"WHERE t.public_id IN ({marks}) ORDER BY o.id", tuple(task_ids))


def test_a_blocked_receiver_does_not_delay_another_organizations_callback(server_factory, blocking, receiver, uniq):
    # A deadline far longer than the test: only isolation can let B's callback through.
    # With 8 in all the claim reads 64 candidate rows; A's backlog of 100 older rows (each
    # its own URL) must not hide B's row from it.
    srv = server_factory(ASSAY_CALLBACK_TIMEOUT_SECONDS="120", ASSAY_CALLBACK_RETRY_WINDOW_SECONDS="600", ASSAY_CALLBACK_CONCURRENCY="8")
    slow = blocking()
    key_a, key_b = srv.new_key(f"slow org {uniq}", test=True), srv.new_key(f"prompt org {uniq}", test=True)
    a_ids = completed_tasks(srv, key_a, "a", [slow.url(f"/a/{i}") for i in range(100)])
    assert slow.wait_in_flight(4)  # A's deliveries are now stuck in the receiver

    [b_id] = completed_tasks(srv, key_b, "b", [receiver.url("/b")])
    hooks = receiver.wait_for(lambda r: r.body["task_id"] == b_id, timeout=30)
    # B's callback arrived while A's receiver has not answered a single request
    assert len(hooks) == 1
    assert not slow.release.is_set() and slow.answered == [] and slow.in_flight >= 4
    assert wait_until(lambda: srv.client(key_b).get_task(b_id).as_dict().get("callback_succeeded") is True)

    slow.release.set()
    assert wait_until(lambda: len(set(slow.answered)) == 100, timeout=90)
    assert wait_until(lambda: all(status == "delivered" for _, status, _, _ in outbox(srv, a_ids)), timeout=30)
    assert Counter(slow.answered) == Counter(a_ids)  # each exactly once


def test_a_trickling_receiver_fails_by_the_deadline_and_is_retried(server_factory, trickling):
    srv = server_factory(ASSAY_CALLBACK_TIMEOUT_SECONDS="1", ASSAY_CALLBACK_MAX_ATTEMPTS="2", ASSAY_CALLBACK_RETRY_WINDOW_SECONDS="1")
    [task_id] = completed_tasks(srv, srv.test_key, "trickle", [trickling.url("/slow")])
    test_client = srv.client(srv.test_key)
    # both attempts end although the receiver keeps sending header bytes; then it is given up
    assert wait_until(lambda: test_client.get_task(task_id).as_dict().get("callback_succeeded") is False, timeout=60)
    [(_, status, attempts, last_error)] = outbox(srv, [task_id])
    assert (status, attempts) == ("failed", 2)
    assert "deadline" in last_error and "1 s" in last_error
    assert trickling.connections == 2  # one connection per attempt: the retry happened


def test_a_trickling_attachment_host_fails_the_check_by_the_deadline(server_factory, trickling):
    srv = server_factory(ASSAY_CALLBACK_TIMEOUT_SECONDS="1", ASSAY_CHECK_ATTACHMENTS="true", ASSAY_ATTACHMENT_CHECK_RETRY_SECONDS="0.2")
    client = srv.client()
    client.create_project(project_name="imgs", task_type=TaskType.Categorization, params={"instruction": "Pick."})
    task = client.create_task(TaskType.Categorization, project="imgs", attachment=trickling.url("/img.png"), attachment_type="image",
                              categories=["a", "b"])
    # three attempts (0.2 s and 1 s apart here), each ended by the deadline, then the task errors
    assert wait_until(lambda: client.get_task(task.id).status == "error", timeout=60)
    error = client.get_task(task.id).as_dict()["response"]["error"]
    assert "deadline" in error and "img.png" in error
    assert trickling.connections == 3


def test_at_most_per_destination_deliveries_run_against_one_receiver(server_factory, blocking, receiver, uniq):
    srv = server_factory(ASSAY_CALLBACK_TIMEOUT_SECONDS="120", ASSAY_CALLBACK_RETRY_WINDOW_SECONDS="600", ASSAY_CALLBACK_PER_DESTINATION="3")
    # two receivers on the same host, different ports: two destinations
    first, second = blocking(), blocking()
    ids = completed_tasks(srv, srv.test_key, "bound", [first.url(f"/1/{i}") for i in range(8)] + [second.url(f"/2/{i}") for i in range(8)])
    assert wait_until(lambda: first.in_flight == 3 and second.in_flight == 3, timeout=30)

    # a later callback elsewhere arrives: the worker has claimed again since, and left the
    # blocked receivers' other rows alone
    key = srv.new_key(f"other {uniq}", test=True)
    [other] = completed_tasks(srv, key, "p", [receiver.url("/other")])
    assert receiver.wait_for(lambda r: r.body["task_id"] == other, timeout=30)
    assert (first.in_flight, second.in_flight) == (3, 3)
    pending = query(srv, "SELECT count(*) FROM outbox WHERE status = 'pending' AND locked_until IS NULL AND url LIKE ?", (f"{first.url('/1/')}%",))
    assert pending == [(5,)]  # not claimed while they cannot start

    first.release.set()
    second.release.set()
    assert wait_until(lambda: len(first.answered) + len(second.answered) == 16, timeout=60)
    assert wait_until(lambda: all(status == "delivered" for _, status, _, _ in outbox(srv, ids)), timeout=30)
    assert Counter(first.answered + second.answered) == Counter(ids)
    assert (first.max_in_flight, second.max_in_flight) == (3, 3)


def test_at_most_concurrency_deliveries_run_in_all(server_factory, blocking, uniq):
    srv = server_factory(ASSAY_CALLBACK_TIMEOUT_SECONDS="120", ASSAY_CALLBACK_RETRY_WINDOW_SECONDS="600", ASSAY_CALLBACK_CONCURRENCY="2")
    log: list = []
    first, later = blocking(name="first", log=log), blocking(name="later", log=log)
    later.release.set()  # answers at once
    ids = completed_tasks(srv, srv.test_key, "all", [first.url(f"/{i}") for i in range(4)])  # 4 per destination allowed
    assert wait_until(lambda: first.in_flight == 2, timeout=30)
    [other] = completed_tasks(srv, srv.new_key(f"other {uniq}", test=True), "p", [later.url("/later")])
    # not a timing assertion: a moment in which a loop ignoring the bound would start more
    time.sleep(1.0)
    assert first.in_flight == 2 and later.arrived == []
    first.release.set()
    assert wait_until(lambda: len(first.answered) == 4 and later.answered == [other], timeout=60)
    assert first.max_in_flight == 2
    # the later callback started only once a slot was free, after the first receiver answered
    assert log.index(("later", "arrived", other)) > min(i for i, (name, what, _) in enumerate(log) if (name, what) == ("first", "answered"))
    assert sorted(first.answered) == sorted(ids)


def test_killed_mid_delivery_loses_nothing(server_factory, blocking):
    # a short deadline keeps the lease (2 × deadline + 5 s) short, so the restart picks the rows up soon
    srv = server_factory(ASSAY_CALLBACK_TIMEOUT_SECONDS="3", ASSAY_CALLBACK_RETRY_WINDOW_SECONDS="60")
    slow = blocking()
    ids = completed_tasks(srv, srv.test_key, "crash", [slow.url(f"/c/{i}") for i in range(6)])
    assert slow.wait_in_flight(4)
    srv.kill()  # while four deliveries are held open by the receiver
    slow.release.set()
    srv.port = 0
    srv.start()
    assert wait_until(lambda: all(status == "delivered" for _, status, _, _ in outbox(srv, ids)), timeout=90)
    assert set(slow.answered) == set(ids)  # the ones cut off by the kill were sent again
    test_client = srv.client(srv.test_key)
    assert all(test_client.get_task(i).as_dict().get("callback_succeeded") is True for i in ids)

"""`assay worker`: with the in-process loop switched off, separate worker processes
deliver the outbox; two of them never deliver the same callback twice."""

import subprocess
import sys

from scaleapi.tasks import TaskType

from tests import local_http
from tests.support import wait_until


def test_two_separate_workers_deliver_each_callback_once(server_factory, receiver):
    srv = server_factory(ASSAY_WORKER_IN_PROCESS="false")
    client = srv.client()
    client.create_project(project_name="w", task_type=TaskType.Categorization, params={"instruction": "x"})
    ids = []
    for i in range(30):
        task = client.create_task(TaskType.Categorization, project="w", attachment=f"t{i}", attachment_type="text",
                                  categories=["a", "b"], callback_url=receiver.url(f"/t/{i}"))
        r = local_http.post(f"{srv.url}/api/tasks/{task.id}/answers", json={"response": {"category": "a"}}, auth=(srv.live_key, ""))
        assert r.status_code == 200
        ids.append(task.id)
    # nothing is delivered while no worker runs
    import time

    time.sleep(1.0)
    assert receiver.received == []
    workers = [subprocess.Popen([sys.executable, "-m", "assay", "worker"], env=srv.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
               for _ in range(2)]
    try:
        assert wait_until(lambda: len(receiver.received) >= 30, timeout=60)
        time.sleep(1.0)  # a double delivery would arrive now
        delivered = [r.body["task_id"] for r in receiver.received]
        assert sorted(delivered) == sorted(ids)
        assert wait_until(lambda: all(client.get_task(i).as_dict().get("callback_succeeded") is True for i in ids), timeout=20)
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(15)
    assert all(w.returncode is not None for w in workers)

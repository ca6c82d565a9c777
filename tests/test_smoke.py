"""The issue's quickstart, end to end with the official client."""

from scaleapi.tasks import TaskStatus, TaskType

from tests.support import wait_until


def test_quickstart_flow(client, uniq, receiver, server):
    name = f"cats {uniq}"
    client.create_project(project_name=name, task_type=TaskType.Categorization, params={"instruction": "Cat or dog?"})
    batch = client.create_batch(project=name, batch_name=f"b1 {uniq}", callback=receiver.url("/batch"))
    task = client.create_task(
        TaskType.Categorization, project=name, batch=batch.name, attachment="a photo of a cat", attachment_type="text",
        categories=["cat", "dog"], callback_url=receiver.url("/task"), unique_id=f"item-1-{uniq}", metadata={"source": "x"},
    )
    assert task.status == "pending"
    assert task.metadata == {"source": "x"}
    client.finalize_batch(batch.name)
    assert client.batch_status(batch.name)["pending"] == 1
    pending = list(client.get_tasks(project_name=name, status=TaskStatus.Pending))
    assert [t.id for t in pending] == [task.id]
    # a labeler answers through the native completion endpoint
    from tests import local_http

    r = local_http.post(f"{server.url}/api/tasks/{task.id}/answers", json={"response": {"category": "cat"}}, auth=(server.live_key, ""))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "completed"
    hooks = receiver.wait_for(lambda x: x.path == "/task")
    assert hooks and hooks[0].body["task_id"] == task.id and hooks[0].body["response"] == {"category": "cat"}
    batch_hooks = receiver.wait_for(lambda x: x.path == "/batch")
    assert batch_hooks and batch_hooks[0].body["batch"]["status"] == "completed"
    assert wait_until(lambda: client.get_task(task.id).as_dict().get("callback_succeeded") is True)

"""`total` of a task listing filtered by project/batch/status comes from the task_counts
table; it must always equal what a full count (any other filter forces one) and the
listed documents say, across creates, bulk creates, cancels, answers and test keys."""

from scaleapi.tasks import TaskStatus, TaskType

from tests import local_http


def _answer(server, task_id, category="a"):
    r = local_http.post(f"{server.url}/api/tasks/{task_id}/answers", json={"response": {"category": category}}, auth=(server.live_key, ""))
    assert r.status_code == 200, r.text


def test_counts_follow_every_transition(server, client, test_client, uniq):
    project = f"counts {uniq}"
    client.create_project(project_name=project, task_type=TaskType.Categorization, params={"instruction": "x"})
    batch = client.create_batch(project=project, batch_name=f"counts-b {uniq}").name
    made = [client.create_task(TaskType.Categorization, project=project, batch=batch if i % 2 else None,
                               attachment=f"t{i}", attachment_type="text", categories=["a", "b"]) for i in range(6)]
    r = local_http.post(f"{server.url}/api/tasks/bulk", auth=(server.live_key, ""), json={
        "type": "categorization", "project": project, "batch": batch,
        "tasks": [{"attachment": f"bulk{i}", "attachment_type": "text", "categories": ["a", "b"]} for i in range(7)]})
    assert r.status_code == 200, r.text
    client.cancel_task(made[0].id)
    client.cancel_task(made[1].id)
    _answer(server, made[2].id)
    _answer(server, made[3].id, "b")
    _answer(server, r.json()["task_ids"][0])
    for i in range(3):  # test-mode tasks count separately and never in the live totals
        test_client.create_task(TaskType.Categorization, project=project, attachment=f"test{i}", attachment_type="text", categories=["a"])

    expected = {"pending": 6 + 7 - 5, "canceled": 2, "completed": 3}
    for status, n in expected.items():
        assert client.get_tasks_count(project_name=project, status=TaskStatus(status)) == n
        listed = list(client.get_tasks(project_name=project, status=TaskStatus(status)))
        assert len(listed) == n
        # a type filter forces the full COUNT(*) path; both must agree
        slow = local_http.get(f"{server.url}/v1/tasks", params={"project": project, "status": status, "type": "categorization", "limit": 1},
                         auth=(server.live_key, "")).json()["total"]
        assert slow == n
    assert client.get_tasks_count(project_name=project) == 13
    in_batch = list(client.get_tasks(project_name=project, batch_name=batch))
    assert client.get_tasks_count(project_name=project, batch_name=batch) == len(in_batch) == 3 + 7
    assert test_client.get_tasks_count(project_name=project) == 3
    assert test_client.get_tasks_count(project_name=project, status=TaskStatus.Completed) == 3
    assert test_client.get_tasks_count(project_name=project, status=TaskStatus.Pending) == 0

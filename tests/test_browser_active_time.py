"""Active time on task comes from page events: idle stretches and hidden tabs do not
count. A server with a 0.5 s idle window makes the difference measurable."""

from __future__ import annotations

import time

import pytest
from scaleapi.tasks import TaskType

from tests.browser import Org, login, open_workbench, wait_ready
from tests.support import Server

pytestmark = pytest.mark.browser


@pytest.fixture()
def idle_server(tmp_path):
    srv = Server(data_dir=tmp_path / "data", database_url="", env_overrides={"ASSAY_IDLE_AFTER_SECONDS": "0.5"}).start()
    yield srv
    srv.stop()


def test_idle_time_is_not_counted(idle_server, new_page):
    org = Org(idle_server)
    client = idle_server.client()
    client.create_project(project_name="timing", task_type=TaskType.Categorization, params={"instruction": "Pick."})
    pid = org.project_id("timing")
    ids = [client.create_task(TaskType.Categorization, project="timing", attachment=f"t{i}", attachment_type="text", categories=["a", "b"]).id
           for i in range(2)]
    person = org.person("annotator")
    org.add_member(pid, person)
    page = new_page()
    login(page, idle_server, person)
    open_workbench(page, idle_server, pid)
    # task 1: three seconds of doing nothing, then one key and Enter
    page.wait_for_timeout(3000)
    first = page.get_attribute("#workbench", "data-assignment")  # before Enter: the next may be on screen at once
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    wait_ready(page, first)
    # task 2: two seconds of moving the mouse (activity every 100 ms; on a loaded machine
    # each step takes longer, and all of it is active: the bound is the time it took)
    started = time.monotonic()
    for i in range(20):
        page.mouse.move(200 + i * 5, 300)
        page.wait_for_timeout(100)
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    took = time.monotonic() - started
    page.wait_for_function("() => document.getElementById('workbench').dataset.state === 'empty'")
    idle = org.task(ids[0])["answers"][0]["active_seconds"]
    busy = org.task(ids[1])["answers"][0]["active_seconds"]
    assert idle < 1.2, idle  # at most the idle window after the page loaded and after the key press
    assert 1.6 <= busy <= took + 0.5, (busy, took)

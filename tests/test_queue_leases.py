"""Leases, on both databases, with the clock under the test's control (service tier): an
expired lease gives its slot back and its holder's late submission is refused, a heartbeat
keeps a lease alive past its original expiry, and a submission stays editable ("go back")
only while its window lasts. No sleeping: time-machine moves the clock."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from assay.errors import ApiError
from assay.projects.models import Project
from assay.projects.service import create_project
from assay.queue.models import Assignment
from assay.queue.schemas import SubmitBody
from assay.queue.service import access, claim, leases, membership, submit
from assay.tasks.models import Task, TaskAnswer
from assay.tasks.service.create import create_task

LEASE = 600  # ASSAY_LEASE_SECONDS in the service_world fixture


def _setup(world, n_tasks=1):
    with world.db.write() as session:
        project = create_project(session, world.admin, {"name": "leases", "type": "categorization", "params": {}})
        tasks = [create_task(session, world.admin, "categorization", {"project": "leases", "attachment": f"t{i}", "attachment_type": "text",
                                                                     "categories": ["a", "b"]}).public_id for i in range(n_tasks)]
        project_id = project.public_id
    people = [world.person("annotator") for _ in range(2)]
    with world.db.write() as session:
        project = session.scalar(select(Project).where(Project.public_id == project_id))
        for person in people:
            membership.add_member(session, world.admin, project, person.email)
    return project_id, tasks, people


def _next(world, person, project_id, holding=()):
    with world.db.write() as session:
        project = access.project_access(session, person, project_id)
        return claim.claim(session, person, project, "label", list(holding))


def _submit(world, person, assignment_id, category="a"):
    with world.db.write() as session:
        return submit.submit(session, person, assignment_id, SubmitBody(response={"category": category}))


def _heartbeat(world, person, assignment_id):
    with world.db.write() as session:
        return leases.heartbeat(session, person, assignment_id)


def test_an_expired_lease_returns_its_slot_and_its_late_answer_is_refused(service_world, clock):
    world = service_world
    project_id, [task_id], (alice, bob) = _setup(world)
    first = _next(world, alice, project_id)
    assert first["task"]["task_id"] == task_id
    assert _next(world, bob, project_id)["assignment"] is None  # the only slot is held
    clock.shift(LEASE - 1)
    assert _next(world, bob, project_id)["assignment"] is None  # not yet
    clock.shift(2)
    second = _next(world, bob, project_id)
    assert second["task"]["task_id"] == task_id  # expired: bob gets the slot
    for late in (lambda: _submit(world, alice, first["assignment"]["id"]), lambda: _heartbeat(world, alice, first["assignment"]["id"])):
        with pytest.raises(ApiError) as refused:
            late()
        assert refused.value.status_code == 404 and "expired" in refused.value.message
    assert _submit(world, bob, second["assignment"]["id"], "b")["task_status"] == "completed"
    with world.db.read() as session:
        answers = session.execute(select(TaskAnswer.user_id).join(Task, Task.id == TaskAnswer.task_id).where(Task.public_id == task_id)).all()
        assert answers == [(bob.user_id,)]
        assert session.scalar(select(func.count()).select_from(Assignment).where(Assignment.public_id == first["assignment"]["id"])) == 0


def test_heartbeats_keep_a_lease_past_its_first_expiry(service_world, clock):
    world = service_world
    project_id, [task_id], (alice, bob) = _setup(world)
    mine = _next(world, alice, project_id)
    for _ in range(5):  # 5 × 0.8 leases = four lease lengths in all
        clock.shift(LEASE * 0.8)
        assert _heartbeat(world, alice, mine["assignment"]["id"])["assignment_id"] == mine["assignment"]["id"]
        assert _next(world, bob, project_id)["assignment"] is None
    assert _submit(world, alice, mine["assignment"]["id"])["task_status"] == "completed"


def test_going_back_lasts_one_lease(service_world, clock):
    world = service_world
    project_id, tasks, (alice, _bob) = _setup(world, n_tasks=2)
    first = _next(world, alice, project_id)
    _submit(world, alice, first["assignment"]["id"], "a")
    with world.db.write() as session:
        back = submit.previous(session, alice, access.project_access(session, alice, project_id))
    assert back["assignment"]["id"] == first["assignment"]["id"] and back["previous_response"] == {"category": "a"}
    edited = _submit(world, alice, first["assignment"]["id"], "b")  # an edit of the completed task
    assert edited["task_status"] == "completed"
    clock.shift(LEASE + 1)
    with world.db.write() as session, pytest.raises(ApiError) as gone:
        submit.previous(session, alice, access.project_access(session, alice, project_id))
    assert gone.value.status_code == 404
    with pytest.raises(ApiError) as frozen:
        _submit(world, alice, first["assignment"]["id"], "a")
    assert frozen.value.status_code == 409

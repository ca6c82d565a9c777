"""Routing by accuracy (service tier, SQLite and PostgreSQL): with `route_by_accuracy` on, a
task waiting for another label because its labels disagree goes first to the most
accurate person available, least certain first; a less accurate person gets the other
tasks first and the uncertain ones only when nothing else is left. Off, queue order.
Migration 0017 backfills the confidence column from the quality JSON and goes down."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, inspect, select, text

from assay.migrate import alembic_config
from assay.projects.models import Project
from assay.projects.schemas import ProjectSettingsBody
from assay.projects.service import create_project, update_settings
from assay.queue.models import Assignment
from assay.queue.schemas import SubmitBody
from assay.queue.service import access, claim, membership, submit
from assay.tasks.models import LabelerStats, Task
from assay.tasks.service.create import create_task


def _next(world, person, project_id):
    with world.db.write() as session:
        project = access.project_access(session, person, project_id)
        got = claim.claim(session, person, project, "label", [])
        return got["task"]["task_id"] if got["assignment"] else None, got


def _answer(world, person, project_id, category):
    task_id, got = _next(world, person, project_id)
    with world.db.write() as session:
        submit.submit(session, person, got["assignment"]["id"], SubmitBody(response={"category": category}, active_seconds=2.0))
    return task_id


def _world(world, route: bool):
    """Six tasks, two labels each, adaptive overlap to 3 below 0.99; a careful and a careless
    person with gold records, and two who label first to make tasks 0 and 1 uncertain."""
    with world.db.write() as session:
        project = create_project(session, world.admin, {"name": "routing", "type": "categorization", "params": {}})
        update_settings(session, world.admin, project, ProjectSettingsBody.model_validate(
            {"labels_per_task": 2, "max_labels": 3, "target_confidence": 0.99, "route_by_accuracy": route}))
        ids = [create_task(session, world.admin, "categorization", {"project": "routing", "attachment": f"t{i}", "attachment_type": "text",
                                                                   "categories": ["a", "b"]}).public_id for i in range(6)]
        pid, pk = project.public_id, project.id
    careful, careless, first, second = (world.person("annotator") for _ in range(4))
    with world.db.write() as session:
        project = session.scalar(select(Project).where(Project.public_id == pid))
        for person in (careful, careless, first, second):
            membership.add_member(session, world.admin, project, person.email)
        for person, correct in ((careful, 19), (careless, 6)):
            session.add(LabelerStats(project_id=pk, user_id=person.user_id, org_id=world.org.id, answered=20, agreed=correct,
                                     gold_answered=20, gold_correct=correct))
    # tasks 0 and 1 get two labels (agreeing on 0, not on 1): both below 0.99, they want a
    # third; task 1 is the less certain
    assert _answer(world, first, pid, "a") == ids[0] and _answer(world, second, pid, "a") == ids[0]
    assert _answer(world, first, pid, "a") == ids[1] and _answer(world, second, pid, "b") == ids[1]
    with world.db.read() as session:
        rows = {t.public_id: t for t in session.scalars(select(Task).where(Task.public_id.in_(ids)))}
        assert rows[ids[1]].confidence < rows[ids[0]].confidence < 0.99 and rows[ids[0]].open_slots == rows[ids[1]].open_slots == 1
        assert rows[ids[2]].confidence is None
        return pid, ids, careful, careless, {i: rows[i].confidence for i in ids[:2]}


def test_the_most_accurate_get_the_least_certain_tasks_first(service_world):
    world = service_world
    pid, ids, careful, careless, confidence = _world(world, route=True)
    careful_first, _ = _next(world, careful, pid)
    assert careful_first == min(confidence, key=confidence.get) == ids[1]  # least certain first, not queue order
    # the careless person, less accurate than the careful one now working here, gets a plain task
    careless_first, _ = _next(world, careless, pid)
    assert careless_first in ids[2:]
    # once the careful person holds it, their next (prefetched) task is the other uncertain one
    with world.db.write() as session:
        project = access.project_access(session, careful, pid)
        second = claim.claim(session, careful, project, "label", [session.scalar(select(Assignment.public_id).where(
            Assignment.user_id == careful.user_id))])
    assert second["task"]["task_id"] in ids[:2] and second["task"]["task_id"] != careful_first


def test_the_least_accurate_get_uncertain_tasks_only_when_nothing_else_is_left(service_world):
    world = service_world
    pid, ids, careful, careless, _ = _world(world, route=True)
    _next(world, careful, pid)  # available, more accurate
    served = []
    while True:
        task_id, got = _next(world, careless, pid)
        if task_id is None:
            break
        served.append(task_id)
        with world.db.write() as session:
            submit.submit(session, careless, got["assignment"]["id"], SubmitBody(response={"category": "a"}))
    # every plain task first, then the uncertain one the careful person does not hold
    assert set(served[:4]) == set(ids[2:]) and len(served) == 5 and served[4] in ids[:2]


def test_without_the_option_queue_order(service_world):
    world = service_world
    pid, ids, careful, careless, _ = _world(world, route=False)
    _next(world, careful, pid)
    assert _next(world, careless, pid)[0] == ids[1]  # queue order: task 0 is held by the careful person, then task 1
    assert _next(world, careful, pid)[0] == ids[0]  # the careful person still holds task 0 (queue order, not least certain)


def test_migration_0017_backfills_confidence_and_goes_down(backend, database_factory, tmp_path):
    url = database_factory(backend) or f"sqlite:///{tmp_path / 'm.db'}"
    engine = create_engine(url)
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        command.downgrade(cfg, "0016")
        assert "confidence" not in {c["name"] for c in inspect(conn).get_columns("tasks")}
        false = "false" if conn.dialect.name == "postgresql" else "0"
        conn.execute(text("INSERT INTO organizations (public_id, name, callback_auth_key, created_at) VALUES ('o17', 'org 0017', 'k', '2026-01-01')"))
        org = conn.execute(text("SELECT id FROM organizations WHERE public_id = 'o17'")).scalar()
        conn.execute(text("INSERT INTO projects (public_id, org_id, name, type, rapid, studio, param_history, labels_per_task, archived, created_at) "
                          f"VALUES ('p17', :o, 'p', 'categorization', {false}, {false}, '[]', 1, {false}, '2026-01-01')"), {"o": org})
        project = conn.execute(text("SELECT id FROM projects WHERE public_id = 'p17'")).scalar()
        for i, quality in enumerate(['{"confidence": 0.75, "labels": 2}', '{"labels": 1}', None, '{"confidence": "high"}', '{"confidence": 1}']):
            conn.execute(text(
                "INSERT INTO tasks (public_id, org_id, project_id, is_test, type, status, instruction, params, metadata, audits, "
                "clear_unique_id_on_error, required_labels, quality, created_at, updated_at) "
                f"VALUES (:pid, :o, :p, {false}, 'categorization', 'completed', '', '{{}}', '{{}}', '[]', {false}, 1, :q, '2026-01-01', '2026-01-01')"),
                {"pid": f"t17-{i}", "o": org, "p": project, "q": quality})
        command.upgrade(cfg, "head")
        got = [r[0] for r in conn.execute(text("SELECT confidence FROM tasks WHERE project_id = :p ORDER BY id"), {"p": project})]
        assert got == [0.75, None, None, None, 1.0]
        assert conn.execute(text("SELECT route_by_accuracy FROM projects WHERE id = :p"), {"p": project}).scalar() in (False, 0)
        indexes = {i["name"] for i in inspect(conn).get_indexes("tasks")}
        assert {"ix_tasks_project_confidence", "ix_tasks_uncertain_queue"} <= indexes
        conn.execute(text("DELETE FROM tasks WHERE project_id = :p"), {"p": project})
        conn.execute(text("DELETE FROM projects WHERE id = :p"), {"p": project})
        conn.execute(text("DELETE FROM organizations WHERE id = :o"), {"o": org})
    engine.dispose()

"""The bulk import's fast paths store and accept exactly what the plain paths do:
`db.fast_insert` (COPY on PostgreSQL, a raw executemany on SQLite) against SQLAlchemy's
insert, and `tasktypes.ShapeValidator` (validate once per shape) against one pydantic
validation per task, errors included."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, text
from sqlalchemy.exc import IntegrityError

from assay.db import fast_insert, new_public_id, utcnow
from assay.errors import InvalidRequest
from assay.projects import service as projects
from assay.tasks.models import Task, TaskStatus
from assay.tasktypes import get_plugin
from assay.tasktypes.base import ShapeValidator

COLUMNS = [c.name for c in Task.__table__.columns if c.name not in ("id", "public_id")]


def _rows(world, project_id: int, n: int, **extra) -> list[dict]:
    now = utcnow()
    return [{"org_id": world.org.id, "project_id": project_id, "batch_id": None, "is_test": False, "status": TaskStatus.PENDING,
             "required_labels": 2, "created_at": now, "updated_at": now, "audits": [], "open_slots": 2,
             "content_warning": None, "required_skill": None, "required_level": 1, "type": "categorization", "instruction": "x",
             "params": {"attachment": f"a{i}", "categories": ["a", "b"], "nested": {"ü": [1, 2.5, None, True]}},
             "callback_url": None, "metadata": {"i": i}, "tags": None if i % 2 else ["t"], "unique_id": None,
             "clear_unique_id_on_error": bool(i % 2), "priority": None, "public_id": new_public_id(), "queue_rank": i, **extra}
            for i in range(n)]


def _stored(session, public_ids: list[str]) -> list[tuple]:
    cols = ", ".join(COLUMNS)
    params = {f"p{i}": p for i, p in enumerate(public_ids)}
    got = session.execute(text(f"SELECT public_id, {cols} FROM tasks WHERE public_id IN ({', '.join(':' + k for k in params)})"),
                          params).all()
    by_id = {row[0]: tuple(row[1:]) for row in got}
    return [by_id[p] for p in public_ids]


def test_fast_insert_stores_what_the_orm_insert_stores(service_world):
    db = service_world.db
    with db.write() as session:
        project = projects.create_project(session, service_world.admin, {"type": "categorization", "name": "fast", "params": {}})
    plain, fast = _rows(service_world, project.id, 5), _rows(service_world, project.id, 5)
    for a, b in zip(plain, fast):
        b["created_at"] = b["updated_at"] = a["created_at"]
    with db.write() as session:
        session.execute(insert(Task.__table__), plain)
        fast_insert(session, Task.__table__, fast)
    with db.read() as session:
        assert _stored(session, [r["public_id"] for r in fast]) == _stored(session, [r["public_id"] for r in plain])
        # and reads back as the values given (JSON null for a None JSON column, defaults)
        task = session.query(Task).filter(Task.public_id == fast[1]["public_id"]).one()
        assert (task.params, task.metadata_, task.tags, task.kind, task.response) == (fast[1]["params"], {"i": 1}, None, "task", None)


def test_fast_insert_constraint_violation_is_integrity_error(service_world):
    db = service_world.db
    with db.write() as session:
        project = projects.create_project(session, service_world.admin, {"type": "categorization", "name": "dup", "params": {}})
    rows = _rows(service_world, project.id, 2, unique_id="same")
    with pytest.raises(IntegrityError), db.write() as session:
        fast_insert(session, Task.__table__, rows)
    with db.read() as session:
        assert session.execute(text("SELECT COUNT(*) FROM tasks WHERE unique_id = 'same'")).scalar() == 0


def _full(plugin, params):
    try:
        return plugin.validate_params(params)
    except InvalidRequest as exc:
        return ("error", exc.message, exc.field)


def _shaped(validate, params):
    try:
        return validate(params)
    except InvalidRequest as exc:
        return ("error", exc.message, exc.field)


attachments = st.one_of(st.sampled_from(["", " ", "hello", "http://x", "https://a.b/c.png", "javascript:alert(1)", "data:x",
                                         "scaledata://org/file", "HTTP://X", "ftp://x", "mailto:a"]),
                        st.text(max_size=8), st.integers(), st.none())
shared = st.fixed_dictionaries({"attachment_type": st.sampled_from(["text", "image", "website", "video", "pdf", "nope"]),
                                "categories": st.sampled_from([["a", "b"], ["a"], [], ["a", "a"], ["x", " "]])},
                               optional={"allow_multiple": st.sampled_from([True, False, "yes"]), "extra": st.integers(0, 2)})


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(shared, st.one_of(attachments, st.just(...))), min_size=1, max_size=12))
def test_shape_validator_agrees_with_pydantic_categorization(items):
    plugin = get_plugin("categorization")
    validate = ShapeValidator(plugin)
    for rest, attachment in items:
        params = dict(rest) if attachment is ... else {**rest, "attachment": attachment}
        assert _shaped(validate, params) == _full(plugin, params)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([{"geometries": {"box": {"objects_to_annotate": ["car"]}}},
                                           {"geometries": {"box": {"objects_to_annotate": []}}},
                                           {"geometries": {"polygon": {"objects_to_annotate": ["a", "b"]}}, "attachment_type": "image"}]),
                          attachments), min_size=1, max_size=10))
def test_shape_validator_agrees_with_pydantic_images(items):
    plugin = get_plugin("imageannotation")
    validate = ShapeValidator(plugin)
    for rest, attachment in items:
        params = {**rest, "attachment": attachment}
        assert _shaped(validate, params) == _full(plugin, params)


def test_shape_validator_results_are_independent_dicts():
    validate = ShapeValidator(get_plugin("categorization"))
    a = validate({"attachment": "one", "attachment_type": "text", "categories": ["a", "b"]})
    b = validate({"attachment": "two", "attachment_type": "text", "categories": ["a", "b"]})
    assert (a["attachment"], b["attachment"]) == ("one", "two")
    assert len(validate.shapes) == 1
    a["attachment"] = "changed"
    assert validate({"attachment": "three", "attachment_type": "text", "categories": ["a", "b"]})["attachment"] == "three"

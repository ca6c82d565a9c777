"""Background refits of a project's truth model (service tier, SQLite and PostgreSQL): the
step between refits grows with the project and the wait with the last fit's length, the fit
runs outside any write transaction, and a project another process is fitting is passed over
(PostgreSQL advisory lock)."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, update

from assay.config import reset_settings
from assay.projects.models import Project
from assay.projects.service import create_project
from assay.queue.schemas import SubmitBody
from assay.queue.service import access, claim, membership, submit
from assay.tasks.models import LabelerStats
from assay.tasks.service.create import create_task
from assay.truth import service as truth
from assay.truth.models import TruthModel


@given(st.integers(min_value=0, max_value=10_000_000))
def test_refit_step_is_the_setting_or_a_tenth_of_the_last_fit(seen):
    step = truth.refit_step(seen)
    assert step >= 50 and step >= seen / 10  # the default ASSAY_TRUTH_REFIT_LABELS is 50
    assert step == 50 or step < seen / 10 + 1  # and no more than the larger of the two


@pytest.fixture()
def labeled(service_world, monkeypatch):
    """A dawid_skene project with 8 tasks labeled by three people (24 labels), refit step 6."""
    monkeypatch.setenv("ASSAY_TRUTH_REFIT_LABELS", "6")
    reset_settings()
    world = service_world
    with world.db.write() as session:
        project = create_project(session, world.admin, {"name": "refits", "type": "categorization",
                                                        "params": {"labels_per_task": 3, "aggregation": "dawid_skene"}})
        for i in range(8):
            create_task(session, world.admin, "categorization", {"project": "refits", "attachment": f"t{i}", "attachment_type": "text",
                                                               "categories": ["a", "b"]})
        pid, pk = project.public_id, project.id
    people = [world.person("annotator") for _ in range(3)]
    with world.db.write() as session:
        project = session.get(Project, pk)
        for person in people:
            membership.add_member(session, world.admin, project, person.email)
    for n, person in enumerate(people):
        for i in range(8):
            with world.db.write() as session:
                got = claim.claim(session, person, access.project_access(session, person, pid), "label", [])
            with world.db.write() as session:
                answer = "a" if (i + n) % 4 else "b"
                submit.submit(session, person, got["assignment"]["id"], SubmitBody(response={"category": answer}, active_seconds=2.0))
    yield world, pk
    reset_settings()


def _fit(world, pk):
    with world.db.read() as session:
        return session.scalar(select(TruthModel).where(TruthModel.project_id == pk))


def _add_labels(world, pk, n):
    """n more labels in the project's count (the refit trigger), without more answers."""
    with world.db.write() as session:
        row = session.scalars(select(LabelerStats).where(LabelerStats.project_id == pk)).first()
        session.execute(update(LabelerStats).where(LabelerStats.project_id == pk, LabelerStats.user_id == row.user_id)
                        .values(answered=LabelerStats.answered + n))


def test_refits_come_after_the_setting_or_a_tenth_more_labels(labeled, clock):
    world, pk = labeled
    assert truth.refit_due(world.db) == [pk]
    first = _fit(world, pk)
    assert first.method == "dawid_skene" and first.answers == 24 and first.labels_seen == 24 and "classes" in first.state
    clock.shift(60)  # well past the spacing after a fit of a fraction of a second
    assert truth.refit_due(world.db) == []  # nothing new
    _add_labels(world, pk, 5)
    assert truth.refit_due(world.db) == []  # 5 < 6
    _add_labels(world, pk, 1)
    assert truth.refit_due(world.db) == [pk]
    assert _fit(world, pk).labels_seen == 30
    # at 1,000 labels the step is 100, not 6
    clock.shift(60)
    _add_labels(world, pk, 970)
    assert truth.refit_due(world.db) == [pk] and _fit(world, pk).labels_seen == 1000
    clock.shift(60)
    _add_labels(world, pk, 99)
    assert truth.refit_due(world.db) == []
    _add_labels(world, pk, 1)
    assert truth.refit_due(world.db) == [pk] and _fit(world, pk).labels_seen == 1100


def test_a_long_fit_spaces_the_next_one(labeled, clock):
    """Enough new labels, but less than REFIT_SPACING times the last fit's length since it:
    no refit yet (a project labeled fast would otherwise be refitted without pause)."""
    world, pk = labeled
    assert truth.refit_due(world.db) == [pk]
    with world.db.write() as session:
        session.execute(update(TruthModel).where(TruthModel.project_id == pk).values(seconds=10.0))
    _add_labels(world, pk, 50)
    clock.shift(10 * truth.REFIT_SPACING - 1)
    assert truth.refit_due(world.db) == []
    clock.shift(2)
    assert truth.refit_due(world.db) == [pk] and _fit(world, pk).labels_seen == 74


def test_writers_do_not_wait_for_a_fit(labeled, monkeypatch):
    """While the answers are fitted another transaction writes and commits (on SQLite a fit
    inside the write transaction held the one write lock for its whole length)."""
    world, pk = labeled
    fit = truth._fit
    wrote = threading.Event()

    def write_meanwhile(*args):
        def writer():
            with world.db.write() as session:
                session.execute(update(Project).where(Project.id == pk).values(name="renamed during the fit"))
            wrote.set()

        thread = threading.Thread(target=writer)
        thread.start()
        thread.join(20)
        assert wrote.is_set(), "a writer waited for the fit"
        return fit(*args)

    monkeypatch.setattr(truth, "_fit", write_meanwhile)
    assert truth.refit_due(world.db) == [pk] and wrote.is_set()
    assert _fit(world, pk).answers == 24


def test_a_fit_over_more_labels_stored_meanwhile_is_kept(labeled, monkeypatch, clock):
    """Another process (on SQLite nothing stops two from fitting at once) stores a fit over
    more labels while this one runs: the background job keeps it and stores nothing."""
    world, pk = labeled
    assert truth.refit_due(world.db) == [pk]
    _add_labels(world, pk, 100)
    fit = truth._fit

    def newer_fit_lands_meanwhile(*args):
        with world.db.write() as session:
            session.execute(update(TruthModel).where(TruthModel.project_id == pk).values(labels_seen=5000, answers=4242))
        return fit(*args)

    monkeypatch.setattr(truth, "_fit", newer_fit_lands_meanwhile)
    clock.shift(3600)  # due by its labels and by its length
    assert truth.refit_due(world.db) == []
    stored = _fit(world, pk)
    assert (stored.labels_seen, stored.answers) == (5000, 4242)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_project_another_process_is_fitting_is_passed_over(labeled, backend):
    import psycopg

    world, pk = labeled
    with psycopg.connect(world.db.engine.url.render_as_string(hide_password=False).replace("+psycopg", "")) as other:
        other.execute("SELECT pg_advisory_xact_lock(hashtextextended('assay.truth.fit.' || %s, 0))", (str(pk),))
        assert truth.refit_due(world.db) == [] and _fit(world, pk) is None
    assert truth.refit_due(world.db) == [pk] and _fit(world, pk).answers == 24

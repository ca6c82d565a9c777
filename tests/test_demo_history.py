"""The demo's week of history on SQLite and PostgreSQL: simulated labelers' answers spread
over the last seven days (never today), 2-3 labels per task, gold answered, a reviewed
share, a flagged project, and so data on every cockpit page: progress, charts, timesheet,
payout at the demo's rates, exposure, slices."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from assay.db import utcnow
from assay.demo_history import FLAGGED_PROJECT, HISTORY_PROJECT, LABELERS, simulate_week
from assay.insights.service import progress, slices, trends
from assay.people import service as people
from assay.projects.models import Project
from assay.tasks.models import ActivityRollup, Task, TaskAnswer


def test_a_week_of_history_fills_every_cockpit_page(service_world):
    counts = simulate_week(service_world.admin, "demo password")
    org_id = service_world.org.id
    today = utcnow().date()
    with service_world.db.read() as session:
        ids = dict(session.execute(select(Project.name, Project.id).where(Project.org_id == org_id)).all())
        history, flagged = ids[HISTORY_PROJECT], ids[FLAGGED_PROJECT]
        answers = session.execute(select(TaskAnswer.created_at, TaskAnswer.source, Task.project_id, Task.id).join(
            Task, Task.id == TaskAnswer.task_id).where(TaskAnswer.org_id == org_id)).all()
        human = [a for a in answers if a.source == "human"]
        assert counts["labels"] == len(human) + sum(a.source == "gold" for a in answers) and len(human) > 100
        # spread over the last week in working hours, none today
        days = {a.created_at.date() for a in answers}
        assert len(days) >= 6 and all(today - timedelta(days=7) <= d < today for d in days)
        assert all(8 <= a.created_at.hour < 19 for a in answers)
        # 2-3 labels on finished tasks, gold answered, a share reviewed, flagged work
        per_task = {}
        for a in human:
            per_task.setdefault((a.project_id, a.id), 0)
            per_task[(a.project_id, a.id)] += 1
        done = session.execute(select(Task.id, Task.project_id, Task.review_state).where(
            Task.org_id == org_id, Task.status == "completed")).all()
        assert len(done) >= 30
        assert all(per_task[(t.project_id, t.id)] == (3 if t.project_id == history else 2) for t in done)
        assert sum(a.source == "gold" for a in answers) >= 3
        reviewed = [t for t in done if t.review_state == "done"]
        assert 0 < len(reviewed) < len(done) and all(t.project_id == history for t in reviewed)
        assert any(a.project_id == flagged for a in human)
        # the rollups carry the same work, on the days it was done
        R = ActivityRollup
        labels, flagged_n, reviews = session.execute(select(func.sum(R.labels), func.sum(R.flagged), func.sum(R.reviewed)).where(
            R.org_id == org_id)).one()
        assert labels == len(human) and flagged_n == sum(a.project_id == flagged for a in human) and reviews == len(reviewed)
        assert session.scalar(select(func.count()).select_from(R).where(R.org_id == org_id, R.day >= today)) == 0
        conn = session.connection()
        shown = progress.progress(conn, org_id, [history, flagged])
        assert shown[history]["completed"] > 0 and sum(shown[history]["labels_per_day"]) > 0 and shown[history]["eta_days"] is not None
        charts = trends.trends(conn, org_id, history, 14)
        assert sum(d["labels"] for d in charts["daily"]) > 0 and len(charts["people"]) >= len(LABELERS)
        since, until = today - timedelta(days=7), today
        sheet = people.timesheet(conn, org_id, since, until)
        assert {r["email"].split("@")[0] for r in sheet} >= {name for name, _, _ in LABELERS}
        idle = {}
        for r in sheet:
            idle[r["email"]] = idle.get(r["email"], 0) + r["idle_hours"]
        assert all(v > 0 for k, v in idle.items() if not k.startswith("rita@"))  # on screen longer than active
        pay = people.payout(conn, org_id, since, until)
        ana = [r for r in pay if r["email"].startswith("ana@")]
        assert ana and all(r["unit"] == "hour" and r["rate"] == 21.0 and r["amount"] > 0 for r in ana)
        ben = {r["project"]: r for r in pay if r["email"].startswith("ben@")}
        assert ben[HISTORY_PROJECT]["amount"] == round(0.05 * ben[HISTORY_PROJECT]["answers"], 2)
        exposed = people.exposure(conn, org_id, days=8)  # the week before today, and today
        assert sum(sum(p["per_day"]) for p in exposed["people"]) == flagged_n and all(p["today"] == 0 for p in exposed["people"])
        sliced = slices.by_metadata(conn, session.get(Project, history), "source")
        assert set(sliced["slices"]) == {"web", "app", "store"}

"""The demo's week of history, so every cockpit page has data on first start: simulated
labelers of different accuracy who worked over the last seven days (2-3 labels per task,
hidden gold among the work, a reviewer checking a share of tasks, a project of flagged
content), a pay rate per label and one per hour, and skills.

The work goes through the real queue (claim, submit, review), one transaction per
simulated hour; before each commits, what it wrote is dated back to that hour: the
answers, assignments and completions, and the hour's activity rollups."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update

from assay.auth.principals import Principal
from assay.db import get_db, utcnow
from assay.orgs import service as orgs
from assay.orgs.models import Organization, Role
from assay.people import service as people
from assay.projects import service as projects
from assay.queue.models import Assignment, AssignmentKind, ProjectMember
from assay.queue.schemas import ReviewBody, SubmitBody
from assay.queue.service import access, claim, review, submit
from assay.tasks import rollups
from assay.tasks.models import Task, TaskAnswer
from assay.tasks.service import create as tasks

HISTORY_PROJECT = "Demo: product reviews (a week of labels)"
FLAGGED_PROJECT = "Demo: comment moderation (flagged content)"
# name, accuracy, hours a day they usually work
LABELERS = [("ana", 0.96, 5), ("ben", 0.9, 4), ("chloe", 0.86, 3), ("dev", 0.74, 3), ("eli", 0.62, 2)]
GOOD = ["Battery lasts all week", "Arrived early and works perfectly", "Sturdy, quiet and easy to clean", "Best purchase this year",
        "Exactly as described", "My kids love it", "Setup took two minutes", "Great value for the price"]
BAD = ["Stopped working after a day", "The lid cracked in the box", "Loud, slow and hard to clean", "Nothing like the photos",
       "Support never answered", "Charger missing from the box", "Smells of burnt plastic", "Returned it the same week"]
PRODUCTS = ["kettle", "headphones", "blender", "desk lamp", "backpack", "drill"]
SOURCES = ["web", "app", "store"]
COMMENTS = [("A recipe for lentil soup, with photos of each step.", "allowed"),
            ("Graphic description of an injury from a car crash.", "remove"),
            ("Someone asking where to buy cheap concert tickets.", "allowed"),
            ("A threat against a named neighbour.", "remove"),
            ("Photos of a hunting trip, with the animals shown after the kill.", "allowed"),
            ("Detailed instructions for self-harm.", "remove")]


def _people(session, principal: Principal, password: str, project_ids: list[int]) -> dict[str, Any]:
    org = session.get(Organization, principal.org_id)
    out = {}
    for name, _, _ in LABELERS:
        out[name] = orgs.create_user(session, org, f"{name}@labelers.assay.local", Role.ANNOTATOR, password=password, name=name.title())
    out["rita"] = orgs.create_user(session, org, "rita@labelers.assay.local", Role.REVIEWER, password=password, name="Rita (reviewer)")
    for user in out.values():
        for pid in project_ids:
            session.add(ProjectMember(project_id=pid, user_id=user.id, org_id=org.id))
    return out


def _tasks(session, principal: Principal, rng: random.Random, start: datetime, project_ids: tuple[int, int]) -> dict[str, str]:
    """The tasks of both projects, created at the start of the week; their true answers."""
    truth = {}
    for i in range(48):
        good = rng.random() < 0.55
        text = f"{rng.choice(GOOD if good else BAD)}. ({rng.choice(PRODUCTS)})"
        meta = {"source": SOURCES[i % 3], "demo": True}
        made = tasks.create_task(session, principal, "categorization", {"project": HISTORY_PROJECT, "attachment": text, "metadata": meta})
        truth[made.public_id] = "positive" if good else "negative"
    for i, (text, label) in enumerate([(GOOD[0], "positive"), (BAD[0], "negative"), (GOOD[3], "positive"), (BAD[4], "negative")]):
        body = {"project": HISTORY_PROJECT, "attachment": f"{text}. (gold {i + 1})", "expected_response": {"category": label}}
        truth[tasks.create_gold_task(session, principal, "categorization", body, "evaluation")["task_id"]] = label
    for i in range(18):
        text, label = COMMENTS[i % len(COMMENTS)]
        made = tasks.create_task(session, principal, "categorization", {"project": FLAGGED_PROJECT, "attachment": f"{text} (#{i + 1})"})
        truth[made.public_id] = label
    session.flush()
    session.execute(update(Task).where(Task.org_id == principal.org_id, Task.project_id.in_(project_ids)).values(created_at=start, updated_at=start))
    return truth


def _as(user, principal: Principal) -> Principal:
    return Principal(principal.org_id, principal.org_public_id, principal.org_name, user.id, user.email, user.role, False,
                     principal.callback_auth_key, via="session")


def _work(session, who: Principal, project, accuracy: float, truth: dict[str, str], rng: random.Random, n: int) -> int:
    """Up to n tasks of one project labeled by one simulated person; how many."""
    done = 0
    for _ in range(n):
        got = claim.claim(session, who, project, AssignmentKind.LABEL, [])
        if not got.get("assignment"):
            break
        right = truth.get(got["task"]["task_id"], "positive")
        options = got["task"]["params"]["categories"]
        answer = right if rng.random() < accuracy else rng.choice([c for c in options if c != right] or options)
        active = round(rng.uniform(4, 25) * (1.6 - accuracy), 1)
        submit.submit(session, who, got["assignment"]["id"], SubmitBody(response={"category": answer}, active_seconds=active,
                                                                          shown_seconds=round(active * rng.uniform(1.1, 1.8), 1)))
        session.flush()
        done += 1
    return done


def _review(session, reviewer: Principal, project, truth: dict[str, str], rng: random.Random) -> None:
    for _ in range(4):
        got = claim.claim(session, reviewer, project, AssignmentKind.REVIEW, [])
        if not got.get("assignment"):
            return
        proposal = got.get("previous_response") or {}
        right = truth.get(got["task"]["task_id"])
        if right and proposal.get("category") != right and rng.random() < 0.8:
            body = ReviewBody(action="fix", response={"category": right}, comment="the text says otherwise", active_seconds=9.0)
        else:
            body = ReviewBody(action="accept", active_seconds=round(rng.uniform(3, 8), 1))
        review.review(session, reviewer, got["assignment"]["id"], body)
        session.flush()  # the next claim reads the verdict's rows


def _date_back(session, org_id: int, since: datetime, when: datetime) -> None:
    """What this transaction wrote (at or after `since`) happened at `when`."""
    session.flush()
    session.execute(update(TaskAnswer).where(TaskAnswer.org_id == org_id, TaskAnswer.created_at >= since).values(created_at=when))
    session.execute(update(Assignment).where(Assignment.org_id == org_id, Assignment.updated_at >= since)
                    .values(created_at=when, updated_at=when, expires_at=when))
    session.execute(update(Task).where(Task.org_id == org_id, Task.completed_at >= since).values(completed_at=when, updated_at=when))
    rollups.date_back(session, when)


def simulate_week(principal: Principal, password: str, seed: int = 7) -> dict[str, int]:
    """Create the two history projects and a week of their work. Returns counts."""
    rng = random.Random(seed)
    db = get_db()
    start = utcnow().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=7)  # the day's hours are 8-18 UTC
    with db.write() as session:
        history = projects.create_project(session, principal, {"name": HISTORY_PROJECT, "type": "categorization", "params": {
            "instruction": "Is this product review positive or negative?", "categories": ["positive", "negative"], "attachment_type": "text",
            "labels_per_task": 3, "review_fraction": 0.3, "gold_rate": 0.1}})
        flagged = projects.create_project(session, principal, {"name": FLAGGED_PROJECT, "type": "categorization", "params": {
            "instruction": "Does this comment break the rules? Remove threats, self-harm and gore; allow the rest.",
            "categories": ["allowed", "remove"], "attachment_type": "text", "labels_per_task": 2,
            "content_warning": "violence and self-harm"}})
        project_ids = (history.id, flagged.id)
        public_ids = (history.public_id, flagged.public_id)
        users = _people(session, principal, password, list(project_ids))
        crew = {name: _as(user, principal) for name, user in users.items()}
        truth = _tasks(session, principal, rng, start, project_ids)
        rollups.date_back(session, start)
        people.set_rate(session, principal.org_id, None, history.id, "label", 0.05, "USD")
        people.set_rate(session, principal.org_id, None, flagged.id, "label", 0.12, "USD")
        people.set_rate(session, principal.org_id, users["ana"].id, None, "hour", 21.0, "USD")
        for name in ("ana", "ben"):
            people.grant_skill(session, users[name], "sentiment", 2)
    labels = 0
    for day in range(7):
        shifts: dict[int, list[tuple[str, float]]] = {}
        for name, accuracy, hours in LABELERS:
            for hour in rng.sample(range(8, 18), hours):
                shifts.setdefault(hour, []).append((name, accuracy))
        for hour in sorted(shifts):  # one transaction per simulated hour (a quick first start)
            with db.write() as session:
                mark = utcnow()
                for name, accuracy in shifts[hour]:
                    who = crew[name]
                    project = access.project_access(session, who, public_ids[1] if rng.random() < 0.25 else public_ids[0])
                    labels += _work(session, who, project, accuracy, truth, rng, rng.randint(1, 3))
                _date_back(session, principal.org_id, mark, start + timedelta(days=day, hours=hour, minutes=rng.randrange(60)))
        with db.write() as session:
            mark = utcnow()
            _review(session, crew["rita"], access.project_access(session, crew["rita"], public_ids[0]), truth, rng)
            _date_back(session, principal.org_id, mark, start + timedelta(days=day, hours=17, minutes=30))
    return {"labels": labels, "tasks": len(truth), "people": len(crew)}

"""Slices of a project's labels for bias checks: by a metadata key of the tasks, or by an
attribute of the labelers (role, a skill's level). Counts are read here; the statistics
are `quality.slices` (pure)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from assay.errors import field_error
from assay.orgs.models import User
from assay.people.models import UserSkill
from assay.quality.slices import compare_rates, independence_p, label_distribution
from assay.tasks.models import LabelerStats, Task, TaskAnswer
from assay.tasktypes import get_plugin

T = Task.__table__
A = TaskAnswer.__table__
ROW_LIMIT = 50_000  # the newest completed tasks a slice page reads
MISSING = "(none)"


def _label(plugin, response: Any, params: dict) -> str:
    if not isinstance(response, dict):
        return MISSING
    key = plugin.consensus_key(response, params)
    if isinstance(key, bytes):
        key = key.decode()[:60]
    if isinstance(key, tuple):
        key = "+".join(map(str, key))
    return str(key)


def metadata_keys(conn: Connection, project_id: int) -> list[str]:
    """Metadata keys seen on the project's newest tasks (what the page offers)."""
    rows = conn.execute(select(T.c.metadata).where(T.c.project_id == project_id, T.c.kind == "task").order_by(T.c.id.desc()).limit(200))
    return sorted({k for (m,) in rows if isinstance(m, dict) for k, v in m.items() if isinstance(v, str | int | bool)})


def by_metadata(conn: Connection, project, key: str, alpha: float = 0.05) -> dict[str, Any]:
    plugin = get_plugin(project.type)
    rows = conn.execute(select(T.c.metadata, T.c.response, T.c.params, T.c.quality).where(
        T.c.project_id == project.id, T.c.status == "completed", T.c.kind == "task", T.c.is_test.is_(False))
        .order_by(T.c.id.desc()).limit(ROW_LIMIT))
    labels: dict[str, Counter] = defaultdict(Counter)
    agreement: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for metadata, response, params, quality in rows:
        value = str((metadata or {}).get(key, MISSING))
        labels[value][_label(plugin, response, params)] += 1
        if quality and quality.get("labels"):
            agreement[value][0] += int(quality.get("agreeing") or 0)
            agreement[value][1] += int(quality["labels"])
    gold: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for metadata, correct in conn.execute(select(T.c.metadata, A.c.correct).select_from(A.join(T, T.c.id == A.c.task_id)).where(
            T.c.project_id == project.id, T.c.kind == "evaluation", A.c.source == "gold").limit(ROW_LIMIT)):
        value = str((metadata or {}).get(key, MISSING))
        gold[value][0] += int(bool(correct))
        gold[value][1] += 1
    return _report(f"metadata.{key}", labels, agreement, gold, alpha)


def by_labeler(conn: Connection, project, attribute: str, alpha: float = 0.05) -> dict[str, Any]:
    """attribute: `role`, or `skill:<name>` (the level held, or none)."""
    plugin = get_plugin(project.type)
    people = dict(conn.execute(select(User.id, User.role).where(User.org_id == project.org_id)).all())
    if attribute.startswith("skill:"):
        levels = dict(conn.execute(select(UserSkill.user_id, UserSkill.level).where(UserSkill.name == attribute[6:],
                                                                                    UserSkill.org_id == project.org_id)).all())
        attr_of = {u: f"level {levels[u]}" if u in levels else "without" for u in people}
    elif attribute == "role":
        attr_of = people
    else:
        raise field_error("labeler", "must be role or skill:<name>")
    labels: dict[str, Counter] = defaultdict(Counter)
    for user_id, response, params in conn.execute(select(A.c.user_id, A.c.response, T.c.params).select_from(A.join(T, T.c.id == A.c.task_id))
                                                  .where(T.c.project_id == project.id, T.c.kind == "task", A.c.source == "human", A.c.active.is_(True))
                                                  .order_by(A.c.id.desc()).limit(ROW_LIMIT)):
        labels[str(attr_of.get(user_id, MISSING))][_label(plugin, response, params)] += 1
    agreement: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    gold: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    S = LabelerStats.__table__
    for user_id, answered, agreed, g_answered, g_correct in conn.execute(select(S.c.user_id, func.sum(S.c.answered), func.sum(S.c.agreed),
            func.sum(S.c.gold_answered), func.sum(S.c.gold_correct)).where(S.c.project_id == project.id).group_by(S.c.user_id)):
        name = str(attr_of.get(user_id, MISSING))
        agreement[name][0] += int(agreed or 0)
        agreement[name][1] += int(answered or 0)
        gold[name][0] += int(g_correct or 0)
        gold[name][1] += int(g_answered or 0)
    return _report(f"labeler.{attribute}", labels, agreement, gold, alpha)


def _report(dimension: str, labels: dict[str, Counter], agreement: dict, gold: dict, alpha: float) -> dict[str, Any]:
    distribution = label_distribution({k: dict(v) for k, v in labels.items()}, alpha)
    agree = compare_rates({k: tuple(v) for k, v in agreement.items() if v[1]}, alpha)
    accuracy = compare_rates({k: tuple(v) for k, v in gold.items() if v[1]}, alpha)
    flags = [f"label {label!r} in slice {r.slice!r}" for label, rows in distribution.items() for r in rows if r.flagged]
    flags += [f"agreement in slice {r.slice!r}" for r in agree if r.flagged] + [f"gold accuracy in slice {r.slice!r}" for r in accuracy if r.flagged]
    return {
        "dimension": dimension, "alpha": alpha, "correction": "holm",
        "slices": sorted(labels), "tasks": {k: sum(v.values()) for k, v in labels.items()},
        "independence_p": independence_p({k: dict(v) for k, v in labels.items()}),
        "labels": {label: [asdict(r) for r in rows] for label, rows in distribution.items()},
        "agreement": [asdict(r) for r in agree], "accuracy": [asdict(r) for r in accuracy],
        "flags": flags,
    }

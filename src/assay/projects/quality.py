"""A project's quality report: throughput, each labeler's record and confusion matrix, and
inter-annotator agreement (Krippendorff's alpha, Fleiss' kappa, pairwise Cohen's kappa).

Everything is computed from the project's live tasks (`is_test` false) and their active
human answers — the answers that count toward consolidation. Answers are read with one
Core SELECT and turned into integer index arrays (task, labeler, label); the statistics
are the pure functions of assay.quality over those arrays, no per-row ORM objects.

Answers are compared by the task type's consensus key: the category for single-choice
categorization (a *categorical* project: confusion matrices and per-label alpha too),
otherwise the whole answer ("identical answers"). For free-form types the number of
distinct answers can be as large as the number of answers; the dense count matrices of
assay.quality.agreement would then be units × distinct answers, so past `DENSE_LIMIT`
cells the same nominal statistics come from assay.quality.sparse_agreement instead.

This module is loaded only when a report is asked for (numpy and scipy come with it).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import false, func, select, true
from sqlalchemy.engine import Connection, Row
from sqlalchemy.orm import Session

from assay.orgs.models import User
from assay.projects.models import Project
from assay.quality.agreement import fleiss_kappa_from_labels, krippendorff_alpha_from_labels, pairwise_cohen_kappa
from assay.quality.online import smoothed_accuracy
from assay.quality.shape_agreement import matched_iou_agreement
from assay.quality.sparse_agreement import sparse_nominal, sparse_pairwise_kappa
from assay.queue.models import ProjectMember
from assay.tasks.consolidation import labeler_accuracy
from assay.tasks.models import TASK_STATUSES, AnswerSource, LabelerStats, Task, TaskAnswer, TaskKind, TaskStatus
from assay.tasktypes import get_plugin
from assay.tasktypes.base import TaskTypePlugin
from assay.truth.models import TruthModel
from assay.truth.service import model_summary

T = Task.__table__
TA = TaskAnswer.__table__
LS = LabelerStats.__table__
U = User.__table__
M = ProjectMember.__table__

N_BOOTSTRAP = 200
SEED = 0
CONFIDENT = 0.9  # tasks whose consensus confidence is at least this count as confident
MIN_OVERLAP = 5  # tasks two labelers must share for their Cohen's kappa
DENSE_LIMIT = 1_000_000  # units × distinct values above which the sparse formulas are used
PAIRWISE_DENSE_CLASSES = 64  # agreement.pairwise_cohen_kappa builds C × C tables per pair
REVIEW_OUTCOMES = ("accepted", "fixed", "rejected")


# ----------------------------------------------------------------------------- JSON helpers

def _num(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if np.isfinite(value) else None


def _agreement_json(result) -> dict[str, Any]:
    return {"value": _num(result.value), "ci_low": _num(result.ci_low), "ci_high": _num(result.ci_high),
            "n_units": int(result.n_units), "n_bootstrap": int(result.n_bootstrap), "confidence": result.confidence}


# ----------------------------------------------------------------------------- reading the project

@dataclass
class _Labels:
    """Answer keys as label indices, in the order they are first met (the categories of the
    tasks come first)."""

    names: list[Any] = field(default_factory=list)
    index: dict[Any, int] = field(default_factory=dict)

    def of(self, key: Any) -> int:
        i = self.index.get(key)
        if i is None:
            i = self.index[key] = len(self.names)
            self.names.append(key)
        return i


@dataclass
class _ProjectAnswers:
    """What the report is computed from: the live tasks, their active human answers as
    index arrays (task, labeler, label; labeler -1 = a deleted user), review outcomes,
    labeler stats and gold answers ``(labeler, expected label, given label)``."""

    categorical: bool
    tasks: list[Row]
    answers: list[Row]
    reviews: list[Row]
    stats: dict[int, Row]
    labels: _Labels
    user_ids: list[int]
    a_task: np.ndarray
    a_label: np.ndarray
    a_worker: np.ndarray
    per_task: np.ndarray  # answers per task
    completed: np.ndarray  # per task
    final: np.ndarray  # label of each completed categorical task's response, else -1
    gold: list[tuple[int, int, int]]

    @property
    def n_workers(self) -> int:
        return len(self.user_ids)

    @property
    def n_labels(self) -> int:
        return len(self.labels.names)


def _is_categorical(project: Project, task_params: list[dict]) -> bool:
    if project.type != "categorization" or project.current_params.get("allow_multiple"):
        return False
    return not any((p or {}).get("allow_multiple") for p in task_params)


def _live(project: Project) -> tuple:
    return (T.c.org_id == project.org_id, T.c.is_test == false(), T.c.project_id == project.id)


def _read_answers(conn: Connection, project: Project) -> tuple[list[Row], list[Row], dict[int, Row]]:
    """Active human answers (one Core SELECT over the project's live tasks), review
    outcomes per labeler, and each labeler's stats row."""
    answers = conn.execute(
        select(TA.c.task_id, TA.c.user_id, TA.c.response, TA.c.active_seconds).select_from(TA.join(T, T.c.id == TA.c.task_id))
        .where(*_live(project), TA.c.source == "human", TA.c.active == true()).order_by(TA.c.id)
    ).all()
    reviews = conn.execute(
        select(TA.c.user_id, TA.c.review_status, func.count()).select_from(TA.join(T, T.c.id == TA.c.task_id))
        .where(*_live(project), TA.c.source == "human", TA.c.review_status.in_(REVIEW_OUTCOMES)).group_by(TA.c.user_id, TA.c.review_status)
    ).all()
    stats = {r.user_id: r for r in conn.execute(select(LS.c.user_id, LS.c.answered, LS.c.agreed, LS.c.gold_answered, LS.c.gold_correct)
                                                 .where(LS.c.project_id == project.id))}
    return answers, reviews, stats


def _read_gold(conn: Connection, project: Project, plugin: TaskTypePlugin, labels: _Labels, widx: dict[int, int]) -> list[tuple[int, int, int]]:
    """Answers to evaluation items against their expected response (kept apart from
    agreement with consensus: a labeler can agree with a wrong crowd)."""
    rows = conn.execute(
        select(TA.c.user_id, TA.c.response, T.c.expected_response, T.c.params).select_from(TA.join(T, T.c.id == TA.c.task_id))
        .where(T.c.org_id == project.org_id, T.c.project_id == project.id, T.c.kind == TaskKind.EVALUATION, TA.c.source == AnswerSource.GOLD))
    return [(widx.get(g.user_id, -1), labels.of(plugin.consensus_key(g.expected_response, g.params or {})),
             labels.of(plugin.consensus_key(g.response, g.params or {})))
            for g in rows if g.expected_response is not None]


def _read_project(session: Session, project: Project) -> _ProjectAnswers:
    conn = session.connection()
    plugin = get_plugin(project.type)
    uses_params = type(plugin).consensus_key is not TaskTypePlugin.consensus_key
    # tasks: status, final response and its quality (params only where the key needs them)
    cols = [T.c.id, T.c.status, T.c.response, T.c.quality] + ([T.c.params] if uses_params else [])
    tasks = conn.execute(select(*cols).where(*_live(project)).order_by(T.c.id)).all()
    params = [t.params or {} for t in tasks] if uses_params else [{}] * len(tasks)
    categorical = _is_categorical(project, params)
    answers, reviews, stats = _read_answers(conn, project)

    # labels: the categories of the tasks (first seen first), then any other answer keys
    labels = _Labels()
    if categorical:
        for cats in dict.fromkeys(tuple(p.get("categories") or ()) for p in params):
            for c in cats:
                labels.of(c)
    pos = {int(t.id): i for i, t in enumerate(tasks)}
    a_task = np.array([pos[a.task_id] for a in answers], dtype=np.int64)
    a_label = np.array([labels.of(plugin.consensus_key(a.response, params[pos[a.task_id]])) for a in answers], dtype=np.int64)
    user_ids = sorted({a.user_id for a in answers if a.user_id is not None} | set(stats) | {r.user_id for r in reviews if r.user_id is not None})
    widx = {u: i for i, u in enumerate(user_ids)}

    completed = np.array([t.status == TaskStatus.COMPLETED for t in tasks], dtype=bool)
    final = np.full(len(tasks), -1, dtype=np.int64)
    if categorical:
        for i, t in enumerate(tasks):
            if completed[i] and isinstance(t.response, dict) and "category" in t.response:
                final[i] = labels.of(plugin.consensus_key(t.response, params[i]))
    gold = _read_gold(conn, project, plugin, labels, widx) if categorical else []
    return _ProjectAnswers(
        categorical=categorical, tasks=tasks, answers=answers, reviews=reviews, stats=stats, labels=labels, user_ids=user_ids,
        a_task=a_task, a_label=a_label, a_worker=np.array([widx.get(a.user_id, -1) for a in answers], dtype=np.int64),
        per_task=np.bincount(a_task, minlength=len(tasks)), completed=completed, final=final, gold=gold,
    )


# ----------------------------------------------------------------------------- throughput

def _totals(data: _ProjectAnswers) -> dict[str, Any]:
    completed = data.completed
    confidences = [t.quality["confidence"] for i, t in enumerate(data.tasks) if completed[i] and isinstance(t.quality, dict)
                   and isinstance(t.quality.get("confidence"), (int, float))]
    by_status = {s: 0 for s in TASK_STATUSES}
    for t in data.tasks:
        by_status[t.status] = by_status.get(t.status, 0) + 1
    return {
        "tasks": len(data.tasks),
        "tasks_by_status": by_status,
        "answers": len(data.answers),
        "mean_labels_per_completed_task": _num(data.per_task[completed].mean()) if completed.any() else None,
        "completed_with_confidence": len(confidences),
        "mean_confidence": _num(np.mean(confidences)) if confidences else None,
        "confident_share": _num(np.mean(np.asarray(confidences) >= CONFIDENT)) if confidences else None,
        "confident_threshold": CONFIDENT,
    }


# ----------------------------------------------------------------------------- annotators

def _confusion(data: _ProjectAnswers) -> np.ndarray | None:
    """(labelers, truth, given) counts of each labeler's answers against the consolidated
    label of completed tasks (categorical projects only)."""
    if not (data.categorical and data.n_workers):
        return None
    L = data.n_labels
    sel = (data.a_worker >= 0) & (data.final[data.a_task] >= 0)
    flat = (data.a_worker[sel] * L + data.final[data.a_task[sel]]) * L + data.a_label[sel]
    return np.bincount(flat, minlength=data.n_workers * L * L).reshape(data.n_workers, L, L)


def _gold_confusion(data: _ProjectAnswers) -> np.ndarray | None:
    """(labelers, expected, given) counts of gold answers (categorical projects only)."""
    if not data.categorical:
        return None
    matrix = np.zeros((data.n_workers, data.n_labels, data.n_labels), dtype=np.int64)
    for w, expected, given in data.gold:
        if w >= 0:
            matrix[w, expected, given] += 1
    return matrix


def _model_accuracies(session: Session, project: Project) -> dict[int, float]:
    """Each labeler's accuracy under the project's fitted truth model: the chance their
    answer is right, sum_k prior_k * P(answer = k | truth = k)."""
    row = session.execute(select(TruthModel.method, TruthModel.state).where(TruthModel.project_id == project.id)).first()
    if row is None or row.method != project.aggregation:
        return {}
    state = row.state
    prior = np.asarray(state["class_prior"], dtype=float)
    return {int(u): float(np.dot(prior, np.diag(np.asarray(m, dtype=float)))) for u, m in state["workers"].items()}


def _accuracy(stats, model_accuracy: float | None) -> dict[str, Any]:
    """From gold where the labeler answered gold items, else from the project's fitted truth
    model (named methods), else from agreement with consolidated answers."""
    if stats is not None and stats.gold_answered:
        return {"accuracy": labeler_accuracy(stats), "accuracy_basis": "gold"}
    if model_accuracy is not None:
        return {"accuracy": round(model_accuracy, 4), "accuracy_basis": "model"}
    return {"accuracy": labeler_accuracy(stats) if stats is not None else smoothed_accuracy(0, 0), "accuracy_basis": "agreement"}


def _active_seconds(data: _ProjectAnswers) -> list[list[float]]:
    seconds: list[list[float]] = [[] for _ in data.user_ids]
    for a, w in zip(data.answers, data.a_worker):
        if w >= 0 and a.active_seconds is not None:
            seconds[w].append(float(a.active_seconds))
    return seconds


def _review_counts(data: _ProjectAnswers) -> dict[int, dict[str, int]]:
    counts = {u: {k: 0 for k in REVIEW_OUTCOMES} for u in data.user_ids}
    for user_id, outcome, n in data.reviews:
        if user_id in counts:
            counts[user_id][outcome] = int(n)
    return counts


def _annotators(session: Session, project: Project, data: _ProjectAnswers, confusion, gold_confusion) -> list[dict[str, Any]]:
    """One record per labeler (in user id order; pairwise kappas are added later)."""
    user_ids = data.user_ids
    people = {r.id: r for r in session.connection().execute(
        select(U.c.id, U.c.email, U.c.name).where(U.c.id.in_(user_ids), U.c.org_id == project.org_id))} if user_ids else {}
    counts = np.bincount(data.a_worker[data.a_worker >= 0], minlength=data.n_workers)
    seconds = _active_seconds(data)
    reviews = _review_counts(data)
    model_accuracy = _model_accuracies(session, project)
    annotators = []
    for i, u in enumerate(user_ids):
        s = data.stats.get(u)
        answered, agreed = (s.answered, s.agreed) if s is not None else (0, 0)
        person = people.get(u)
        annotators.append({
            "user_id": u,
            "email": person.email if person else None,
            "name": person.name if person else "",
            "answers": int(counts[i]),
            "consolidated": int(answered),
            "agreed": int(agreed),
            **_accuracy(s, model_accuracy.get(u)),
            "gold_answered": int(s.gold_answered) if s is not None else 0,
            "gold_correct": int(s.gold_correct) if s is not None else 0,
            "agreement_rate": agreed / answered if answered else None,
            "median_active_seconds": statistics.median(seconds[i]) if seconds[i] else None,
            "reviews": reviews[u],
            "confusion": confusion[i].tolist() if confusion is not None else None,
            "gold_confusion": gold_confusion[i].tolist() if gold_confusion is not None else None,
            "kappa_mean": None,
            "kappa": [],
        })
    return annotators


# ----------------------------------------------------------------------------- agreement

def _alpha_and_fleiss(unit: np.ndarray, value: np.ndarray, n_u: int, n_v: int, sizes: np.ndarray) -> dict[str, Any]:
    """Nominal alpha and (when every task has the same number of answers) Fleiss' kappa,
    from the dense count matrices while they stay small, else from sparse counts."""
    dense = n_u * max(n_v, 1) <= DENSE_LIMIT
    if dense:
        alpha = krippendorff_alpha_from_labels(unit, value, "nominal", n_units=n_u, n_bootstrap=N_BOOTSTRAP, seed=SEED)
    else:
        alpha = sparse_nominal(unit, value, n_u, n_v, fleiss=False, n_bootstrap=N_BOOTSTRAP, seed=SEED)
    out: dict[str, Any] = {"alpha": _agreement_json(alpha)}
    if len(sizes) == 1:
        if dense:
            fk = fleiss_kappa_from_labels(unit, value, n_u, max(n_v, 1), n_bootstrap=N_BOOTSTRAP, seed=SEED)
        else:
            fk = sparse_nominal(unit, value, n_u, n_v, fleiss=True, n_bootstrap=N_BOOTSTRAP, seed=SEED)
        out["fleiss_kappa"] = _agreement_json(fk)
    else:
        out["fleiss_kappa"] = None
        out["fleiss_reason"] = (f"not computed: tasks have different numbers of labels ({int(sizes.min())} to {int(sizes.max())}); "
                                "Fleiss' kappa needs the same number on every task (Krippendorff's alpha does not)")
    return out


def _per_label_alpha(data: _ProjectAnswers, multi: np.ndarray, unit: np.ndarray, n_u: int) -> list[dict[str, Any]]:
    """Each label against all others."""
    per_label = []
    full_value = data.a_label[multi]
    for c, name in enumerate(data.labels.names):
        used = int((full_value == c).sum())
        a = krippendorff_alpha_from_labels(unit, (full_value == c).astype(np.int64), "nominal", n_units=n_u) if used else None
        per_label.append({"label": name, "answers": used, "alpha": _num(a.value) if a else None})
    return per_label


def _pairwise_kappa(data: _ProjectAnswers, multi: np.ndarray, annotators: list[dict[str, Any]]) -> dict[str, Any]:
    """Cohen's kappa between labelers sharing at least MIN_OVERLAP tasks; each pair is also
    added to both labelers' records (with their mean)."""
    pairs = []
    known = multi & (data.a_worker >= 0)
    if known.any() and data.n_workers >= 2:
        pu = np.unique(data.a_task[known], return_inverse=True)[1]
        pv = np.unique(data.a_label[known], return_inverse=True)[1]
        pw = data.a_worker[known]
        if int(pv.max()) + 1 <= PAIRWISE_DENSE_CLASSES:
            res = pairwise_cohen_kappa(pu, pw, pv, int(pu.max()) + 1, data.n_workers, int(pv.max()) + 1, min_overlap=MIN_OVERLAP)
            wa, wb, kappa, n_common = res.worker_a, res.worker_b, res.kappa, res.n_common
        else:
            wa, wb, kappa, n_common = sparse_pairwise_kappa(pu, pw, pv, data.n_workers, min_overlap=MIN_OVERLAP)
        for a, b, k, n in zip(wa.tolist(), wb.tolist(), kappa.tolist(), n_common.tolist()):
            pairs.append({"a": data.user_ids[a], "b": data.user_ids[b], "kappa": _num(k), "n_common": int(n)})
            for me, other in ((a, b), (b, a)):
                annotators[me]["kappa"].append({"user_id": data.user_ids[other], "email": annotators[other]["email"], "kappa": _num(k),
                                                "n_common": int(n)})
    for entry in annotators:
        defined = [k["kappa"] for k in entry["kappa"] if k["kappa"] is not None]
        entry["kappa_mean"] = float(np.mean(defined)) if defined else None
    defined = [p["kappa"] for p in pairs if p["kappa"] is not None]
    return {"pairs": pairs, "mean_kappa": float(np.mean(defined)) if defined else None}


def _agreement(project: Project, data: _ProjectAnswers, annotators: list[dict[str, Any]]) -> dict[str, Any]:
    """Agreement over the tasks with at least two answers."""
    multi = data.per_task[data.a_task] >= 2
    units, unit = np.unique(data.a_task[multi], return_inverse=True)
    values, value = np.unique(data.a_label[multi], return_inverse=True)
    n_u, n_v = len(units), len(values)
    agreement: dict[str, Any] = {
        "basis": "category" if data.categorical else "identical answers",
        "level": "nominal",
        "items": n_u,
        "answers": int(multi.sum()),
        "distinct_answers": n_v,
        "min_overlap": MIN_OVERLAP,
    }
    if n_u == 0:
        agreement.update({"alpha": None, "fleiss_kappa": None, "reason": "no task has two or more answers yet"})
    else:
        agreement.update(_alpha_and_fleiss(unit, value, n_u, n_v, np.unique(data.per_task[units])))
    if not data.categorical:
        agreement["note"] = (f"{project.type} answers have no category: two answers agree when they are identical "
                             "(the task type's consensus key)")
    agreement["per_label_alpha"] = _per_label_alpha(data, multi, unit, n_u) if data.categorical and n_u else None
    agreement["pairwise"] = _pairwise_kappa(data, multi, annotators)
    return agreement


def _geometry_agreement(data: _ProjectAnswers) -> dict[str, Any] | None:
    """imageannotation: mean matched IoU between labelers' boxes (unrotated) on the tasks
    with two or more answers, overall and per label, with a bootstrap interval over tasks."""
    by_task: dict[int, list[list[tuple]]] = {}
    for a in data.answers:
        shapes = (a.response or {}).get("annotations") if isinstance(a.response, dict) else None
        boxes = [(s["left"], s["top"], s["width"], s["height"], s["label"]) for s in shapes or []
                 if isinstance(s, dict) and s.get("type") == "box" and not s.get("rotation")]
        by_task.setdefault(a.task_id, []).append(boxes)
    images = [answers for answers in by_task.values() if len(answers) >= 2]
    result = matched_iou_agreement(images, n_bootstrap=1000)
    return {"basis": "mean matched IoU of boxes between labelers (unmatched boxes count 0)", "tasks": len(images), **result}


# ----------------------------------------------------------------------------- the report

def quality_report(session: Session, project: Project) -> dict[str, Any]:
    data = _read_project(session, project)
    confusion, gold_confusion = _confusion(data), _gold_confusion(data)
    annotators = _annotators(session, project, data, confusion, gold_confusion)
    agreement = _agreement(project, data, annotators)
    annotators.sort(key=lambda e: (-e["answers"], e["email"] or ""))
    n_labels = data.n_labels
    return {
        "project": {"id": project.public_id, "name": project.name, "type": project.type},
        "categorical": data.categorical,
        "labels": data.labels.names if data.categorical else None,
        "totals": _totals(data),
        "annotators": annotators,
        "confusion_total": (confusion.sum(axis=0).tolist() if confusion is not None else [[0] * n_labels for _ in range(n_labels)])
        if data.categorical else None,
        "gold_confusion_total": gold_confusion.sum(axis=0).tolist() if gold_confusion is not None else None,
        "gold_answers": len(data.gold),
        "aggregation": project.aggregation,
        "truth_model": model_summary(session, project.id),
        "agreement": agreement,
        "geometry": _geometry_agreement(data) if project.type == "imageannotation" else None,
    }

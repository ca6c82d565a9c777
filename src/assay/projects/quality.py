"""A project's quality report: throughput, each labeler's record and confusion matrix, and
inter-annotator agreement (Krippendorff's alpha, Fleiss' kappa, pairwise Cohen's kappa).

Everything is computed from the project's live tasks (`is_test` false) and their active
human answers — the answers that count toward consolidation. Answers are read with one
Core SELECT and turned into integer index arrays (task, labeler, label); the statistics
are numpy over those arrays (assay.quality.agreement), no per-row ORM objects.

Answers are compared by the task type's consensus key: the category for single-choice
categorization (a *categorical* project: confusion matrices and per-label alpha too),
otherwise the whole answer ("identical answers"). For free-form types the number of
distinct answers can be as large as the number of answers; the dense count matrices of
assay.quality.agreement would then be units × distinct answers, so past `DENSE_LIMIT`
cells the same nominal statistics are computed from sparse counts here instead.
"""

from __future__ import annotations

import statistics
from typing import Any

import numpy as np
from sqlalchemy import false, func, select, true
from sqlalchemy.orm import Session

from assay.auth.principals import Principal
from assay.errors import Forbidden
from assay.orgs.models import User
from assay.projects.models import Project
from assay.queue.models import ProjectMember
from assay.tasks.models import TASK_STATUSES, LabelerStats, Task, TaskAnswer
from assay.tasktypes import get_plugin
from assay.tasktypes.base import TaskTypePlugin

T = Task.__table__
TA = TaskAnswer.__table__
LS = LabelerStats.__table__
U = User.__table__
M = ProjectMember.__table__

N_BOOTSTRAP = 200
SEED = 0
CONFIDENCE = 0.95
CONFIDENT = 0.9  # tasks whose consensus confidence is at least this count as confident
MIN_OVERLAP = 5  # tasks two labelers must share for their Cohen's kappa
DENSE_LIMIT = 1_000_000  # units × distinct values above which the sparse formulas are used
PAIRWISE_DENSE_CLASSES = 64  # agreement.pairwise_cohen_kappa builds C × C tables per pair
REVIEW_OUTCOMES = ("accepted", "fixed", "rejected")
QUALITY_ROLES = ("admin", "customer", "reviewer")


# ----------------------------------------------------------------------------- access

def check_access(session: Session, principal: Principal, project: Project) -> None:
    """Admins and customers (they own the data) see every project; reviewers the projects
    they are members of; annotators none."""
    if principal.role not in QUALITY_ROLES:
        raise Forbidden(f"role {principal.role!r} cannot see project quality; it needs an admin, reviewer or customer account")
    if principal.role == "reviewer":
        member = session.execute(select(M.c.user_id).where(M.c.project_id == project.id, M.c.user_id == principal.user_id)).first()
        if member is None:
            raise Forbidden(f"you are not a member of project {project.name!r}; ask an admin to add you")


# ----------------------------------------------------------------------------- helpers

def _num(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if np.isfinite(value) else None


def _agreement_json(result) -> dict[str, Any]:
    return {"value": _num(result.value), "ci_low": _num(result.ci_low), "ci_high": _num(result.ci_high),
            "n_units": int(result.n_units), "n_bootstrap": int(result.n_bootstrap), "confidence": result.confidence}


class _Estimate:
    """The shape of agreement.Agreement, for the sparse path."""

    def __init__(self, value, lo, hi, n_units, n_bootstrap):
        self.value, self.ci_low, self.ci_high, self.n_units, self.n_bootstrap = value, lo, hi, n_units, n_bootstrap
        self.confidence = CONFIDENCE


def _interval(samples: np.ndarray) -> tuple[float | None, float | None]:
    samples = samples[np.isfinite(samples)]
    if samples.size == 0:
        return None, None
    lo, hi = np.quantile(samples, [(1 - CONFIDENCE) / 2, 1 - (1 - CONFIDENCE) / 2])
    return float(lo), float(hi)


def _bootstrap_weights(n_units: int, n_bootstrap: int, seed: int, chunk_cells: int = 4_000_000):
    """(b, n_units) matrices: how often each unit is drawn in each of b replicates."""
    rng = np.random.default_rng(seed)
    step = max(1, chunk_cells // max(n_units, 1))
    done = 0
    while done < n_bootstrap:
        b = min(step, n_bootstrap - done)
        draws = rng.integers(0, n_units, size=(b, n_units)) + (np.arange(b) * n_units)[:, None]
        yield np.bincount(draws.ravel(), minlength=b * n_units).reshape(b, n_units).astype(np.float64)
        done += b


def sparse_nominal(unit: np.ndarray, value: np.ndarray, n_units: int, n_values: int, *, fleiss: bool,
                   n_bootstrap: int = N_BOOTSTRAP, seed: int = SEED) -> _Estimate:
    """Nominal Krippendorff's alpha (or Fleiss' kappa) from the sparse answer list, with the
    same definitions as assay.quality.agreement, for when units × values is too large for
    its dense count matrix. Units with fewer than two answers are ignored. Bootstrap:
    units resampled with replacement (as weights), percentile interval."""
    import scipy.sparse as sp

    m_all = np.bincount(unit, minlength=n_units).astype(np.float64)
    keep = m_all[unit] >= 2
    used, unit = np.unique(unit[keep], return_inverse=True)
    value = value[keep]
    n_u = len(used)
    if n_u == 0:
        return _Estimate(float("nan"), None, None, 0, 0)
    m = m_all[used]
    cells, cnt = np.unique(unit.astype(np.int64) * n_values + value, return_counts=True)
    cu, cv = cells // n_values, cells % n_values
    cnt = cnt.astype(np.float64)
    counts = sp.csr_matrix((cnt, (cu, cv)), shape=(n_u, n_values))
    if fleiss:
        per_unit = np.bincount(cu, weights=cnt * (cnt - 1) / (m[cu] * (m[cu] - 1)), minlength=n_u)  # P_i
    else:
        per_unit = m - np.bincount(cu, weights=cnt * (cnt - 1) / (m[cu] - 1), minlength=n_u)  # off-diagonal coincidences

    def statistic(w: np.ndarray) -> np.ndarray:
        """w: (b, n_units) unit weights → (b,) statistic."""
        n_c = np.asarray((counts.T @ w.T).T)  # (b, values)
        n = w @ m
        sq = (n_c**2).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            if fleiss:
                p_e = sq / n**2
                p_bar = (w @ per_unit) / w.sum(axis=1)
                return np.where(p_e < 1, (p_bar - p_e) / (1 - p_e), np.nan)
            expected = n**2 - sq
            return np.where(expected > 0, 1 - (n - 1) * (w @ per_unit) / np.where(expected > 0, expected, 1), np.nan)

    value_ = float(statistic(np.ones((1, n_u)))[0])
    if n_bootstrap <= 0:
        return _Estimate(value_, None, None, n_u, 0)
    samples = np.concatenate([statistic(w) for w in _bootstrap_weights(n_u, n_bootstrap, seed)])
    lo, hi = _interval(samples)
    return _Estimate(value_, lo, hi, n_u, n_bootstrap)


def sparse_pairwise_kappa(unit: np.ndarray, worker: np.ndarray, value: np.ndarray, n_workers: int, *, min_overlap: int = MIN_OVERLAP):
    """Cohen's kappa of every pair of workers sharing ≥ min_overlap units, without C × C
    tables (for answers with many distinct values). Returns (worker_a, worker_b, kappa, n)."""
    order = np.lexsort((worker, unit))
    u, w, v = unit[order], worker[order], value[order]
    pa, pb, la, lb = [], [], [], []
    for d in range(1, int(np.bincount(u).max()) if u.size else 1):
        same = u[:-d] == u[d:]
        if not same.any():
            break
        pa.append(w[:-d][same])
        pb.append(w[d:][same])
        la.append(v[:-d][same])
        lb.append(v[d:][same])
    empty = np.zeros(0, dtype=np.int64)
    if not pa:
        return empty, empty, np.zeros(0), empty
    wa, wb, xa, xb = (np.concatenate(x).astype(np.int64) for x in (pa, pb, la, lb))
    distinct = wa != wb
    wa, wb, xa, xb = wa[distinct], wb[distinct], xa[distinct], xb[distinct]  # (sorted by worker within a unit: wa < wb)
    pair, inv = np.unique(wa * n_workers + wb, return_inverse=True)
    n = np.bincount(inv, minlength=len(pair)).astype(np.float64)
    p_o = np.bincount(inv, weights=(xa == xb).astype(np.float64), minlength=len(pair)) / n
    n_values = int(max(xa.max(), xb.max())) + 1
    ka, ca = np.unique(inv * n_values + xa, return_counts=True)
    kb, cb = np.unique(inv * n_values + xb, return_counts=True)
    _, ia, ib = np.intersect1d(ka, kb, assume_unique=True, return_indices=True)
    p_e = np.bincount(ka[ia] // n_values, weights=ca[ia].astype(np.float64) * cb[ib], minlength=len(pair)) / n**2
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = np.where(p_e < 1, (p_o - p_e) / (1 - p_e), np.nan)
    keep = n >= min_overlap
    return pair[keep] // n_workers, pair[keep] % n_workers, kappa[keep], n[keep].astype(np.int64)


# ----------------------------------------------------------------------------- the report

def _is_categorical(project: Project, task_params: list[dict]) -> bool:
    if project.type != "categorization" or project.current_params.get("allow_multiple"):
        return False
    return not any((p or {}).get("allow_multiple") for p in task_params)


def _truth_model(session: Session, project: Project) -> dict[str, Any] | None:
    from assay.truth.service import model_summary

    return model_summary(session, project.id)


def _model_accuracies(session: Session, project: Project) -> dict[int, float]:
    """Each labeler's accuracy under the project's fitted truth model: the chance their
    answer is right, sum_k prior_k * P(answer = k | truth = k)."""
    from assay.truth.models import TruthModel

    row = session.execute(select(TruthModel.method, TruthModel.state).where(TruthModel.project_id == project.id)).first()
    if row is None or row.method != project.aggregation:
        return {}
    state = row.state
    prior = np.asarray(state["class_prior"], dtype=float)
    return {int(u): float(np.dot(prior, np.diag(np.asarray(m, dtype=float)))) for u, m in state["workers"].items()}


def _accuracy(stats, model_accuracy: float | None, labeler_accuracy, smoothed_accuracy) -> dict[str, Any]:
    if stats is not None and stats.gold_answered:
        return {"accuracy": labeler_accuracy(stats), "accuracy_basis": "gold"}
    if model_accuracy is not None:
        return {"accuracy": round(model_accuracy, 4), "accuracy_basis": "model"}
    return {"accuracy": labeler_accuracy(stats) if stats is not None else smoothed_accuracy(0, 0), "accuracy_basis": "agreement"}


def quality_report(session: Session, principal: Principal, project: Project) -> dict[str, Any]:
    from assay.quality.agreement import fleiss_kappa_from_labels, krippendorff_alpha_from_labels, pairwise_cohen_kappa
    from assay.quality.online import smoothed_accuracy
    from assay.tasks.consolidation import labeler_accuracy

    check_access(session, principal, project)
    conn = session.connection()
    plugin = get_plugin(project.type)
    uses_params = type(plugin).consensus_key is not TaskTypePlugin.consensus_key
    live = (T.c.org_id == project.org_id, T.c.is_test == false(), T.c.project_id == project.id)

    # tasks: status, final response and its quality (params only where the key needs them)
    cols = [T.c.id, T.c.status, T.c.response, T.c.quality] + ([T.c.params] if uses_params else [])
    tasks = conn.execute(select(*cols).where(*live).order_by(T.c.id)).all()
    task_ids = np.array([t.id for t in tasks], dtype=np.int64)
    params = [t.params or {} for t in tasks] if uses_params else [{}] * len(tasks)
    status = [t.status for t in tasks]
    categorical = _is_categorical(project, params)

    # answers: one Core SELECT over the project's live tasks
    answers = conn.execute(
        select(TA.c.task_id, TA.c.user_id, TA.c.response, TA.c.active_seconds).select_from(TA.join(T, T.c.id == TA.c.task_id))
        .where(*live, TA.c.source == "human", TA.c.active == true()).order_by(TA.c.id)
    ).all()
    reviews = conn.execute(
        select(TA.c.user_id, TA.c.review_status, func.count()).select_from(TA.join(T, T.c.id == TA.c.task_id))
        .where(*live, TA.c.source == "human", TA.c.review_status.in_(REVIEW_OUTCOMES)).group_by(TA.c.user_id, TA.c.review_status)
    ).all()
    stats = {r.user_id: r for r in conn.execute(select(LS.c.user_id, LS.c.answered, LS.c.agreed, LS.c.gold_answered, LS.c.gold_correct)
                                                 .where(LS.c.project_id == project.id))}

    # labels: the categories of the tasks (first seen first), then any other answer keys
    labels: list[Any] = []
    label_index: dict[Any, int] = {}
    if categorical:
        for cats in dict.fromkeys(tuple(p.get("categories") or ()) for p in params):
            for c in cats:
                if c not in label_index:
                    label_index[c] = len(labels)
                    labels.append(c)

    def index_of(key: Any) -> int:
        i = label_index.get(key)
        if i is None:
            i = label_index[key] = len(labels)
            labels.append(key)
        return i

    pos = {int(t): i for i, t in enumerate(task_ids)}
    a_task = np.array([pos[a.task_id] for a in answers], dtype=np.int64)
    a_label = np.array([index_of(plugin.consensus_key(a.response, params[pos[a.task_id]])) for a in answers], dtype=np.int64)
    user_ids = sorted({a.user_id for a in answers if a.user_id is not None} | set(stats) | {r.user_id for r in reviews if r.user_id is not None})
    widx = {u: i for i, u in enumerate(user_ids)}
    a_worker = np.array([widx.get(a.user_id, -1) for a in answers], dtype=np.int64)
    n_tasks, n_workers = len(tasks), len(user_ids)
    per_task = np.bincount(a_task, minlength=n_tasks)

    completed = np.array([s == "completed" for s in status], dtype=bool)
    final = np.full(n_tasks, -1, dtype=np.int64)
    if categorical:
        for i, t in enumerate(tasks):
            if completed[i] and isinstance(t.response, dict) and "category" in t.response:
                final[i] = index_of(plugin.consensus_key(t.response, params[i]))
    # gold: answers to evaluation items against their expected response (kept apart from
    # agreement with consensus: a labeler can agree with a wrong crowd)
    gold = []
    if categorical:
        gold = [(widx.get(g.user_id, -1), index_of(plugin.consensus_key(g.expected_response, g.params or {})),
                 index_of(plugin.consensus_key(g.response, g.params or {})))
                for g in conn.execute(
                    select(TA.c.user_id, TA.c.response, T.c.expected_response, T.c.params).select_from(TA.join(T, T.c.id == TA.c.task_id))
                    .where(T.c.org_id == project.org_id, T.c.project_id == project.id, T.c.kind == "evaluation", TA.c.source == "gold"))
                if g.expected_response is not None]
    n_labels = len(labels)

    # ---- totals
    confidences = [t.quality["confidence"] for i, t in enumerate(tasks) if completed[i] and isinstance(t.quality, dict)
                   and isinstance(t.quality.get("confidence"), (int, float))]
    by_status = {s: 0 for s in TASK_STATUSES}
    for s in status:
        by_status[s] = by_status.get(s, 0) + 1
    totals = {
        "tasks": n_tasks,
        "tasks_by_status": by_status,
        "answers": len(answers),
        "mean_labels_per_completed_task": _num(per_task[completed].mean()) if completed.any() else None,
        "completed_with_confidence": len(confidences),
        "mean_confidence": _num(np.mean(confidences)) if confidences else None,
        "confident_share": _num(np.mean(np.asarray(confidences) >= CONFIDENT)) if confidences else None,
        "confident_threshold": CONFIDENT,
    }

    # ---- per annotator
    people = {r.id: r for r in conn.execute(select(U.c.id, U.c.email, U.c.name).where(U.c.id.in_(user_ids), U.c.org_id == project.org_id))} \
        if user_ids else {}
    counts = np.bincount(a_worker[a_worker >= 0], minlength=n_workers)
    seconds: list[list[float]] = [[] for _ in user_ids]
    for a, w in zip(answers, a_worker):
        if w >= 0 and a.active_seconds is not None:
            seconds[w].append(float(a.active_seconds))
    review_counts = {u: {k: 0 for k in REVIEW_OUTCOMES} for u in user_ids}
    for user_id, outcome, n in reviews:
        if user_id in review_counts:
            review_counts[user_id][outcome] = int(n)
    confusion = None
    if categorical and n_workers:
        sel = (a_worker >= 0) & (final[a_task] >= 0)
        flat = (a_worker[sel] * n_labels + final[a_task[sel]]) * n_labels + a_label[sel]
        confusion = np.bincount(flat, minlength=n_workers * n_labels * n_labels).reshape(n_workers, n_labels, n_labels)
    gold_confusion = np.zeros((n_workers, n_labels, n_labels), dtype=np.int64) if categorical else None
    for w, expected, given in gold:
        if w >= 0:
            gold_confusion[w, expected, given] += 1
    model_accuracy = _model_accuracies(session, project)

    annotators = []
    for i, u in enumerate(user_ids):
        s = stats.get(u)
        answered, agreed = (s.answered, s.agreed) if s is not None else (0, 0)
        person = people.get(u)
        annotators.append({
            "user_id": u,
            "email": person.email if person else None,
            "name": person.name if person else "",
            "answers": int(counts[i]),
            "consolidated": int(answered),
            "agreed": int(agreed),
            # from gold where the labeler answered gold items, else from the project's fitted
            # truth model (named methods), else from agreement with consolidated answers
            **_accuracy(s, model_accuracy.get(u), labeler_accuracy, smoothed_accuracy),
            "gold_answered": int(s.gold_answered) if s is not None else 0,
            "gold_correct": int(s.gold_correct) if s is not None else 0,
            "agreement_rate": agreed / answered if answered else None,
            "median_active_seconds": statistics.median(seconds[i]) if seconds[i] else None,
            "reviews": review_counts[u],
            "confusion": confusion[i].tolist() if confusion is not None else None,
            "gold_confusion": gold_confusion[i].tolist() if gold_confusion is not None else None,
            "kappa_mean": None,
            "kappa": [],
        })

    # ---- agreement over tasks with at least two answers
    multi = per_task[a_task] >= 2
    units, unit = np.unique(a_task[multi], return_inverse=True)
    values, value = np.unique(a_label[multi], return_inverse=True)
    n_u, n_v = len(units), len(values)
    sizes = np.unique(per_task[units])
    agreement: dict[str, Any] = {
        "basis": "category" if categorical else "identical answers",
        "level": "nominal",
        "items": n_u,
        "answers": int(multi.sum()),
        "distinct_answers": n_v,
        "min_overlap": MIN_OVERLAP,
    }
    if n_u == 0:
        agreement["alpha"] = None
        agreement["fleiss_kappa"] = None
        agreement["reason"] = "no task has two or more answers yet"
    else:
        dense = n_u * max(n_v, 1) <= DENSE_LIMIT
        if dense:
            alpha = krippendorff_alpha_from_labels(unit, value, "nominal", n_units=n_u, n_bootstrap=N_BOOTSTRAP, seed=SEED)
        else:
            alpha = sparse_nominal(unit, value, n_u, n_v, fleiss=False)
        agreement["alpha"] = _agreement_json(alpha)
        if len(sizes) == 1:
            if dense:
                fk = fleiss_kappa_from_labels(unit, value, n_u, max(n_v, 1), n_bootstrap=N_BOOTSTRAP, seed=SEED)
            else:
                fk = sparse_nominal(unit, value, n_u, n_v, fleiss=True)
            agreement["fleiss_kappa"] = _agreement_json(fk)
        else:
            agreement["fleiss_kappa"] = None
            agreement["fleiss_reason"] = (f"not computed: tasks have different numbers of labels ({int(sizes.min())} to {int(sizes.max())}); "
                                          "Fleiss' kappa needs the same number on every task (Krippendorff's alpha does not)")
    if not categorical:
        agreement["note"] = (f"{project.type} answers have no category: two answers agree when they are identical "
                             "(the task type's consensus key)")

    # per-label alpha: each label against all others
    per_label = None
    if categorical and n_u:
        per_label = []
        full_value = a_label[multi]
        for c, name in enumerate(labels):
            used = int((full_value == c).sum())
            a = krippendorff_alpha_from_labels(unit, (full_value == c).astype(np.int64), "nominal", n_units=n_u) if used else None
            per_label.append({"label": name, "answers": used, "alpha": _num(a.value) if a else None})
    agreement["per_label_alpha"] = per_label

    # pairwise Cohen's kappa between labelers sharing at least MIN_OVERLAP tasks
    pairs = []
    known = multi & (a_worker >= 0)
    if known.any() and n_workers >= 2:
        pu = np.unique(a_task[known], return_inverse=True)[1]
        pv = np.unique(a_label[known], return_inverse=True)[1]
        pw = a_worker[known]
        if int(pv.max()) + 1 <= PAIRWISE_DENSE_CLASSES:
            res = pairwise_cohen_kappa(pu, pw, pv, int(pu.max()) + 1, n_workers, int(pv.max()) + 1, min_overlap=MIN_OVERLAP)
            wa, wb, kappa, n_common = res.worker_a, res.worker_b, res.kappa, res.n_common
        else:
            wa, wb, kappa, n_common = sparse_pairwise_kappa(pu, pw, pv, n_workers)
        for a, b, k, n in zip(wa.tolist(), wb.tolist(), kappa.tolist(), n_common.tolist()):
            pairs.append({"a": user_ids[a], "b": user_ids[b], "kappa": _num(k), "n_common": int(n)})
            for me, other in ((a, b), (b, a)):
                annotators[me]["kappa"].append({"user_id": user_ids[other], "email": annotators[other]["email"], "kappa": _num(k),
                                                "n_common": int(n)})
    for entry in annotators:
        defined = [k["kappa"] for k in entry["kappa"] if k["kappa"] is not None]
        entry["kappa_mean"] = float(np.mean(defined)) if defined else None
    defined = [p["kappa"] for p in pairs if p["kappa"] is not None]
    agreement["pairwise"] = {"pairs": pairs, "mean_kappa": float(np.mean(defined)) if defined else None}

    annotators.sort(key=lambda e: (-e["answers"], e["email"] or ""))
    return {
        "project": {"id": project.public_id, "name": project.name, "type": project.type},
        "categorical": categorical,
        "labels": labels if categorical else None,
        "totals": totals,
        "annotators": annotators,
        "confusion_total": (confusion.sum(axis=0).tolist() if confusion is not None else [[0] * n_labels for _ in range(n_labels)])
        if categorical else None,
        "gold_confusion_total": gold_confusion.sum(axis=0).tolist() if gold_confusion is not None else None,
        "gold_answers": len(gold),
        "aggregation": project.aggregation,
        "truth_model": _truth_model(session, project),
        "agreement": agreement,
    }

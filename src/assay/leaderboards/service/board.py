"""A leaderboard of the models judged in a set of chat projects: read the answers, turn
them into judgements, fit Bradley-Terry / Davidson over models with bootstrap intervals
(quality/leaderboard.py), optionally with style control (quality/style_control.py) and
per slice of task metadata; return JSON-ready dicts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select, true
from sqlalchemy.orm import Session

from assay.errors import field_error
from assay.leaderboards.service.judgements import Judgements, add_answer
from assay.projects.models import Project
from assay.quality.leaderboard import ELO_BASE, ELO_SCALE, fit_leaderboard
from assay.quality.style_control import STYLE_FEATURES, fit_style_controlled, style_covariates
from assay.tasks.models import AnswerSource, Task, TaskAnswer, TaskKind, TaskStatus
from assay.web import parse_bool, parse_int

T = Task.__table__
TA = TaskAnswer.__table__
MAX_ANSWERS = 200_000  # answers read for one leaderboard (newest first); more: `truncated`
MIN_SLICE_JUDGEMENTS = 10  # a slice with fewer judgements gets no fit of its own
BASES = ("answers", "consolidated")


@dataclass
class Options:
    slice_key: str | None = None
    style_control: bool = False
    basis: str = "answers"
    n_bootstrap: int = 200
    seed: int = 0


def options_from_query(query) -> Options:
    """Options from the query string (400 naming the parameter)."""
    basis = query.get("basis") or "answers"
    if basis not in BASES:
        raise field_error("basis", f"must be one of {', '.join(BASES)}")
    slice_key = (query.get("slice") or "").strip() or None
    if slice_key is not None and len(slice_key) > 100:
        raise field_error("slice", "must be a metadata key of at most 100 characters")
    return Options(slice_key=slice_key, style_control=parse_bool(query.get("style_control"), "style_control"), basis=basis,
                   n_bootstrap=parse_int(query.get("bootstrap"), "bootstrap", default=200, lo=0, hi=1000))


def projects_param(query) -> str:
    """`projects=a,b` or `projects=a&projects=b` (the page's check boxes) as one string."""
    return ",".join(v for v in query.getlist("projects") if v)


def _rows(session: Session, projects: list[Project], basis: str):
    ids = [p.id for p in projects]
    org = projects[0].org_id
    live = (T.c.project_id.in_(ids), T.c.org_id == org, T.c.kind == TaskKind.TASK, T.c.is_test.is_(False), T.c.type == "chat")
    if basis == "consolidated":
        q = select(T.c.id, T.c.params, T.c.metadata, T.c.response).where(*live, T.c.status == TaskStatus.COMPLETED, T.c.response.is_not(None))
    else:
        q = (select(T.c.id, T.c.params, T.c.metadata, TA.c.response).select_from(T.join(TA, TA.c.task_id == T.c.id))
             .where(*live, T.c.status != TaskStatus.CANCELED, TA.c.source == AnswerSource.HUMAN, TA.c.active == true()))
    return session.connection().execute(q.order_by(T.c.id.desc()).limit(MAX_ANSWERS + 1)).all()


def collect(session: Session, projects: list[Project], options: Options) -> tuple[Judgements, bool]:
    """The judgements of the projects' chat answers, and whether reading stopped at MAX_ANSWERS."""
    judged = Judgements()
    rows = _rows(session, projects, options.basis) if projects else []
    for row in rows[:MAX_ANSWERS]:
        meta = row.metadata if isinstance(row.metadata, dict) else {}
        value = meta.get(options.slice_key) if options.slice_key else None
        add_answer(judged, row.id, row.params or {}, row.response or {}, value if isinstance(value, (str, int, float, bool)) else None)
    return judged, len(rows) > MAX_ANSWERS


def _r(x: float, digits: int = 4) -> float | None:
    return round(float(x), digits) + 0.0 if np.isfinite(x) else None


def _rating(score: float) -> float:
    return round(ELO_BASE + ELO_SCALE * float(score), 1)


def _win_rates(result, names: list[str]) -> dict[str, Any]:
    order = [names.index(row["model"]) for row in result.table(names)]
    games, wins = result.games[np.ix_(order, order)], result.wins[np.ix_(order, order)]
    share = np.divide(wins, games, out=np.full_like(wins, np.nan), where=games > 0)
    return {"models": [names[k] for k in order], "games": games.astype(int).tolist(),
            "win_rate": [[_r(x) for x in row] for row in share], "expected": [[_r(x) for x in row] for row in result.expected[np.ix_(order, order)]]}


def _style_json(j: Judgements, a, b, out, clusters, options: Options) -> dict[str, Any]:
    shape = (-1, len(STYLE_FEATURES))
    z = style_covariates(np.array(j.style_a, dtype=float).reshape(shape), np.array(j.style_b, dtype=float).reshape(shape))
    varies = np.flatnonzero(np.any(z != 0, axis=0))  # a feature no pair differs in tells nothing
    res = fit_style_controlled(len(j.models), a, b, out, z[:, varies], n_bootstrap=min(options.n_bootstrap, 100), clusters=clusters,
                               seed=options.seed)
    order = np.lexsort((np.arange(len(j.models)), -res.scores))
    rows = [{"model": j.models[k], "rank": i + 1, "score": _r(res.scores[k]), "low": _r(res.ci_low[k]), "high": _r(res.ci_high[k]),
             "rating": _rating(res.scores[k]), "rating_low": _rating(res.ci_low[k]), "rating_high": _rating(res.ci_high[k])}
            for i, k in enumerate(order)]
    fitted = {int(f): (v, s) for f, v, s in zip(varies, res.coefficients, res.coefficient_se)}
    coefficients = [{"feature": name, "value": _r(fitted[f][0]) if f in fitted else None, "se": _r(fitted[f][1]) if f in fitted else None}
                    for f, name in enumerate(STYLE_FEATURES)]
    return {"models": rows, "coefficients": coefficients, "n_bootstrap": res.n_bootstrap}


def _fit(j: Judgements, keep: np.ndarray, options: Options) -> dict[str, Any]:
    a, b, out, clusters = (np.asarray(x)[keep] for x in (j.a, j.b, j.outcome, j.task))
    res = fit_leaderboard(len(j.models), a, b, out, clusters=clusters, n_bootstrap=options.n_bootstrap, seed=options.seed)
    played = res.games.sum(axis=1) > 0
    rows = [row for row in res.table(j.models) if played[j.index[row["model"]]]]
    return {"judgements": int(keep.sum()), "models": rows, "tie_strength": _r(res.tie_strength), "result": res, "arrays": (a, b, out, clusters)}


def leaderboard(projects: list[Project], collected: tuple[Judgements, bool], options: Options) -> dict[str, Any]:
    """The leaderboard JSON (docs/leaderboards.md) from what :func:`collect` read (fitted
    outside the read transaction)."""
    j, truncated = collected
    out: dict[str, Any] = {
        "projects": [{"id": p.public_id, "name": p.name} for p in projects], "basis": options.basis, "answers": j.answers,
        "judgements": len(j.a), "skipped_answers": j.skipped, "truncated": truncated, "confidence": 0.95,
        "n_bootstrap": options.n_bootstrap, "models": [], "tie_strength": None, "win_rates": None, "style_control": None,
        "slice": None,
    }
    if not j.a:
        return out
    everything = _fit(j, np.ones(len(j.a), dtype=bool), options)
    res = everything.pop("result")
    a, b, results, clusters = everything.pop("arrays")
    out.update(models=everything["models"], tie_strength=everything["tie_strength"], win_rates=_win_rates(res, j.models))
    if options.style_control:
        out["style_control"] = _style_json(j, a, b, results, clusters, options)
    if options.slice_key:
        values = sorted({v for v in j.slice if v is not None}, key=str)
        slices = []
        for value in values:
            keep = np.array([v == value for v in j.slice])
            entry = {"value": value, "judgements": int(keep.sum()), "models": []}
            if keep.sum() >= MIN_SLICE_JUDGEMENTS:
                fitted = _fit(j, keep, options)
                entry["models"] = fitted["models"]
            slices.append(entry)
        out["slice"] = {"key": options.slice_key, "min_judgements": MIN_SLICE_JUDGEMENTS, "values": slices}
    return out

"""How the project's LLM judge compares with people (`GET /api/projects/{id}/judge`), on
pairwise chat tasks: its verdicts as labels (the first response wins, the second, a tie),
position bias from the pairs judged in both orders, Cohen's kappa against each human
answer, accuracy against the consolidated answer, and a replay of adaptive overlap with the
judge as one more labeler (quality/judges.py). Inconsistent verdicts are counted and not
used anywhere else."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select, true
from sqlalchemy.orm import Session

from assay.backends.models import JudgeVerdict
from assay.projects.models import Project
from assay.quality.judges import FIRST, SECOND, TIE, accuracy, agreement, position_bias, replay_with_judge
from assay.tasks.models import AnswerSource, Task, TaskAnswer, TaskStatus
from assay.tasktypes.chat import TIE as TIE_ID

T = Task.__table__
TA = TaskAnswer.__table__
JV = JudgeVerdict.__table__
MIN_REPLAY_TASKS = 10


def _label(params: dict[str, Any], response: dict[str, Any] | None) -> int | None:
    """0: the first response wins, 1: the second, 2: a tie; None when not a pairwise answer."""
    ids = [r.get("id") for r in params.get("responses") or [] if isinstance(r, dict)]
    pref = (response or {}).get("preference")
    if params.get("evaluation") != "pairwise" or not isinstance(pref, dict) or len(ids) != 2:
        return None
    winner = pref.get("winner")
    return 2 if winner == TIE_ID else ids.index(winner) if winner in ids else None


def _positions(verdicts: list[dict]) -> list[str]:
    return [FIRST if v.get("position") == "A" else SECOND if v.get("position") == "B" else TIE for v in verdicts]


def judge_report(session: Session, project: Project) -> dict[str, Any]:
    conn = session.connection()
    judged = conn.execute(select(JV.c.task_id, JV.c.judge, JV.c.model_version, JV.c.verdicts, JV.c.consistent, JV.c.response, T.c.params,
                                 T.c.status, T.c.response.label("final"))
                          .select_from(JV.join(T, T.c.id == JV.c.task_id))
                          .where(JV.c.project_id == project.id, JV.c.org_id == project.org_id)).all()
    both = [r for r in judged if len(r.verdicts or []) == 2]
    swapped = [_positions(r.verdicts) for r in both]
    bias = position_bias([s[0] for s in swapped], [s[1] for s in swapped])
    usable = {r.task_id: r for r in judged if r.consistent is not False and r.response is not None}
    judge_label = {t: _label(r.params or {}, r.response) for t, r in usable.items()}
    judge_label = {t: v for t, v in judge_label.items() if v is not None}
    answers = conn.execute(select(TA.c.task_id, TA.c.user_id, TA.c.response).where(
        TA.c.task_id.in_(list(judge_label)) if judge_label else TA.c.task_id.is_(None), TA.c.source == AnswerSource.HUMAN,
        TA.c.active == true(), TA.c.org_id == project.org_id).order_by(TA.c.id)).all()
    people = [(a.task_id, a.user_id, _label(usable[a.task_id].params or {}, a.response)) for a in answers]
    people = [p for p in people if p[2] is not None]
    finals = [(t, _label(usable[t].params or {}, usable[t].final)) for t in judge_label if usable[t].status == TaskStatus.COMPLETED]
    finals = [(t, f) for t, f in finals if f is not None]
    return {"judge": judged[0].judge if judged else None, "verdicts": len(judged), "pairwise_verdicts": sum(r.params.get("evaluation") == "pairwise" for r in judged),
            "consistent": sum(r.consistent is True for r in judged), "inconsistent": sum(r.consistent is False for r in judged),
            "position_bias": bias, "labels": ["first response", "second response", "tie"],
            "agreement_with_people": agreement([judge_label[t] for t, _, _ in people], [lab for _, _, lab in people]),
            "accuracy_vs_consolidated": accuracy([judge_label[t] for t, _ in finals], [f for _, f in finals]),
            "replay": _replay(judge_label, people, project)}


def _replay(judge_label: dict[int, int], people: list[tuple[int, int | None, int]], project: Project) -> dict[str, Any] | None:
    """Adaptive overlap with the judge first, against the project's fixed overlap."""
    per_task = Counter(t for t, _, _ in people)
    tasks = sorted(t for t in judge_label if per_task.get(t, 0) >= 1)
    if len(tasks) < MIN_REPLAY_TASKS:
        return {"tasks": len(tasks), "reason": f"needs at least {MIN_REPLAY_TASKS} judged tasks with human answers"}
    task_index = {t: i for i, t in enumerate(tasks)}
    workers = {w: i for i, w in enumerate(sorted({w for _, w, _ in people if w is not None}))}
    rows = [(task_index[t], workers[w], lab) for t, w, lab in people if t in task_index and w is not None]
    fixed = max(1, project.labels_per_task or 1, round(sum(per_task[t] for t in tasks) / len(tasks)))
    return replay_with_judge([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], list(range(len(tasks))),
                             [judge_label[t] for t in tasks], len(tasks), len(workers), 3, fixed_overlap=fixed,
                             max_human=max(fixed, 1), min_human=1)

"""Evaluation runs (docs/evaluations.md): an evaluation set run against one or two model
endpoints. Responses are generated through the OpenAI-compatible protocol, judged by the
project's LLM judge (two models: one pairwise verdict per item, both orders; one model: a
1-5 score against the reference), and optionally sent to people as chat tasks (made by
flows). The report gives each model's numbers with intervals and, for two models, the
paired comparison with its verdict (quality/paired.py). Model calls happen outside any
database transaction: `generate` and `judge` take plain data and return plain data."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.backends.models import EvaluationRun, ProjectModel, RunStatus
from assay.backends.schemas import EvaluationBody
from assay.backends.service import judges
from assay.backends.service.openai import ChatError, complete
from assay.db import new_public_id, utcnow
from assay.errors import NotFound, field_error
from assay.projects.models import Project
from assay.quality.paired import mean_interval, paired_preference
from assay.tasks.models import Task, TaskStatus
from assay.timeutil import iso
from assay.urls import check_callback_url

T = Task.__table__
SCORE_CRITERION = {"id": "quality", "title": "Quality", "scale": 5, "justification": "optional",
                   "description": "Correct, complete and helpful; where a reference answer is given, agrees with it."}


def create_run(session: Session, project: Project, body: EvaluationBody, judge: ProjectModel | None) -> EvaluationRun:
    if project.type != "chat":
        raise field_error("project_id", f"evaluation runs belong to chat projects (their tasks and judge), not {project.type}")
    names = [m.name for m in body.models]
    if len(set(names)) != len(names):
        raise field_error("models[1].name", "the two models need different names")
    if body.judge and (judge is None or judge.backend != "openai"):
        raise field_error("judge", "the project has no LLM judge: attach an openai backend, or set judge to false")
    if not body.judge and not body.people:
        raise field_error("judge", "someone must judge: the project's LLM judge (judge) or people (people)")
    items = []
    for i, item in enumerate(body.items):
        if (item.prompt is None) == (item.messages is None):
            raise field_error(f"items[{i}].prompt", "give either prompt or messages")
        messages = [m.model_dump() for m in item.messages] if item.messages else [{"role": "user", "content": item.prompt}]
        items.append({"id": item.id or str(i + 1), "messages": messages, "reference": item.reference, "metadata": item.metadata or {}})
    models = [{**m.model_dump(), "url": check_callback_url(m.url, f"models[{i}].url")} for i, m in enumerate(body.models)]
    run = EvaluationRun(public_id=new_public_id(), org_id=project.org_id, project_id=project.id, name=body.name, status=RunStatus.CREATED,
                        config={"models": models, "judge": body.judge, "people": body.people, "concurrency": body.concurrency}, items=items)
    session.add(run)
    session.flush()
    return run


def get_run(session: Session, org_id: int, public_id: str) -> EvaluationRun:
    run = session.scalar(select(EvaluationRun).where(EvaluationRun.public_id == public_id, EvaluationRun.org_id == org_id))
    if run is None:
        raise NotFound(f"Evaluation run not found: {public_id}", field="run_id")
    return run


def _endpoint(m: dict[str, Any]) -> ProjectModel:
    """A model endpoint as the chat protocol takes it (never stored)."""
    return ProjectModel(backend="openai", url=m["url"], model_name=m["model_name"], api_key=m.get("api_key"), temperature=m["temperature"],
                        timeout_seconds=m["timeout_seconds"])


def generate(config: dict[str, Any], items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each item's response from each model: `{model name: {"content"} or {"error"}}`."""
    def one(job: tuple[dict, dict]) -> tuple[str, dict[str, str]]:
        model, item = job
        try:
            return model["name"], {"content": complete(_endpoint(model), item["messages"])}
        except ChatError as exc:
            return model["name"], {"error": str(exc)}

    jobs = [(m, item) for item in items for m in config["models"]]
    with ThreadPoolExecutor(max_workers=config.get("concurrency", 4), thread_name_prefix="assay-eval") as pool:
        answers = list(pool.map(one, jobs))
    per_item = len(config["models"])
    return [dict(answers[i * per_item:(i + 1) * per_item]) for i in range(len(items))]


def _judge_messages(item: dict[str, Any]) -> list[dict[str, str]]:
    extra = [{"role": "system", "content": f"A reference answer for this conversation:\n{item['reference']}"}] if item.get("reference") else []
    return extra + item["messages"]


def judge(judge_model: ProjectModel, config: dict[str, Any], items: list[dict[str, Any]], responses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The judge's verdict per item: two models — `{"outcome": 1 | 0 | 0.5 | None, "consistent"}`
    (1: the first model is better; None: no usable verdict); one model — `{"score": 1..5 | None}`."""
    names = [m["name"] for m in config["models"]]

    def one(k: int) -> dict[str, Any]:
        item, answer = items[k], responses[k]
        if any("content" not in answer[n] for n in names):
            return {"error": "a model gave no response"}
        if len(names) == 2:
            params = {"messages": _judge_messages(item), "evaluation": "pairwise", "allow_ties": True, "strength_levels": [],
                      "responses": [{"id": "A", "content": answer[names[0]]["content"]}, {"id": "B", "content": answer[names[1]]["content"]}]}
            judged = judges.judge_task(judge_model, "chat", params)
            if judged.error:
                return {"error": judged.error}
            winner = (judged.verdict or {}).get("response", {}) or {}
            winner = (winner.get("preference") or {}).get("winner")
            return {"outcome": {"A": 1.0, "B": 0.0, "tie": 0.5}.get(winner), "consistent": (judged.verdict or {}).get("consistent")}
        params = {"messages": _judge_messages(item), "evaluation": "rubric", "rubric": [SCORE_CRITERION],
                  "responses": [{"id": "A", "content": answer[names[0]]["content"]}]}
        judged = judges.judge_task(judge_model, "chat", params)
        if judged.error:
            return {"error": judged.error}
        return {"score": judged.prediction["response"]["scores"]["A"]["quality"]["score"]}

    with ThreadPoolExecutor(max_workers=max(1, judge_model.concurrency or 1), thread_name_prefix="assay-eval-judge") as pool:
        return list(pool.map(one, range(len(items))))


def people_tasks(run: EvaluationRun, responses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Chat tasks for people: two models — pairwise, the order alternating from item to
    item (neither model is always shown first); one model — a 1-5 rubric score. Model names travel
    in `responses[].model` (hidden from labelers; the leaderboard reads them)."""
    names = [m["name"] for m in run.config["models"]]
    tasks = []
    for k, (item, answer) in enumerate(zip(run.items, responses)):
        if any("content" not in answer[n] for n in names):
            continue
        shown = names if k % 2 == 0 else names[::-1]
        task = {"messages": item["messages"], "responses": [{"model": n, "content": answer[n]["content"]} for n in shown],
                "metadata": {**item["metadata"], "evaluation_run": run.public_id, "item": item["id"]}, "unique_id": f"{run.public_id}:{item['id']}"}
        task.update({"evaluation": "pairwise"} if len(names) == 2 else {"evaluation": "rubric", "rubric": [SCORE_CRITERION]})
        tasks.append(task)
    return tasks


def finish(session: Session, run: EvaluationRun, responses, verdicts, task_ids: list[str] | None) -> None:
    run.results = {"responses": responses, "judge": verdicts, "tasks": task_ids or []}
    run.status = RunStatus.DONE
    run.finished_at = utcnow()


def _people_outcomes(session: Session, run: EvaluationRun, names: list[str]) -> list[float]:
    ids = (run.results or {}).get("tasks") or []
    if not ids:
        return []
    rows = session.execute(select(T.c.params, T.c.response).where(T.c.public_id.in_(ids), T.c.org_id == run.org_id,
                                                                  T.c.status == TaskStatus.COMPLETED)).all()
    out = []
    for params, response in rows:
        by_id = {r["id"]: r.get("model") for r in params.get("responses") or []}
        if len(names) == 2:
            winner = ((response or {}).get("preference") or {}).get("winner")
            out.append(0.5 if winner == "tie" else 1.0 if by_id.get(winner) == names[0] else 0.0)
        else:
            out.append(next(iter(((response or {}).get("scores") or {}).values()), {}).get("quality", {}).get("score"))
    return [x for x in out if x is not None]


def report(session: Session, run: EvaluationRun) -> dict[str, Any]:
    """The run's JSON: settings without keys, per-model figures, and the paired comparison."""
    names = [m["name"] for m in run.config["models"]]
    out: dict[str, Any] = {"id": run.public_id, "name": run.name, "status": run.status, "error": run.error, "created_at": iso(run.created_at),
                           "finished_at": iso(run.finished_at), "items": len(run.items), "judge": run.config["judge"], "people": run.config["people"],
                           "models": [{k: v for k, v in m.items() if k != "api_key"} | {"api_key_set": bool(m.get("api_key"))} for m in run.config["models"]]}
    results = run.results or {}
    responses, verdicts = results.get("responses") or [], results.get("judge") or []
    for m in out["models"]:
        m["responses"] = sum("content" in r.get(m["name"], {}) for r in responses)
        m["errors"] = sum("error" in r.get(m["name"], {}) for r in responses)
    out["tasks"] = len(results.get("tasks") or [])
    people = _people_outcomes(session, run, names)
    if len(names) == 2:
        outcomes = [v["outcome"] for v in verdicts if v.get("outcome") is not None]
        out["judge_verdicts"] = {"usable": len(outcomes), "inconsistent": sum(v.get("consistent") is False for v in verdicts),
                                 "errors": sum("error" in v for v in verdicts)}
        out["comparison"] = {"judge": paired_preference(outcomes, names=tuple(names)) if run.config["judge"] else None,
                             "people": paired_preference(people, names=tuple(names)) if run.config["people"] else None}
    else:
        scores = [v["score"] for v in verdicts if v.get("score") is not None]
        out["scores"] = {"judge": mean_interval(scores) if run.config["judge"] else None, "people": mean_interval(people) if run.config["people"] else None}
    out["per_item"] = [{"id": item["id"], "responses": {n: r.get(n, {}) for n in names}, "judge": v}
                       for item, r, v in zip(run.items, responses, verdicts or [{}] * len(responses))]
    return out

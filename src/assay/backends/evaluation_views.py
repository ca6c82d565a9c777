"""Evaluation runs over HTTP: create a run (a set and one or two model endpoints), run it
(generate, judge, make people's tasks), read its report. Handlers load the project or run
(the caller's organization only), authorize with ModelPolicy, call the backends service
(model calls outside any transaction), return JSON."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy import select

from assay import flows
from assay.audit.log import record
from assay.auth.dependencies import authenticate
from assay.auth.principals import Principal
from assay.authz import authorize
from assay.backends.models import EvaluationRun
from assay.backends.policies import ModelPolicy
from assay.backends.schemas import EvaluationBody
from assay.backends.service import evaluations
from assay.backends.service.settings import get_model
from assay.db import get_db
from assay.projects.models import Project
from assay.projects.service import get_project_by_id
from assay.timeutil import iso
from assay.web import JSON, JSONRoute

native = APIRouter(prefix="/api", route_class=JSONRoute)


@native.post("/projects/{project_id}/evaluations")
def create_evaluation(project_id: str, body: EvaluationBody, principal: Principal = Depends(authenticate)):
    """Create an evaluation run in a chat project (admin): `{name, items: [{prompt | messages,
    reference?, id?, metadata?}], models: [{name, url, model_name, api_key?, temperature?,
    timeout_seconds?}] (1 or 2), judge, people, concurrency}`. 400 naming the field."""
    with get_db().write() as session:
        project = get_project_by_id(session, principal, project_id)
        authorize(principal, ModelPolicy.change)
        run = evaluations.create_run(session, project, body, get_model(session, project))
        record(session, principal, "evaluation.create", "evaluation", run.public_id,
               {"name": run.name, "items": len(run.items), "models": [m["name"] for m in run.config["models"]]})
        return JSON(evaluations.report(session, run))


@native.get("/projects/{project_id}/evaluations")
def list_evaluations(project_id: str, principal: Principal = Depends(authenticate)):
    with get_db().read() as session:
        project = get_project_by_id(session, principal, project_id)
        authorize(principal, ModelPolicy.view)
        runs = session.scalars(select(EvaluationRun).where(EvaluationRun.project_id == project.id, EvaluationRun.org_id == project.org_id)
                               .order_by(EvaluationRun.id.desc())).all()
        return JSON({"evaluations": [{"id": r.public_id, "name": r.name, "status": r.status, "items": len(r.items), "created_at": iso(r.created_at),
                                      "models": [m["name"] for m in r.config["models"]]} for r in runs]})


@native.post("/evaluations/{run_id}/run")
def run_evaluation(run_id: str, principal: Principal = Depends(authenticate)):
    """Run it now (admin): responses from each model, the judge's verdicts, people's tasks;
    then the report. Model failures are recorded per item, not raised."""
    db = get_db()
    with db.read() as session:
        run = evaluations.get_run(session, principal.org_id, run_id)
        authorize(principal, ModelPolicy.change)
        model = get_model(session, session.get(Project, run.project_id)) if run.config["judge"] else None
        judge = model if model is not None and model.backend == "openai" else None
        config, items = run.config, run.items
    responses = evaluations.generate(config, items)
    verdicts = evaluations.judge(judge, config, items, responses) if judge is not None else []
    with db.write() as session:
        run = evaluations.get_run(session, principal.org_id, run_id)
        project = session.get(Project, run.project_id)
        tasks = flows.evaluation_tasks(session, principal, project, evaluations.people_tasks(run, responses)) if config["people"] else []
        evaluations.finish(session, run, responses, verdicts, tasks)
        record(session, principal, "evaluation.run", "evaluation", run.public_id, {"tasks": len(tasks)})
        return JSON(evaluations.report(session, run))


@native.get("/evaluations/{run_id}")
def get_evaluation(run_id: str, principal: Principal = Depends(authenticate)):
    """The run's report: per model, the paired comparison of two models with its verdict."""
    with get_db().read() as session:
        run = evaluations.get_run(session, principal.org_id, run_id)
        authorize(principal, ModelPolicy.view)
        return JSON(evaluations.report(session, run))

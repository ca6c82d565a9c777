from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Request
from sqlalchemy import select

from assay.auth.dependencies import authenticate
from assay.auth.principals import Principal
from assay.authz import authorize
from assay.batches import service
from assay.batches.policies import BatchPolicy
from assay.batches.serialize import batch_json
from assay.db import get_db
from assay.projects.models import Project
from assay.tasks.models import TASK_STATUSES
from assay.web import JSON, JSONRoute, name_param

v1 = APIRouter(prefix="/v1", route_class=JSONRoute)


def _project_name(session, batch) -> str:
    return session.scalar(select(Project.name).where(Project.id == batch.project_id))


@v1.post("/batches")
def create_batch(body: Any = Body(None), principal: Principal = Depends(authenticate)):
    authorize(principal, BatchPolicy.use_api)
    with get_db().write() as session:
        batch = service.create_batch(session, principal, body)
        return JSON(batch_json(batch, _project_name(session, batch)))


@v1.get("/batches")
def list_batches(request: Request, principal: Principal = Depends(authenticate)):
    authorize(principal, BatchPolicy.use_api)
    with get_db().read() as session:
        rows, total, limit, offset = service.list_batches(session, principal, request.query_params)
        docs = [batch_json(b, p) for b, p in rows]
    return JSON({"docs": docs, "totalDocs": total, "limit": limit, "offset": offset, "has_more": offset + len(docs) < total})


@v1.get("/batches/{name}")
def get_batch(name: str, principal: Principal = Depends(authenticate)):
    authorize(principal, BatchPolicy.use_api)
    with get_db().read() as session:
        batch = service.get_batch(session, principal, name_param(name))
        return JSON(batch_json(batch, _project_name(session, batch)))


@v1.post("/batches/{name}/finalize")
def finalize_batch(name: str, principal: Principal = Depends(authenticate)):
    authorize(principal, BatchPolicy.use_api)
    with get_db().write() as session:
        batch = service.finalize_batch(session, principal, name_param(name))
        return JSON(batch_json(batch, _project_name(session, batch)))


@v1.get("/batches/{name}/status")
def batch_status(name: str, principal: Principal = Depends(authenticate)):
    authorize(principal, BatchPolicy.use_api)
    with get_db().read() as session:
        batch = service.get_batch(session, principal, name_param(name))
        counts = service.batch_counts(session, batch, principal.is_test)
    return JSON({"status": batch.status, **{k: counts.get(k, 0) for k in TASK_STATUSES}})


@v1.post("/batches/{name}/setMetadata")
def set_batch_metadata(name: str, body: Any = Body(None), principal: Principal = Depends(authenticate)):
    authorize(principal, BatchPolicy.use_api)
    with get_db().write() as session:
        batch = service.set_batch_metadata(session, principal, name_param(name), body)
        return JSON(batch_json(batch, _project_name(session, batch)))

"""Scale v1 task endpoints, and the native answer/bulk endpoints. Handlers only load,
authorize, call the service and return JSON."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Request

from assay.db import get_db
from assay.policies import require_labeler, require_task_api
from assay.security import Principal, authenticate
from assay.tasks import service
from assay.web import JSON, name_param

v1 = APIRouter(prefix="/v1")
native = APIRouter(prefix="/api")


async def task_api(principal: Principal = Depends(authenticate)) -> Principal:
    require_task_api(principal)
    return principal


def _write_and_render(fn, *args) -> JSON:
    with get_db().write() as session:
        task = fn(session, *args)
        session.flush()
        return JSON(service.render(session, task))


@v1.post("/task/{task_type}")
def create_task(task_type: str, body: Any = Body(None), principal: Principal = Depends(task_api)):
    return _write_and_render(service.create_task, principal, name_param(task_type), body)


# Reads run on the event loop: one indexed Core SELECT is cheaper than a thread hop.
@v1.get("/task/{task_id}")
async def get_task(task_id: str, principal: Principal = Depends(task_api)):
    with get_db().connect() as conn:
        return JSON(service.get_task_json(conn, principal, name_param(task_id)))


@v1.get("/tasks")
async def list_tasks(request: Request, principal: Principal = Depends(task_api)):
    with get_db().connect() as conn:
        return JSON(service.list_tasks(conn, principal, request.query_params))


@v1.post("/task/{task_id}/cancel")
def cancel_task(task_id: str, request: Request, principal: Principal = Depends(task_api)):
    clear = service.parse_bool(request.query_params.get("clear_unique_id"), "clear_unique_id")
    return _write_and_render(service.cancel, principal, name_param(task_id), clear)


@v1.post("/task/{task_id}/setMetadata")
def set_metadata(task_id: str, body: Any = Body(None), principal: Principal = Depends(task_api)):
    return _write_and_render(service.set_metadata, principal, name_param(task_id), body)


@v1.post("/task/{task_id}/audit")
def audit_task(task_id: str, body: Any = Body(None), principal: Principal = Depends(task_api)):
    return _write_and_render(service.audit, principal, name_param(task_id), body)


@v1.post("/task/{task_id}/unique_id")
def set_unique_id(task_id: str, body: Any = Body(None), principal: Principal = Depends(task_api)):
    return _write_and_render(service.set_unique_id, principal, name_param(task_id), body)


@v1.delete("/task/{task_id}/unique_id")
def clear_unique_id(task_id: str, principal: Principal = Depends(task_api)):
    return _write_and_render(service.clear_unique_id, principal, name_param(task_id))


@v1.post("/task/{task_id}/tags")
def set_tags(task_id: str, body: Any = Body(None), principal: Principal = Depends(task_api)):
    return _write_and_render(service.change_tags, principal, name_param(task_id), body, "set")


@v1.put("/task/{task_id}/tags")
def add_tags(task_id: str, body: Any = Body(None), principal: Principal = Depends(task_api)):
    return _write_and_render(service.change_tags, principal, name_param(task_id), body, "add")


@v1.delete("/task/{task_id}/tags")
def delete_tags(task_id: str, body: Any = Body(None), principal: Principal = Depends(task_api)):
    return _write_and_render(service.change_tags, principal, name_param(task_id), body, "delete")


@native.post("/tasks/bulk")
def bulk_create(body: Any = Body(None), principal: Principal = Depends(task_api)):
    with get_db().write() as session:
        ids = service.create_tasks_bulk(session, principal, body)
    return JSON({"created": len(ids), "task_ids": ids})


@native.post("/tasks/{task_id}/answers")
def submit_answer(task_id: str, body: Any = Body(None), principal: Principal = Depends(authenticate)):
    require_labeler(principal)
    return _write_and_render(service.submit_answer, principal, task_id, body)

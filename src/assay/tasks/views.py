"""Scale v1 task endpoints, and the native answer/bulk endpoints. Handlers only load,
authorize, call the service and return JSON."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Body, Depends, Request
from starlette.concurrency import run_in_threadpool

from assay.db import get_db
from assay.errors import field_error
from assay.policies import require_labeler, require_task_api
from assay.security import Principal, authenticate
from assay.tasks import service
from assay.web import JSON, BodyRejected, JSONRoute, name_param, parse_json

v1 = APIRouter(prefix="/v1", route_class=JSONRoute)
native = APIRouter(prefix="/api", route_class=JSONRoute)


async def task_api(principal: Principal = Depends(authenticate)) -> Principal:
    require_task_api(principal)
    return principal


async def run_db(fn, *args):
    """On SQLite the work runs on the event loop: there is one writer anyway, and a
    thread hop per request plus a lock convoy among pool threads cost more CPU than the
    query. PostgreSQL work goes to the thread pool so the loop keeps serving during
    network round trips."""
    if get_db().is_sqlite:
        return fn(*args)
    return await run_in_threadpool(fn, *args)


def _write(fn, *args) -> dict:
    with get_db().write() as session:
        task = fn(session, *args)
        session.flush()
        return service.render(session, task)


def _read(fn, *args):
    with get_db().connect() as conn:
        return fn(conn, *args)


async def _write_and_render(fn, *args) -> JSON:
    return JSON(await run_db(_write, fn, *args))


@v1.post("/task/{task_type}")
async def create_task(task_type: str, body: Any = Body(None), principal: Principal = Depends(task_api)):
    return await _write_and_render(service.create_task, principal, name_param(task_type), body)


@v1.post("/evaluation_tasks/{task_type}")
async def create_evaluation_task(task_type: str, body: Any = Body(None), principal: Principal = Depends(task_api)):
    return JSON(await run_db(_gold, principal, name_param(task_type), body, "evaluation"))


@v1.post("/training_tasks/{task_type}")
async def create_training_task(task_type: str, body: Any = Body(None), principal: Principal = Depends(task_api)):
    return JSON(await run_db(_gold, principal, name_param(task_type), body, "training"))


def _gold(principal: Principal, task_type: str, body: Any, kind: str) -> dict:
    with get_db().write() as session:
        return service.create_gold_task(session, principal, task_type, body, kind)


# Reads run on the event loop: one indexed Core SELECT is cheaper than a thread hop.
@v1.get("/task/{task_id}")
async def get_task(task_id: str, principal: Principal = Depends(task_api)):
    return JSON(await run_db(_read, service.get_task_json, principal, name_param(task_id)))


@v1.get("/tasks")
async def list_tasks(request: Request, principal: Principal = Depends(task_api)):
    return JSON(await run_db(_read, service.list_tasks, principal, request.query_params))


@v1.post("/task/{task_id}/cancel")
async def cancel_task(task_id: str, request: Request, principal: Principal = Depends(task_api)):
    clear = service.parse_bool(request.query_params.get("clear_unique_id"), "clear_unique_id")
    return await _write_and_render(service.cancel, principal, name_param(task_id), clear)


@v1.post("/task/{task_id}/setMetadata")
async def set_metadata(task_id: str, body: Any = Body(None), principal: Principal = Depends(task_api)):
    return await _write_and_render(service.set_metadata, principal, name_param(task_id), body)


@v1.post("/task/{task_id}/audit")
async def audit_task(task_id: str, body: Any = Body(None), principal: Principal = Depends(task_api)):
    return await _write_and_render(service.audit, principal, name_param(task_id), body)


@v1.post("/task/{task_id}/unique_id")
async def set_unique_id(task_id: str, body: Any = Body(None), principal: Principal = Depends(task_api)):
    return await _write_and_render(service.set_unique_id, principal, name_param(task_id), body)


@v1.delete("/task/{task_id}/unique_id")
async def clear_unique_id(task_id: str, principal: Principal = Depends(task_api)):
    return await _write_and_render(service.clear_unique_id, principal, name_param(task_id))


@v1.post("/task/{task_id}/tags")
async def set_tags(task_id: str, body: Any = Body(None), principal: Principal = Depends(task_api)):
    return await _write_and_render(service.change_tags, principal, name_param(task_id), body, "set")


@v1.put("/task/{task_id}/tags")
async def add_tags(task_id: str, body: Any = Body(None), principal: Principal = Depends(task_api)):
    return await _write_and_render(service.change_tags, principal, name_param(task_id), body, "add")


@v1.delete("/task/{task_id}/tags")
async def delete_tags(task_id: str, body: Any = Body(None), principal: Principal = Depends(task_api)):
    return await _write_and_render(service.change_tags, principal, name_param(task_id), body, "delete")


def _bulk(principal: Principal, raw: bytes) -> dict:
    try:
        body = parse_json(raw) if raw else None
    except json.JSONDecodeError:
        raise field_error("body", "is not valid JSON") from None
    except BodyRejected as exc:
        raise field_error(exc.field, exc.detail.split(": ", 1)[1]) from None
    with get_db().write() as session:
        ids = service.create_tasks_bulk(session, principal, body)
    return {"created": len(ids), "task_ids": ids}


@native.post("/tasks/bulk", openapi_extra={"requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}, "required": True}})
async def bulk_create(request: Request, principal: Principal = Depends(task_api)):
    # the body is parsed with orjson off the event loop: 10k tasks are ~1.5 MB of JSON
    return JSON(await run_in_threadpool(_bulk, principal, await request.body()))


@native.post("/tasks/{task_id}/answers")
async def submit_answer(task_id: str, body: Any = Body(None), principal: Principal = Depends(authenticate)):
    require_labeler(principal)
    return await _write_and_render(service.submit_answer, principal, task_id, body)


@native.get("/tasks/{task_id}")
async def task_detail(task_id: str, principal: Principal = Depends(authenticate)):
    """One task with per-annotator answers, reviews and assignments (JSON twin of /tasks/{id})."""
    from assay.tasks.detail import task_detail as detail

    def run():
        with get_db().read() as session:
            return detail(session, principal, task_id)
    return JSON(await run_db(run))

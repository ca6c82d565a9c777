"""Scale v1 task endpoints, and the native task endpoints (bulk create, answers, the task
page's twin, send back; exports are exports/views.py). Handlers load, authorize, call a service, return JSON."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Body, Depends, Request
from starlette.concurrency import run_in_threadpool

from assay import flows
from assay.audit.log import record
from assay.auth.dependencies import authenticate
from assay.auth.principals import Principal
from assay.authz import authorize
from assay.db import get_db
from assay.errors import field_error
from assay.queue.schemas import AnswerBody
from assay.tasks import lifecycle
from assay.tasks.models import TaskKind
from assay.tasks.policies import TaskPolicy
from assay.tasks.schemas import BulkActionBody, SendBackBody
from assay.tasks.service import browse, create, detail, listing, mutations
from assay.web import JSON, BodyRejected, JSONRoute, name_param, parse_bool, parse_json, run_db

v1 = APIRouter(prefix="/v1", route_class=JSONRoute)
native = APIRouter(prefix="/api", route_class=JSONRoute)


def _write(fn, *args) -> dict:
    with get_db().write() as session:
        task = fn(session, *args)
        session.flush()
        return listing.render(session, task)


def _read(fn, *args):
    with get_db().connect() as conn:
        return fn(conn, *args)


async def _write_and_render(fn, *args) -> JSON:
    return JSON(await run_db(_write, fn, *args))


# ----------------------------------------------------------------------------- Scale v1

@v1.post("/task/{task_type}")
async def create_task(task_type: str, body: Any = Body(None), principal: Principal = Depends(authenticate)):
    authorize(principal, TaskPolicy.use_api)
    return await _write_and_render(create.create_task, principal, name_param(task_type), body)


def _gold(principal: Principal, task_type: str, body: Any, kind: str) -> dict:
    with get_db().write() as session:
        item = create.create_gold_task(session, principal, task_type, body, kind)
        record(session, principal, "gold.create", "task", item["task_id"], {"kind": kind, "project": item["project"]})
        return item


@v1.post("/evaluation_tasks/{task_type}")
async def create_evaluation_task(task_type: str, body: Any = Body(None), principal: Principal = Depends(authenticate)):
    authorize(principal, TaskPolicy.use_api)
    return JSON(await run_db(_gold, principal, name_param(task_type), body, TaskKind.EVALUATION))


@v1.post("/training_tasks/{task_type}")
async def create_training_task(task_type: str, body: Any = Body(None), principal: Principal = Depends(authenticate)):
    authorize(principal, TaskPolicy.use_api)
    return JSON(await run_db(_gold, principal, name_param(task_type), body, TaskKind.TRAINING))


# Reads run on the event loop: one indexed Core SELECT is cheaper than a thread hop.
@v1.get("/task/{task_id}")
async def get_task(task_id: str, principal: Principal = Depends(authenticate)):
    authorize(principal, TaskPolicy.use_api)
    return JSON(await run_db(_read, listing.get_task_json, principal, name_param(task_id)))


@v1.get("/tasks")
async def list_tasks(request: Request, principal: Principal = Depends(authenticate)):
    authorize(principal, TaskPolicy.use_api)
    return JSON(await run_db(_read, listing.list_tasks, principal, request.query_params))


@v1.post("/task/{task_id}/cancel")
async def cancel_task(task_id: str, request: Request, principal: Principal = Depends(authenticate)):
    authorize(principal, TaskPolicy.use_api)
    clear = parse_bool(request.query_params.get("clear_unique_id"), "clear_unique_id")
    return await _write_and_render(mutations.cancel, principal, name_param(task_id), clear)


@v1.post("/task/{task_id}/setMetadata")
async def set_metadata(task_id: str, body: Any = Body(None), principal: Principal = Depends(authenticate)):
    authorize(principal, TaskPolicy.use_api)
    return await _write_and_render(mutations.set_metadata, principal, name_param(task_id), body)


@v1.post("/task/{task_id}/audit")
async def audit_task(task_id: str, body: Any = Body(None), principal: Principal = Depends(authenticate)):
    authorize(principal, TaskPolicy.use_api)
    return await _write_and_render(mutations.audit, principal, name_param(task_id), body)


@v1.post("/task/{task_id}/unique_id")
async def set_unique_id(task_id: str, body: Any = Body(None), principal: Principal = Depends(authenticate)):
    authorize(principal, TaskPolicy.use_api)
    return await _write_and_render(mutations.set_unique_id, principal, name_param(task_id), body)


@v1.delete("/task/{task_id}/unique_id")
async def clear_unique_id(task_id: str, principal: Principal = Depends(authenticate)):
    authorize(principal, TaskPolicy.use_api)
    return await _write_and_render(mutations.clear_unique_id, principal, name_param(task_id))


@v1.post("/task/{task_id}/tags")
async def set_tags(task_id: str, body: Any = Body(None), principal: Principal = Depends(authenticate)):
    authorize(principal, TaskPolicy.use_api)
    return await _write_and_render(mutations.change_tags, principal, name_param(task_id), body, "set")


@v1.put("/task/{task_id}/tags")
async def add_tags(task_id: str, body: Any = Body(None), principal: Principal = Depends(authenticate)):
    authorize(principal, TaskPolicy.use_api)
    return await _write_and_render(mutations.change_tags, principal, name_param(task_id), body, "add")


@v1.delete("/task/{task_id}/tags")
async def delete_tags(task_id: str, body: Any = Body(None), principal: Principal = Depends(authenticate)):
    authorize(principal, TaskPolicy.use_api)
    return await _write_and_render(mutations.change_tags, principal, name_param(task_id), body, "delete")


# ----------------------------------------------------------------------------- native

def _bulk(principal: Principal, raw: bytes) -> dict:
    try:
        body = parse_json(raw) if raw else None
    except json.JSONDecodeError:
        raise field_error("body", "is not valid JSON") from None
    except BodyRejected as exc:
        raise field_error(exc.field, exc.detail.split(": ", 1)[1]) from None
    with get_db().write() as session:
        ids = create.create_tasks_bulk(session, principal, body)
    return {"created": len(ids), "task_ids": ids}


@native.post("/tasks/bulk", openapi_extra={"requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}, "required": True}})
async def bulk_create(request: Request, principal: Principal = Depends(authenticate)):
    authorize(principal, TaskPolicy.use_api)
    # the body is parsed with orjson off the event loop: 10k tasks are ~1.5 MB of JSON
    return JSON(await run_in_threadpool(_bulk, principal, await request.body()))


def _answer(principal: Principal, task_id: str, body: AnswerBody) -> dict:
    with get_db().write() as session:
        return flows.answer_task(session, principal, task_id, body)  # authorize(...) with QueuePolicy.answer inside


@native.post("/tasks/{task_id}/answers")
async def submit_answer(task_id: str, body: AnswerBody, principal: Principal = Depends(authenticate)):
    """One human answer without a lease, under the queue's rules (QueuePolicy.answer)."""
    return JSON(await run_db(_answer, principal, task_id, body))


@native.get("/tasks/browse")
async def browse_tasks(request: Request, principal: Principal = Depends(authenticate)):
    authorize(principal, TaskPolicy.browse)
    return JSON(await run_db(_read, browse.browse, principal, request.query_params))


def _bulk_action(principal: Principal, body: BulkActionBody) -> dict:
    with get_db().write() as session:
        result = browse.bulk_action(session, principal, body.task_ids, body.action, body.value, body.comment)
        record(session, principal, "task.bulk", "task", f"{len(result['changed'])} tasks",
               {"action": body.action, "value": body.value, "changed": result["changed"][:100], "skipped": len(result["skipped"])})
        return result


@native.post("/tasks/bulk-action")
async def bulk_action(body: BulkActionBody, principal: Principal = Depends(authenticate)):
    authorize(principal, TaskPolicy.browse)
    return JSON(await run_db(_bulk_action, principal, body))


@native.get("/tasks/{task_id}")
async def task_detail(task_id: str, principal: Principal = Depends(authenticate)):
    """One task with per-annotator answers, the consolidated one, reviews, assignments, history and the
    read-only tool's view (JSON twin of /view/task/{id})."""
    def run():
        with get_db().read() as session:
            task = detail.load_task(session, principal, task_id)
            authorize(principal, TaskPolicy.read_detail(*detail.access_facts(session, principal, task)))
            return flows.task_page(session, principal, task)
    return JSON(await run_db(run))


@native.post("/tasks/{task_id}/send-back")
def send_back(task_id: str, body: SendBackBody | None = None, principal: Principal = Depends(authenticate)):
    """Reopen a completed task: to a reviewer (people's answer) or to labelers (a model's
    auto-accepted answer). `{"comment": "..."}` optional."""
    authorize(principal, TaskPolicy.send_back)
    with get_db().write() as session:
        task = listing.get_task(session, principal, task_id, for_update=True)
        lifecycle.send_back(session, task, body.comment if body else None)
        record(session, principal, "task.send_back", "task", task.public_id, {"comment": body.comment} if body and body.comment else {})
        return JSON({"task_id": task.public_id, "status": task.status, "review_state": task.review_state, "open_slots": task.open_slots})

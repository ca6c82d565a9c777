"""The FastAPI application: routers of every domain, error handlers, and the in-process
outbox loop of the embedded default."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from assay import __version__, pages
from assay.audit import views as audit
from assay.auth.dependencies import authenticate
from assay.backends import evaluation_views as evaluations
from assay.backends import views as backends
from assay.batches import views as batches
from assay.bootstrap import bootstrap
from assay.callbacks.delivery import OutboxWorker
from assay.config import get_settings
from assay.exports import views as exports
from assay.files import views as files
from assay.imports import views as imports
from assay.insights import views as insights
from assay.jobs import BackgroundJobs
from assay.leaderboards import views as leaderboards
from assay.media import views as media
from assay.orgs import views as orgs
from assay.people import views as people
from assay.projects import views as projects
from assay.queue import views as queue
from assay.tasks import views as tasks
from assay.web import JSON, RequestGuard, check_request_text, install_error_handlers

log = logging.getLogger("assay")


def create_app(run_bootstrap: bool = True) -> FastAPI:
    settings = get_settings()

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        worker = jobs = None
        if run_bootstrap:
            bootstrap()
        if settings.worker_in_process:
            worker = OutboxWorker()
            worker.start_thread()
            jobs = BackgroundJobs()
            jobs.start_thread()
        try:
            yield
        finally:
            for loop in (worker, jobs):
                if loop is not None:
                    loop.stop()

    # No Swagger UI page: it would load its scripts from a CDN. The schema is served, and
    # docs/api.md documents every endpoint.
    app = FastAPI(title="assay", version=__version__, default_response_class=JSON, lifespan=lifespan, docs_url=None,
                  openapi_url="/api/openapi.json", redoc_url=None, swagger_ui_oauth2_redirect_url=None,
                  dependencies=[Depends(check_request_text)])
    install_error_handlers(app)

    for module in (tasks, batches, projects, files, media, orgs, queue, backends, audit, insights, people, exports, imports, evaluations, leaderboards):
        for name in ("v1", "native"):
            router = getattr(module, name, None)
            if router is not None:
                app.include_router(router)

    app.include_router(pages.router)
    app.mount("/static", pages.static, name="static")

    return RequestGuard(app, settings.max_request_bytes, settings.max_upload_bytes, authenticate)  # type: ignore[return-value]

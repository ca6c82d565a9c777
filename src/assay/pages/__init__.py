"""Server-rendered pages (login, the labeler's pages, the admin pages) and the small ES
modules they load from static/js. `router` holds every page; `static` serves the assets."""

from __future__ import annotations

from fastapi import APIRouter

from assay.pages import admin, cockpit, data, labeler, leaderboards, login
from assay.pages.render import static

router = APIRouter(include_in_schema=False)
# data before admin: /admin/projects/new is not a project id
for module in (login, labeler, data, admin, cockpit, leaderboards):
    router.include_router(module.router)

__all__ = ["router", "static"]

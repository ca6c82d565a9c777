"""The model leaderboard page: the same leaderboard as `GET /api/leaderboard` (its JSON
twin), with the chart as an image from `GET /api/leaderboard.svg`, the win-rate matrix,
style control and slices."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request

from assay import flows
from assay.auth.principals import Principal
from assay.authz import authorize
from assay.db import get_db
from assay.leaderboards.policies import LeaderboardPolicy
from assay.leaderboards.service import board
from assay.pages.render import guarded, render
from assay.projects.service import list_projects

router = APIRouter(include_in_schema=False)
QUERY_KEYS = ("projects", "slice", "style_control", "basis", "bootstrap")


def _heat(share: float | None) -> int:
    """Shading bucket 0..5 of a win rate (0.5: the middle)."""
    return 0 if share is None else min(5, int(share * 5) + 0)


@router.get("/leaderboard")
@guarded
def leaderboard_page(request: Request, principal: Principal):
    options = board.options_from_query(request.query_params)
    with get_db().read() as session:
        projects = flows.leaderboard_projects(session, principal, board.projects_param(request.query_params))
        authorize(principal, LeaderboardPolicy.view)
        collected = board.collect(session, projects, options)
        chat_projects = [p for p in list_projects(session, principal) if p.type == "chat"]
    result = board.leaderboard(projects, collected, options)
    query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k in QUERY_KEYS])
    chosen = {p["id"] for p in result["projects"]} if board.projects_param(request.query_params) else set()
    return render("leaderboard.html", request, board=result, query=query, options=options, heat=_heat,
                  chat_projects=[{"id": p.public_id, "name": p.name, "chosen": p.public_id in chosen} for p in chat_projects])

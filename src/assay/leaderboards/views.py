"""Model leaderboards: JSON, CSV and the SVG chart of the models judged in chat projects.
Handlers load the projects (the caller's organization only), authorize with
LeaderboardPolicy, call the leaderboards service and return it."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from assay import flows
from assay.auth.dependencies import authenticate
from assay.auth.principals import Principal
from assay.authz import authorize
from assay.db import get_db
from assay.leaderboards.policies import LeaderboardPolicy
from assay.leaderboards.service import board, chart
from assay.web import JSON, JSONRoute, attachment_disposition

native = APIRouter(prefix="/api", route_class=JSONRoute)

# The chart is an image: it runs nothing, and pygal's inline styles are all it needs.
SVG_HEADERS = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'", "X-Content-Type-Options": "nosniff",
               "Cache-Control": "no-store"}


def _leaderboard(request: Request, principal: Principal) -> dict:
    """Load, authorize, fit: what the JSON, the CSV, the chart and the page share."""
    options = board.options_from_query(request.query_params)
    with get_db().read() as session:
        projects = flows.leaderboard_projects(session, principal, board.projects_param(request.query_params))
        authorize(principal, LeaderboardPolicy.view)
        collected = board.collect(session, projects, options)
    return board.leaderboard(projects, collected, options)


@native.get("/leaderboard")
def leaderboard_json(request: Request, principal: Principal = Depends(authenticate)):
    """The leaderboard of the models judged in chat projects (`projects=` ids, default all),
    with `slice=`, `style_control=`, `basis=answers|consolidated`, `bootstrap=`."""
    return JSON(_leaderboard(request, principal))


@native.get("/leaderboard.csv")
def leaderboard_csv(request: Request, principal: Principal = Depends(authenticate)):
    """The same leaderboard as CSV: one row per model, then per slice."""
    text = chart.to_csv(_leaderboard(request, principal))
    return Response(text, media_type="text/csv; charset=utf-8", headers={"content-disposition": attachment_disposition("leaderboard.csv")})


@native.get("/leaderboard.svg")
def leaderboard_svg(request: Request, principal: Principal = Depends(authenticate)):
    """The leaderboard chart (ratings with 95 % intervals) as an SVG image."""
    return Response(chart.to_svg(_leaderboard(request, principal)), media_type="image/svg+xml", headers=SVG_HEADERS)

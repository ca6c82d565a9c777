from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Request
from sqlalchemy import select

from assay import __version__, sessions
from assay.db import get_db
from assay.orgs import service
from assay.orgs.models import Organization, User
from assay.policies import live_principal, require_admin
from assay.security import Principal, authenticate, clear_key_cache
from assay.tasks.views import task_api
from assay.web import JSON, JSONRoute, UserId

v1 = APIRouter(prefix="/v1", route_class=JSONRoute)
native = APIRouter(prefix="/api", route_class=JSONRoute)

# Scale's team roles for our roles.
TEAM_ROLE = {"admin": "admin", "customer": "manager", "reviewer": "member", "annotator": "labeler"}


@native.get("/health")
def health():
    with get_db().read() as session:
        session.execute(select(1))
    return JSON({"status": "ok", "version": __version__})


@native.get("/me")
def me(principal: Principal = Depends(authenticate)):
    return JSON(
        {
            "email": principal.email,
            "role": principal.role,
            "organization": {"id": principal.org_public_id, "name": principal.org_name},
            "test_mode": principal.is_test,
        }
    )


@native.get("/users")
def list_users(principal: Principal = Depends(live_principal)):
    require_admin(principal)
    with get_db().read() as session:
        return JSON({"users": [service.user_json(u) for u in service.list_users(session, principal.org_id)]})


@native.post("/users")
def add_user(body: Any = Body(None), principal: Principal = Depends(live_principal)):
    # a sync handler: FastAPI runs it in its thread pool, so hashing never blocks the event loop
    require_admin(principal)
    password_hash = service.body_password_hash(body)  # before the transaction: scrypt is slow
    with get_db().write() as session:
        org = session.get(Organization, principal.org_id)
        return JSON(service.user_json(service.add_user(session, org, body, password_hash)), status_code=201)


@native.patch("/users/{user_id}")
def change_user(request: Request, user_id: UserId, body: Any = Body(None), principal: Principal = Depends(live_principal)):
    require_admin(principal)
    password_hash = service.body_password_hash(body)
    current = getattr(request.state, "session", None)
    renewed = None
    with get_db().write() as session:
        user = service.change_user(session, principal.org_id, user_id, body, principal.user_id, password_hash)
        if password_hash and user.id == principal.user_id and current is not None:
            # Changing your own password from a browser ends all your sessions, this one
            # too (a copy of its cookie must die); the browser gets a new one in its place.
            renewed = sessions.create(session, user, *sessions.client_details(request), csrf=current.csrf)[0]
        result = service.user_json(user)
    clear_key_cache()  # a deactivation or role change applies at once
    response = JSON(result)
    if renewed:
        sessions.set_session_cookie(response, renewed)
    return response


@v1.get("/teams")
def list_teammates(principal: Principal = Depends(task_api)):
    with get_db().read() as session:
        users = session.scalars(select(User).where(User.org_id == principal.org_id).order_by(User.id)).all()
    return JSON([{"email": u.email, "role": TEAM_ROLE[u.role], "firstName": u.name, "company": principal.org_name} for u in users])

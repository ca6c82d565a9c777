"""Who am I, the organization's people (admins), the Scale team listing, and health."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from assay import __version__
from assay.audit.log import record
from assay.auth import sessions
from assay.auth.dependencies import authenticate
from assay.auth.passwords import hash_password
from assay.auth.principals import Principal, forget_all
from assay.authz import authorize
from assay.db import get_db
from assay.orgs import service
from assay.orgs.models import Organization, User
from assay.orgs.policies import TeamPolicy, UserPolicy
from assay.orgs.schemas import NewUserBody, UserChangeBody
from assay.web import JSON, JSONRoute, UserId

v1 = APIRouter(prefix="/v1", route_class=JSONRoute)
native = APIRouter(prefix="/api", route_class=JSONRoute)

# Scale's team roles for our roles.
TEAM_ROLE = {"admin": "admin", "customer": "manager", "reviewer": "member", "annotator": "labeler"}


@native.get("/health")
def health():
    """Public: the server answers and reaches its database."""
    with get_db().read() as session:
        session.execute(select(1))
    return JSON({"status": "ok", "version": __version__})


@native.get("/me")
def me(principal: Principal = Depends(authenticate)):
    authorize(principal, UserPolicy.me)
    return JSON({"email": principal.email, "role": principal.role, "organization": {"id": principal.org_public_id, "name": principal.org_name},
                 "test_mode": principal.is_test})


@native.get("/users")
def list_users(principal: Principal = Depends(authenticate)):
    authorize(principal, UserPolicy.manage)
    with get_db().read() as session:
        return JSON({"users": [service.user_json(u) for u in service.list_users(session, principal.org_id)]})


@native.post("/users")
def add_user(body: NewUserBody, principal: Principal = Depends(authenticate)):
    # a sync handler: FastAPI runs it in its thread pool, so hashing never blocks the event loop
    authorize(principal, UserPolicy.manage)
    service.normalize_email(body.email)  # a bad address is refused before the slow hash
    password_hash = hash_password(body.password)  # before the transaction: scrypt is slow
    with get_db().write() as session:
        org = session.get(Organization, principal.org_id)
        user = service.add_user(session, org, body, password_hash)
        record(session, principal, "user.create", "user", user.id, {"email": user.email, "role": user.role})
        return JSON(service.user_json(user), status_code=201)


@native.patch("/users/{user_id}")
def change_user(request: Request, user_id: UserId, body: UserChangeBody, principal: Principal = Depends(authenticate)):
    authorize(principal, UserPolicy.manage)
    password_hash = hash_password(body.password) if "password" in body.model_fields_set else None
    current = getattr(request.state, "session", None)
    renewed = None
    with get_db().write() as session:
        user = service.change_user(session, principal.org_id, user_id, body, principal.user_id, password_hash)
        changes = {key: ("set" if key == "password" else getattr(body, key)) for key in sorted(body.model_fields_set)}
        record(session, principal, "user.update", "user", user.id, {"email": user.email, **changes})
        if password_hash and user.id == principal.user_id and current is not None:
            # Changing your own password from a browser ends all your sessions, this one
            # too (a copy of its cookie must die); the browser gets a new one in its place.
            renewed = sessions.create(session, user, *sessions.client_details(request), csrf=current.csrf)[0]
        result = service.user_json(user)
    forget_all()  # a deactivation or role change applies at once
    response = JSON(result)
    if renewed:
        sessions.set_session_cookie(response, renewed)
    return response


@v1.get("/teams")
def list_teammates(principal: Principal = Depends(authenticate)):
    authorize(principal, TeamPolicy.list)
    with get_db().read() as session:
        users = session.scalars(select(User).where(User.org_id == principal.org_id).order_by(User.id)).all()
    return JSON([{"email": u.email, "role": TEAM_ROLE[u.role], "firstName": u.name, "company": principal.org_name} for u in users])

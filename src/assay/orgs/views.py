from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy import select

from assay import __version__
from assay.db import get_db
from assay.orgs.models import User
from assay.security import Principal, authenticate
from assay.tasks.views import task_api
from assay.web import JSON

v1 = APIRouter(prefix="/v1")
native = APIRouter(prefix="/api")

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


@v1.get("/teams")
def list_teammates(principal: Principal = Depends(task_api)):
    with get_db().read() as session:
        users = session.scalars(select(User).where(User.org_id == principal.org_id).order_by(User.id)).all()
    return JSON([{"email": u.email, "role": TEAM_ROLE[u.role], "firstName": u.name, "company": principal.org_name} for u in users])

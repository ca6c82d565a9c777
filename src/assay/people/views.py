"""People endpoints: skills, rates, timesheets, payouts (JSON and CSV) and exposure."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import TypeAdapter, ValidationError

from assay.audit.log import record
from assay.auth.dependencies import authenticate
from assay.auth.principals import Principal
from assay.authz import authorize
from assay.db import get_db
from assay.errors import field_error
from assay.people import service
from assay.people.policies import PeoplePolicy
from assay.people.schemas import RateBody, SkillBody, SkillFromGoldBody, SkillName, WellbeingBody
from assay.web import JSON, JSONRoute, RowId, UserId, attachment_disposition

native = APIRouter(prefix="/api", route_class=JSONRoute)

TIMESHEET_COLUMNS = ["email", "day", "labels", "reviews", "active_hours", "idle_hours"]
_SKILL_NAME = TypeAdapter(SkillName)
PAYOUT_COLUMNS = ["email", "project", "answers", "labels", "active_hours", "unit", "rate", "currency", "amount"]


@native.get("/people/skills")
def list_skills(principal: Principal = Depends(authenticate)):
    authorize(principal, PeoplePolicy.manage)
    with get_db().connect() as conn:
        return JSON({"skills": {str(k): v for k, v in service.skills_of(conn, principal.org_id).items()}})


@native.put("/people/{user_id}/skills/{name}")
def grant_skill(user_id: UserId, name: str, body: SkillBody, principal: Principal = Depends(authenticate)):
    authorize(principal, PeoplePolicy.manage)
    name = _skill_name(name)
    with get_db().write() as session:
        user = service.person(session, principal.org_id, user_id)
        service.grant_skill(session, user, name, body.level)
        record(session, principal, "skill.grant", "user", user.id, {"skill": name, "level": body.level, "email": user.email})
    return JSON({"user_id": user_id, "name": name, "level": body.level, "source": "manual"})


@native.delete("/people/{user_id}/skills/{name}")
def revoke_skill(user_id: UserId, name: str, principal: Principal = Depends(authenticate)):
    authorize(principal, PeoplePolicy.manage)
    with get_db().write() as session:
        user = service.person(session, principal.org_id, user_id)
        removed = service.revoke_skill(session, user, name)
        if removed:
            record(session, principal, "skill.revoke", "user", user.id, {"skill": name, "email": user.email})
    return JSON({"removed": removed})


@native.post("/people/skills/from-gold")
def skills_from_gold(body: SkillFromGoldBody, principal: Principal = Depends(authenticate)):
    authorize(principal, PeoplePolicy.manage)
    with get_db().write() as session:
        project_id = service.project_id_of(session, principal.org_id, body.project_id)
        earned = service.grant_from_gold(session, principal.org_id, project_id, body.name, body.level, body.min_accuracy, body.min_answers)
        record(session, principal, "skill.grant", "project", body.project_id,
               {"skill": body.name, "level": body.level, "from_gold": True, "users": earned})
    return JSON({"granted": earned})


@native.get("/people/rates")
def list_rates(principal: Principal = Depends(authenticate)):
    authorize(principal, PeoplePolicy.manage)
    with get_db().read() as session:
        return JSON({"rates": service.rates_json(session, principal.org_id)})


@native.post("/people/rates", status_code=201)
def set_rate(body: RateBody, principal: Principal = Depends(authenticate)):
    authorize(principal, PeoplePolicy.manage)
    with get_db().write() as session:
        if body.user_id is not None:
            service.person(session, principal.org_id, body.user_id)
        project_id = service.project_id_of(session, principal.org_id, body.project_id)
        rate = service.set_rate(session, principal.org_id, body.user_id, project_id, body.unit, body.amount, body.currency)
        record(session, principal, "rate.set", "rate", rate.id, body.model_dump())
        return JSON({"id": rate.id, **body.model_dump()}, status_code=201)


@native.delete("/people/rates/{rate_id}")
def delete_rate(rate_id: RowId, principal: Principal = Depends(authenticate)):
    authorize(principal, PeoplePolicy.manage)
    with get_db().write() as session:
        service.delete_rate(session, principal.org_id, rate_id)
        record(session, principal, "rate.delete", "rate", rate_id)
    return JSON({"deleted": rate_id})


@native.patch("/people/{user_id}/wellbeing")
def set_wellbeing(user_id: UserId, body: WellbeingBody, principal: Principal = Depends(authenticate)):
    with get_db().write() as session:
        user = service.person(session, principal.org_id, user_id)
        authorize(principal, PeoplePolicy.own_wellbeing(user.id))
        if "exposure_budget" in body.model_fields_set:
            authorize(principal, PeoplePolicy.manage)  # a budget is a lead's decision
            user.exposure_budget = body.exposure_budget
        if body.avoid_flagged is not None:
            user.avoid_flagged = body.avoid_flagged
        record(session, principal, "wellbeing.settings", "user", user.id, body.model_dump(exclude_unset=True))
        return JSON({"user_id": user.id, "avoid_flagged": user.avoid_flagged, "exposure_budget": user.exposure_budget})


def _report(request: Request, principal: Principal, fn, columns: list[str], name: str):
    since, until = service.period(request.query_params)
    with get_db().connect() as conn:
        rows = fn(conn, principal.org_id, since, until)
    if request.query_params.get("format") == "csv":
        return Response(service.to_csv(rows, columns), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": attachment_disposition(f"{name}-{since}-{until}.csv")})
    return JSON({"since": since.isoformat(), "until": until.isoformat(), "rows": rows})


@native.get("/people/timesheet")
def timesheet(request: Request, principal: Principal = Depends(authenticate)):
    authorize(principal, PeoplePolicy.manage)
    return _report(request, principal, service.timesheet, TIMESHEET_COLUMNS, "timesheet")


@native.get("/people/payout")
def payout(request: Request, principal: Principal = Depends(authenticate)):
    authorize(principal, PeoplePolicy.manage)
    return _report(request, principal, service.payout, PAYOUT_COLUMNS, "payout")


@native.get("/people/exposure")
def exposure(principal: Principal = Depends(authenticate)):
    authorize(principal, PeoplePolicy.manage)
    with get_db().connect() as conn:
        return JSON(service.exposure(conn, principal.org_id))


def _skill_name(name: str) -> str:
    try:
        return _SKILL_NAME.validate_python(name)
    except ValidationError:
        raise field_error("name", "must be 1 to 64 letters, digits, spaces or . : / + -") from None

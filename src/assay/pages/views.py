"""Server-rendered pages. Each page is a thin HTML shell around data that also has a
JSON twin under /api (docs/pages.md lists the pairs); the interactive parts are small
ES modules in static/js. Task content never passes through a template unescaped: the
workbench fetches it as JSON and the tools render it with textContent (or, for
Markdown, as HTML made by assay.markdown, which refuses raw HTML)."""

from __future__ import annotations

import inspect
import math
import secrets
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from assay import __version__, sessions
from assay.config import get_settings
from assay.db import get_db
from assay.errors import ApiError
from assay.security import Principal, run_password_work

HERE = Path(__file__).parent
templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
static = StaticFiles(directory=HERE / "static")
pages = APIRouter(include_in_schema=False)

# Pages only load our own scripts and styles; attachments (images, audio, PDFs) may come
# from anywhere http(s). Even a bug that let markup through could not run a script.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: http: https:; "
       "media-src 'self' blob: http: https:; frame-src 'self' http: https:; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")


def tool_available(task_type: str) -> bool:
    """Whether the workbench has a labeling tool for this task type."""
    return (HERE / "static" / "js" / "tools" / f"{task_type}.js").exists()


class LoginRequired(Exception):
    pass


def _headers() -> dict[str, str]:
    return {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
            "Cache-Control": "no-store"}


def render(name: str, request: Request, status_code: int = 200, **context) -> HTMLResponse:
    principal = getattr(request.state, "principal", None)
    html = templates.get_template(name).render(
        request=request, me=principal, csrf_token=getattr(request.state, "csrf_token", ""), version=__version__, **context
    )
    return HTMLResponse(html, status_code=status_code, headers=_headers())


def page_principal(request: Request) -> Principal:
    session = sessions.resolve(request.cookies.get(sessions.COOKIE))
    if session is None:
        raise LoginRequired()
    request.state.principal = session.principal
    request.state.csrf_token = session.csrf
    return session.principal


def guarded(handler):
    """Page handler wrapper: no session → login page; API errors → an error page with
    the same status and message the JSON twin would give."""
    import functools

    @functools.wraps(handler)
    def wrapper(request: Request, *args, **kwargs):
        try:
            principal = page_principal(request)
            return handler(request, principal, *args, **kwargs)
        except LoginRequired:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
        except ApiError as exc:
            return render("error.html", request, status_code=exc.status_code, status=exc.status_code, message=exc.message)

    # FastAPI reads the signature: show it the handler's parameters without `principal`
    signature = inspect.signature(handler)
    wrapper.__signature__ = signature.replace(parameters=[p for name, p in signature.parameters.items() if name != "principal"])
    return wrapper


def _safe_next(value: str | None) -> str:
    # only same-site paths: never an open redirect to another host
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


# ----------------------------------------------------------------------------- login

@pages.get("/login")
def login_page(request: Request, next: str = "/"):
    token = request.cookies.get(sessions.LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    request.state.csrf_token = token
    response = render("login.html", request, next=_safe_next(next), error=None)
    sessions.set_cookie(response, sessions.LOGIN_CSRF_COOKIE, token, 3600)
    return response


def _too_many(request: Request, target: str, email: str, retry_after: int, reason: str) -> HTMLResponse:
    minutes = math.ceil(retry_after / 60)
    wait = f"{retry_after} seconds" if retry_after < 120 else f"{minutes} minutes"
    response = render("login.html", request, status_code=429, next=target, email=email,
                      error=f"Too many sign-in attempts {reason}. Try again in {wait}.")
    response.headers["Retry-After"] = str(retry_after)
    return response


def _sign_in(email: str, password: str, address: str, user_agent: str, previous: str | None) -> str | None:
    """Blocking: check the password (scrypt) and store a session in place of the browser's
    previous one; the new cookie token, or None."""
    from assay.orgs.service import authenticate_password

    with get_db().read() as session:
        user = authenticate_password(session, email, password)
    if user is None:
        return None
    with get_db().write() as session:
        return sessions.create(session, user, address, user_agent, replaces=previous)[0]


@pages.post("/login")
async def login_submit(request: Request):
    """Sign in. Refused with 429 (and Retry-After) while the client address has made too
    many attempts or the account has failed too often, even with the right password. The
    password work runs off the event loop."""
    form = await request.form()
    token = request.cookies.get(sessions.LOGIN_CSRF_COOKIE) or ""
    request.state.csrf_token = token
    target = _safe_next(form.get("next"))
    if not token or not sessions.csrf_ok(token, form.get("csrf_token")):
        return render("login.html", request, status_code=403, next=target, error="The form expired; please sign in again.")
    email = form.get("email") if isinstance(form.get("email"), str) else ""
    password = form.get("password") if isinstance(form.get("password"), str) else ""
    address, user_agent = sessions.client_details(request)
    wait = sessions.address_attempt(address)
    if wait:
        return _too_many(request, target, email, wait, "from your address")
    account = sessions.account_key(email)
    async with sessions.account_gate(account):
        wait = sessions.account_locked(account)
        if wait:
            return _too_many(request, target, email, wait, "for this account")
        cookie = await run_password_work(_sign_in, email, password, address, user_agent, request.cookies.get(sessions.COOKIE))
        if cookie is None:
            sessions.account_failed(account)
            return render("login.html", request, status_code=401, next=target, error="Wrong e-mail or password.", email=email)
    response = RedirectResponse(target, status_code=303)
    sessions.set_session_cookie(response, cookie)
    sessions.delete_cookie(response, sessions.LOGIN_CSRF_COOKIE)
    return response


@pages.post("/logout")
async def logout(request: Request):
    """Sign out: the session's row is deleted, so a copy of the cookie is worthless too."""
    token = request.cookies.get(sessions.COOKIE)
    session = await run_in_threadpool(sessions.resolve, token)
    form = await request.form()
    if session is not None and not sessions.csrf_ok(session.csrf, form.get("csrf_token")):
        return Response("CSRF check failed", status_code=403)
    await run_in_threadpool(sessions.end, token)
    response = RedirectResponse("/login", status_code=303)
    sessions.delete_cookie(response, sessions.COOKIE)
    return response


# ----------------------------------------------------------------------------- labeler pages

@pages.get("/")
@guarded
def home(request: Request, principal: Principal):
    from assay.queue.service import project_summaries

    with get_db().write() as session:
        projects = project_summaries(session, principal)
    for project in projects:
        project["workbench_tool"] = tool_available(project["type"])
    return render("home.html", request, projects=projects)


def _workbench(request: Request, principal: Principal, project_id: str, mode: str):
    from assay.queue.service import load_project
    from assay.tasktypes import get_plugin

    with get_db().read() as session:
        project = load_project(session, principal, project_id, review=mode == "review")
    settings = get_settings()
    tool_css = (HERE / "static" / "css" / "tools" / f"{project.type}.css").exists()
    return render("workbench.html", request, project=project, mode=mode, type_title=get_plugin(project.type).title, tool_css=tool_css,
                  heartbeat_seconds=settings.heartbeat_seconds, idle_after_seconds=settings.idle_after_seconds)


@pages.get("/label/{project_id}")
@guarded
def label_page(request: Request, principal: Principal, project_id: str):
    return _workbench(request, principal, project_id, "label")


@pages.get("/review/{project_id}")
@guarded
def review_page(request: Request, principal: Principal, project_id: str):
    return _workbench(request, principal, project_id, "review")


@pages.get("/view/task/{task_id}")
@guarded
def task_page(request: Request, principal: Principal, task_id: str):
    from assay.tasks.detail import task_detail

    with get_db().read() as session:
        detail = task_detail(session, principal, task_id)
    return render("task.html", request, task=detail)


# ----------------------------------------------------------------------------- admin pages

def _admin(principal: Principal) -> None:
    from assay.policies import require_admin

    require_admin(principal)


@pages.get("/admin/users")
@guarded
def users_page(request: Request, principal: Principal):
    from assay.orgs.models import ROLES
    from assay.orgs.service import list_users, user_json

    _admin(principal)
    with get_db().read() as session:
        users = [user_json(u) for u in list_users(session, principal.org_id)]
    return render("admin_users.html", request, users=users, roles=ROLES)


@pages.get("/admin/projects")
@guarded
def projects_page(request: Request, principal: Principal):
    from assay.projects.service import list_projects

    _admin(principal)
    with get_db().read() as session:
        projects = list_projects(session, principal)
    return render("admin_projects.html", request, projects=projects)


@pages.get("/admin/projects/{project_id}")
@guarded
def project_page(request: Request, principal: Principal, project_id: str):
    from assay.backends.service import BACKENDS, FEATURES, STRATEGIES, model_json
    from assay.markdown import render as markdown
    from assay.orgs.service import list_users
    from assay.projects.service import get_project_by_id, settings_json

    _admin(principal)
    with get_db().read() as session:
        project = get_project_by_id(session, principal, project_id)
        settings = settings_json(session, project)
        model = model_json(session, project)
        member_ids = {m["id"] for m in settings["members"]}
        candidates = [u for u in list_users(session, principal.org_id) if u.id not in member_ids and u.role != "customer" and u.active]
    return render("admin_project.html", request, project=settings, candidates=candidates, instruction_html=markdown(settings["instruction"]),
                  model=model, backends=BACKENDS, features=FEATURES, strategies=STRATEGIES)


def _heat(value: float | None, buckets: int = 5) -> int:
    """Intensity bucket 0..buckets of a share in [0, 1] (0 only for nothing at all)."""
    if value is None or value <= 0:
        return 0
    return min(buckets, 1 + int(value * buckets))


def _heat_rows(matrix: list[list[int]]) -> list[list[dict]]:
    """Confusion matrix cells with their share of the row (the final label) and a bucket."""
    rows = []
    for r, row in enumerate(matrix):
        total = sum(row)
        rows.append([{"n": n, "share": n / total if total else 0.0, "heat": _heat(n / total if total else 0.0), "diagonal": r == c}
                     for c, n in enumerate(row)])
    return rows


@pages.get("/admin/projects/{project_id}/quality")
@guarded
def quality_page(request: Request, principal: Principal, project_id: str):
    from assay.projects.quality import quality_report
    from assay.projects.service import get_project_by_id

    with get_db().read() as session:
        report = quality_report(session, principal, get_project_by_id(session, principal, project_id))
    heatmaps = []
    if report["categorical"] and report["annotators"]:
        heatmaps.append({"title": "All annotators", "user_id": "all", "rows": _heat_rows(report["confusion_total"])})
        heatmaps += [{"title": a["email"] or f"user {a['user_id']}", "user_id": a["user_id"], "rows": _heat_rows(a["confusion"])}
                     for a in report["annotators"] if a["answers"]]
    gold_heatmaps = []
    if report["categorical"] and report["gold_answers"]:
        gold_heatmaps.append({"title": "All annotators", "user_id": "gold-all", "rows": _heat_rows(report["gold_confusion_total"])})
        gold_heatmaps += [{"title": a["email"] or f"user {a['user_id']}", "user_id": f"gold-{a['user_id']}", "rows": _heat_rows(a["gold_confusion"])}
                          for a in report["annotators"] if a["gold_answered"]]
    by_id = {a["user_id"]: a for a in report["annotators"]}
    kappa_people = [a for a in report["annotators"] if a["kappa"]]
    kappa = {(p["a"], p["b"]): p for p in report["agreement"]["pairwise"]["pairs"]}
    kappa.update({(b, a): p for (a, b), p in list(kappa.items())})
    return render("quality.html", request, report=report, heatmaps=heatmaps, gold_heatmaps=gold_heatmaps, kappa_people=kappa_people, kappa=kappa, by_id=by_id,
                  heat=_heat)

"""How every page is made: Jinja2 templates with autoescape, a Content-Security-Policy that
only runs our own scripts, the signed-in principal from the session cookie, and the
`guarded` wrapper (no session → login page; an API error → an error page with the status
and message the JSON twin would give). Task content never passes through a template
unescaped: the workbench fetches it as JSON and the tools render it as text."""

from __future__ import annotations

import functools
import inspect
from pathlib import Path
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from assay import __version__
from assay.auth import sessions
from assay.auth.principals import Principal, session_for_token
from assay.errors import ApiError

HERE = Path(__file__).parent
templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
static = StaticFiles(directory=HERE / "static")

# Pages only load our own scripts and styles; attachments (images, audio, PDFs) may come
# from anywhere http(s). Even a bug that let markup through could not run a script.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: http: https:; "
       "media-src 'self' blob: http: https:; frame-src 'self' http: https:; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")


class LoginRequired(Exception):
    pass


def headers() -> dict[str, str]:
    return {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
            "Cache-Control": "no-store"}


def render(name: str, request: Request, status_code: int = 200, **context) -> HTMLResponse:
    principal = getattr(request.state, "principal", None)
    html = templates.get_template(name).render(
        request=request, me=principal, csrf_token=getattr(request.state, "csrf_token", ""), version=__version__, **context
    )
    return HTMLResponse(html, status_code=status_code, headers=headers())


def page_principal(request: Request) -> Principal:
    session = session_for_token(request.cookies.get(sessions.COOKIE))
    if session is None:
        raise LoginRequired()
    request.state.principal = session.principal
    request.state.csrf_token = session.csrf
    return session.principal


def guarded(handler):
    """Page handler wrapper: the handler gets the signed-in principal."""

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

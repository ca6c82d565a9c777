"""Cookie attributes: HttpOnly and SameSite=Lax always; Secure when the server's public
URL is https (and not over plain http, where a Secure cookie would never come back)."""

from __future__ import annotations

import httpx

from tests import local_http
from tests.browser import Org
from tests.security.support import FORM_TOKEN


def cookie_header(response: httpx.Response, name: str) -> str:
    found = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    assert len(found) == 1, response.headers.get_list("set-cookie")
    return found[0]


def attributes(header: str) -> list[str]:
    return [part.strip().lower() for part in header.split(";")[1:]]


def sign_in_raw(srv, email: str, password: str) -> tuple[httpx.Response, httpx.Response]:
    """(GET /login, POST /login), sending the login cookie by hand: a client keeps Secure
    cookies from plain-http requests, as a browser would."""
    http = local_http.Client(base_url=srv.url, timeout=30)
    page = http.get("/login")
    token = FORM_TOKEN.search(page.text).group(1)
    login_cookie = cookie_header(page, "assay_login_csrf").split(";")[0].split("=", 1)[1]
    posted = local_http.post(f"{srv.url}/login", data={"csrf_token": token, "email": email, "password": password},
                        headers={"Cookie": f"assay_login_csrf={login_cookie}"}, timeout=30)
    return page, posted


def test_cookies_are_secure_behind_an_https_public_url(sqlite_server):
    srv = sqlite_server(ASSAY_PUBLIC_URL="https://labels.example.com")
    person = Org(srv).person("annotator")
    page, posted = sign_in_raw(srv, person.email, person.password)
    assert posted.status_code == 303, posted.text
    for header in (cookie_header(page, "assay_login_csrf"), cookie_header(posted, "assay_session")):
        assert {"secure", "httponly", "samesite=lax"} <= set(attributes(header)), header
    # the session works when the cookie comes back (as a browser sends it over https)
    session = cookie_header(posted, "assay_session").split(";")[0].split("=", 1)[1]
    assert local_http.get(f"{srv.url}/api/me", headers={"Cookie": f"assay_session={session}"}).status_code == 200
    # logging out clears it with the same attributes
    home = local_http.get(f"{srv.url}/", headers={"Cookie": f"assay_session={session}"})
    out = local_http.post(f"{srv.url}/logout", data={"csrf_token": FORM_TOKEN.search(home.text).group(1)},
                     headers={"Cookie": f"assay_session={session}"})
    assert out.status_code == 303 and "secure" in attributes(cookie_header(out, "assay_session"))


def test_cookies_are_not_secure_over_plain_http(server):
    person = Org(server).person("annotator")
    page, posted = sign_in_raw(server, person.email, person.password)
    assert posted.status_code == 303, posted.text
    for header in (cookie_header(page, "assay_login_csrf"), cookie_header(posted, "assay_session")):
        assert "secure" not in attributes(header) and {"httponly", "samesite=lax"} <= set(attributes(header)), header

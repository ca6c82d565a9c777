"""Helpers of the security tests: an HTTP client that signs in the way a browser does
(login form token, session cookie, the page's CSRF token), and SQLite-only servers for
tests where the database does not matter."""

from __future__ import annotations

import re

import httpx

from tests import local_http
from tests.support import Server

FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
META_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class Browser:
    """One browser profile (its own cookie jar). `address` is sent as X-Forwarded-For,
    which uvicorn believes from 127.0.0.1 (a reverse proxy's position): a stand-in for
    clients at different addresses."""

    def __init__(self, server: Server, address: str | None = None, cookies: dict | None = None):
        headers = {"X-Forwarded-For": address} if address else {}
        self.http = local_http.Client(base_url=server.url, timeout=30, headers=headers, cookies=cookies)

    def try_login(self, email: str, password: str) -> httpx.Response:
        page = self.http.get("/login")
        assert page.status_code == 200, page.text
        token = FORM_TOKEN.search(page.text).group(1)
        return self.http.post("/login", data={"csrf_token": token, "email": email, "password": password, "next": "/"})

    def login(self, email: str, password: str) -> "Browser":
        r = self.try_login(email, password)
        assert r.status_code == 303, (r.status_code, r.text)
        home = self.http.get("/")
        assert home.status_code == 200, home.text
        self.http.headers["X-CSRF-Token"] = META_TOKEN.search(home.text).group(1)
        return self

    @property
    def cookie(self) -> str:
        return self.http.cookies["assay_session"]

    def copy(self, server: Server) -> "Browser":
        """Another client holding a copy of this one's session cookie (and CSRF token)."""
        thief = Browser(server, cookies={"assay_session": self.cookie})
        thief.http.headers["X-CSRF-Token"] = self.http.headers.get("X-CSRF-Token", "")
        return thief

    def me(self) -> int:
        return self.http.get("/api/me").status_code

    def logout(self) -> httpx.Response:
        home = self.http.get("/")
        token = FORM_TOKEN.search(home.text).group(1)
        return self.http.post("/logout", data={"csrf_token": token})

"""httpx's request functions and Client for the tests, with one TLS context shared by all.

httpx builds a verifying TLS context for every client it makes, `local_http.get()` included,
and building one reads the whole CA bundle: ~15 ms of CPU. The suite makes thousands
(every poll of a booting server's health was one), which cost minutes of CPU. The
requests themselves are httpx's own, unchanged."""

from __future__ import annotations

import httpx

TLS = httpx.create_ssl_context()


def Client(**options) -> httpx.Client:  # noqa: N802 — httpx.Client's name, for its callers
    options.setdefault("verify", TLS)
    return httpx.Client(**options)


def request(method: str, url: str, *, cookies=None, timeout=httpx.Timeout(5.0), follow_redirects: bool = False, **kw) -> httpx.Response:
    """What `httpx.request` does (a client for one request), with the shared context."""
    with httpx.Client(cookies=cookies, verify=TLS, timeout=timeout) as client:
        return client.request(method, url, follow_redirects=follow_redirects, **kw)


def get(url: str, **kw) -> httpx.Response:
    return request("GET", url, **kw)


def post(url: str, **kw) -> httpx.Response:
    return request("POST", url, **kw)


def put(url: str, **kw) -> httpx.Response:
    return request("PUT", url, **kw)


def patch(url: str, **kw) -> httpx.Response:
    return request("PATCH", url, **kw)


def delete(url: str, **kw) -> httpx.Response:
    return request("DELETE", url, **kw)

"""Server-side outbound HTTP (file import, attachment checks, callbacks).

Every request's host is resolved first and refused when any address it resolves to is
loopback, private, link-local, multicast or otherwise not public, unless it lies in
ASSAY_ALLOWED_PRIVATE_NETWORKS. Redirects are followed by hand so each hop is checked.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urljoin, urlsplit

import httpx
import orjson

from assay.config import get_settings

MAX_REDIRECTS = 5


class UrlRefused(Exception):
    """The URL may not be fetched (bad scheme, private address, too large, ...)."""


def _addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise UrlRefused(f"cannot resolve host {host!r}: {exc.strerror}") from None
    out = []
    for info in infos:
        ip = ipaddress.ip_address(info[4][0].split("%")[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        out.append(ip)
    return out


def check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UrlRefused(f"only http and https URLs can be fetched, not {parts.scheme or 'no scheme'!r}")
    if not parts.hostname:
        raise UrlRefused("the URL has no host")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    allowed = get_settings().private_networks
    for ip in _addresses(parts.hostname, port):
        if ip.is_global and not ip.is_multicast:
            continue
        if any(ip in net for net in allowed if net.version == ip.version):
            continue
        raise UrlRefused(
            f"{parts.hostname} resolves to {ip}, a private or loopback address; "
            "allow it with ASSAY_ALLOWED_PRIVATE_NETWORKS if this server should reach it"
        )


def _request(client: httpx.Client, method: str, url: str, **kwargs) -> httpx.Response:
    for _ in range(MAX_REDIRECTS + 1):
        check_url(url)
        request = client.build_request(method, url, **kwargs)
        response = client.send(request, stream=True, follow_redirects=False)
        if response.is_redirect and "location" in response.headers:
            response.close()
            url = urljoin(url, response.headers["location"])
            if method == "POST":  # never re-post a callback body to a redirect target
                raise UrlRefused("the callback URL answered with a redirect")
            continue
        return response
    raise UrlRefused(f"more than {MAX_REDIRECTS} redirects")


def fetch(url: str, max_bytes: int, timeout: float = 30.0) -> tuple[bytes, str]:
    """GET a URL; returns (body, content type). Refuses bodies over max_bytes."""
    with httpx.Client(timeout=timeout) as client:
        response = _request(client, "GET", url)
        try:
            if response.status_code != 200:
                raise UrlRefused(f"GET {url} answered HTTP {response.status_code}")
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise UrlRefused(f"the file is {declared} bytes, over the {max_bytes}-byte limit")
            body = _read_at_most(response, max_bytes, "the file")
            return body, response.headers.get("content-type", "application/octet-stream").split(";")[0]
        finally:
            response.close()


def _read_at_most(response: httpx.Response, max_bytes: int, what: str) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise UrlRefused(f"{what} is over the {max_bytes}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def probe(url: str, timeout: float = 15.0) -> None:
    """Check that a URL is downloadable: a GET answered 2xx (only the headers are read)."""
    with httpx.Client(timeout=timeout) as client:
        response = _request(client, "GET", url)
        response.close()
        if not 200 <= response.status_code < 300:
            raise UrlRefused(f"GET {url} answered HTTP {response.status_code}")


def post(client: httpx.Client, url: str, body: bytes, headers: dict[str, str]) -> int:
    response = _request(client, "POST", url, content=body, headers=headers)
    response.close()
    return response.status_code


def call_json(method: str, url: str, body=None, timeout: float = 10.0, max_bytes: int = 20 * 1024 * 1024):
    """A JSON request to a service the customer configured (a model backend): the same
    address rules as every other outbound call, no redirects for POST, a size limit on
    the answer. Returns the parsed JSON; raises UrlRefused on a refused URL or a non-2xx
    answer, httpx errors on network failures and timeouts."""
    content = orjson.dumps(body) if body is not None else None
    headers = {"content-type": "application/json", "accept": "application/json"}
    with httpx.Client(timeout=timeout) as client:
        response = _request(client, method, url, content=content, headers=headers)
        try:
            answer = _read_at_most(response, max_bytes, f"{method} {url}: the answer")
            if not 200 <= response.status_code < 300:
                raise UrlRefused(f"{method} {url} answered HTTP {response.status_code}: {answer[:200].decode(errors='replace')}")
            try:
                return orjson.loads(answer)
            except orjson.JSONDecodeError:
                raise UrlRefused(f"{method} {url} did not answer JSON") from None
        finally:
            response.close()

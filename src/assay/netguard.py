"""Server-side outbound HTTP (file import, attachment checks, callbacks, model backends).

Every request's host is resolved once and refused when any address it resolves to is not
public (loopback, private, link-local, multicast, reserved, or an IPv6 address standing
for such an IPv4 address: IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo), unless it
lies in ASSAY_ALLOWED_PRIVATE_NETWORKS. The request then connects to a checked address
(the Host header and TLS SNI/certificate checks use the real host name), so a DNS server
that answers differently the second time (rebinding) cannot steer it elsewhere.
Redirects are followed by hand so each hop is resolved and checked the same way.

Messages never print what a host resolved to, nor resolver or socket details: they end
up in API errors and task responses, and must not map the internal network.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import os
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx
import orjson

from assay.config import get_settings

MAX_REDIRECTS = 5

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated ::a.b.c.d
_NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052
_NAT64_LOCAL_USE = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215


class UrlRefused(Exception):
    """The URL may not be fetched (bad scheme, private address, too large, ...)."""


# --------------------------------------------------------------------------- addresses

def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address stands for or is routed to: IPv4-mapped and
    IPv4-compatible, NAT64 (for the local-use /48 both the /96 and the /48 placement,
    since the prefix length is the operator's choice), 6to4, and Teredo's server and
    client."""
    n = int(ip)
    low32 = ipaddress.IPv4Address(n & 0xFFFFFFFF)
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip in _IPV4_COMPATIBLE or ip in _NAT64_WELL_KNOWN:
        found.append(low32)
    if ip in _NAT64_LOCAL_USE:
        # RFC 6052 /48 layout: IPv4 octets 1-2 in bits 48-63, octets 3-4 in bits 72-87
        found += [low32, ipaddress.IPv4Address(((n >> 64) & 0xFFFF) << 16 | ((n >> 40) & 0xFFFF))]
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found += list(ip.teredo)
    return found


def is_public(ip: Address) -> bool:
    """Globally reachable unicast, and so is every IPv4 address it embeds."""
    if not ip.is_global or ip.is_multicast:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        return all(is_public(v4) for v4 in embedded_ipv4(ip))
    return True


def is_allowed(ip: Address, allowed: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    """Public, or inside one of the configured private networks."""
    return is_public(ip) or any(ip in net for net in allowed if net.version == ip.version)


# --------------------------------------------------------------------------- resolving

@dataclass(frozen=True)
class Target:
    """A URL whose host was resolved once; every address in `addresses` was checked."""

    url: httpx.URL
    host: str  # as sent in DNS (IDNA), for SNI and messages
    addresses: tuple[Address, ...]

    @property
    def host_is_address(self) -> bool:
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            return False
        return True

    def build(self, client: httpx.Client | httpx.AsyncClient, method: str, address: Address, headers: dict[str, str] | None = None,
              content: bytes | None = None) -> httpx.Request:
        """A request to `address`, which the server sees as a request for the URL's host."""
        headers = dict(headers or {})
        headers["Host"] = self.url.netloc.decode("ascii")
        extensions = {}
        if self.url.scheme == "https" and not self.host_is_address:
            extensions["sni_hostname"] = self.host  # TLS SNI and certificate check against the real name
        return client.build_request(method, self.url.copy_with(host=str(address)), headers=headers, content=content, extensions=extensions)


def _parse(url: str) -> tuple[httpx.URL, str, int]:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        raise UrlRefused("not a valid URL") from None
    if parsed.scheme not in ("http", "https"):
        raise UrlRefused(f"only http and https URLs can be fetched, not {parsed.scheme or 'no scheme'!r}")
    host = parsed.raw_host.decode("ascii")
    if not host:
        raise UrlRefused("the URL has no host")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    if not 0 < port < 65536:
        raise UrlRefused(f"the URL's port {port} is not between 1 and 65535")
    return parsed, host, port


def _checked(parsed: httpx.URL, host: str, infos: list) -> Target:
    addresses: list[Address] = []
    for info in infos:
        ip = ipaddress.ip_address(info[4][0].split("%")[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise UrlRefused(f"cannot resolve host {host!r}")
    allowed = get_settings().private_networks
    if not all(is_allowed(ip, allowed) for ip in addresses):
        where = "is" if len(addresses) == 1 and str(addresses[0]) == host else "resolves to"
        raise UrlRefused(
            f"{parsed.host} {where} a private or loopback address; "
            "allow it with ASSAY_ALLOWED_PRIVATE_NETWORKS if this server should reach it"
        )
    return Target(parsed, host, tuple(addresses))


def resolve(url: str) -> Target:
    """Resolve the URL's host once and check every address (blocking)."""
    parsed, host, port = _parse(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise UrlRefused(f"cannot resolve host {host!r}") from None
    return _checked(parsed, host, infos)


async def resolve_async(url: str) -> Target:
    """`resolve` on the running loop (the lookup runs in the loop's default executor)."""
    parsed, host, port = _parse(url)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise UrlRefused(f"cannot resolve host {host!r}") from None
    return _checked(parsed, host, infos)


# --------------------------------------------------------------------------- clients

def client_options(timeout: float) -> dict:
    """Options of every outbound client. No proxies from the environment (a proxy would
    resolve the host itself); CA bundles from SSL_CERT_FILE/SSL_CERT_DIR still apply. No
    kept-alive connections: one opened for a host name must not serve another name that
    shares its address, whose certificate it never checked."""
    return {
        "timeout": timeout,
        "trust_env": False,
        "verify": _verifying_context(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")),
        "limits": httpx.Limits(max_connections=None, max_keepalive_connections=0),
        "follow_redirects": False,
    }


@functools.lru_cache(maxsize=4)
def _verifying_context(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    """One verifying TLS context per CA setting, shared by every client: building one
    reads the whole CA bundle (~15 ms of CPU), which every callback and fetch paid.
    A context is safe to share across threads and clients; the arguments only key the
    cache (httpx reads the same variables)."""
    return httpx.create_ssl_context(trust_env=True)


def _generic(exc: httpx.TransportError, host: str) -> httpx.TransportError:
    """The same kind of error, without the socket or resolver detail."""
    if isinstance(exc, httpx.TimeoutException):
        message = f"{host} did not answer in time"
    elif isinstance(exc, httpx.ConnectError) and _caused_by(exc, ssl.SSLError):
        message = f"the TLS handshake with {host} failed (is its certificate valid for that name?)"
    elif isinstance(exc, httpx.ConnectError):
        message = f"could not connect to {host}"
    else:
        message = f"the connection to {host} failed"
    return type(exc)(message)


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen = exc.__cause__ or exc.__context__
    for _ in range(10):  # httpx → httpcore → ssl is three links
        if seen is None:
            return False
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _next_hop(method: str, url: str, response: httpx.Response) -> str | None:
    if not (response.is_redirect and "location" in response.headers):
        return None
    if method == "POST":  # never re-post a body to a redirect target
        raise UrlRefused("the URL answered with a redirect")
    return urljoin(url, response.headers["location"])


def _request(client: httpx.Client, method: str, url: str, headers: dict[str, str] | None = None, content: bytes | None = None) -> httpx.Response:
    for _ in range(MAX_REDIRECTS + 1):
        target = resolve(url)
        response = _send(client, method, target, headers, content)
        try:
            next_url = _next_hop(method, url, response)
        except UrlRefused:
            response.close()
            raise
        if next_url is None:
            return response
        response.close()
        if headers and httpx.URL(next_url).host != httpx.URL(url).host:
            # a key meant for one host is never sent on to another
            headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
        url = next_url
    raise UrlRefused(f"more than {MAX_REDIRECTS} redirects")


def _send(client: httpx.Client, method: str, target: Target, headers, content) -> httpx.Response:
    for i, address in enumerate(target.addresses):
        try:
            return client.send(target.build(client, method, address, headers, content), stream=True)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            if i == len(target.addresses) - 1:  # nothing was sent: the next address may answer
                raise _generic(exc, target.host) from None
        except httpx.TransportError as exc:
            raise _generic(exc, target.host) from None
    raise AssertionError("a Target has at least one address")


async def _request_async(client: httpx.AsyncClient, method: str, url: str, headers: dict[str, str] | None = None,
                         content: bytes | None = None) -> httpx.Response:
    for _ in range(MAX_REDIRECTS + 1):
        target = await resolve_async(url)
        response = await _send_async(client, method, target, headers, content)
        try:
            next_url = _next_hop(method, url, response)
        except UrlRefused:
            await response.aclose()
            raise
        if next_url is None:
            return response
        await response.aclose()
        url = next_url
    raise UrlRefused(f"more than {MAX_REDIRECTS} redirects")


async def _send_async(client: httpx.AsyncClient, method: str, target: Target, headers, content) -> httpx.Response:
    for i, address in enumerate(target.addresses):
        try:
            return await client.send(target.build(client, method, address, headers, content), stream=True)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            if i == len(target.addresses) - 1:
                raise _generic(exc, target.host) from None
        except httpx.TransportError as exc:
            raise _generic(exc, target.host) from None
    raise AssertionError("a Target has at least one address")


def _read_at_most(response: httpx.Response, max_bytes: int, what: str) -> bytes:
    chunks, size = [], 0
    try:
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise UrlRefused(f"{what} is over the {max_bytes}-byte limit")
            chunks.append(chunk)
    except httpx.TransportError as exc:
        raise _generic(exc, response.request.headers.get("host", "the server")) from None
    return b"".join(chunks)


# --------------------------------------------------------------------------- blocking calls

def fetch(url: str, max_bytes: int, timeout: float = 30.0) -> tuple[bytes, str]:
    """GET a URL; returns (body, content type). Refuses bodies over max_bytes."""
    with httpx.Client(**client_options(timeout)) as client:
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


def call_json(method: str, url: str, body=None, timeout: float = 10.0, max_bytes: int = 20 * 1024 * 1024,
              headers: dict[str, str] | None = None):
    """A JSON request to a service the customer configured (a model backend): the same
    address rules as every other outbound call, no redirects for POST, a size limit on
    the answer. Returns the parsed JSON; raises UrlRefused on a refused URL or a non-2xx
    answer, httpx errors on network failures and timeouts. `headers` (e.g. a bearer
    key) are sent as given and never appear in an error message."""
    content = orjson.dumps(body) if body is not None else None
    headers = {"content-type": "application/json", "accept": "application/json", **(headers or {})}
    with httpx.Client(**client_options(timeout)) as client:
        response = _request(client, method, url, headers=headers, content=content)
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


# --------------------------------------------------------------------------- the delivery loop's calls

def async_client(timeout: float, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(headers=headers, **client_options(timeout))


async def post_async(client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST a callback; returns the status once the status line and headers are read
    (the body is not waited for). The caller bounds the whole call with its deadline."""
    response = await _request_async(client, "POST", url, headers=headers, content=body)
    await response.aclose()
    return response.status_code


async def probe_async(client: httpx.AsyncClient, url: str) -> None:
    """Check that a URL is downloadable: a GET answered 2xx (only the headers are read)."""
    response = await _request_async(client, "GET", url)
    await response.aclose()
    if not 200 <= response.status_code < 300:
        raise UrlRefused(f"GET {url} answered HTTP {response.status_code}")

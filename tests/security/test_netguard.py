"""netguard: which addresses count as private (IPv6 forms embedding a private IPv4
included), that a request connects to the very address that was checked (DNS rebinding),
on every redirect hop and over TLS, and that messages reveal neither DNS answers nor
socket details. In-process, against real HTTP(S) servers on 127.0.0.1 and 127.0.0.2;
only the OS resolver is replaced, to answer made-up host names."""

from __future__ import annotations

import asyncio
import concurrent.futures
import ipaddress
import socket
import ssl
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import trustme

from assay import netguard
from assay.config import reset_settings
from assay.netguard import UrlRefused, is_allowed, is_public
from tests.support import serve_in_thread

# --------------------------------------------------------------------------- classification

PRIVATE = [
    "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1",
    "::1", "::", "fe80::1", "fc00::1", "ff02::1",
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::7f00:1", "::a00:5",  # IPv4-compatible ::127.0.0.1, ::10.0.0.5
    "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe",  # NAT64 of 127.0.0.1, 169.254.169.254
    "64:ff9b:1::7f00:1",  # local-use NAT64, /96 placement
    "64:ff9b:1:7f00:0:100::",  # local-use NAT64, /48 placement (RFC 6052) of 127.0.0.1
    "2002:7f00:1::", "2002:a00:1:1::1", "2002:c0a8:101::",  # 6to4 of 127.0.0.1, 10.0.0.1, 192.168.1.1
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
    "2001:0:4136:e378:8000:63bf:f7f7:f7f7",  # Teredo with public server and client: not global either
]
PUBLIC = ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e", "64:ff9b::808:808", "2002:808:808::1"]


@pytest.mark.parametrize("address", PRIVATE)
def test_private_addresses(address):
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses(address):
    assert is_public(ipaddress.ip_address(address))


def test_embedded_ipv4_of_each_form():
    v6 = ipaddress.IPv6Address
    v4 = ipaddress.IPv4Address
    assert netguard.embedded_ipv4(v6("::7f00:1")) == [v4("127.0.0.1")]
    assert netguard.embedded_ipv4(v6("64:ff9b::a00:5")) == [v4("10.0.0.5")]
    assert v4("127.0.0.1") in netguard.embedded_ipv4(v6("64:ff9b:1:7f00:0:100::"))
    assert netguard.embedded_ipv4(v6("2002:a00:1::")) == [v4("10.0.0.1")]
    assert netguard.embedded_ipv4(v6("2001:0:4136:e378:8000:63bf:80ff:fffe")) == [v4("65.54.227.120"), v4("127.0.0.1")]
    assert netguard.embedded_ipv4(v6("2606:4700:4700::1111")) == []


def test_configured_networks_are_still_allowed():
    allowed = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8")]
    assert is_allowed(ipaddress.ip_address("10.9.8.7"), allowed)
    assert is_allowed(ipaddress.ip_address("fd12::1"), allowed)
    assert not is_allowed(ipaddress.ip_address("192.168.0.1"), allowed)
    assert not is_allowed(ipaddress.ip_address("::a09:807"), allowed)  # an IPv6 form is matched as itself
    assert is_allowed(ipaddress.ip_address("8.8.8.8"), [])


# --------------------------------------------------------------------------- fixtures

class FakeDns:
    """Answers lookups of made-up names from `answers` (name → one answer per lookup, the
    last one repeating; an answer is one address or several joined by commas); every
    other name goes to the real resolver."""

    def __init__(self):
        self.answers: dict[str, list[str]] = {}
        self.lookups: list[str] = []
        self.real = socket.getaddrinfo

    def __call__(self, host, port, family=0, type=0, proto=0, flags=0):
        name = host.decode() if isinstance(host, bytes) else host
        if name not in self.answers:
            return self.real(host, port, family, type, proto, flags)
        self.lookups.append(name)
        queue = self.answers[name]
        if not queue:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        infos = []
        for address in answer.split(","):
            if ":" in address:
                infos.append((socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, int(port), 0, 0)))
            else:
                infos.append((socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, int(port))))
        return infos


@pytest.fixture()
def dns(monkeypatch) -> FakeDns:
    fake = FakeDns()
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return fake


@pytest.fixture()
def allow(monkeypatch):
    """allow("127.0.0.1/32"): ASSAY_ALLOWED_PRIVATE_NETWORKS for this process."""

    def set_networks(networks: str) -> None:
        monkeypatch.setenv("ASSAY_ALLOWED_PRIVATE_NETWORKS", networks)
        reset_settings()

    yield set_networks
    monkeypatch.delenv("ASSAY_ALLOWED_PRIVATE_NETWORKS", raising=False)
    reset_settings()


class RecordingServer:
    """Records (method, path, Host header) of every request; answers 200 with `{}`, or a
    redirect for paths in `redirects`."""

    def __init__(self, host: str, port: int = 0, ssl_context: ssl.SSLContext | None = None):
        self.requests: list[tuple[str, str, str]] = []
        self.redirects: dict[str, str] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def handle_one(self):
                self.rfile.read(int(self.headers.get("content-length") or 0))
                server.requests.append((self.command, self.path, self.headers.get("host")))
                if self.path in server.redirects:
                    self.send_response(302)
                    self.send_header("location", server.redirects[self.path])
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_GET = do_POST = handle_one  # noqa: N815

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        if ssl_context is not None:
            self.httpd.socket = ssl_context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        serve_in_thread(self.httpd)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def servers():
    """A server on 127.0.0.1 (`checked`) and one on 127.0.0.2 with the same port (`other`)."""
    checked = RecordingServer("127.0.0.1")
    other = RecordingServer("127.0.0.2", port=checked.port)
    yield checked, other
    checked.close()
    other.close()


def call(kind: str, url: str):
    """One outbound call of each kind netguard offers."""
    if kind == "fetch":
        return netguard.fetch(url, 1000, timeout=10)
    if kind == "call_json":
        return netguard.call_json("POST", url, {"x": 1}, timeout=10)

    async def run():
        async with netguard.async_client(timeout=10) as client:
            if kind == "post_async":
                return await netguard.post_async(client, url, b"{}", {"content-type": "application/json"})
            return await netguard.probe_async(client, url)

    # in a thread of its own: a browser test's Playwright keeps an event loop running in
    # this thread for the rest of the session
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


KINDS = ["fetch", "call_json", "post_async", "probe_async"]
METHOD = {"fetch": "GET", "call_json": "POST", "post_async": "POST", "probe_async": "GET"}


# --------------------------------------------------------------------------- rebinding

@pytest.mark.parametrize("kind", KINDS)
def test_the_connection_goes_to_the_address_that_was_checked(kind, dns, allow, servers):
    checked, other = servers
    allow("127.0.0.1/32")
    # a rebinding DNS server: the checked answer first, an address that is not allowed next
    dns.answers["rebind.test"] = ["127.0.0.1", "127.0.0.2"]
    call(kind, f"http://rebind.test:{checked.port}/hook?x=1")
    assert other.requests == []
    assert checked.requests == [(METHOD[kind], "/hook?x=1", f"rebind.test:{checked.port}")]
    assert dns.lookups == ["rebind.test"]  # resolved once


@pytest.mark.parametrize("kind", ["fetch", "probe_async"])
def test_each_redirect_hop_is_resolved_once_and_connected_to_as_checked(kind, dns, allow, servers):
    checked, other = servers
    allow("127.0.0.1/32")
    dns.answers["start.test"] = ["127.0.0.1", "127.0.0.2"]
    dns.answers["hop.test"] = ["127.0.0.1", "127.0.0.2"]
    checked.redirects["/start"] = f"http://hop.test:{checked.port}/end"
    call(kind, f"http://start.test:{checked.port}/start")
    assert dns.lookups == ["start.test", "hop.test"]
    assert checked.requests == [("GET", "/start", f"start.test:{checked.port}"), ("GET", "/end", f"hop.test:{checked.port}")]
    assert other.requests == []


@pytest.mark.parametrize("kind", ["fetch", "probe_async"])
def test_a_redirect_to_a_private_address_is_refused_before_connecting(kind, dns, allow, servers):
    checked, other = servers
    allow("127.0.0.1/32")
    dns.answers["start.test"] = ["127.0.0.1"]
    dns.answers["inside.test"] = ["127.0.0.2"]
    checked.redirects["/start"] = f"http://inside.test:{checked.port}/secret"
    with pytest.raises(UrlRefused) as exc:
        call(kind, f"http://start.test:{checked.port}/start")
    assert "inside.test resolves to a private or loopback address" in str(exc.value)
    assert "127.0.0.2" not in str(exc.value)
    assert other.requests == []


@pytest.mark.parametrize("address", ["127.0.0.2", "::7f00:2", "64:ff9b::7f00:2", "2002:7f00:2::", "::ffff:10.0.0.5"])
@pytest.mark.parametrize("kind", KINDS)
def test_private_answers_are_refused_without_revealing_them(kind, address, dns, allow, servers):
    _, other = servers
    allow("127.0.0.1/32")
    dns.answers["inside.test"] = [address]
    with pytest.raises(UrlRefused) as exc:
        call(kind, f"http://inside.test:{other.port}/hook")
    message = str(exc.value)
    assert "inside.test resolves to a private or loopback address" in message
    assert "ASSAY_ALLOWED_PRIVATE_NETWORKS" in message
    for shown in (address, str(ipaddress.ip_address(address)), "127.0.0", "10.0.0.5", "7f00"):
        assert shown not in message
    assert other.requests == []  # nothing was sent


def test_one_private_answer_among_public_ones_refuses_the_host(dns, allow):
    allow("")
    dns.answers["mixed.test"] = ["8.8.8.8,64:ff9b::a00:1"]
    with pytest.raises(UrlRefused, match="mixed.test resolves to a private or loopback address"):
        netguard.fetch("http://mixed.test/x", 1000)


# --------------------------------------------------------------------------- messages

def test_network_errors_say_what_failed_without_socket_detail(allow):
    allow("127.0.0.0/8")
    with socket.socket() as s:  # a port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(httpx.ConnectError) as exc:
        netguard.fetch(f"http://127.0.0.1:{port}/x", 1000)
    assert str(exc.value) == "could not connect to 127.0.0.1"


def test_unresolvable_host_message_has_no_resolver_detail(dns, allow):
    allow("")
    dns.answers["nowhere.test"] = []
    with pytest.raises(UrlRefused) as exc:
        netguard.fetch("http://nowhere.test/x", 1000)
    assert str(exc.value) == "cannot resolve host 'nowhere.test'"


@pytest.mark.parametrize("url, message", [
    ("ftp://example.com/x", "only http and https"),
    ("file:///etc/passwd", "only http and https"),
    ("not a url", "only http and https"),
    ("http:///x", "no host"),
    ("http://example.com:99999/x", "between 1 and 65535"),
])
def test_bad_urls_are_refused_with_a_reason(url, message):
    with pytest.raises(UrlRefused, match=message):
        netguard.fetch(url, 1000)


# --------------------------------------------------------------------------- TLS

@pytest.fixture()
def tls(tmp_path, monkeypatch):
    """An HTTPS server on 127.0.0.1 with a certificate for secure.test from a test CA
    that the outbound clients trust (SSL_CERT_FILE); records the SNI names it sees."""
    ca = trustme.CA()
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("secure.test").configure_cert(ctx)
    names: list[str | None] = []
    ctx.sni_callback = lambda sock, name, _ctx: names.append(name)
    server = RecordingServer("127.0.0.1", ssl_context=ctx)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    yield server, names
    server.close()


@pytest.mark.parametrize("kind", KINDS)
def test_https_to_the_checked_address_uses_the_host_name_for_sni_and_the_certificate(kind, dns, allow, tls):
    server, names = tls
    allow("127.0.0.1/32")
    dns.answers["secure.test"] = ["127.0.0.1"]
    call(kind, f"https://secure.test:{server.port}/file")
    assert names == ["secure.test"]
    assert server.requests == [(METHOD[kind], "/file", f"secure.test:{server.port}")]
    # the same address under a name the certificate does not cover is refused
    dns.answers["impostor.test"] = ["127.0.0.1"]
    with pytest.raises(httpx.ConnectError, match="TLS handshake with impostor.test failed"):
        call(kind, f"https://impostor.test:{server.port}/file")
    assert len(server.requests) == 1


def test_outbound_clients_share_one_verifying_context_per_ca_setting(tmp_path, monkeypatch):
    # building a context reads the whole CA bundle (~15 ms of CPU per callback before);
    # a changed CA setting still gets its own context
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    first, second = netguard.client_options(5)["verify"], netguard.client_options(30)["verify"]
    assert first is second
    assert first.verify_mode == ssl.CERT_REQUIRED and first.check_hostname
    ca_file = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    assert netguard.client_options(5)["verify"] is not first

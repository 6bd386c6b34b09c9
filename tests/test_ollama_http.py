"""The scan's HTTP client (ctxfix/ollama_http.py): proxies, redirects, keep-alive, errors.

Proxy rules are Go's (golang.org/x/net http/httpproxy), what Ollama's own client
follows; the tables below are ported from its proxy_test.go. Every server here
is a real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ctxfix import ollama_http
from ctxfix.ollama_http import Host, _no_proxy, proxy_for

# golang.org/x/net http/httpproxy/proxy_test.go `noProxy` and `UseProxyTests`
# (host, proxied), every host asked on port 80.
GO_NO_PROXY = (
    "foobar.com, .barbaz.net, *.wildcard.io, 192.168.1.1, 192.168.1.2:81, 192.168.1.3:80, "
    "10.0.0.0/30, 2001:db8::52:0:1, [2001:db8::52:0:2]:443, [2001:db8::52:0:3]:80, "
    "2002:db8:a::45/64"
)
GO_USE_PROXY = [
    ("localhost", False),
    ("127.0.0.1", False),
    ("127.0.0.2", False),
    ("[::1]", False),
    ("[::2]", True),
    ("192.168.1.1", False),
    ("192.168.1.2", True),
    ("192.168.1.3", False),
    ("192.168.1.4", True),
    ("10.0.0.2", False),
    ("[2001:db8::52:0:1]", False),
    ("[2001:db8::52:0:2]", True),
    ("[2001:db8::52:0:3]", False),
    ("[2002:db8:a::123]", False),
    ("[fe80::424b:c8be:1643:a1b6]", True),
    ("barbaz.net", True),
    ("www.barbaz.net", False),
    ("foobar.com", False),
    ("www.foobar.com", False),
    ("foofoobar.com", True),
    ("baz.com", True),
    ("localhost.net", True),
    ("local.localhost", True),
    ("barbarbaz.net", True),
    ("wildcard.io", True),
    ("nested.wildcard.io", False),
    ("awildcard.io", True),
]


@pytest.mark.parametrize(("host", "proxied"), GO_USE_PROXY)
def test_no_proxy_follows_go(host: str, proxied: bool) -> None:
    assert _no_proxy(host.strip("[]"), 80, GO_NO_PROXY) is not proxied
    assert _no_proxy(host.strip("[]"), 80, "*") is True  # TestAllNoProxy
    assert _no_proxy("example.com", 80, ":1") is False  # TestInvalidNoProxy


# proxy_test.go `proxyForURLTests`: (environment, request URL, proxy or None)
GO_PROXY_FOR_URL = [
    ({"HTTP_PROXY": "127.0.0.1:8080"}, "http://example.com", "http://127.0.0.1:8080"),
    ({"HTTP_PROXY": "cache.corp.example.com:1234"}, "http://example.com",
     "http://cache.corp.example.com:1234"),
    ({"HTTP_PROXY": "cache.corp.example.com"}, "http://example.com",
     "http://cache.corp.example.com"),
    ({"HTTP_PROXY": "localhost"}, "http://example.com", "http://localhost"),
    ({"HTTP_PROXY": "https://cache.corp.example.com"}, "http://example.com",
     "https://cache.corp.example.com"),
    ({"HTTP_PROXY": "socks5://127.0.0.1"}, "http://example.com", "socks5://127.0.0.1"),
    ({"HTTP_PROXY": "http.proxy.tld", "HTTPS_PROXY": "secure.proxy.tld"},
     "http://insecure.tld/", "http://http.proxy.tld"),
    ({"HTTP_PROXY": "http.proxy.tld", "HTTPS_PROXY": "secure.proxy.tld"},
     "https://secure.tld/", "http://secure.proxy.tld"),
    ({"HTTP_PROXY": "http.proxy.tld"}, "https://secure.tld/", None),
    # Go refuses HTTP_PROXY in a CGI environment (attacker-controlled); ctxfix goes direct
    ({"HTTP_PROXY": "http://10.1.2.3:8080", "REQUEST_METHOD": "GET"}, "http://example.com", None),
    ({"HTTPS_PROXY": "https://secure.proxy.tld", "REQUEST_METHOD": "GET"}, "https://secure.tld/",
     "https://secure.proxy.tld"),
    ({}, "http://example.com", None),
    ({"NO_PROXY": "example.com", "HTTP_PROXY": "proxy"}, "http://example.com/", None),
    ({"NO_PROXY": ".example.com", "HTTP_PROXY": "proxy"}, "http://example.com/", "http://proxy"),
    ({"NO_PROXY": "ample.com", "HTTP_PROXY": "proxy"}, "http://example.com/", "http://proxy"),
    ({"NO_PROXY": "example.com", "HTTP_PROXY": "proxy"}, "http://foo.example.com/", None),
    ({"NO_PROXY": ".foo.com", "HTTP_PROXY": "proxy"}, "http://example.com/", "http://proxy"),
    ({"NO_PROXY": ".示例.com", "HTTP_PROXY": "proxy"}, "http://www.示例.com", None),
    ({"NO_PROXY": "xn--fsq092h.com", "HTTP_PROXY": "proxy"}, "http://www.示例.com", None),
    ({"NO_PROXY": "示例.com", "HTTP_PROXY": "proxy"}, "http://www.xn--fsq092h.com", None),
    # lower-case names are read too (TestFromEnvironmentLowerCase)
    ({"http_proxy": "httpproxy"}, "http://example.com", "http://httpproxy"),
]  # fmt: skip


@pytest.mark.parametrize(("env", "url", "want"), GO_PROXY_FOR_URL)
def test_proxy_for_follows_go(env: dict[str, str], url: str, want: str | None) -> None:
    import urllib.parse

    p = urllib.parse.urlsplit(url)
    port = p.port or (443 if p.scheme == "https" else 80)
    assert proxy_for(p.scheme, p.hostname or "", port, env) == want


# --------------------------------------------------------------------------- live servers


Handler = Callable[[http.server.BaseHTTPRequestHandler], None]


@contextmanager
def serving(
    handle: Handler, *, close_after_each: bool = False, tls: bool = False
) -> Iterator[tuple[str, list]]:
    """A real HTTP/1.1 server on 127.0.0.1; yields (url, the requests it saw).

    `tls`: behind TLS with tests/tls/loopback.pem (the url still says http://).
    """
    seen: list[dict] = []

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a: object) -> None:
            pass

        def _any(self) -> None:
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else b""
            seen.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "headers": dict(self.headers),
                    "body": body,
                    "peer": self.client_address[1],
                }
            )
            handle(self)
            if close_after_each:  # keep-alive promised, then the socket closed
                self.wfile.flush()
                self.close_connection = True

        do_GET = do_POST = do_CONNECT = _any

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    if tls:
        import ssl

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(TLS / "loopback.pem", TLS / "loopback.key")
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}", seen
    finally:
        srv.shutdown()
        srv.server_close()


def reply(status: int, body: bytes | dict, headers: dict | None = None) -> Handler:
    data = json.dumps(body).encode() if isinstance(body, dict) else body

    def handle(h: http.server.BaseHTTPRequestHandler) -> None:
        h.send_response(status)
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    return handle


def test_an_http_error_reads_the_json_error_field_else_the_body() -> None:
    with serving(reply(404, {"error": "model 'x' not found"})) as (url, _):
        host = Host(url, timeout=5, connect_timeout=1)
        with pytest.raises(ollama_http.HTTPError, match=r"^HTTP 404: model 'x' not found$"):
            host.json("POST", "/api/show", {"model": "x"})
        host.close()
    with serving(reply(502, b"Bad Gateway\n")) as (url, _):
        host = Host(url, timeout=5, connect_timeout=1)
        with pytest.raises(ollama_http.HTTPError, match=r"^HTTP 502: Bad Gateway$"):
            host.json("GET", "/api/tags")
        host.close()


def test_the_api_key_is_sent_as_a_bearer_token_but_never_to_another_origin(monkeypatch) -> None:
    monkeypatch.setenv("OLLAMA_API_KEY", "sk-ollama-secret-1234")
    with serving(reply(200, {"version": "0.30.0"})) as (target, seen_target):
        moved = reply(307, b"", {"Location": f"{target}/api/version"})
        with serving(moved) as (url, seen_first):
            host = Host(url, timeout=5, connect_timeout=1)
            assert host.json("GET", "/api/version") == {"version": "0.30.0"}
            host.close()
    assert seen_first[0]["headers"]["Authorization"] == "Bearer sk-ollama-secret-1234"
    assert "Authorization" not in seen_target[0]["headers"]  # a redirect elsewhere drops it


def test_a_post_redirected_with_303_becomes_a_get_and_307_keeps_it() -> None:
    with serving(reply(200, {"ok": True})) as (target, seen):
        for status, method in ((303, "GET"), (307, "POST")):
            with serving(reply(status, b"", {"Location": f"{target}/api/show"})) as (url, _):
                host = Host(url, timeout=5, connect_timeout=1)
                assert host.json("POST", "/api/show", {"model": "m"}) == {"ok": True}
                host.close()
            assert seen[-1]["method"] == method
    assert seen[-1]["body"] == b'{"model": "m"}'


def test_redirect_loops_end() -> None:
    def loop(h: http.server.BaseHTTPRequestHandler) -> None:
        reply(302, b"", {"Location": "/api/version"})(h)

    with serving(loop) as (url, seen):
        host = Host(url, timeout=5, connect_timeout=1)
        with pytest.raises(ollama_http.ProtocolFault, match="more than 5 redirects"):
            host.json("GET", "/api/version")
        host.close()
    assert len(seen) == 6


def test_a_keep_alive_connection_the_server_closed_is_retried_once() -> None:
    with serving(reply(200, {"version": "0.30.0"}), close_after_each=True) as (url, seen):
        host = Host(url, timeout=5, connect_timeout=1)
        for _ in range(3):
            assert host.json("GET", "/api/version") == {"version": "0.30.0"}
        host.close()
    assert len(seen) == 3


def test_lanes_share_kept_alive_connections() -> None:
    from concurrent.futures import ThreadPoolExecutor

    with serving(reply(200, {"models": []})) as (url, seen):
        host = Host(url, timeout=5, connect_timeout=1, max_connections=4)
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda _: host.json("GET", "/api/tags"), range(40)))
        host.close()
    assert len(seen) == 40 and len({r["peer"] for r in seen}) <= 4


def test_a_plain_http_proxy_gets_the_absolute_url_and_its_own_credentials(monkeypatch) -> None:
    with serving(reply(200, {"version": "0.30.0"})) as (proxy, seen):
        port = proxy.rsplit(":", 1)[1]
        monkeypatch.setenv("HTTP_PROXY", f"http://us%40er:p%3Ass@127.0.0.1:{port}")
        monkeypatch.setenv("NO_PROXY", "other.internal")
        host = Host("http://ollama.internal:11434", timeout=5, connect_timeout=1)
        assert host.json("GET", "/api/version") == {"version": "0.30.0"}
        host.close()
    assert seen[0]["path"] == "http://ollama.internal:11434/api/version"
    assert seen[0]["headers"]["Proxy-Authorization"] == "Basic dXNAZXI6cDpzcw=="  # us@er:p:ss


def test_an_https_host_is_tunnelled_through_the_proxy(monkeypatch) -> None:
    with serving(reply(403, b"")) as (proxy, seen):
        monkeypatch.setenv("HTTPS_PROXY", proxy)
        host = Host("https://ollama.internal:443", timeout=5, connect_timeout=1)
        with pytest.raises(ollama_http.ConnectFailed, match="Tunnel connection failed: 403"):
            host.json("GET", "/api/version")
        host.close()
    assert seen[0]["method"] == "CONNECT" and seen[0]["path"] == "ollama.internal:443"


def test_a_proxy_it_cannot_speak_is_reported_without_its_credentials(monkeypatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "socks5://admin:hunter22@10.0.0.9:1080")
    host = Host("http://ollama.internal:11434", timeout=5, connect_timeout=1)
    with pytest.raises(ollama_http.ConnectFailed) as e:
        host.json("GET", "/api/version")
    host.close()
    assert "only http:// proxies" in str(e.value) and "hunter22" not in str(e.value)


def test_a_proxy_whose_host_no_connection_can_use_is_a_connect_failure(monkeypatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://" + "p" * 70 + ".example:3128")
    host = Host("http://ollama.internal:11434", timeout=5, connect_timeout=1)
    with pytest.raises(ollama_http.ConnectFailed, match="unusable proxy host"):
        host.json("GET", "/api/version")
    host.close()


@pytest.mark.parametrize(
    "proxy",
    [
        "http://alice:s3cr/etPW@proxy.corp:3128",  # `/` ends the netloc: port "s3cr"
        "http://[fe80::1",  # an IPv6 literal never closed
        "socks5://alice:s3cr/etPW@proxy.corp:1080",
    ],
)
def test_a_proxy_url_it_cannot_use_is_never_shown(monkeypatch, proxy: str) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy)
    host = Host("http://ollama.internal:11434", timeout=5, connect_timeout=1)
    with pytest.raises(ollama_http.ConnectFailed, match="only http:// proxies") as e:
        host.json("GET", "/api/version")
    host.close()
    assert "s3cr" not in str(e.value) and "alice" not in str(e.value)


def test_a_proxy_password_holding_a_slash_is_redacted_everywhere() -> None:
    from ctxfix import redact

    redact.register_environment({"HTTPS_PROXY": "http://alice:s3cr/etPW@proxy.corp:3128"})
    try:
        out = redact.redact("proxy http://alice:s3cr/etPW@proxy.corp:3128 and s3cr/etPW")
    finally:
        redact.REGISTRY.clear()
    assert "s3cr/etPW" not in out


def test_loopback_hosts_never_go_through_the_proxy(monkeypatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens on port 9
    with serving(reply(200, {"version": "0.30.0"})) as (url, seen):
        host = Host(url, timeout=5, connect_timeout=1)
        assert host.json("GET", "/api/version") == {"version": "0.30.0"}
        host.close()
    assert seen[0]["path"] == "/api/version"


def test_a_redirect_to_an_address_no_connection_can_use_is_the_hosts_fault() -> None:
    bad = "http://" + "a" * 70 + ":11434/api/version"  # a DNS label of 70 characters
    with serving(reply(302, b"", {"Location": bad})) as (url, _):
        host = Host(url, timeout=5, connect_timeout=1)
        with pytest.raises(ollama_http.ProtocolFault, match="redirected to an unusable address"):
            host.json("GET", "/api/version")
        host.close()


# --------------------------------------------------------------------------- TLS, tunnels, framing

TLS = Path(__file__).parent / "tls"  # a self-signed pair for localhost, ollama.internal, 127.0.0.1


@pytest.fixture
def trust_test_ca(monkeypatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(TLS / "loopback.pem"))
    monkeypatch.setattr(ollama_http, "_SSL", [])  # the context is built once per process


def chunked(body: dict) -> Handler:
    """Answer as Go's net/http does for a body it did not size: chunked, in pieces."""
    data = json.dumps(body).encode()

    def handle(h: http.server.BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        for i in range(0, len(data), 7):
            piece = data[i : i + 7]
            h.wfile.write(b"%x;ext=1\r\n%s\r\n" % (len(piece), piece))
        h.wfile.write(b"0\r\nX-Trailer: 1\r\n\r\n")

    return handle


def test_an_https_host_is_read_over_tls_with_the_system_trust_store(trust_test_ca) -> None:
    with serving(chunked({"version": "0.30.0"}), tls=True) as (url, seen):
        port = url.rsplit(":", 1)[1]
        host = Host(f"https://localhost:{port}", timeout=5, connect_timeout=1)
        for _ in range(3):  # chunked answers keep the connection open
            assert host.json("GET", "/api/version") == {"version": "0.30.0"}
        host.close()
    assert len(seen) == 3 and len({r["peer"] for r in seen}) == 1
    assert seen[0]["headers"]["Host"] == f"localhost:{port}"


def test_an_untrusted_certificate_is_a_connect_failure(monkeypatch) -> None:
    monkeypatch.setattr(ollama_http, "_SSL", [])
    monkeypatch.setenv("SSL_CERT_FILE", str(TLS / "missing.pem"))
    monkeypatch.setenv("SSL_CERT_DIR", str(TLS / "missing"))
    with serving(reply(200, {"version": "0.30.0"}), tls=True) as (url, seen):
        host = Host(
            url.replace("http://127.0.0.1", "https://localhost"), timeout=5, connect_timeout=1
        )
        with pytest.raises(ollama_http.ConnectFailed, match="CERTIFICATE_VERIFY_FAILED"):
            host.json("GET", "/api/version")
        host.close()
    assert seen == []


@contextmanager
def tunnelling_proxy(to_port: int) -> Iterator[tuple[str, list]]:
    """An http:// proxy that answers CONNECT with 200 and relays to 127.0.0.1:`to_port`."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(4)
    lsock.settimeout(5)
    asked: list[bytes] = []

    def pump(a: socket.socket, b: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := a.recv(65536):
                b.sendall(data)
        with contextlib.suppress(OSError):
            b.shutdown(socket.SHUT_WR)

    def serve() -> None:
        with contextlib.suppress(OSError):
            conn, _ = lsock.accept()
            head = b""
            while b"\r\n\r\n" not in head:
                head += conn.recv(4096)
            asked.append(head)
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            up = socket.create_connection(("127.0.0.1", to_port))
            t = threading.Thread(target=pump, args=(up, conn), daemon=True)
            t.start()
            pump(conn, up)
            t.join(5)
            up.close()
            conn.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        yield f"http://tunnel:s3cret@127.0.0.1:{lsock.getsockname()[1]}", asked
    finally:
        lsock.close()
        t.join(5)


def test_an_https_host_is_reached_through_a_connect_tunnel(trust_test_ca, monkeypatch) -> None:
    with contextlib.ExitStack() as stack:
        url, seen = stack.enter_context(serving(reply(200, {"version": "0.30.0"}), tls=True))
        proxy, asked = stack.enter_context(tunnelling_proxy(int(url.rsplit(":", 1)[1])))
        monkeypatch.setenv("HTTPS_PROXY", proxy)
        host = Host("https://ollama.internal", timeout=5, connect_timeout=1)
        assert host.json("GET", "/api/version") == {"version": "0.30.0"}
        host.close()
    connect = asked[0].decode()
    assert connect.startswith("CONNECT ollama.internal:443 HTTP/1.1\r\n")
    assert "Proxy-Authorization: Basic dHVubmVsOnMzY3JldA==" in connect  # tunnel:s3cret
    assert seen[0]["path"] == "/api/version"  # the origin form, inside the tunnel
    assert "Proxy-Authorization" not in seen[0]["headers"]  # never past the proxy
    assert seen[0]["headers"]["Host"] == "ollama.internal"


def test_a_garbled_answer_is_the_requests_fault_and_names_the_problem() -> None:
    def garble(h: http.server.BaseHTTPRequestHandler) -> None:
        h.wfile.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
        h.close_connection = True

    with serving(garble) as (url, _):
        host = Host(url, timeout=5, connect_timeout=1)
        with pytest.raises(ollama_http.ProtocolFault, match="bad chunk size 'zz'"):
            host.json("GET", "/api/version")
        host.close()


@pytest.mark.parametrize(
    "key",
    ["sk-live\r\nX-Evil: 1", "sk-live-\u20ac-key"],  # a header injection; not ASCII
)
def test_an_api_key_no_header_can_carry_is_refused_unsent_and_unshown(
    monkeypatch, key: str
) -> None:
    monkeypatch.setenv("OLLAMA_API_KEY", key)
    with serving(reply(200, {"version": "0.30.0"})) as (url, seen):
        host = Host(url, timeout=5, connect_timeout=1)
        with pytest.raises(ollama_http.ConnectFailed, match="OLLAMA_API_KEY holds") as e:
            host.json("GET", "/api/version")
        host.close()
    assert seen == [] and "sk-live" not in str(e.value)


def _seconds_to_time_out(monkeypatch, proxy_answer: Callable, timeout: float, connect: float):
    """Seconds a `https://` scan takes through a proxy on 127.0.0.1 that runs
    `proxy_answer(conn, stop)` after reading the CONNECT request; it must time out."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(4)
    stop = threading.Event()

    def serve() -> None:
        with contextlib.suppress(OSError):
            conn, _ = lsock.accept()
            with conn:
                conn.recv(4096)
                proxy_answer(conn, stop)

    threading.Thread(target=serve, daemon=True).start()
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{lsock.getsockname()[1]}")
    host = Host("https://ollama.internal", timeout=timeout, connect_timeout=connect)
    t0 = time.monotonic()
    try:
        with pytest.raises(ollama_http.TimedOut):
            host.json("GET", "/api/version")
        return time.monotonic() - t0
    finally:
        host.close()
        stop.set()
        lsock.close()


def test_a_proxy_that_trickles_its_connect_answer_costs_at_most_the_deadline(
    monkeypatch,
) -> None:
    """Each byte within the connect timeout, their sum unbounded: the watchdog cuts it."""

    def trickle(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(b"HTTP/1.1 200 ")
        while not stop.is_set():  # a reason that never ends, a byte at a time
            conn.sendall(b"x")
            time.sleep(0.1)

    elapsed = _seconds_to_time_out(monkeypatch, trickle, timeout=1, connect=0.5)
    assert elapsed < 3, f"took {elapsed:.1f} s"


def test_a_tls_handshake_after_a_slow_tunnel_ends_at_the_deadline(monkeypatch) -> None:
    """The tunnel opens just before the deadline, then the handshake gets no answer:
    the watchdog must hold the TLS socket, or the handshake waits a whole socket
    timeout more (3.8 s against a 2 s deadline before the fix)."""

    def slow_tunnel(conn: socket.socket, stop: threading.Event) -> None:
        time.sleep(1.8)
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        stop.wait(10)  # then silence: no TLS ServerHello

    elapsed = _seconds_to_time_out(monkeypatch, slow_tunnel, timeout=2, connect=5)
    assert elapsed < 3.2, f"took {elapsed:.1f} s"

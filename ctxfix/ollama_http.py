"""Ollama's read endpoints over plain sockets, for scans (framing: ctxfix/http_wire.py).

Why not the official `ollama` client on this path: importing it costs
0.35-0.44 s on the 2-core reference machine (httpx, and pydantic models built
at import), more than a whole 50-model scan at 50 ms of latency (issue 15,
"servers at network speed"). A scan sends three GETs and one POST of JSON per
model; `apply`, `rollback` and `verify` keep the official client
(ctxfix/ollama_writes.py), where its import is nothing next to `ollama create`.
Nor `http.client`: its per-answer header parsing (email.feedparser) cost
more CPU than the rest of a fleet scan's client (see ctxfix/http_wire.py).

What this keeps of the official client (github:ollama/ollama-python
ollama/_client.py `BaseClient.__init__`, `Client._request_raw`; ollama/_types.py
`ResponseError`): JSON `Content-Type`/`Accept` headers, `Authorization: Bearer
$OLLAMA_API_KEY` when that is set, redirects followed, and an HTTP error's text
is the body's JSON `error` field, else the body itself.

Proxies follow Ollama's own Go client, not httpx: `HTTP_PROXY` for http
hosts, `HTTPS_PROXY` for https hosts (tunnelled with CONNECT), `NO_PROXY`
(`*`, host names with their subdomains, `.domain`, IP addresses, CIDR
ranges), and `localhost` and loopback addresses are never proxied
(golang.org/x/net http/httpproxy/proxy.go `useProxy`, what
`http.ProxyFromEnvironment` in Ollama's `api/client.go` uses). Only `http://`
proxies are spoken to; another scheme is reported as the host's fault.

Bounds, per `Host` (one host of one scan, shared by all its lanes):
- an overall deadline for the whole conversation: a watchdog timer shuts
  down every socket still open when it passes, so a server that trickles a
  byte a second cannot outlive `--server-timeout` (each read is bounded too);
- at most MAX_BYTES received in all (a 500 MB answer is not Ollama's);
- the framing's limits on header lines (64 KiB) and count (100), and Go's
  rules for lengths and chunking (ctxfix/http_wire.py).
A pooled keep-alive connection the server has closed meanwhile is retried
once on a fresh one (every request here is a read, safe to repeat).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

from ctxfix.http_wire import Answer, Closed, WireError, read_answer, read_head, request_bytes

MAX_BYTES = 256 * 1024 * 1024
"""All a host may send in one scan: a list of thousands of models is a few MB;
a 500 MB answer is not Ollama's (it cost 2.1 GB of memory)."""

MAX_REDIRECTS = 5
_REDIRECTS = (301, 302, 303, 307, 308)


class HTTPError(Exception):
    """The server answered with a status of 400 or more."""

    def __init__(self, status: int, error: str) -> None:
        super().__init__(f"HTTP {status}: {error}")
        self.status_code = status
        self.error = error


class ConnectFailed(Exception):
    """No TCP (or TLS) connection: refused, unresolvable, unreachable."""

    def __init__(self, reason: str, *, refused: bool = False) -> None:
        super().__init__(reason)
        self.refused = refused


class ConnectTimedOut(Exception):
    """The connection was not established within the connect timeout."""


class TimedOut(Exception):
    """No complete answer within the host's deadline (or one read's timeout)."""


class TooLarge(Exception):
    """The host sent more than MAX_BYTES in this scan."""


class Malformed(ValueError):
    """An answer that is not what the endpoint sends: bad JSON or the wrong shape."""


class ProtocolFault(Exception):
    """The server broke HTTP on one request (hung up, garbled status line)."""


# --------------------------------------------------------------------------- host names

_BAD_CHARS = "".join(map(chr, range(0x21))) + "\x7f"
"""What no host name holds: controls and the space (Go's net/url refuses them in a
URL's host, as http.client's `_validate_host` does)."""


def ascii_host(name: str) -> str:
    """`name` as it is dialled; ValueError(reason) for a name no connection can use.

    A non-ASCII name is converted with IDNA 2008 and the UTS 46 mapping (the
    `idna` package), as Go's http transport converts it (golang.org/x/net
    idna `Lookup` profile, used by net/http for the dial address and the
    Host header); an ASCII name must fit DNS (RFC 1035: labels of at most 63
    characters, names of at most 253).
    """
    if any(c in _BAD_CHARS for c in name):
        raise ValueError("the host name holds a control character or a space")
    if not name.isascii():
        import idna

        try:
            name = idna.encode(name, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError, ValueError):
            shown = name.encode("ascii", "backslashreplace").decode()
            raise ValueError(
                f"host name '{shown}' is not a valid internationalised domain name"
            ) from None
    if ":" in name:  # an IPv6 literal
        return name
    if len(name) > 253 or any(len(label) > 63 for label in name.split(".")):
        raise ValueError("the host name is longer than DNS allows (63 per label, 253 in all)")
    return name


# --------------------------------------------------------------------------- proxies


def _no_proxy(host: str, port: int, rules: str) -> bool:
    """True when `host` must be reached directly (golang.org/x/net httpproxy `useProxy`)."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        ip = None
    if ip is not None and ip.is_loopback:
        return True
    for raw in rules.split(","):
        rule = raw.strip().lower()
        if not rule:
            continue
        if rule == "*":
            return True
        if "/" in rule:  # a CIDR range matches IP hosts only
            try:
                if ip is not None and ip in ipaddress.ip_network(rule, strict=False):
                    return True
            except ValueError:
                pass
            continue
        rhost, rport = rule, ""
        if rule.count(":") == 1 or rule.startswith("["):  # host:port or [v6]:port
            rhost, _, rport = rule.rpartition(":")
            if not rport.isdigit():
                rhost, rport = rule, ""
        rhost = _ascii(rhost.strip("[]"))
        if rport and int(rport) != port:
            continue
        name = _ascii(host.strip("[]").lower())
        if rhost.startswith("*."):
            rhost = rhost[1:]
        if rhost.startswith("."):  # ".example.com" and "*.example.com": subdomains only
            if name.endswith(rhost):
                return True
        elif name == rhost or name.endswith("." + rhost):  # the name and its subdomains
            return True
    return False


def _ascii(name: str) -> str:
    """A host name in its ASCII (IDNA) form, so `示例.com` matches `xn--fsq092h.com`."""
    if name.isascii():
        return name
    try:
        return ".".join(p.encode("idna").decode("ascii") if p else p for p in name.split("."))
    except UnicodeError:
        return name


def proxy_for(scheme: str, host: str, port: int, environ: Any = None) -> str | None:
    """The proxy URL to reach `scheme://host:port` through, or None for a direct connection."""
    env = os.environ if environ is None else environ

    def get(name: str) -> str:
        return env.get(name) or env.get(name.lower()) or ""

    value = get("HTTPS_PROXY") if scheme == "https" else get("HTTP_PROXY")
    if scheme == "http" and env.get("REQUEST_METHOD"):  # CGI: HTTP_PROXY is a request header
        value = ""
    if not value or _no_proxy(host, port, get("NO_PROXY")):
        return None
    return value if "://" in value else f"http://{value}"


# --------------------------------------------------------------------------- TLS

_SSL_LOCK = threading.Lock()
_SSL: list[Any] = []


def _ssl_context() -> Any:
    """The system's default trust store (honours `SSL_CERT_FILE`/`SSL_CERT_DIR`), built once.

    Loading CA certificates costs tens of ms of CPU; one context serves every
    connection and thread. Imported only for an https host or proxy.
    """
    with _SSL_LOCK:
        if not _SSL:
            import ssl

            _SSL.append(ssl.create_default_context())
        return _SSL[0]


# --------------------------------------------------------------------------- one host


def _user_agent() -> str:
    from ctxfix import __version__

    return f"ctxfix/{__version__}"


class Host:
    """One Ollama server for the length of one scan: its pool, deadline and byte budget.

    `json(method, path, body)` is safe to call from many threads at once; idle
    keep-alive connections are shared, at most `max_connections` are kept.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float,
        connect_timeout: float,
        max_connections: int = 1,
    ) -> None:
        parts = urllib.parse.urlsplit(url)
        self.url = url
        try:
            self._origin = _origin_of(parts)
            self._unusable: str | None = None
        except ValueError as exc:  # reported by the first request, as a connect failure
            self._origin, self._unusable = ("http", "invalid", 0), str(exc)
        self._base = parts.path.rstrip("/")
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._keep = max(1, max_connections)
        self._deadline = time.monotonic() + timeout
        self._left_bytes = MAX_BYTES
        self._lock = threading.Lock()
        self._idle: dict[tuple[str, str, int], list[_Conn]] = {}
        self._busy: set[_Conn] = set()
        self._expired = False
        self._closed = False
        self._timer = threading.Timer(max(0.0, timeout), self._expire)
        self._timer.daemon = True
        self._timer.start()
        self._foreign_fields = [
            ("Content-Type", "application/json"),
            ("Accept", "application/json"),
            ("User-Agent", _user_agent()),
        ]
        self._fields = list(self._foreign_fields)  # to the host's own origin only:
        if key := os.environ.get("OLLAMA_API_KEY"):
            self._fields.append(("Authorization", f"Bearer {key}"))
            if not key.isascii() or any(c in key for c in "\r\n\0"):  # never shown
                self._unusable = (
                    "OLLAMA_API_KEY holds a line break, NUL or non-ASCII character"
                    " (no header can carry it)"
                )

    # ------------------------------------------------------------------ public

    def json(self, method: str, path: str, body: Any = None) -> Any:
        """The decoded JSON answer of one request; raises one of this module's errors."""
        if self._unusable:
            raise ConnectFailed(self._unusable)
        payload = None if body is None else json.dumps(body).encode()
        origin, target = self._origin, self._base + path
        for _hop in range(MAX_REDIRECTS + 1):
            status, location, data = self._exchange(origin, method, target, payload)
            if status in _REDIRECTS and location:
                origin, target = _follow(origin, target, location)
                if status == 303 or (status in (301, 302) and method == "POST"):
                    method, payload = "GET", None  # as httpx and browsers do
                continue
            if status >= 400:
                raise HTTPError(status, _error_text(data))
            try:
                return json.loads(data)
            except ValueError as exc:
                raise Malformed(str(exc).splitlines()[0] or type(exc).__name__) from None
        raise ProtocolFault(f"more than {MAX_REDIRECTS} redirects")

    def close(self) -> None:
        """Close every connection and stop the watchdog."""
        self._timer.cancel()
        with self._lock:
            self._closed = True
            conns = [c for pool in self._idle.values() for c in pool] + list(self._busy)
            self._idle.clear()
        for c in conns:
            c.close()

    # ------------------------------------------------------------------ internals

    def _expire(self) -> None:
        """The deadline passed: unblock every read in flight (they raise TimedOut)."""
        with self._lock:
            self._expired = True
            busy = list(self._busy)
        for c in busy:
            sock = c.sock
            if sock is not None:
                with contextlib.suppress(OSError):  # already closed by its lane
                    # the plain socket's shutdown, also for TLS: SSLSocket.shutdown
                    # would unwrap it under a reader in another thread
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def _left(self) -> float:
        left = self._deadline - time.monotonic()
        if self._expired or left <= 0:
            raise TimedOut("the host's overall deadline passed")
        return left

    def _take(self, origin: tuple[str, str, int]) -> tuple[_Conn, bool]:
        with self._lock:
            pool = self._idle.get(origin)
            conn = pool.pop() if pool else None
            if conn is None:
                conn = _connection(origin)
            self._busy.add(conn)
        return conn, conn.sock is not None

    def _give_back(self, origin: tuple[str, str, int], conn: _Conn, reusable: bool) -> None:
        with self._lock:
            self._busy.discard(conn)
            pool = self._idle.setdefault(origin, [])
            if reusable and not self._closed and not self._expired and len(pool) < self._keep:
                pool.append(conn)
                return
        conn.close()

    def _exchange(
        self, origin: tuple[str, str, int], method: str, target: str, payload: bytes | None
    ) -> tuple[int, str | None, bytes]:
        """(status, Location, body) of one request, retried once on a stale connection."""
        for attempt in (1, 2):
            conn, reused = self._take(origin)
            ok = False
            try:
                self._connect(conn)
                conn.sock.settimeout(min(self._timeout, self._left()))
                fields = self._fields if origin == self._origin else self._foreign_fields
                answer = conn.exchange(method, target, fields, payload, self._charge)
                if self._expired:  # the watchdog cut it: what arrived may be a torn answer
                    raise TimedOut("the host's overall deadline passed")
                ok = answer.keep_alive
                location = answer.fields.get("location")
                return answer.status, location and location.split("\n")[0], answer.body
            except (OSError, WireError) as exc:  # TimeoutError is an OSError
                if self._expired or isinstance(exc, TimeoutError):
                    raise TimedOut("no complete answer before the deadline") from None
                stale = (Closed, ConnectionResetError, BrokenPipeError)
                if reused and attempt == 1 and isinstance(exc, stale):
                    continue  # the server closed an idle keep-alive connection: once more
                if isinstance(exc, WireError):
                    raise ProtocolFault(str(exc)) from None
                raise ProtocolFault(f"{type(exc).__name__}: {exc}") from None
            finally:
                self._give_back(origin, conn, ok)
        raise AssertionError("unreachable")  # pragma: no cover

    def _connect(self, conn: _Conn) -> None:
        if conn.sock is not None:
            return
        timeout = min(self._connect_timeout, self._left())
        try:
            conn.connect(timeout, self._left)
        except TimeoutError:
            if self._expired:
                raise TimedOut("the host's overall deadline passed") from None
            raise ConnectTimedOut(f"connect timed out after {timeout:g} s") from None
        except ConnectionRefusedError:
            raise ConnectFailed("connection refused", refused=True) from None
        except socket.gaierror as exc:
            raise ConnectFailed(f"cannot resolve the host name ({exc.strerror})") from None
        except (UnicodeError, ValueError) as exc:  # a name the resolver cannot encode
            raise ConnectFailed(f"cannot dial the host name ({exc})") from None
        except (OSError, WireError) as exc:
            if self._expired:
                raise TimedOut("the host's overall deadline passed") from None
            why = getattr(exc, "strerror", None) or f"{type(exc).__name__}: {exc}"
            raise ConnectFailed(why) from None

    def _charge(self, n: int) -> None:
        """Count `n` body bytes against the host's budget (TooLarge once it is spent)."""
        with self._lock:
            self._left_bytes -= n
            over = self._left_bytes < 0
        if over:
            raise TooLarge(f"the server sent more than {MAX_BYTES:,} bytes")


def _origin_of(parts: urllib.parse.SplitResult) -> tuple[str, str, int]:
    """(scheme, dialled host name, port); ValueError for a host no connection can use."""
    scheme = parts.scheme or "http"
    host = ascii_host(parts.hostname or "127.0.0.1")
    return scheme, host, parts.port or (443 if scheme == "https" else 80)


def _follow(origin: tuple[str, str, int], target: str, location: str) -> tuple[tuple, str]:
    """The origin and request target a `Location` header points to."""
    scheme, host, port = origin
    netloc = _authority(host, port)
    try:
        parts = urllib.parse.urlsplit(
            urllib.parse.urljoin(f"{scheme}://{netloc}{target}", location)
        )
        if parts.scheme not in ("http", "https"):
            raise ProtocolFault(f"redirected to a {parts.scheme}: URL")
        origin = _origin_of(parts)
    except ValueError as exc:  # a bad port or a host name no connection can use
        raise ProtocolFault(f"redirected to an unusable address ({exc})") from None
    return origin, (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _error_text(data: bytes) -> str:
    """The `error` of a JSON body, else the body (ollama/_types.py `ResponseError`)."""
    text = data.decode("utf-8", "replace")
    try:
        obj = json.loads(text)
    except ValueError:
        return text.strip()[:500]
    if isinstance(obj, dict) and isinstance(obj.get("error"), str):
        return obj["error"]
    return text.strip()[:500]


def _dial(address: tuple[str, int], timeout: float) -> socket.socket:
    """socket.create_connection with the (already ASCII) name as bytes.

    Why: a str name is encoded with Python's `idna` codec inside getaddrinfo,
    whose import (stringprep, unicodedata) cost ~10 ms of every server scan;
    `ascii_host` has done the conversion already.
    """
    host, port = address
    sock = socket.create_connection((host.encode("ascii"), port), timeout)
    with contextlib.suppress(OSError):  # as http.client and Go do, where the OS has it
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _authority(host: str, port: int) -> str:
    """`host:port`, an IPv6 literal in brackets (a CONNECT target, a proxy's absolute URL)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class _Conn:
    """One connection to an origin: direct, through an http:// proxy, or tunnelled by one.

    `sock` is what the Host's watchdog shuts down when the deadline passes.
    """

    def __init__(self, origin: tuple[str, str, int], proxy: str | None) -> None:
        scheme, host, port = origin
        self.origin = origin
        self.sock: socket.socket | None = None
        self._reader: Any = None
        self._dial_to = (host, port)
        self._tunnel = False
        self._absolute = ""  # the scheme://authority a plain proxy wants before the path
        self._proxy_fields: list[tuple[str, str]] = []  # the proxy's credentials
        self._via_fields: list[tuple[str, str]] = []  # sent on each request: plain proxy only
        name = f"[{host}]" if ":" in host else host  # an IPv6 literal in brackets
        self.host_field = name if port == (443 if scheme == "https" else 80) else f"{name}:{port}"
        if proxy is None:
            return
        try:
            p = urllib.parse.urlsplit(proxy)
            proxy_port = p.port or 80
            usable = p.scheme == "http" and bool(p.hostname)
        except ValueError:  # a bad port or IPv6 literal
            usable = False
        if not usable:  # never the URL itself: a password with `/` defeats redaction
            scheme = proxy.split("://", 1)[0] if "://" in proxy else ""
            shown = f"{scheme}://…" if scheme.isalnum() and len(scheme) <= 10 else "URL"
            raise ConnectFailed(f"unsupported proxy {shown} (only http:// proxies)")
        if p.username is not None:
            import base64

            user = urllib.parse.unquote(p.username)
            pw = urllib.parse.unquote(p.password or "")
            token = base64.b64encode(f"{user}:{pw}".encode()).decode()
            self._proxy_fields = [("Proxy-Authorization", f"Basic {token}")]
        try:
            self._dial_to = (ascii_host(p.hostname), proxy_port)
        except ValueError as exc:
            raise ConnectFailed(f"unusable proxy host ({exc})") from None
        if scheme == "https":  # CONNECT tunnel, then TLS to the host itself
            self._tunnel = True
        else:  # the absolute form, and the credentials on every request through it
            self._absolute = f"http://{_authority(host, port)}"
            self._via_fields = self._proxy_fields

    def connect(self, timeout: float, still_in_time: Callable[[], object]) -> None:
        """TCP (through the proxy if any), the CONNECT tunnel, then TLS for https.

        `sock` is set as soon as TCP is up, so the host's watchdog can cut a
        proxy or server that trickles its CONNECT answer or TLS handshake (each
        read alone is bounded, their sum would not be); `still_in_time` raises
        if the deadline passed before the watchdog could see the socket.
        """
        sock = _dial(self._dial_to, timeout)
        self.sock = sock
        try:
            still_in_time()
            scheme, host, port = self.origin
            if self._tunnel:
                self._connect_tunnel(sock, host, port)
                still_in_time()
            if scheme == "https":
                # wrap first (no I/O), so the watchdog holds the TLS socket during
                # the handshake; wrap_socket would detach the raw one it can see
                sock = _ssl_context().wrap_socket(
                    sock, server_hostname=host, do_handshake_on_connect=False
                )
                self.sock = sock
                still_in_time()
                sock.do_handshake()
        except BaseException:
            self.sock = None
            sock.close()
            raise
        self._reader = sock.makefile("rb")

    def _connect_tunnel(self, sock: socket.socket, host: str, port: int) -> None:
        authority = _authority(host, port)
        lines = [f"CONNECT {authority} HTTP/1.1", f"Host: {authority}"]
        lines += [f"{k}: {v}" for k, v in self._proxy_fields]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        with sock.makefile("rb", buffering=0) as reader:  # unbuffered: TLS bytes follow
            _minor, status, reason, _fields = read_head(reader)
        if status != 200:  # its body, if any, is not read: the connection is dropped
            shown = "".join(c if c.isprintable() else "?" for c in reason[:80])
            raise ConnectFailed(f"Tunnel connection failed: {status} {shown}".rstrip())

    def exchange(
        self,
        method: str,
        target: str,
        fields: list[tuple[str, str]],
        payload: bytes | None,
        charge: Any,
    ) -> Answer:
        assert self.sock is not None
        request = request_bytes(
            method, self._absolute + target, self.host_field, fields + self._via_fields, payload
        )
        self.sock.sendall(request)
        return read_answer(self._reader, method, charge)

    def close(self) -> None:
        sock, self.sock = self.sock, None
        if self._reader is not None:
            with contextlib.suppress(OSError):
                self._reader.close()
        if sock is not None:
            sock.close()


def _connection(origin: tuple[str, str, int]) -> _Conn:
    """An unconnected connection to `origin`, through the environment's proxy if any."""
    scheme, host, port = origin
    return _Conn(origin, proxy_for(scheme, host, port))

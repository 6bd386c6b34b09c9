"""An overall deadline (and a size bound) for every byte exchanged with one Ollama server.

Why: httpx timeouts are per read, so a server that trickles one byte every
few seconds (a slowloris, or a wedged proxy) kept a scan running for minutes
even with `--server-timeout 1`. Every read, write and connect of a host's
conversation goes through these wrappers around httpcore's network backend,
each bounded by what is left of the host's deadline; past it, the next
operation raises a read timeout and the host is reported and skipped. The
`ollama` client and httpx are used as they are (a transport of our own is
passed to `ollama.Client`).
"""

from __future__ import annotations

import threading
import time
from typing import Any

MAX_BYTES = 256 * 1024 * 1024
"""All a host may send in one scan: a list of thousands of models is a few MB;
a 500 MB answer is not Ollama's (it cost 2.1 GB of memory)."""


class _Budget:
    """Bytes a host may still send; spent by every connection (and thread) of the host."""

    def __init__(self) -> None:
        self.left = MAX_BYTES
        self._lock = threading.Lock()

    def spend(self, n: int) -> bool:
        """Take `n` bytes; False once the host sent more than MAX_BYTES in all."""
        with self._lock:  # lanes read concurrently: `left -= n` alone could lose updates
            self.left -= n
            return self.left >= 0


class _Stream:
    def __init__(self, stream: Any, deadline: float, budget: _Budget | None = None) -> None:
        self._s = stream
        self._deadline = deadline
        self._budget = budget or _Budget()

    def _left(self, timeout: float | None) -> float:
        import httpcore

        left = self._deadline - time.monotonic()
        if left <= 0:
            raise httpcore.ReadTimeout("the host's overall deadline passed")
        return left if timeout is None else min(timeout, left)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        import httpcore

        data = self._s.read(max_bytes, self._left(timeout))
        if not self._budget.spend(len(data)):
            raise httpcore.ReadError(f"the server sent more than {MAX_BYTES:,} bytes")
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._s.write(buffer, self._left(timeout))

    def close(self) -> None:
        self._s.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout=None):
        return _Stream(  # the TLS stream spends the same host budget as the plain one
            self._s.start_tls(ssl_context, server_hostname, self._left(timeout)),
            self._deadline,
            self._budget,
        )

    def get_extra_info(self, info: str) -> Any:
        return self._s.get_extra_info(info)


class _Backend:
    def __init__(self, deadline: float) -> None:
        import httpcore

        self._b = httpcore.SyncBackend()
        self._deadline = deadline
        self._budget = _Budget()  # shared by every connection to the host

    def _left(self, timeout: float | None) -> float:
        return _Stream(None, self._deadline)._left(timeout)

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        s = self._b.connect_tcp(host, port, self._left(timeout), local_address, socket_options)
        return _Stream(s, self._deadline, self._budget)

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        return _Stream(
            self._b.connect_unix_socket(path, self._left(timeout), socket_options),
            self._deadline,
            self._budget,
        )

    def sleep(self, seconds: float) -> None:
        self._b.sleep(seconds)


_SSL_LOCK = threading.Lock()
_SSL: list[Any] = []


def _ssl_context() -> Any:
    """httpx's default SSL context (certifi, `SSL_CERT_FILE`/`SSL_CERT_DIR`), built once.

    Why: every `httpx.HTTPTransport()` builds its own, loading the CA bundle:
    ~31 ms of CPU each here, which made the client setup of a 10-host fleet
    cost 0.3 s of CPU before a byte was sent, even for plain http hosts.
    One `ssl.SSLContext` may serve any number of connections and threads.
    """
    with _SSL_LOCK:
        if not _SSL:
            import httpx

            _SSL.append(httpx.create_ssl_context())
        return _SSL[0]


def transport(seconds: float, *, max_connections: int | None = None) -> Any:
    """An httpx transport whose every operation ends within `seconds` from now.

    One transport serves one host and is shared by all the threads that talk
    to it (httpcore's pool is thread-safe), so the deadline and the byte budget
    are per host, not per thread. `max_connections` sizes the pool to the
    host's lanes and keeps every connection alive between requests: with
    httpx's default of 20 kept alive, lanes beyond 20 would reconnect on every
    request.
    """
    import httpx

    kw: dict[str, Any] = {"verify": _ssl_context()}
    if max_connections is not None:
        n = max(1, max_connections)
        kw["limits"] = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    t = httpx.HTTPTransport(**kw)
    t._pool._network_backend = _Backend(time.monotonic() + seconds)  # httpcore's hook
    return t

"""Host identity: which URL is this machine, and which two URLs are one server.

Why one module: three copies of a loopback check (budget, plan, resolve)
disagreed about `0.0.0.0` and `localhost`. Ollama's clients connect to
`OLLAMA_HOST` as given (`envconfig.Host` in github:ollama/ollama
envconfig/config.go), and `0.0.0.0` (the FAQ's way to expose the server)
reaches this machine, so it counts as local.
"""

from __future__ import annotations

from ipaddress import ip_address
from urllib.parse import urlsplit

DEFAULT_PORT = 11434


def _split(url: str):
    return urlsplit(url if "://" in url else f"http://{url}")


def is_local(url: str) -> bool:
    """True for a server on this machine: localhost, 127.0.0.0/8, ::1, 0.0.0.0 and `::`."""
    try:
        host = (_split(url).hostname or "").lower()
    except ValueError:
        return False
    if host in ("localhost", "") or host.endswith(".localhost"):
        return True
    try:
        ip = ip_address(host)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_unspecified


def base_url(url: str) -> str:
    """`http://gpu-box:11434/v1/` -> `http://gpu-box:11434` (what --host takes)."""
    u = url.rstrip("/")
    for suffix in ("/v1", "/api"):
        if u.endswith(suffix):
            u = u[: -len(suffix)]
    return u


def _key(url: str) -> tuple[str, str, int]:
    """(scheme, host, port); every loopback URL folds to one local identity.

    Why any port: a config names `http://127.0.0.1:11434` while ctxfix was
    pointed at `localhost:11434` (or a tunnel on another port); one machine
    runs one Ollama server in practice, and treating two local URLs as two
    servers would leave an agent repointed nowhere.
    """
    if is_local(url):
        return ("", "local", 0)
    try:
        parts = _split(base_url(url))
        port = parts.port
    except ValueError:
        return ("", url.lower(), 0)
    scheme = parts.scheme.lower() or "http"
    default = 443 if scheme == "https" else DEFAULT_PORT
    host = (parts.hostname or "").lower()
    return (scheme, host, port or default)


def same_host(a: str | None, b: str | None) -> bool:
    """Do two URLs reach the same server? `localhost`, `127.0.0.1` and `0.0.0.0` are one."""
    if a is None or b is None:
        return False
    return _key(a) == _key(b)

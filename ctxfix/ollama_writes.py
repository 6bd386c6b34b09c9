"""Write calls to an Ollama server: create, copy, delete, and the reads that verify them.

Why apart from `ctxfix.sources.server`: sources only read (discover -> read
-> resolve is side-effect free); `apply` and `rollback` are the only callers
of this module, so a scan can never change a server. Every call goes through
the real `ollama` client and turns any failure into one `CtxfixError` that
names the host.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ctxfix.errors import CtxfixError
from ctxfix.names import canonical
from ctxfix.sources.server import parse_host, parse_parameters

CONNECT_TIMEOUT = 0.5
"""Seconds to connect before a write call gives up on the host."""


def _client(url: str, read_timeout: float, connect_timeout: float = CONNECT_TIMEOUT) -> Any:
    """The official client for one call, its whole conversation within `read_timeout`.

    The transport (ctxfix/deadline.py) bounds every read, write and connect by
    the same overall deadline, so a trickling server cannot hold `apply` past it.
    """
    import httpx

    from ctxfix.deadline import transport
    from ctxfix.ollama_client import load as _load_ollama

    ollama = _load_ollama()
    return ollama.Client(
        host=url,
        timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
        transport=transport(read_timeout),
    )


def _describe(exc: BaseException, read_timeout: float) -> str:
    """One line for an exception the official client raised."""
    import httpx

    from ctxfix.ollama_client import load as _load_ollama

    ollama = _load_ollama()
    if isinstance(exc, ollama.ResponseError):
        return f"HTTP {exc.status_code}: {exc.error}"
    if isinstance(exc, ConnectionError | httpx.ConnectError):
        return "connection refused"
    if isinstance(exc, httpx.ConnectTimeout):
        return f"connect timed out after {CONNECT_TIMEOUT:g} s"
    if isinstance(exc, httpx.TimeoutException):
        return f"no complete answer within {read_timeout:g} s"
    if isinstance(exc, ValueError):  # json.JSONDecodeError, pydantic ValidationError
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return f"malformed response ({first})"
    return f"{type(exc).__name__}: {exc}"


def _fail(url: str, what: str, exc: BaseException, read_timeout: float) -> CtxfixError:
    try:
        problem = _describe(exc, read_timeout)
    except Exception:
        problem = f"{type(exc).__name__}: {exc}"
    return CtxfixError(url, f"{what}: {problem}")


def create_model(
    url: str,
    name: str,
    parent: str,
    parameters: Mapping[str, Any],
    timeout: float = 120.0,
) -> str:
    """`ollama create NAME` from PARENT with PARAMETERS; returns the new manifest digest.

    Raises CtxfixError naming the host when the server refuses (the fixer
    must not record a model it did not create).
    """
    url = parse_host(url)
    client = _client(url, timeout)
    try:
        client.create(model=name, from_=parent, parameters=dict(parameters), stream=False)
        for m in client.list().models:
            if m.model and canonical(m.model) == canonical(name):
                return m.digest or ""
    except Exception as exc:
        raise _fail(url, f"create {name} from {parent}", exc, timeout) from None
    finally:
        client._client.close()
    raise CtxfixError(url, f"create {name}: the server reported success but does not list it")


def show_num_ctx(url: str, name: str, timeout: float = 10.0) -> int | None:
    """num_ctx the server reports for NAME (None when unset). Raises CtxfixError on failure."""
    url = parse_host(url)
    client = _client(url, timeout)
    try:
        v = parse_parameters(client.show(name).parameters).get("num_ctx")
    except Exception as exc:
        raise _fail(url, f"/api/show {name}", exc, timeout) from None
    finally:
        client._client.close()
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def delete_model(url: str, name: str, timeout: float = 30.0) -> None:
    """Delete NAME from the server. Raises CtxfixError on failure (404 included)."""
    url = parse_host(url)
    client = _client(url, timeout)
    try:
        client.delete(name)
    except Exception as exc:
        raise _fail(url, f"delete {name}", exc, timeout) from None
    finally:
        client._client.close()


def model_digest(host: str, name: str, timeout: float = 10.0) -> str | None:
    """The manifest digest `host` lists for `name` (None when it has no such model)."""
    from ctxfix.ollama_client import load as _load_ollama

    ollama = _load_ollama()

    from ctxfix.names import canonical

    client = ollama.Client(host=parse_host(host), timeout=timeout)
    try:
        for m in client.list().models:
            if m.model and canonical(m.model) == canonical(name):
                return m.digest or None
    except Exception as exc:
        raise CtxfixError(host, f"list models: {type(exc).__name__}: {exc}") from None
    finally:
        client._client.close()
    return None


def backup_name(name: str, token: str) -> str:
    """`qwen3-coder:30b-v-128k` -> `ctxfix-backup/qwen3-coder:30b-v-128k-<token>`.

    Ollama tags are at most 80 characters, so a long tag is shortened.
    """
    from ctxfix.names import BACKUP_NAMESPACE, split_name

    _host, _ns, model, tag = split_name(name)
    return f"{BACKUP_NAMESPACE}/{model}:{tag[: 79 - len(token)]}-{token}"


def copy_model(host: str, source: str, destination: str, timeout: float = 30.0) -> None:
    """`ollama cp SOURCE DESTINATION` on `host` (a byte copy of the manifest)."""
    from ctxfix.ollama_client import load as _load_ollama

    ollama = _load_ollama()

    client = ollama.Client(host=parse_host(host), timeout=timeout)
    try:
        client.copy(source, destination)
    except Exception as exc:
        raise CtxfixError(
            host, f"copy {source} to {destination}: {type(exc).__name__}: {exc}"
        ) from None
    finally:
        client._client.close()

"""Read a live Ollama server: version, models, their parameters and what is loaded now.

Why: the context an agent gets is decided by the server that serves it, not
only by files. `/api/show` gives each model's num_ctx (from its params) and
the GGUF geometry (`model_info`), `/api/ps` the context each loaded model was
actually loaded with, `/api/version` the version that decides the defaults.

Faults never raise: a scan of files and stores must finish when a server is
down, slow or broken. Each fault becomes one `Warning_` naming the host and
the endpoint. A dead host costs at most the connect timeout; a hung host at
most about two read timeouts (after the first timeout no new request is sent).

Requests to one host run concurrently in a bounded thread pool (one httpx
client, which is thread-safe). The `ollama` client is imported lazily: an
offline scan never pays its import cost.

Note on `parameters`: Ollama prints each value with Go's `%#v` of a float64,
so 1000000 arrives as `1e+06` and 1048576 as `1.048576e+06`. That is the
server's display of a valid integer, not an invalid value; it is parsed back
to the integer here (the note on the Sourced value says how it was printed).
"""

from __future__ import annotations

import ipaddress
import math
import re
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ctxfix.errors import CtxfixError, Warning_
from ctxfix.facts import Geometry, Location, ModelDef, ServerInfo, Sourced
from ctxfix.names import canonical

DEFAULT_URL = "http://127.0.0.1:11434"


# --------------------------------------------------------------------------- hosts


def parse_host(value: str | None) -> str:
    """Normalise `$OLLAMA_HOST` / `--host` exactly as the ollama python client's `_parse_host`.

    `1.2.3.4` -> `http://1.2.3.4:11434`; `:56789` -> `http://127.0.0.1:56789`;
    `https://example.com` -> `https://example.com:443`; `[::1]/path/` ->
    `http://[::1]:11434/path`. Replicated (and tested against the client)
    because importing the client costs ~0.4 s and this runs on every scan.
    """
    host, port = (value or "").strip(), 11434
    scheme, _, hostport = host.partition("://")
    if not hostport:
        scheme, hostport = "http", host
    elif scheme == "http":
        port = 80
    elif scheme == "https":
        port = 443
    try:
        split = urllib.parse.urlsplit(f"{scheme}://{hostport}")
        name = split.hostname or "127.0.0.1"
    except ValueError as exc:  # `http://[::1` (an unclosed IPv6 bracket)
        from ctxfix.redact import strip_userinfo

        raise CtxfixError(strip_userinfo(value or ""), f"invalid Ollama host: {exc}") from None
    try:
        port = split.port or port
    except ValueError as exc:
        raise CtxfixError(value, f"invalid Ollama host: {exc}") from None
    try:
        if isinstance(ipaddress.ip_address(name), ipaddress.IPv6Address):
            name = f"[{name}]"
    except ValueError:
        pass
    if path := split.path.strip("/"):
        return f"{scheme}://{name}:{port}/{path}"
    return f"{scheme}://{name}:{port}"


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class HostScan:
    """Everything one host told us. `info` is None when the host did not answer."""

    host: str
    info: ServerInfo | None
    models: list[ModelDef] = field(default_factory=list)
    warnings: list[Warning_] = field(default_factory=list)
    loaded: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # /api/ps by name


# --------------------------------------------------------------------------- parsing


_GO_UNESC = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def _go_unquote(s: str) -> str:
    """Undo Go's strconv.Quote (the `%#v` of a string)."""
    body = s[1:-1] if len(s) >= 2 and s[0] == s[-1] == '"' else s
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch != "\\" or i + 1 == len(body):
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in _GO_UNESC:
            out.append(_GO_UNESC[nxt])
            i += 2
        elif nxt == "x":
            out.append(chr(int(body[i + 2 : i + 4], 16)))
            i += 4
        elif nxt == "u":
            out.append(chr(int(body[i + 2 : i + 6], 16)))
            i += 6
        elif nxt == "U":
            out.append(chr(int(body[i + 2 : i + 10], 16)))
            i += 10
        else:
            out.append(nxt)
            i += 2
    return "".join(out)


def parse_go_value(text: str) -> Any:
    """One `%#v` value as Ollama prints it: quoted string, true/false, or a float64."""
    text = text.strip()
    if text.startswith('"'):
        return _go_unquote(text)
    if text in ("true", "false"):
        return text == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        f = float(text)
    except ValueError:
        return text
    if math.isfinite(f) and f.is_integer():
        return int(f)
    return f


def parse_parameters(text: str | None) -> dict[str, Any]:
    """`/api/show` `parameters` text -> {name: value}; repeated names (stop) become lists."""
    out: dict[str, Any] = {}
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        key, _, raw = line.partition(" ")
        value = parse_go_value(raw)
        if key in out:
            prev = out[key]
            out[key] = [*prev, value] if isinstance(prev, list) else [prev, value]
        elif key == "stop":
            out[key] = [value]
        else:
            out[key] = value
    return out


def _raw_param(text: str | None, key: str) -> str | None:
    for line in (text or "").splitlines():
        k, _, raw = line.strip().partition(" ")
        if k == key:
            return raw.strip()
    return None


_BLOB_RE = re.compile(r"^FROM\s+\S*sha256[-:]([0-9a-f]{64})\s*$", re.MULTILINE)


def _model_digest(modelfile: str | None) -> str | None:
    m = _BLOB_RE.search(modelfile or "")
    return f"sha256:{m.group(1)}" if m else None


def _geometry_fallback(kv: Mapping[str, Any]) -> Geometry | None:
    """Minimal geometry from model_info when ctxfix.sources.gguf is not available."""
    arch = kv.get("general.architecture")
    if not isinstance(arch, str) or not arch:
        return None

    def num(key: str) -> int | None:
        v = kv.get(f"{arch}.{key}")
        return int(v) if isinstance(v, int | float) and not isinstance(v, bool) else None

    blocks = num("block_count")
    hkv_raw = kv.get(f"{arch}.attention.head_count_kv")
    hkv: tuple[int, ...] | None = None
    if isinstance(hkv_raw, list):
        hkv = tuple(int(x) for x in hkv_raw)
    elif isinstance(hkv_raw, int | float) and blocks:
        hkv = (int(hkv_raw),) * blocks
    emb, heads = num("embedding_length"), num("attention.head_count")
    head_dim = emb // heads if emb and heads else None
    return Geometry(
        arch=arch,
        context_length=num("context_length"),
        block_count=blocks,
        embedding_length=emb,
        head_count=heads,
        head_count_kv=hkv,
        key_length=num("attention.key_length") or head_dim,
        value_length=num("attention.value_length") or head_dim,
        sliding_window=num("attention.sliding_window"),
        file_type=kv.get("general.file_type")
        if isinstance(kv.get("general.file_type"), int)
        else None,
    )


def geometry_from_model_info(kv: Mapping[str, Any]) -> Geometry | None:
    """Geometry from `model_info` via ctxfix.sources.gguf when present, else a local fallback."""
    if not kv:
        return None
    try:
        from ctxfix.sources.gguf import geometry_from_kv
    except ImportError:
        return _geometry_fallback(kv)
    try:
        return geometry_from_kv(kv)
    except (CtxfixError, ValueError, TypeError, KeyError):
        return _geometry_fallback(kv)


# --------------------------------------------------------------------------- the client


def _client(
    url: str, read_timeout: float, connect_timeout: float, deadline: float | None = None
) -> Any:
    """The official client; with `deadline`, the host's whole conversation ends within it."""
    import httpx

    from ctxfix.ollama_client import load as _load_ollama

    ollama = _load_ollama()

    kw: dict[str, Any] = {}
    if deadline is not None:
        from ctxfix.deadline import transport

        kw["transport"] = transport(deadline)
    return ollama.Client(
        host=url, timeout=httpx.Timeout(read_timeout, connect=connect_timeout), **kw
    )


class _Aborted(Exception):
    """A previous request timed out; do not start more against this host."""


def _describe(exc: BaseException, read_timeout: float, connect_timeout: float) -> tuple[str, bool]:
    """(problem text, host is unusable) for an exception from one request."""
    import httpx

    from ctxfix.ollama_client import load as _load_ollama

    ollama = _load_ollama()

    if isinstance(exc, ollama.ResponseError):
        return f"HTTP {exc.status_code}: {exc.error}", False
    if isinstance(exc, ConnectionError | httpx.ConnectError):
        return "connection refused", True
    if isinstance(exc, httpx.ConnectTimeout):
        return f"connect timed out after {connect_timeout:g} s", True
    if isinstance(exc, httpx.TimeoutException):
        return f"no complete answer within {read_timeout:g} s (--server-timeout)", True
    if isinstance(exc, ValueError):  # json.JSONDecodeError, pydantic ValidationError
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return f"malformed response ({first})", False
    if isinstance(exc, httpx.HTTPError):  # e.g. the server hung up on this one request
        return f"{type(exc).__name__}: {exc}", False
    return f"{type(exc).__name__}: {exc}", False


class _HostSession:
    """One scan of one host: the shared client, the abort flag and the warnings."""

    def __init__(self, url: str, read_timeout: float, connect_timeout: float) -> None:
        self.url = url
        self.read_timeout = read_timeout
        self.connect_timeout = connect_timeout
        # --server-timeout is the overall deadline of this host's conversation
        self.client = _client(url, read_timeout, connect_timeout, deadline=read_timeout)
        self.aborted = threading.Event()
        self.warnings: list[Warning_] = []
        self._lock = threading.Lock()

    def warn(self, endpoint: str, problem: str) -> None:
        with self._lock:
            self.warnings.append(Warning_(self.url, f"{endpoint}: {problem}"))

    def call(self, endpoint: str, fn: Callable[[], Any], *, what: str = "") -> Any | None:
        """Run one request; on failure record a warning and return None."""
        if self.aborted.is_set():
            raise _Aborted
        try:
            return fn()
        except Exception as exc:
            problem, fatal = _describe(exc, self.read_timeout, self.connect_timeout)
            if fatal:
                first = not self.aborted.is_set()
                self.aborted.set()
                if first:
                    self.warn(
                        endpoint + (f" {what}" if what else ""),
                        problem + "; skipped the rest of this host",
                    )
            else:
                self.warn(endpoint + (f" {what}" if what else ""), problem)
            return None


def _json_get(client: Any, path: str) -> Any:
    resp = client._request_raw("GET", path)
    data = resp.json()
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    return data


def scan_host(
    url: str,
    *,
    read_timeout: float = 10.0,
    connect_timeout: float = 0.5,
    max_workers: int = 8,
) -> HostScan:
    """Ask one server for its version, models, per-model parameters and loaded models.

    Never raises for a server fault; see the module docstring.
    """
    url = parse_host(url)
    s = _HostSession(url, read_timeout, connect_timeout)
    try:
        return _scan(s, max_workers)
    finally:
        s.client._client.close()


def _scan(s: _HostSession, max_workers: int) -> HostScan:
    import httpx

    url = s.url
    # 1. version, alone: a dead host costs one connect timeout and says so once.
    try:
        ver = _json_get(s.client, "/api/version")
    except ConnectionError:
        return _down(url, "connection refused")
    except httpx.ConnectError as exc:
        return _down(url, f"cannot connect ({exc})")
    except httpx.ConnectTimeout:
        return _down(url, f"connect timed out after {s.connect_timeout:g} s")
    except Exception as exc:
        problem, fatal = _describe(exc, s.read_timeout, s.connect_timeout)
        # a server that answers /api/version with a 500 or garbage is not going to
        # answer the rest: one warning for the host, not one per endpoint. Only a
        # 404 (a proxy that routes just some paths) is worth going on after.
        if fatal or getattr(exc, "status_code", None) != 404:
            s.warn("/api/version", problem + "; scanned files and stores only")
            return HostScan(url, ServerInfo(url), [], s.warnings)
        s.warn("/api/version", problem)
        ver = {}
    version = ver.get("version") if isinstance(ver.get("version"), str) else None
    info = ServerInfo(host=url, version=version)

    with ThreadPoolExecutor(
        max_workers=max(1, max_workers), thread_name_prefix="ctxfix-ollama"
    ) as pool:
        # 2. tags and ps together
        f_tags = pool.submit(s.call, "/api/tags", lambda: s.client.list())
        f_ps = pool.submit(s.call, "/api/ps", lambda: s.client.ps())
        try:
            tags = f_tags.result()
        except _Aborted:
            tags = None
        try:
            ps = f_ps.result()
        except _Aborted:
            ps = None
        loaded = _loaded(ps)
        if tags is None:
            return HostScan(url, info, [], s.warnings, loaded)

        # 3. /api/show per model, concurrently; a 404 for one does not stop the others
        entries = [m for m in tags.models if m.model]
        futures = [pool.submit(_show_one, s, m, loaded) for m in entries]
        models: list[ModelDef] = []
        for fut in futures:
            try:
                md = fut.result()
            except _Aborted:
                continue
            if md is not None:
                models.append(md)
    return HostScan(url, info, models, s.warnings, loaded)


def _down(url: str, why: str) -> HostScan:
    w = Warning_(None, f"no Ollama server at {url}: {why}; scanned files and stores only")
    return HostScan(url, None, [], [w])


def _loaded(ps: Any) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for m in getattr(ps, "models", None) or []:
        name = m.model or m.name
        if name:
            out[canonical(name)] = {
                "context_length": m.context_length,
                "size": int(m.size) if m.size is not None else None,
                "size_vram": int(m.size_vram) if m.size_vram is not None else None,
            }
    return out


def _show_one(
    s: _HostSession, entry: Any, loaded: Mapping[str, Mapping[str, Any]]
) -> ModelDef | None:
    name = entry.model
    show = s.call("/api/show", lambda: s.client.show(name), what=name)
    if show is None:
        return None
    url = s.url
    loc = Location(f"{url} /api/show {name}")
    params = parse_parameters(show.parameters)
    num_ctx: Sourced[int] | None = None
    invalid: Sourced[str] | None = None
    raw = _raw_param(show.parameters, "num_ctx")
    if "num_ctx" in params:
        v = params["num_ctx"]
        nloc = Location(f"{url} /api/show {name}", key="num_ctx")
        if isinstance(v, int) and not isinstance(v, bool):
            note = f"the server prints it as {raw}" if raw and not raw.isdigit() else ""
            num_ctx = Sourced(v, "server", nloc, note)
        else:
            invalid = Sourced(str(raw), "server", nloc)
    kv = dict(show.modelinfo or {})
    details = show.details.model_dump(exclude_none=True) if show.details is not None else {}
    cname = canonical(name)
    loaded_ctx = None
    lm = loaded.get(cname)
    if lm and lm.get("context_length"):
        loaded_ctx = Sourced(
            int(lm["context_length"]),
            "server",
            Location(f"{url} /api/ps", key=f"{cname}.context_length"),
        )
    return ModelDef(
        name=cname,
        origin="server",
        location=loc,
        parent=details.get("parent_model") or None,
        num_ctx=num_ctx,
        num_ctx_invalid=invalid,
        params=params,
        geometry=geometry_from_model_info(kv),
        weights_bytes=int(entry.size) if entry.size is not None else None,
        host=url,
        digest=entry.digest,
        model_digest=_model_digest(show.modelfile),
        details=details,
        loaded_ctx=loaded_ctx,
    )


# --------------------------------------------------------------------------- fixer actions

"""Read a live Ollama server: version, models, their parameters and what is loaded now.

Why: the context an agent gets is decided by the server that serves it, not
only by files. `/api/show` gives each model's num_ctx (from its params) and
the GGUF geometry (`model_info`), `/api/ps` the context each loaded model was
actually loaded with, `/api/version` the version that decides the defaults.

Faults never raise: a scan of files and stores must finish when a server is
down, slow or broken. Each fault becomes one `Warning_` naming the host and
the endpoint. A dead host costs at most the connect timeout; a hung host at
most `--server-timeout`, an overall deadline on its whole conversation
(ctxfix.deadline); after the first timeout no new request is sent.

Speed (issue 15): a host's /api/version, /api/tags and /api/ps go out
together, then /api/show runs on up to PER_HOST_MAX lanes sized by the
measured round trip; all lanes of a host share one `ollama_http.Host` and so
one keep-alive connection pool. A fleet (`scan_hosts`) scans every host at
once under GLOBAL_MAX requests in flight; a dead host never holds back a live
one. Numbers and their reasons are on the constants below and in
bench/RESULTS.md. Reads go through ctxfix/ollama_http.py (the standard
library), not the official client: its import alone cost more than a
50-model scan at 50 ms.

Note on `parameters`: Ollama prints each value with Go's `%#v`
(github:ollama/ollama server/routes.go `GetModelInfo`: `fmt.Sprintf("%-*s %#v",
cs, k, v)`, one line per element of a list), and a number there is a float64
(server/images.go `GetModel` decodes the params layer into `map[string]any`),
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
from typing import Any

from ctxfix.errors import CtxfixError, Warning_
from ctxfix.facts import Geometry, Location, ModelDef, ServerInfo, Sourced
from ctxfix.names import canonical
from ctxfix.records import field, record
from ctxfix.threads import TaskGroup, map_bounded

DEFAULT_URL = "http://127.0.0.1:11434"


# --------------------------------------------------------------------------- hosts


def parse_host(value: str | None) -> str:
    """Normalise `$OLLAMA_HOST` / `--host` exactly as the ollama python client's `_parse_host`.

    github:ollama/ollama-python ollama/_client.py `_parse_host`; the examples
    below follow its doctests.

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
        from ctxfix.redact import strip_userinfo

        raise CtxfixError(strip_userinfo(value or ""), f"invalid Ollama host: {exc}") from None
    try:
        if isinstance(ipaddress.ip_address(name), ipaddress.IPv6Address):
            name = f"[{name}]"
    except ValueError:
        pass
    if path := split.path.strip("/"):
        return f"{scheme}://{name}:{port}/{path}"
    return f"{scheme}://{name}:{port}"


# --------------------------------------------------------------------------- results


@record(frozen=True)
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
    """One `%#v` value as Ollama prints it: quoted string, true/false, or a float64.

    github:ollama/ollama server/routes.go `GetModelInfo` (`fmt.Sprintf("%-*s %#v", cs, k, v)`).
    """
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
    """`/api/show` `parameters` text -> {name: value}; repeated names (stop) become lists.

    github:ollama/ollama server/routes.go `GetModelInfo` writes a list option (`[]any`,
    e.g. stop) as one `name value` line per element, so a repeated name is one list.
    """
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


# --------------------------------------------------------------------------- concurrency

PER_HOST_MAX = 16
"""Requests in flight to one server at most. Every /api/show makes Ollama read
a manifest, a params blob and a GGUF header; 16 at once is what the issue's
measurements showed a plain 16-thread loop handles (7x a sequential loop at
50 ms), and more would only load one server for no gain (see CPU_PER_RESPONSE)."""

PER_HOST_MIN = 4
"""Lanes per host however fast it answers: a local Ollama's /api/version
round trip (~0.2 ms) says nothing about its /api/show cost (a GGUF header walk,
milliseconds), and 4 lanes keep a local scan out of GIL thrash (bench)."""

GLOBAL_MAX = 64
"""Requests in flight across every host of a scan. With the stdlib client
(ctxfix/ollama_http.py) the scanning process pays ~0.9 ms of CPU per answer
with 60 threads on one GIL (was ~1.3 ms with httpx and the official client's
pydantic models; bench/bench_fleet.py, 10 x 20 at 50 ms). 128 and 200 (with
20 lanes a host) measured no faster on 2 cores (0.36-0.39 s against 0.35-0.36 s,
7 runs each, 2026-12-01 12:41): the servers' own CPU shares the cores; 64
bounds the threads and sockets of a 100-host fleet."""

CPU_PER_RESPONSE = 0.002
"""Seconds of client CPU per answer, rounded up (see GLOBAL_MAX). Little's law:
lanes beyond round-trip / CPU-per-answer only queue on the GIL."""

HOSTS_AT_ONCE = 64
"""Hosts scanned at the same time; larger fleets queue (each queued host waits
for a finished one). A refused host frees its slots at once, but a hung one
(accepts TCP, never answers) holds the global slots of its first round
(/api/version, /api/tags, /api/ps: up to 3) until its deadline: 22 or more hung
hosts at once fill GLOBAL_MAX and delay the live ones by up to that deadline."""


def host_cap(n_hosts: int, max_workers: int = PER_HOST_MAX) -> int:
    """Most lanes one host may use when `n_hosts` are scanned together.

    The global bound is shared evenly (10 hosts: 6 lanes each), but never below
    PER_HOST_MIN: with 100 hosts the global semaphore, not the share, is the limit.
    """
    share = GLOBAL_MAX // max(1, n_hosts)
    return max(1, min(max_workers, PER_HOST_MAX, max(PER_HOST_MIN, share)))


def lanes_for(rtt: float, n_models: int, cap: int) -> int:
    """/api/show lanes for one host: round trip / CPU per answer, in [PER_HOST_MIN, cap].

    `rtt` is the measured /api/version round trip (connect included). A 50 ms
    host gets every lane it may have; a local one PER_HOST_MIN.
    """
    by_latency = math.ceil(max(rtt, 0.0) / CPU_PER_RESPONSE)
    return max(1, min(n_models, cap, max(PER_HOST_MIN, by_latency)))


class _Gate:
    """The global bound on requests in flight (one per scan, shared by all hosts)."""

    def __init__(self, limit: int | None = None) -> None:
        self._sem = threading.BoundedSemaphore(max(1, GLOBAL_MAX if limit is None else limit))

    def __enter__(self) -> None:
        self._sem.acquire()

    def __exit__(self, *exc: object) -> None:
        self._sem.release()


# --------------------------------------------------------------------------- the client


class _Aborted(Exception):
    """A previous request timed out; do not start more against this host."""


def _describe(exc: BaseException, read_timeout: float, connect_timeout: float) -> tuple[str, bool]:
    """(problem text, host is unusable) for an exception from one request."""
    from ctxfix import ollama_http as http

    if isinstance(exc, http.HTTPError):
        return str(exc), False
    if isinstance(exc, http.ConnectFailed):
        return str(exc), True
    if isinstance(exc, http.ConnectTimedOut):
        return f"connect timed out after {connect_timeout:g} s", True
    if isinstance(exc, http.TimedOut):
        return f"no complete answer within {read_timeout:g} s (--server-timeout)", True
    if isinstance(exc, http.TooLarge):  # every later read would be over the bound too
        return str(exc), True
    if isinstance(exc, ValueError):  # http.Malformed: bad JSON, or the wrong shape
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return f"malformed response ({first})", False
    if isinstance(exc, http.ProtocolFault):  # the server hung up on this one request
        return str(exc), False
    return f"{type(exc).__name__}: {exc}", False


class _HostSession:
    """One scan of one host: the shared client, the abort flag and the warnings."""

    def __init__(
        self,
        url: str,
        read_timeout: float,
        connect_timeout: float,
        cap: int,
        gate: _Gate,
    ) -> None:
        self.url = url
        self.read_timeout = read_timeout
        self.connect_timeout = connect_timeout
        self.cap = cap
        self.gate = gate
        # --server-timeout is the overall deadline of this host's conversation;
        # cap lanes + /api/ps may overlap, so the pool holds cap + 1 connections
        from ctxfix.ollama_http import Host

        self.client = Host(
            url, timeout=read_timeout, connect_timeout=connect_timeout, max_connections=cap + 1
        )
        self.aborted = threading.Event()
        self.warnings: list[Warning_] = []
        self._lock = threading.Lock()

    def warn(self, endpoint: str, problem: str) -> None:
        with self._lock:
            self.warnings.append(Warning_(self.url, f"{endpoint}: {problem}"))

    def abort(self) -> bool:
        """Stop starting requests to this host; True for the one caller that stopped it."""
        with self._lock:
            first = not self.aborted.is_set()
            self.aborted.set()
        return first

    def request(self, fn: Callable[[], Any]) -> Any:
        """One request under the global bound; raises what the client raises."""
        if self.aborted.is_set():
            raise _Aborted
        with self.gate:
            if self.aborted.is_set():  # set while this one waited for a slot
                raise _Aborted
            return fn()

    def call(self, endpoint: str, fn: Callable[[], Any], *, what: str = "") -> Any | None:
        """Run one request; on failure record a warning and return None."""
        try:
            return self.request(fn)
        except _Aborted:
            raise
        except Exception as exc:
            problem, fatal = _describe(exc, self.read_timeout, self.connect_timeout)
            if fatal:
                if self.abort():  # one warning for the host, from the first fatal fault
                    self.warn(
                        endpoint + (f" {what}" if what else ""),
                        problem + "; skipped the rest of this host",
                    )
            else:
                self.warn(endpoint + (f" {what}" if what else ""), problem)
            return None


def _json_object(client: Any, method: str, path: str, body: Any = None) -> dict[str, Any]:
    """One request whose answer must be a JSON object (every endpoint a scan reads)."""
    from ctxfix.ollama_http import Malformed

    data = client.json(method, path, body)
    if not isinstance(data, dict):
        raise Malformed(f"expected a JSON object, got {type(data).__name__}")
    return data


@record(frozen=True)
class _Tag:
    """One /api/tags entry, read from the raw JSON.

    Not the official client's `list()`: its typed `ModelDetails` drops
    `details.context_length`, which Ollama >= 0.30.0 sends per model
    (github:ollama/ollama api/types.go `ModelDetails.ContextLength`
    `json:"context_length,omitempty"`, filled in server/model_list_cache.go
    `buildModelListSummary` from the config blob, else the GGUF
    `<arch>.context_length`; /api/tags is `ListHandler` in server/routes.go).
    """

    name: str
    size: int | None
    digest: str | None
    context_length: int | None


def _int_or_none(v: Any) -> int | None:
    return int(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def _tags(data: Mapping[str, Any]) -> list[_Tag]:
    models = data.get("models")
    if models is None:
        return []
    if not isinstance(models, list):
        raise ValueError(f"models is a {type(models).__name__}, not a list")
    out: list[_Tag] = []
    for m in models:
        if not isinstance(m, dict):
            continue
        name = m.get("model") or m.get("name")
        if not isinstance(name, str) or not name:
            continue
        details = m.get("details") if isinstance(m.get("details"), dict) else {}
        ctx = _int_or_none(details.get("context_length"))
        digest = m.get("digest") if isinstance(m.get("digest"), str) else None
        out.append(_Tag(name, _int_or_none(m.get("size")), digest, ctx if ctx else None))
    return out


def scan_host(
    url: str,
    *,
    read_timeout: float = 10.0,
    connect_timeout: float = 0.5,
    max_workers: int = PER_HOST_MAX,
    gate: _Gate | None = None,
    n_hosts: int = 1,
) -> HostScan:
    """Ask one server for its version, models, per-model parameters and loaded models.

    `max_workers` caps this host's lanes; `gate` is the fleet's global bound
    (a private one when the host is scanned alone). Never raises for a server
    fault; see the module docstring.
    """
    url = parse_host(url)
    s = _HostSession(
        url, read_timeout, connect_timeout, host_cap(n_hosts, max_workers), gate or _Gate()
    )
    try:
        return _scan(s)
    finally:
        s.client.close()


def scan_hosts(
    urls: list[str],
    *,
    read_timeout: float = 10.0,
    connect_timeout: float = 0.5,
    on_done: Callable[[], None] | None = None,
) -> list[HostScan]:
    """Scan a fleet concurrently, results in the order of `urls`.

    Each host has its own client, pool and deadline; all share one global
    bound of GLOBAL_MAX requests in flight. A dead host costs its own connect
    timeout (or deadline) only: the others run beside it, so the fleet takes
    about as long as its slowest host, not the sum. `on_done` is called once
    per host as it finishes (progress), one call at a time.
    """
    if not urls:
        return []
    gate = _Gate()
    n = len(urls)
    done_lock = threading.Lock()

    def one(u: str) -> HostScan:
        scan = scan_host(
            u,
            read_timeout=read_timeout,
            connect_timeout=connect_timeout,
            gate=gate,
            n_hosts=n,
        )
        if on_done is not None:
            with done_lock:
                on_done()
        return scan

    if n == 1:
        return [one(urls[0])]
    return map_bounded(one, urls, HOSTS_AT_ONCE, "ctxfix-host")


def _scan(s: _HostSession) -> HostScan:
    import time

    url = s.url
    with TaskGroup("ctxfix-ollama") as pool:  # left only when every request it started ended
        # 1. version, tags and ps at once: one round trip, not three. The
        # version still decides: a dead host is reported once, from its answer.
        f_tags = pool.spawn(lambda: s.request(lambda: _json_object(s.client, "GET", "/api/tags")))
        f_ps = pool.spawn(
            lambda: s.call("/api/ps", lambda: _json_object(s.client, "GET", "/api/ps"))
        )
        t0 = time.monotonic()
        try:
            with s.gate:  # not s.request: a failed /api/ps must not pre-empt the verdict
                t0 = time.monotonic()  # the round trip, not the wait for a slot
                ver = _json_object(s.client, "GET", "/api/version")
            rtt = time.monotonic() - t0
        except Exception as exc:
            down = _version_failed(s, exc)
            if down is not None:
                s.aborted.set()  # nothing new starts; tags and ps end within the deadline
                return down
            ver, rtt = {}, time.monotonic() - t0
        version = ver.get("version") if isinstance(ver.get("version"), str) else None
        info = ServerInfo(host=url, version=version)

        try:
            tags = _tags(f_tags.result())
        except _Aborted:
            tags = None
        except Exception as exc:
            problem, fatal = _describe(exc, s.read_timeout, s.connect_timeout)
            if not fatal:
                s.warn("/api/tags", problem)
            elif s.abort():  # else /api/ps already said the host is gone
                s.warn("/api/tags", problem + "; skipped the rest of this host")
            tags = None
        if tags is None:
            return HostScan(url, info, [], s.warnings, _loaded(_result(f_ps)))

        # 2. /api/show per model on `lanes` lanes pulling from one queue; a 404
        # for one model does not stop the others. /api/ps may still be in flight.
        def show(tag: _Tag) -> ModelDef | None:
            try:
                return _show_one(s, tag)
            except _Aborted:  # the host timed out: no new request starts
                return None

        shown = map_bounded(show, tags, lanes_for(rtt, len(tags), s.cap), "ctxfix-show")
        loaded = _loaded(_result(f_ps))
    models = [_with_loaded(md, loaded, url) for md in shown if md is not None]
    return HostScan(url, info, models, s.warnings, loaded)


def _result(fut: Any) -> Any:
    try:
        return fut.result()
    except _Aborted:
        return None


def _version_failed(s: _HostSession, exc: BaseException) -> HostScan | None:
    """The HostScan for a host whose /api/version failed, or None to go on (a 404)."""
    from ctxfix import ollama_http as http

    url = s.url
    if isinstance(exc, http.ConnectFailed):
        return _down(url, str(exc) if exc.refused else f"cannot connect ({exc})")
    if isinstance(exc, http.ConnectTimedOut):
        return _down(url, f"connect timed out after {s.connect_timeout:g} s")
    problem, fatal = _describe(exc, s.read_timeout, s.connect_timeout)
    # a server that answers /api/version with a 500 or garbage is not going to
    # answer the rest: one warning for the host, not one per endpoint (what
    # /api/tags and /api/ps said meanwhile is dropped). Only a 404 (a proxy
    # that routes just some paths) is worth going on after.
    if fatal or getattr(exc, "status_code", None) != 404:
        w = Warning_(url, f"/api/version: {problem}; scanned files and stores only")
        return HostScan(url, ServerInfo(url), [], [w])
    s.warn("/api/version", problem)
    return None


def _down(url: str, why: str) -> HostScan:
    w = Warning_(None, f"no Ollama server at {url}: {why}; scanned files and stores only")
    return HostScan(url, None, [], [w])


def _loaded(ps: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """/api/ps by canonical name: the context each model is loaded with, and its sizes.

    Entries that are not objects, or lack a name, are skipped; a field of the
    wrong type reads as absent (github:ollama/ollama api/types.go `ProcessModelResponse`).
    """
    out: dict[str, dict[str, Any]] = {}
    models = (ps or {}).get("models")
    for m in models if isinstance(models, list) else []:
        if not isinstance(m, dict):
            continue
        name = m.get("model") or m.get("name")
        if isinstance(name, str) and name:
            out[canonical(name)] = {
                "context_length": _int_or_none(m.get("context_length")),
                "size": _int_or_none(m.get("size")),
                "size_vram": _int_or_none(m.get("size_vram")),
            }
    return out


def _with_loaded(md: ModelDef, loaded: Mapping[str, Mapping[str, Any]], url: str) -> ModelDef:
    """The definition with its /api/ps context when it is loaded now."""
    from ctxfix.records import replace

    lm = loaded.get(md.name)
    if not lm or not lm.get("context_length"):
        return md
    where = Location(f"{url} /api/ps", key=f"{md.name}.context_length")
    return replace(md, loaded_ctx=Sourced(int(lm["context_length"]), "server", where))


def _show_one(s: _HostSession, tag: _Tag) -> ModelDef | None:
    """One /api/show: the Modelfile parameters (num_ctx), model_info (the
    geometry the KV estimate needs), details (parent) and the modelfile (the
    GGUF blob digest). /api/tags has none of these but the native context."""
    name = tag.name
    show = s.call("/api/show", lambda: _show_fields(s.client, name), what=name)
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
    kv = show.model_info
    details = show.details
    geometry = geometry_from_model_info(kv)
    if tag.context_length and (geometry is None or not geometry.context_length):
        # a model whose model_info lacks the native context (a cloud model, a
        # GGUF without <arch>.context_length): /api/tags has it on >= 0.30.0
        from ctxfix.records import replace

        arch = geometry.arch if geometry else (details.get("family") or "unknown")
        geometry = (
            replace(geometry, context_length=tag.context_length)
            if geometry
            else Geometry(arch=arch, context_length=tag.context_length)
        )
    return ModelDef(
        name=canonical(name),
        origin="server",
        location=loc,
        parent=details.get("parent_model") or None,
        num_ctx=num_ctx,
        num_ctx_invalid=invalid,
        params=params,
        geometry=geometry,
        weights_bytes=tag.size,
        host=url,
        digest=tag.digest,
        model_digest=_model_digest(show.modelfile),
        details=details,
        # server/images.go Capabilities: a projector (or vision.block_count) makes
        # "vision", which raises num_ctx to at least 2,048 (server/sched.go getRunner)
        vision="vision" in show.capabilities,
    )


@record(frozen=True)
class _Show:
    """The /api/show fields a scan uses, checked for type."""

    parameters: str | None
    model_info: dict[str, Any]
    details: dict[str, Any]
    modelfile: str | None
    capabilities: list[str]


_DETAILS = ("parent_model", "format", "family", "families", "parameter_size", "quantization_level")
"""The `details` fields kept, as the official client's `ModelDetails` keeps them
(github:ollama/ollama-python ollama/_types.py; others are dropped there too)."""


def _show_fields(client: Any, name: str) -> _Show:
    """POST /api/show for `name`; an answer of the wrong shape raises Malformed.

    The shape is github:ollama/ollama api/types.go `ShowResponse`: `parameters`
    and `modelfile` strings, `model_info` and `details` objects, `capabilities`
    a list of strings; any of them may be absent (`omitempty`).
    """
    from ctxfix.ollama_http import Malformed

    data = _json_object(client, "POST", "/api/show", {"model": name})

    def typed(key: str, kind: type, default: Any) -> Any:
        v = data.get(key)
        if v is None:
            return default
        if not isinstance(v, kind):
            raise Malformed(f"{key} is a {type(v).__name__}, not a {kind.__name__}")
        return v

    raw_details = typed("details", dict, {})
    details = {k: raw_details[k] for k in _DETAILS if raw_details.get(k) is not None}
    capabilities = typed("capabilities", list, [])
    return _Show(
        parameters=typed("parameters", str, None),
        model_info=typed("model_info", dict, {}),
        details=details,
        modelfile=typed("modelfile", str, None),
        capabilities=[c for c in capabilities if isinstance(c, str)],
    )


# --------------------------------------------------------------------------- fixer actions

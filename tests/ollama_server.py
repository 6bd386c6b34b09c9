"""A loopback Ollama double: a real HTTP server backed by a real model store.

Why a double and not mocks: ctxfix talks to Ollama through the official
`ollama` client over HTTP. Mocking the client would test our guesses about
it; serving real bytes on 127.0.0.1 tests the client, the wire shapes and our
parsing together. The double reads and writes an Ollama store directory laid
out exactly like Ollama's (`manifests/<host>/<namespace>/<model>/<tag>`,
`blobs/sha256-<hex>`), so what `/api/create` writes is what the store source
reads back.

Shapes follow upstream ollama/ollama `server/routes.go` and `server/create.go`
(checked): `/api/show` `parameters` is `fmt.Sprintf("%-*s %#v", 30, k, v)`
per value (list values one line each; numbers are float64 so 1000000 prints
`1e+06`); `model_info` is the GGUF KV minus `general.name` and
`tokenizer.chat_template`, plus `general.parameter_count`, with arrays
`null` unless `verbose` (Go decodes with maxArraySize 0, so array values are
nil); params blobs are Go `json.Encoder` output (sorted keys, `<>&` escaped as
`\\u003c`..., trailing newline), merged over the parent's params on create.
From 0.30.0 (`version` >= "0.30.0") `/api/tags` details carry `context_length`
and `embedding_length` (api/types.go `ModelDetails`, `omitempty`), from the
config blob else the GGUF `<arch>.` keys, as server/model_list_cache.go
`buildModelListSummary` fills them; older versions send neither.
`connections` counts the TCP connections accepted (pool-reuse tests).
Deliberate simplifications: `/api/create` with an unknown `from` answers 404
(a real server would try to pull it); capabilities are guessed from the template.

The GGUF header is read by a small parser here, not by ctxfix's own
reader, so the double stays an independent oracle.

    with OllamaDouble(store) as srv:
        ollama.Client(host=srv.url).list()
        srv.set_fault("500", "/api/show")
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import socket
import struct
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

DEFAULT_HOST = "registry.ollama.ai"
DEFAULT_NAMESPACE = "library"
DEFAULT_TAG = "latest"

MT_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MT_CONFIG = "application/vnd.docker.container.image.v1+json"
MT_PREFIX = "application/vnd.ollama.image."

FAULT_KINDS = ("refuse", "500", "malformed", "delay", "404", "version")


# --------------------------------------------------------------------------- Go formatting


def go_float(x: float) -> str:
    """Go's `%v` / `%#v` for a float64 (strconv 'g' with the shortest digits).

    For the shortest representation Go decides with precision 6: exponent
    form when the decimal exponent is < -4 or >= 6 (`1e+06`, `1.048576e+06`),
    plain otherwise (`131072`, `0.6`).
    """
    if x != x:
        return "NaN"
    if x in (float("inf"), float("-inf")):
        return "+Inf" if x > 0 else "-Inf"
    if x == 0:
        return "-0" if str(x).startswith("-") else "0"
    sign, digits, exp = Decimal(repr(float(x))).normalize().as_tuple()
    ds = "".join(map(str, digits))
    nd = len(ds)
    dp = nd + int(exp)  # position of the decimal point
    e10 = dp - 1
    neg = "-" if sign else ""
    if e10 < -4 or e10 >= 6:
        mant = ds[0] + ("." + ds[1:] if nd > 1 else "")
        return f"{neg}{mant}e{'-' if e10 < 0 else '+'}{abs(e10):02d}"
    if dp <= 0:
        return f"{neg}0.{'0' * -dp}{ds}"
    if dp >= nd:
        return f"{neg}{ds}{'0' * (dp - nd)}"
    return f"{neg}{ds[:dp]}.{ds[dp:]}"


_GO_ESC = {"\\": "\\\\", '"': '\\"', "\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n"}
_GO_ESC.update({"\r": "\\r", "\t": "\\t", "\v": "\\v"})


def go_quote(s: str) -> str:
    """Go's strconv.Quote (what `%#v` prints for a string)."""
    out = []
    for ch in s:
        if ch in _GO_ESC:
            out.append(_GO_ESC[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def go_sharp_v(v: Any) -> str:
    """`%#v` of a value decoded from JSON by Go (numbers are float64)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return go_float(float(v))
    if isinstance(v, str):
        return go_quote(v)
    if v is None:
        return "<nil>"
    return str(v)


def go_plain_v(v: Any) -> str:
    """`%v` (what the generated Modelfile prints after PARAMETER)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return go_float(float(v))
    return str(v)


def _go_json_value(v: Any) -> Any:
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e21:
        return int(v)
    if isinstance(v, dict):
        return {k: _go_json_value(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_go_json_value(x) for x in v]
    return v


def go_json(obj: Any, *, sort_keys: bool = False) -> bytes:
    """Bytes Go's `json.NewEncoder(w).Encode(obj)` writes: compact, HTML-escaped, newline."""
    text = json.dumps(
        _go_json_value(obj), sort_keys=sort_keys, separators=(",", ":"), ensure_ascii=False
    )
    for a, b in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(a, b)
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return (text + "\n").encode()


def go_time(ts: float) -> str:
    """RFC 3339 with nanoseconds, local zone, as Go's time.Time marshals."""
    dt = datetime.fromtimestamp(ts).astimezone()
    frac = f"{dt.microsecond:06d}".rstrip("0")
    off = dt.utcoffset() or timedelta(0)
    if off == timedelta(0):
        zone = "Z"
    else:
        mins = int(off.total_seconds() // 60)
        zone = f"{'+' if mins >= 0 else '-'}{abs(mins) // 60:02d}:{abs(mins) % 60:02d}"
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + (f".{frac}" if frac else "") + zone


# --------------------------------------------------------------------------- the store


def split_name(name: str) -> tuple[str, str, str, str]:
    """(host, namespace, model, tag) with Ollama's defaults."""
    tag = DEFAULT_TAG
    slash, colon = name.rfind("/"), name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :] or DEFAULT_TAG
    parts = [p for p in name.split("/") if p]
    host, ns = DEFAULT_HOST, DEFAULT_NAMESPACE
    if len(parts) >= 3:
        host, ns, model = parts[0], "/".join(parts[1:-1]), parts[-1]
    elif len(parts) == 2:
        ns, model = parts
    else:
        model = parts[0] if parts else ""
    return host, ns, model, tag


def display_shortest(host: str, ns: str, model: str, tag: str) -> str:
    """`model.Name.DisplayShortest`: drop the default host and namespace."""
    if host.lower() != DEFAULT_HOST:
        return f"{host}/{ns}/{model}:{tag}"
    if ns.lower() != DEFAULT_NAMESPACE:
        return f"{ns}/{model}:{tag}"
    return f"{model}:{tag}"


def valid_name(name: str) -> bool:
    _, _, model, tag = split_name(name)
    return bool(model) and bool(tag) and all(c.isalnum() or c in "-_." for c in model + tag)


@dataclass
class StoredModel:
    name: str  # display name
    manifest_path: Path
    manifest: dict[str, Any]
    manifest_bytes: bytes

    def layer(self, kind: str) -> dict[str, Any] | None:
        for layer in self.manifest.get("layers", []):
            if layer.get("mediaType") == MT_PREFIX + kind:
                return layer
        return None

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.manifest_bytes).hexdigest()

    @property
    def size(self) -> int:
        return sum(int(x.get("size", 0)) for x in self.manifest.get("layers", []))


class Store:
    """Read/write an Ollama model store directory."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.lock = threading.RLock()

    def blob_path(self, digest: str) -> Path:
        return Path(os.path.join(str(self.root), "blobs", digest.replace(":", "-")))

    def read_blob(self, digest: str) -> bytes:
        with open(os.path.join(str(self.root), "blobs", digest.replace(":", "-")), "rb") as f:
            return f.read()

    def write_blob(self, data: bytes) -> tuple[str, int]:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        path = self.blob_path(digest)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.write_bytes(data)
        return digest, len(data)

    def models(self) -> list[StoredModel]:
        base = self.root / "manifests"
        out = []
        if not base.is_dir():
            return out
        for path in sorted(base.rglob("*")):
            if not path.is_file():
                continue
            parts = path.relative_to(base).parts
            if len(parts) < 4:
                continue
            host, ns, model, tag = parts[0], "/".join(parts[1:-2]), parts[-2], parts[-1]
            try:
                raw = path.read_bytes()
                out.append(
                    StoredModel(display_shortest(host, ns, model, tag), path, json.loads(raw), raw)
                )
            except (OSError, ValueError):
                continue
        return out

    def find(self, name: str) -> StoredModel | None:
        """Look a name up case-insensitively per path part, as Ollama does.

        The exact path is tried first with plain string paths (os.path): the
        benches' fleet of doubles shares the client's 2 cores, and pathlib
        objects per part were a third of a /api/show's CPU here.
        """
        host, ns, model, tag = split_name(name)
        parts = (host, *ns.split("/"), model, tag)
        base = os.path.join(str(self.root), "manifests")
        cur = os.path.join(base, *parts)
        if not os.path.isfile(cur):
            cur = base
            for part in parts:
                direct = os.path.join(cur, part)
                if os.path.exists(direct):
                    cur = direct
                    continue
                try:
                    match = [c for c in os.listdir(cur) if c.lower() == part.lower()]
                except OSError:
                    return None
                if not match:
                    return None
                cur = os.path.join(cur, match[0])
            if not os.path.isfile(cur):
                return None
        found = cur[len(base) + 1 :].split(os.sep)  # cur was joined onto base
        try:
            with open(cur, "rb") as f:
                raw = f.read()
            doc = json.loads(raw)
        except (OSError, ValueError):
            return None
        shown = display_shortest(found[0], "/".join(found[1:-2]), found[-2], found[-1])
        return StoredModel(shown, Path(cur), doc, raw)

    def manifest_path(self, name: str) -> Path:
        host, ns, model, tag = split_name(name)
        return self.root / "manifests" / host / ns / model / tag

    def write_manifest(
        self, name: str, config: dict[str, Any], layers: list[dict[str, Any]]
    ) -> Path:
        body = {"schemaVersion": 2, "mediaType": MT_MANIFEST, "config": config, "layers": layers}
        path = self.manifest_path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(go_json(body))
        os.replace(tmp, path)
        return path


# --------------------------------------------------------------------------- GGUF header

_GGUF_CACHE: dict[tuple[str, bool], tuple[dict[str, Any], list[dict[str, Any]]]] = {}
_GGUF_LOCK = threading.Lock()
_SCALARS = {
    0: "B",
    1: "b",
    2: "H",
    3: "h",
    4: "I",
    5: "i",
    6: "f",
    7: "?",
    10: "Q",
    11: "q",
    12: "d",
}


def read_model_info(path: Path, verbose: bool) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """model_info and tensors as /api/show returns them (cached by path).

    Reads the header only, like Ollama (`ggml.Decode`): store fixtures are
    often header-only files, which gguf-py's GGUFReader refuses because it
    maps the tensor data too. Tensor type names come from gguf-py.
    """
    key = (str(path), verbose)
    with _GGUF_LOCK:
        if key in _GGUF_CACHE:
            return _GGUF_CACHE[key]
    from gguf import GGMLQuantizationType

    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic not in (b"GGUF", b"FUGG"):
        raise ValueError("invalid file magic")
    e = "<" if magic == b"GGUF" else ">"
    pos = 4

    def take(fmt: str) -> Any:
        nonlocal pos
        (v,) = struct.unpack_from(e + fmt, data, pos)
        pos += struct.calcsize(fmt)
        return v

    def string() -> str:
        nonlocal pos
        n = take("Q")
        pos += n
        return data[pos - n : pos].decode("utf-8", errors="replace")

    def value(t: int, keep: bool) -> Any:
        if t == 8:
            return string()
        if t == 9:
            sub, n = take("I"), take("Q")
            items = [value(sub, keep) for _ in range(n)]
            return items if keep or n == 0 else None
        return take(_SCALARS[t])

    take("I")  # version
    n_tensors, n_kv = take("Q"), take("Q")
    kv: dict[str, Any] = {}
    for _ in range(n_kv):
        k = string()
        kv[k] = value(take("I"), verbose)
    tensors = []
    count = 0
    for _ in range(n_tensors):
        name = string()
        shape = [take("Q") for _ in range(take("I"))]
        kind = take("I")
        take("Q")  # offset
        elems = 1
        for x in shape:
            elems *= x
        count += elems
        try:
            tname = GGMLQuantizationType(kind).name
        except ValueError:
            tname = str(kind)
        tensors.append({"name": name, "type": tname, "shape": shape})
    kv.pop("general.name", None)
    kv.pop("tokenizer.chat_template", None)
    kv["general.parameter_count"] = count
    with _GGUF_LOCK:
        _GGUF_CACHE[key] = (kv, tensors)
    return kv, tensors


# --------------------------------------------------------------------------- prompt limits

# Restated from upstream on purpose, not imported from ctxfix.policy.truncation:
# the double is the oracle the product's reading of these rules is tested against.
# github:ollama/ollama llm/llama_server.go (v0.33.0-rc2) completionPromptForRequest
PROMPT_TOO_LONG = (
    "the prompt is longer than the context length currently available to the model; "
    "shorten the prompt, adjust the context length in settings, or use a model with a "
    "longer context length"
)
# runner/ollamarunner/runner.go errorInputTooLong (0.12.6 up to 0.30), with truncate:false
INPUT_TOO_LONG = "the input length exceeds the context length"


def version_tuple(version: str) -> tuple[int, int, int]:
    """`0.30.1-rc2` -> (0, 30, 1); unparsable parts count as 0."""
    parts = [*version.split("-", 1)[0].split("."), "0", "0", "0"][:3]
    return tuple(int(p) if p.isdigit() else 0 for p in parts)  # type: ignore[return-value]


def context_shift_prompt_limit(num_ctx: int, num_keep: int) -> int:
    """llm/llama_server.go contextShiftPromptLimit: keep num_keep, free about half the rest."""
    if num_ctx <= 1:
        return 0
    num_keep = max(0, min(num_keep, num_ctx - 1))
    return num_ctx - max((num_ctx - num_keep) // 2, 1)


def evaluated_prompt(
    double: OllamaDouble, body: dict[str, Any], num_ctx: int, tokens: int
) -> tuple[int, str | None]:
    """(prompt_eval_count, 400 message or None) for a prompt of `tokens` (whitespace words).

    Why two regimes (both checked upstream): before 0.30 the Go runners cut a
    prompt longer than num_ctx to num_ctx tokens (`truncating input prompt
    limit=num_ctx`, runner/ollamarunner/runner.go NewSequence at v0.20.0), or
    refuse it with `truncate: false`. From 0.30 llama-server gets at most
    num_ctx - 1 prompt tokens; a longer prompt is cut to
    `contextShiftPromptLimit` when context shift is on (the default), else
    refused with HTTP 400 (llm/llama_server.go completionPromptForRequest).
    No BOS token here: the double's tokenizer is whitespace words.
    """
    opts = body.get("options") or {}
    truncate = body.get("truncate") is not False
    if version_tuple(double.version) >= (0, 30, 0):
        if not truncate or num_ctx <= 1 or tokens <= num_ctx - 1:
            return tokens, None
        shift = body.get("shift")
        if not (double.context_shift if shift is None else bool(shift)):
            return 0, PROMPT_TOO_LONG
        keep = int(opts.get("num_keep", 4))
        keep = tokens if keep < 0 else keep
        return context_shift_prompt_limit(num_ctx, min(keep, num_ctx - 1)), None
    if tokens <= num_ctx:
        return tokens, None
    if not truncate and version_tuple(double.version) >= (0, 12, 6):
        return 0, INPUT_TOO_LONG
    return num_ctx, None


# --------------------------------------------------------------------------- the server


@dataclass
class Fault:
    kind: str
    endpoint: str | None = None
    model: str | None = None
    seconds: float = 30.0
    message: str = "llama runner process has terminated: exit status 2"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # Go's net.Listen takes the kernel's somaxconn (4096); socketserver's default
    # backlog of 5 dropped the SYNs of 16 lanes connecting at once, and each
    # dropped SYN cost a 1 s retransmit (a connect timeout for the client).
    request_queue_size = 128
    double: OllamaDouble

    def process_request(self, request: Any, client_address: Any) -> None:
        """Count every accepted TCP connection (one handler thread each)."""
        d = self.double
        with d._lock:
            d.connections += 1
        super().process_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that timed out and hung up is normal here, not an error to print."""
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class OllamaDouble:
    """A real HTTP server on 127.0.0.1 speaking Ollama's API over a store dir.

    `loaded` is the list `/api/ps` reports: dicts with at least `name` and
    `context_length` (optional `size`, `size_vram`); `/api/generate` also
    loads models into it, with the num_ctx the request implies. `latency`
    seconds are slept at the start of every request (the benchmark needs a
    realistic per-request cost). `prefill_tps` sets the reported prefill rate.
    """

    # Ollama >= 0.30: does the runner shift context (cut an over-long prompt) or refuse it?
    # Upstream resolves it per model (server/sched.go resolveContextShift: on, except
    # deepseek2) unless the request sends `shift`. See `evaluated_prompt`.
    context_shift: bool = True

    def __init__(
        self,
        store: Path,
        version: str = "0.12.3",
        *,
        latency: float = 0.0,
        prefill_tps: float = 400.0,
        default_num_ctx: int = 4096,
        loaded: list[dict[str, Any]] | None = None,
        log_path: Path | None = None,
    ) -> None:
        self.store = Store(store)
        self.version = version
        self.latency = latency
        self.prefill_tps = prefill_tps
        self.default_num_ctx = default_num_ctx
        self.loaded: list[dict[str, Any]] = list(loaded or [])
        self.requests: list[tuple[str, str]] = []  # (method, path) in arrival order
        self.connections = 0  # TCP connections accepted so far
        self._faults: list[Fault] = []
        self._stopping = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None
        self._lock = threading.Lock()
        # server log in Ollama's slog text format (see ServerLog), when a path is given
        self.log: ServerLog | None = ServerLog(log_path, version) if log_path else None

    # lifecycle -----------------------------------------------------------
    def start(self) -> OllamaDouble:
        httpd = _Server(("127.0.0.1", 0), _Handler)
        httpd.double = self
        self._httpd = httpd
        self._port = httpd.server_address[1]
        # poll 20 times a second, not socketserver's 2: `stop()` waits for the next
        # poll, and 0.5 s per double was most of a fast test's time
        self._thread = threading.Thread(
            target=httpd.serve_forever, args=(0.05,), name="ollama-double", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> OllamaDouble:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._port is not None, "server not started"
        return f"http://127.0.0.1:{self._port}"

    # faults --------------------------------------------------------------
    def set_fault(
        self,
        kind: str,
        endpoint: str | None = None,
        *,
        model: str | None = None,
        seconds: float = 30.0,
        message: str | None = None,
        value: str | None = None,
    ) -> None:
        """Switch on a fault.

        kind: "refuse" (stop listening: connections are refused), "500"
        (an error body), "malformed" (truncated JSON with status 200),
        "delay" (answer after `seconds`, longer than the client's read
        timeout), "404" (`model` not found), "version" (report `value`).
        `endpoint` ("/api/show") limits it to one path; `model` to one model.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {FAULT_KINDS}")
        if kind == "refuse":
            httpd, self._httpd = self._httpd, None
            if httpd is not None:
                httpd.shutdown()
                httpd.server_close()
            return
        if kind == "version":
            self.version = value or "0.0.0"
            return
        f = Fault(kind, endpoint, model, seconds)
        if message:
            f.message = message
        with self._lock:
            self._faults.append(f)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def fault_for(self, path: str, model: str | None) -> Fault | None:
        with self._lock:
            for f in self._faults:
                if f.endpoint not in (None, path):
                    continue
                if f.model is not None and (model is None or f.model.lower() != model.lower()):
                    continue
                return f
        return None

    def sleep(self, seconds: float) -> None:
        """Sleep, but wake up when the server stops (no thread outlives the test)."""
        self._stopping.wait(seconds)

    # model helpers ---------------------------------------------------------
    def params_of(self, m: StoredModel) -> dict[str, Any]:
        layer = m.layer("params")
        if layer is None:
            return {}
        return json.loads(self.store.read_blob(layer["digest"]))

    def config_of(self, m: StoredModel) -> dict[str, Any]:
        cfg = m.manifest.get("config") or {}
        if not cfg.get("digest"):
            return {}
        try:
            return json.loads(self.store.read_blob(cfg["digest"]))
        except (OSError, ValueError):
            return {}

    def text_layer(self, m: StoredModel, kind: str) -> str:
        layer = m.layer(kind)
        return self.store.read_blob(layer["digest"]).decode() if layer else ""

    def version_at_least(self, *want: int) -> bool:
        """`self.version` >= `want`, read as Ollama's semver (`0.30.0-rc2` counts as 0.30.0)."""
        core = self.version.lstrip("v").split("-", 1)[0].split("+", 1)[0]
        try:
            have = tuple(int(x) for x in core.split("."))
        except ValueError:
            return False
        return have >= want

    def list_details(self, m: StoredModel) -> dict[str, Any]:
        """/api/tags details: from 0.30.0 with context_length and embedding_length.

        Upstream (server/model_list_cache.go `buildModelListSummary`): the
        config blob's `context_length` / `embedding_length`, else the GGUF's
        `<arch>.context_length` / `<arch>.embedding_length`; zero is omitted.
        """
        d = self.details(m, parent=True)
        if not self.version_at_least(0, 30, 0):
            return d
        cfg = self.config_of(m)
        ctx, emb = cfg.get("context_length") or 0, cfg.get("embedding_length") or 0
        layer = m.layer("model")
        if layer is not None and (not ctx or not emb):
            with contextlib.suppress(OSError, ValueError, KeyError, struct.error):
                kv, _ = read_model_info(self.store.blob_path(layer["digest"]), False)
                arch = kv.get("general.architecture", "")
                ctx = ctx or kv.get(f"{arch}.context_length") or 0
                emb = emb or kv.get(f"{arch}.embedding_length") or 0
        if ctx:
            d["context_length"] = int(ctx)
        if emb:
            d["embedding_length"] = int(emb)
        return d

    def details(self, m: StoredModel, *, parent: bool = False) -> dict[str, Any]:
        cfg = self.config_of(m)
        d: dict[str, Any] = {}
        if parent:
            layer = m.layer("model") or {}
            d["parent_model"] = layer.get("from", "")
        d.update(
            format=cfg.get("model_format", ""),
            family=cfg.get("model_family", ""),
            families=cfg.get("model_families"),
            parameter_size=cfg.get("model_type", ""),
            quantization_level=cfg.get("file_type", ""),
        )
        return d


def _parameters_text(params: dict[str, Any]) -> str:
    lines = []
    for k, v in params.items():
        for item in v if isinstance(v, list) else [v]:
            lines.append(f"{k:<30} {go_sharp_v(item)}")
    return "\n".join(lines)


def _mf_quote(s: str) -> str:
    """parser.quote: quote only when needed; triple quotes when it holds a quote."""
    if "\n" in s or s.startswith(" ") or s.endswith(" "):
        if '"' in s:
            return f'"""{s}"""'
        return f'"{s}"'
    return s


def _modelfile(double: OllamaDouble, m: StoredModel, params: dict[str, Any]) -> str:
    out = [
        '# Modelfile generated by "ollama show"',
        "# To build a new Modelfile based on this, replace FROM with:",
        f"# FROM {m.name}",
        "",
    ]
    model_layer = m.layer("model")
    if model_layer:
        out.append(f"FROM {double.store.blob_path(model_layer['digest'])}")
    for kind, kw in (("template", "TEMPLATE"), ("system", "SYSTEM")):
        text = double.text_layer(m, kind)
        if text:
            out.append(f"{kw} {_mf_quote(text)}")
    for k, v in params.items():
        for item in v if isinstance(v, list) else [v]:
            out.append(f"PARAMETER {k} {_mf_quote(go_plain_v(item))}")
    lic = double.text_layer(m, "license")
    if lic:
        out.append(f"LICENSE {_mf_quote(lic)}")
    return "\n".join(out) + "\n"


def _capabilities(template: str) -> list[str]:
    caps = ["completion"]
    if ".Tools" in template:
        caps.append("tools")
    if ".Suffix" in template:
        caps.append("insert")
    if ".Thinking" in template:
        caps.append("thinking")
    return caps


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        # Go's net/http sets TCP_NODELAY; without it headers and body, written
        # separately, meet the client's delayed ACK and every response costs 40 ms.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    # plumbing --------------------------------------------------------------
    @property
    def d(self) -> OllamaDouble:
        return self.server.double

    def _body(self) -> tuple[dict[str, Any] | None, str | None]:
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        if not raw.strip():
            return None, "missing request body"
        try:
            obj = json.loads(raw)
        except ValueError as exc:
            return None, str(exc)
        if not isinstance(obj, dict):
            return None, "json: cannot unmarshal into Go value of type api.Request"
        return obj, None

    def _send(
        self, status: int, body: bytes, ctype: str = "application/json; charset=utf-8"
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, obj: Any) -> None:
        self._send(status, json.dumps(obj).encode())

    def _error(self, status: int, msg: str) -> None:
        self._json(status, {"error": msg})

    def _stream(self, chunks: list[dict[str, Any]]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for c in chunks:
            data = json.dumps(c).encode() + b"\n"
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    # dispatch ----------------------------------------------------------------
    ROUTES: ClassVar[dict[tuple[str, str], str]] = {
        ("GET", "/api/version"): "version",
        ("HEAD", "/api/version"): "version",
        ("GET", "/api/tags"): "tags",
        ("HEAD", "/api/tags"): "tags",
        ("POST", "/api/show"): "show",
        ("POST", "/api/create"): "create",
        ("DELETE", "/api/delete"): "delete",
        ("POST", "/api/copy"): "copy",
        ("GET", "/api/ps"): "ps",
        ("POST", "/api/generate"): "generate",
        ("POST", "/api/chat"): "chat",
    }

    def _dispatch(self) -> None:
        d = self.d
        path = self.path.split("?", 1)[0]
        with d._lock:
            d.requests.append((self.command, path))
        if d.latency:
            d.sleep(d.latency)
        route = self.ROUTES.get((self.command, path))
        if route is None:
            if any(p == path for (_, p) in self.ROUTES):
                self._send(405, b"405 method not allowed", "text/plain")
            else:
                self._send(404, b"404 page not found", "text/plain")
            return
        body: dict[str, Any] | None = None
        err: str | None = None
        if self.command in ("POST", "DELETE"):
            body, err = self._body()
        model = (body or {}).get("model") or (body or {}).get("name")
        fault = d.fault_for(path, model)
        if fault is not None:
            if fault.kind == "500":
                self._error(500, fault.message)
                return
            if fault.kind == "malformed":
                self._send(200, b'{"models": [{"name": "qwen3:8b", "size": ')
                return
            if fault.kind == "404":
                self._error(404, f"model '{model}' not found")
                return
            if fault.kind == "delay":
                d.sleep(fault.seconds)
        if err is not None:
            self._error(400, err)
            return
        try:
            getattr(self, "_" + route)(body or {})
        except FileNotFoundError:  # a blob is missing: Ollama answers os.IsNotExist with 404
            self._error(404, f"model '{model}' not found")
        except (ValueError, KeyError, OSError, struct.error) as exc:  # gin's recovery: a 500
            self._error(500, str(exc))

    do_GET = do_POST = do_DELETE = do_HEAD = _dispatch

    # endpoints ---------------------------------------------------------------
    def _version(self, _: dict[str, Any]) -> None:
        self._json(200, {"version": self.d.version})

    def _tags(self, _: dict[str, Any]) -> None:
        d = self.d
        models = []
        for m in d.store.models():
            mtime = m.manifest_path.stat().st_mtime
            models.append(
                {
                    "name": m.name,
                    "model": m.name,
                    "modified_at": go_time(mtime),
                    "size": m.size,
                    "digest": m.digest,
                    "details": d.list_details(m),
                    "_mtime": mtime,
                }
            )
        models.sort(key=lambda x: -int(x["_mtime"]))
        for x in models:
            del x["_mtime"]
        self._json(200, {"models": models})

    def _show(self, body: dict[str, Any]) -> None:
        d = self.d
        name = body.get("model") or body.get("name") or ""
        if not name:
            self._error(400, "model is required")
            return
        m = d.store.find(name)
        if m is None:
            self._error(404, f"model '{name}' not found")
            return
        verbose = bool(body.get("verbose"))
        params = d.params_of(m)
        template = d.text_layer(m, "template")
        resp: dict[str, Any] = {}
        lic = d.text_layer(m, "license")
        if lic:
            resp["license"] = lic
        resp["modelfile"] = _modelfile(d, m, params)
        if params:
            resp["parameters"] = _parameters_text(params)
        if template:
            resp["template"] = template
        system = d.text_layer(m, "system")
        if system:
            resp["system"] = system
        resp["details"] = d.details(m, parent=True)
        model_info: dict[str, Any] = {}
        layer = m.layer("model")
        if layer is not None:
            model_info, tensors = read_model_info(d.store.blob_path(layer["digest"]), verbose)
            if verbose:
                resp["tensors"] = tensors
        resp["model_info"] = model_info
        resp["capabilities"] = _capabilities(template)
        if m.layer("projector") is not None:  # server/images.go projectorCapabilities
            resp["capabilities"].append("vision")
        resp["modified_at"] = go_time(m.manifest_path.stat().st_mtime)
        self._json(200, resp)

    def _create(self, body: dict[str, Any]) -> None:
        d = self.d
        name = body.get("model") or body.get("name") or ""
        if not valid_name(name):
            self._error(400, "invalid model name")
            return
        parent_name = body.get("from") or ""
        if not parent_name:
            self._error(400, "neither 'from' or 'files' was specified")
            return
        stream = body.get("stream") is not False
        with d.store.lock:
            parent = d.store.find(parent_name)
            if parent is None:
                self._error(404, f"model '{parent_name}' not found")
                return
            statuses: list[dict[str, Any]] = []
            base_cfg = d.config_of(parent)
            layers: list[dict[str, Any]] = []
            for layer in parent.manifest.get("layers", []):
                new = {
                    "mediaType": layer["mediaType"],
                    "digest": layer["digest"],
                    "size": layer["size"],
                }
                new["from"] = layer.get("from") or parent.name
                layers.append(new)
                statuses.append({"status": f"using existing layer {layer['digest']}"})
            for kind in ("template", "system", "license"):
                text = body.get(kind)
                if text:
                    layers = [x for x in layers if x["mediaType"] != MT_PREFIX + kind]
                    if isinstance(text, list):
                        text = "\n".join(text)
                    dg, size = d.store.write_blob(str(text).encode())
                    layers.append({"mediaType": MT_PREFIX + kind, "digest": dg, "size": size})
                    statuses.append({"status": f"creating new layer {dg}"})
            req_params = dict(body.get("parameters") or {})
            merged = dict(req_params)
            for k, v in d.params_of(parent).items():
                merged.setdefault(k, v)
            if merged:
                layers = [x for x in layers if x["mediaType"] != MT_PREFIX + "params"]
                dg, size = d.store.write_blob(go_json(merged, sort_keys=True))
                layers.append({"mediaType": MT_PREFIX + "params", "digest": dg, "size": size})
                statuses.append({"status": f"creating new layer {dg}"})
            cfg = {
                "model_format": base_cfg.get("model_format", "gguf"),
                "model_family": base_cfg.get("model_family", ""),
                "model_families": base_cfg.get("model_families"),
                "model_type": base_cfg.get("model_type", ""),
                "file_type": base_cfg.get("file_type", ""),
            }
            for k in ("renderer", "parser", "requires", "capabilities", "context_length"):
                if base_cfg.get(k):
                    cfg[k] = base_cfg[k]
            cfg["architecture"] = base_cfg.get("architecture", "amd64")
            cfg["os"] = base_cfg.get("os", "linux")
            cfg["rootfs"] = {"type": "layers", "diff_ids": [x["digest"] for x in layers]}
            cdg, csize = d.store.write_blob(go_json(cfg))
            statuses.append({"status": "writing manifest"})
            d.store.write_manifest(
                name, {"mediaType": MT_CONFIG, "digest": cdg, "size": csize}, layers
            )
            statuses.append({"status": "success"})
        if stream:
            self._stream(statuses)
        else:
            self._json(200, {"status": "success"})

    def _delete(self, body: dict[str, Any]) -> None:
        d = self.d
        name = body.get("model") or body.get("name") or ""
        with d.store.lock:
            m = d.store.find(name)
            if m is None:
                self._error(404, f"model '{name}' not found")
                return
            m.manifest_path.unlink()
            # prune the blobs no other manifest uses, as Ollama does
            used = {
                d.store.blob_path(x["digest"])
                for o in d.store.models()
                for x in o.manifest.get("layers", [])
            }
            used |= {d.store.blob_path(o.manifest["config"]["digest"]) for o in d.store.models()}
            for x in [*m.manifest.get("layers", []), m.manifest.get("config", {})]:
                p = d.store.blob_path(x.get("digest", "none"))
                if p not in used and p.exists():
                    p.unlink()
        self._send(200, b"")

    def _copy(self, body: dict[str, Any]) -> None:
        d = self.d
        src, dst = body.get("source") or "", body.get("destination") or ""
        if not valid_name(src):
            self._error(400, f"source {json.dumps(src)} is invalid")
            return
        if not valid_name(dst):
            self._error(400, f"destination {json.dumps(dst)} is invalid")
            return
        with d.store.lock:
            m = d.store.find(src)
            if m is None:
                self._error(404, f"model {json.dumps(src)} not found")
                return
            path = d.store.manifest_path(dst)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(m.manifest_bytes)
        self._send(200, b"")

    def _ps(self, _: dict[str, Any]) -> None:
        d = self.d
        out = []
        for entry in list(d.loaded):
            m = d.store.find(entry["name"])
            size = int(entry.get("size", m.size if m else 0))
            out.append(
                {
                    "name": entry["name"],
                    "model": entry["name"],
                    "size": size,
                    "digest": m.digest if m else "",
                    "details": d.details(m) if m else {},
                    "expires_at": go_time(time.time() + 300),
                    "size_vram": int(entry.get("size_vram", size)),
                    "context_length": int(entry["context_length"]),
                }
            )
        self._json(200, {"models": out})

    def _generate(self, body: dict[str, Any]) -> None:
        d = self.d
        name = body.get("model") or ""
        m = d.store.find(name)
        if m is None:
            self._error(404, f"model '{name}' not found")
            return
        opts = body.get("options") or {}
        params = d.params_of(m)
        num_ctx = int(opts.get("num_ctx") or params.get("num_ctx") or d.default_num_ctx)
        layer = m.layer("model")
        if layer is not None:
            kv, _ = read_model_info(d.store.blob_path(layer["digest"]), False)
            arch = kv.get("general.architecture", "")
            native = kv.get(f"{arch}.context_length")
            if isinstance(native, int) and native > 0:
                num_ctx = min(num_ctx, native)
        with d._lock:
            d.loaded = [e for e in d.loaded if e["name"].lower() != m.name.lower()]
            d.loaded.append({"name": m.name, "context_length": num_ctx, "size": m.size})
        prompt = str(body.get("prompt") or "")
        n, refusal = evaluated_prompt(d, body, num_ctx, len(prompt.split()))
        log_request(d, m, body, num_ctx, len(prompt.split()), n, refusal)
        if refusal is not None:
            self._error(400, refusal)
            return
        prefill_ns = int(n / d.prefill_tps * 1e9) if d.prefill_tps else 0
        now = go_time(time.time())
        final = {
            "model": name,
            "created_at": now,
            "response": "" if body.get("stream") is not False else "ok",
            "done": True,
            "done_reason": "stop",
            "total_duration": prefill_ns + 1_000_000,
            "load_duration": 1_000_000,
            "prompt_eval_count": n,
            "prompt_eval_duration": prefill_ns,
            "eval_count": 1,
            "eval_duration": 1_000_000,
        }
        if body.get("stream") is False:
            self._json(200, final)
        else:
            first = {"model": name, "created_at": now, "response": "ok", "done": False}
            self._stream([first, final])

    def _chat(self, body: dict[str, Any]) -> None:
        chat_request(self, body)


# --------------------------------------------------------------------------- server log


_NEEDS_QUOTE = re.compile(r'[\s="\\]')  # slog needsQuoting, for the values written here


class ServerLog:
    """The double's server log, written the way Ollama's slog text handler writes it.

    Why: `ctxfix scan --log FILE` must be tested end to end against the lines a
    real server writes for the requests it served. Formats (github.com/ollama/ollama):
    `logutil.NewLogger` (slog.NewTextHandler, source = file base name);
    before 0.30 `msg="starting runner" cmd="... runner --ollama-engine --model
    <blob> --port N"` (llm/server.go) then the runner's `msg=load request="{...
    Parallel:1 ... KvSize:N ...}"` (runner/ollamarunner/runner.go); from 0.30
    `msg="starting llama-server" cmd="... --model <blob> ... -c N -np 1"`
    (llm/llama_server.go); and `msg="truncating input prompt" limit= prompt=
    keep= new=` (runner.go before 0.30, llama_server.go after).
    """

    def __init__(self, path: Path, version: str) -> None:
        self.path = Path(path)
        self.version = version
        self.loaded: dict[str, int] = {}  # model name -> context its runner was started with
        self._lock = threading.Lock()

    @staticmethod
    def _time() -> str:
        """Go's slog text time: RFC 3339 with milliseconds and the local offset."""
        t = datetime.now().astimezone()
        off = t.strftime("%z")
        tz = "Z" if off in ("+0000", "-0000") else f"{off[:3]}:{off[3:]}"
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}{tz}"

    def write(self, level: str, source: str, msg: str, **attrs: Any) -> None:
        quoted = json.dumps(msg) if _NEEDS_QUOTE.search(msg) else msg
        parts = [f"time={self._time()}", f"level={level}", f"source={source}", f"msg={quoted}"]
        for k, v in attrs.items():
            text = str(v)
            parts.append(f"{k}={json.dumps(text) if _NEEDS_QUOTE.search(text) else text}")
        with self._lock, self.path.open("a", encoding="utf-8") as fh:
            fh.write(" ".join(parts) + "\n")

    def load(self, name: str, blob: Path, num_ctx: int) -> None:
        """The lines a server writes when it starts a runner for `name` at `num_ctx`."""
        if self.loaded.get(name.lower()) == num_ctx:
            return
        self.loaded[name.lower()] = num_ctx
        if version_tuple(self.version) >= (0, 30, 0):
            cmd = (
                f"/usr/lib/ollama/llama-server --model {blob} --port 40123 --host 127.0.0.1 "
                f"--no-webui --offline -c {num_ctx} -np 1"
            )
            self.write("INFO", "llama_server.go:433", "starting llama-server", cmd=cmd)
            return
        cmd = f"/usr/local/bin/ollama runner --ollama-engine --model {blob} --port 40123"
        self.write("INFO", "server.go:392", "starting runner", cmd=cmd)
        request = (
            "{Operation:commit LoraPath:[] Parallel:1 BatchSize:512 FlashAttention:Auto "
            f"KvSize:{num_ctx} KvCacheType: NumThreads:8 GPULayers:[] MultiUserCache:false "
            "ProjectorPath: MainGPU:0 UseMmap:false}"
        )
        self.write("INFO", "runner.go:1271", "load", request=request)

    def truncated(self, limit: int, prompt: int, keep: int, new: int) -> None:
        new_runner = version_tuple(self.version) >= (0, 30, 0)
        source = "llama_server.go:317" if new_runner else "runner.go:186"
        self.write(
            "WARN",
            source,
            "truncating input prompt",
            limit=limit,
            prompt=prompt,
            keep=keep,
            new=new,
        )


def log_request(
    double: OllamaDouble,
    m: StoredModel,
    body: dict[str, Any],
    num_ctx: int,
    tokens: int,
    evaluated: int,
    refusal: str | None,
) -> None:
    """Log what the double did for one /api/generate or /api/chat request (no-op without a log).

    The limit logged follows the version: num_ctx before 0.30 (the runner's
    cache size), `contextShiftPromptLimit` from 0.30 (what `evaluated_prompt` keeps).
    """
    log = double.log
    if log is None:
        return
    layer = m.layer("model")
    if layer is not None:
        log.load(m.name, double.store.blob_path(layer["digest"]), num_ctx)
    if refusal is not None or evaluated >= tokens:
        return
    opts = body.get("options") or {}
    keep = int(opts.get("num_keep", 4))
    keep = tokens if keep < 0 else keep
    keep = min(keep, num_ctx - 1)
    limit = num_ctx if version_tuple(double.version) < (0, 30, 0) else evaluated
    log.truncated(limit, tokens, keep, evaluated)


def chat_request(handler: Any, body: dict[str, Any]) -> None:
    """POST /api/chat: the messages' contents joined are the prompt (whitespace tokens).

    Only what ctxfix needs from a chat: the context it is served at, the same
    truncation as /api/generate, and the server log lines; the answer is "ok".
    """
    msgs = body.get("messages") or []
    prompt = " ".join(str(x.get("content") or "") for x in msgs if isinstance(x, dict))
    d = handler.d
    name = body.get("model") or ""
    m = d.store.find(name)
    if m is None:
        handler._error(404, f"model '{name}' not found")
        return
    opts = body.get("options") or {}
    num_ctx = int(opts.get("num_ctx") or d.params_of(m).get("num_ctx") or d.default_num_ctx)
    tokens = len(prompt.split())
    n, refusal = evaluated_prompt(d, body, num_ctx, tokens)
    log_request(d, m, body, num_ctx, tokens, n, refusal)
    if refusal is not None:
        handler._error(400, refusal)
        return
    final = {
        "model": name,
        "created_at": go_time(time.time()),
        "message": {"role": "assistant", "content": "ok"},
        "done": True,
        "done_reason": "stop",
        "prompt_eval_count": n,
        "eval_count": 1,
    }
    if body.get("stream") is False:
        handler._json(200, final)
    else:
        handler._stream([final])


if __name__ == "__main__":  # python tests/ollama_server.py STORE_DIR: serve it by hand
    import sys

    srv = OllamaDouble(Path(sys.argv[1])).start()
    print(srv.url, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        while True:
            time.sleep(3600)

"""Parse Ollama server log lines into evidence events (no I/O; `server_log` feeds it).

Why only these lines: they are the ones where the server says what it did to a
context. The exact messages, per Ollama version (github.com/ollama/ollama):

  truncating input prompt  limit= prompt= keep= new=        (level WARN)
      v0.12.x-v0.24.x  runner/ollamarunner/runner.go, runner/llamarunner/runner.go
                       (limit = the runner's per-sequence context)
      v0.30.0          llm/llama_server.go completionPromptForRequest
                       (limit = num_ctx; at most num_ctx-1 tokens are kept)
      v0.33.0-rc2      llm/llama_server.go (limit = contextShiftPromptLimit: num_keep
                       plus about half of the rest, so `new` is ~num_ctx/2)
  requested context size too large for model  num_ctx= n_ctx_train=
      llm/server.go (v0.12.x .. v0.33.0-rc2); logged before the runner starts,
      so the event belongs to the next load line
  llama-server load failed; reducing automatic context and retrying once
      model= old_num_ctx= effective_num_ctx= new_num_ctx= ...
      server/sched.go (v0.30.0 .. v0.33.0-rc2, reduceAutoNumCtxForLoadOOM)
  prompts refused as too long (HTTP 400), matched as text anywhere in a line:
      "the input length exceeds the context length" (runner errorInputTooLong, v0.12.4-v0.24)
      "input exceeds maximum context length" (server/routes.go embeddings, all versions)
      "the prompt is longer than the context length" (llm/llama_server.go, v0.33.0-rc2)
      Up to v0.24 llm/server.go logs the runner's answer (`llm predict error: ...`
      in Completion, `llm embedding error: ...` in Embedding); from v0.30 they go
      back only as the HTTP 400 body (the access line shows `| 400 |`), so they
      reach a log where a gateway or client records the response. Any line
      carrying the text counts.
  load lines (which model blob runs at which context):
      "starting llama server" cmd="... --model <blob> --ctx-size N ... --parallel P"
          llm/server.go v0.5.x-v0.9.x (--ctx-size is num_ctx x parallel)
      "starting runner" cmd="... runner [--ollama-engine] --model <blob> --port N"
          llm/server.go v0.12.x-v0.15.x, followed by the runner's
      msg=load request="{... Parallel:P ... KvSize:N ...}"
          runner/*/runner.go (KvSize = num_ctx x parallel)
      "starting llama-server" cmd="... --model <blob> ... -c N -np P"
          llm/llama_server.go v0.30.0 .. v0.33.0-rc2
      llama.cpp's own "llama_context: n_ctx_per_seq = N" (llama-context.cpp)

Log shapes: Go slog text (`time=... level=WARN source=runner.go:186 msg="..."
k=v`, what `logutil.NewLogger` writes), slog JSON (`{"time":..., "msg":...}`),
`journalctl -o json` records (the slog line is in MESSAGE) and lines with a
timestamp prefix (`journalctl -o short-iso`, `docker logs --timestamps`).

Speed: every line first meets a few substring tests on bytes (`_KEYS`); only
the rare line that passes is decoded and parsed.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from ctxfix.evidence import (
    CTX_TOO_LARGE,
    LOAD,
    OOM_STEP_DOWN,
    REJECTED,
    TRUNCATE,
    EventGroup,
    LogEvidence,
    Sample,
)
from ctxfix.facts import Location
from ctxfix.records import replace
from ctxfix.verify_history import during_verify

MSG_TRUNCATE = "truncating input prompt"
MSG_TOO_LARGE = "requested context size too large for model"
MSG_OOM = "llama-server load failed; reducing automatic context and retrying once"
MSG_RUNNER = ("starting llama server", "starting runner", "starting llama-server")
REJECT_TEXTS = (
    "the input length exceeds the context length",
    "input exceeds maximum context length",
    "the prompt is longer than the context length",
)

_KEYS: tuple[bytes, ...] = (
    b"truncating input prompt",
    b"context size too large",
    b"reducing automatic context",
    b"starting runner",
    b"starting llama",
    b"msg=load ",
    b'"msg":"load"',
    b"n_ctx_per_seq",
    b"exceeds the context length",
    b"exceeds maximum context length",
    b"longer than the context length",
)

MAX_LINE = 64 * 1024  # an Ollama line is far shorter; a longer one is skipped and counted

_KV_RE = re.compile(r'([A-Za-z_][\w.]*)=("(?:[^"\\]|\\.)*"|[^\s"]*)')
_DIGEST_RE = re.compile(r"sha256[-:]([0-9a-f]{64})")
_ISO_PREFIX_RE = re.compile(
    r"^\s*(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?(?=\s)"
)
_ARG_RE = re.compile(r"(?:^|\s)(--model|--ctx-size|-c|--parallel|-np)\s+(\S+)")
# Go's exec.Cmd.String() does not quote: `--model C:\Users\John Doe\.ollama\...\sha256-<hex>`
# runs to the next flag, spaces included
_MODEL_ARG_RE = re.compile(r"(?:^|\s)--model\s+(.+?)(?=\s+--?[A-Za-z]|\s*$)")
_LOAD_REQ_RE = re.compile(r"\b(Parallel|KvSize):(\d+)")
_N_CTX_PER_SEQ_RE = re.compile(r"n_ctx_per_seq\s*=\s*(\d+)")


def parse_time(text: str) -> datetime | None:
    """RFC 3339 / ISO 8601 with any fraction length (Go prints up to nanoseconds)."""
    m = _ISO_PREFIX_RE.match(text + " ")
    if not m:
        return None
    base, frac, tz = m.group(1).replace(" ", "T"), m.group(2) or "", m.group(3) or ""
    if tz == "Z":
        tz = "+00:00"
    elif tz and ":" not in tz:
        tz = tz[:3] + ":" + tz[3:]
    try:
        t = datetime.fromisoformat(base + frac[:7] + tz)
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _unquote(v: str) -> str:
    if not v.startswith('"'):
        return v
    try:
        return str(json.loads(v))
    except ValueError:  # Go escapes JSON lacks (\x, \a): close enough for our fields
        return v[1:-1].replace('\\"', '"').replace("\\\\", "\\")


def text_fields(line: str) -> dict[str, str]:
    """`k=v k2="quoted v"` pairs of a slog text line (the first of a repeated key wins)."""
    out: dict[str, str] = {}
    for k, v in _KV_RE.findall(line):
        out.setdefault(k, _unquote(v))
    return out


def digest_of(path: str | None) -> str | None:
    """`.../blobs/sha256-<hex>` -> `sha256:<hex>` (Ollama's blob file name for a digest)."""
    m = _DIGEST_RE.search(path or "")
    return f"sha256:{m.group(1)}" if m else None


class LogParser:
    """Feed it lines of one log; it aggregates events into `evidence`.

    State: the last load line (model blob + context) so a truncation line, which
    names no model, is attributed to the runner that was started last. With
    several models loaded at once that can be wrong; the load lines are the
    only link the log offers.
    """

    def __init__(self, source: str, evidence: LogEvidence, since: datetime | None = None) -> None:
        self.source = source
        self.ev = evidence
        self.since = since
        self.digest: str | None = None
        self.model_path: str | None = None
        self.ctx: int | None = None
        self.pending: list[tuple[str, Sample]] = []  # waiting for the next load line
        # False for command output (journalctl, docker logs): no line numbers, a sample
        # is located by its journal cursor or, failing that, its time
        self.numbered = True
        self.groups: dict[tuple[str, str | None, int | None], EventGroup] = {}
        if source not in evidence.sources:
            evidence.sources.append(source)

    # ------------------------------------------------------------------ feeding

    def feed(self, raw: bytes, lineno: int | None = None, key: str | None = None) -> None:
        """One raw line (bytes, newline optional). Cheap unless it is a line we know."""
        self.ev.lines += 1
        for k in _KEYS:
            if k in raw:
                break
        else:
            return
        self._parse_raw(raw, lineno, key)

    def _parse_raw(self, raw: bytes, lineno: int | None, key: str | None) -> None:
        line = raw.decode("utf-8", "replace").strip()
        self.ev.ollama_lines += 1
        where = Location(self.source, lineno if self.numbered else None, key=key)
        try:
            ok = self._line(line, where, None)
        except (ValueError, KeyError, TypeError):
            ok = False
        if not ok:
            self.ev.skipped += 1

    def feed_block(self, block: bytes, base: int = 0) -> None:
        """Whole lines (`block` ends with a newline or the log), the first being line base+1.

        Why blocks: `bytes.find` of each message over megabytes runs at memory
        speed, so a line that mentions none of them costs nothing in Python.
        Only the lines that contain one are cut out and parsed.
        """
        self.ev.lines += block.count(b"\n") + (0 if block.endswith(b"\n") else 1)
        starts: set[int] = set()
        for k in _KEYS:
            i = block.find(k)
            while i >= 0:
                start = block.rfind(b"\n", 0, i) + 1
                starts.add(start)
                end = block.find(b"\n", i)
                if end < 0:
                    break
                i = block.find(k, end)
        prev, lineno = 0, base
        for start in sorted(starts):
            lineno += block.count(b"\n", prev, start)
            prev = start
            end = block.find(b"\n", start)
            raw = block[start : end if end >= 0 else len(block)]
            if len(raw) > MAX_LINE:
                self.ev.skipped += 1
                continue
            self._parse_raw(raw, lineno + 1, None)

    def skip(self) -> None:
        """A line that could not be read (over-long): counted, never parsed."""
        self.ev.lines += 1
        self.ev.skipped += 1

    def finish(self) -> None:
        """Flush events still waiting for a load line (no model known for them)."""
        for kind, sample in self.pending:
            self._add(kind, sample, None, None)
        self.pending = []

    # ------------------------------------------------------------------ parsing

    def _line(self, line: str, where: Location, t: datetime | None) -> bool:
        if line.startswith("{"):
            return self._json(line, where, t)
        fields = text_fields(line)
        msg = fields.get("msg")
        if t is None:
            t = parse_time(fields["time"]) if "time" in fields else parse_time(line)
        if msg is None and "n_ctx_per_seq" in line:
            return self._llama_ctx(line)
        if msg is None:
            return self._rejected(line, where, t)
        return self._event(msg, fields, line, where, t)

    def _json(self, line: str, where: Location, t: datetime | None) -> bool:
        obj: Any = json.loads(line)
        if not isinstance(obj, dict):
            return False
        if "MESSAGE" in obj:  # a journald record (journalctl -o json)
            msg = obj["MESSAGE"]
            if isinstance(msg, list):  # non-UTF-8 messages are byte arrays
                msg = bytes(int(b) & 0xFF for b in msg).decode("utf-8", "replace")
            if not isinstance(msg, str):
                return False
            ts = obj.get("__REALTIME_TIMESTAMP")
            if ts is not None and t is None:
                t = datetime.fromtimestamp(int(ts) / 1e6, UTC)
            cursor = obj.get("__CURSOR")
            if cursor:
                where = Location(where.file, where.line, key=f"cursor {cursor}")
            return self._line(msg.strip(), where, t)
        msg = obj.get("msg")
        if not isinstance(msg, str):
            return self._rejected(line, where, t)
        if t is None and isinstance(obj.get("time"), str):
            t = parse_time(obj["time"])
        fields = {k: (v if isinstance(v, str) else json.dumps(v)) for k, v in obj.items()}
        if isinstance(obj.get("request"), str):
            fields["request"] = obj["request"]
        return self._event(msg, fields, line, where, t)

    def _event(
        self, msg: str, f: dict[str, str], line: str, where: Location, t: datetime | None
    ) -> bool:
        if msg == MSG_TRUNCATE:
            vals = {k: int(f[k]) for k in ("limit", "prompt", "keep", "new")}
            self._add(TRUNCATE, Sample(where, t, vals, msg), self.digest, self.ctx)
            return True
        if msg == MSG_TOO_LARGE:
            vals = {k: int(f[k]) for k in ("num_ctx", "n_ctx_train")}
            self.pending.append((CTX_TOO_LARGE, Sample(where, t, vals, msg)))
            return True
        if msg == MSG_OOM:
            keys = ("old_num_ctx", "effective_num_ctx", "new_num_ctx")
            vals = {k: int(f[k]) for k in keys if k in f}
            if "old_num_ctx" not in vals or "new_num_ctx" not in vals:
                return False
            path = f.get("model")
            self._add(OOM_STEP_DOWN, Sample(where, t, vals, msg), digest_of(path), None, path)
            return True
        if msg in MSG_RUNNER:
            return self._runner(f.get("cmd", ""), where, t)
        if msg == "load" and "request" in f:
            got = dict(_LOAD_REQ_RE.findall(f["request"]))
            if "KvSize" not in got:
                return False
            self.ctx = int(got["KvSize"]) // max(1, int(got.get("Parallel", 1)))
            self._loaded(where, t)
            return True
        return self._rejected(line, where, t)

    def _runner(self, cmd: str, where: Location, t: datetime | None) -> bool:
        args: dict[str, str] = {}
        for flag, value in _ARG_RE.findall(cmd):
            args.setdefault({"-c": "--ctx-size", "-np": "--parallel"}.get(flag, flag), value)
        m = _MODEL_ARG_RE.search(cmd)
        path = m.group(1) if m else args.get("--model")
        if not path:
            return False
        self.model_path, self.digest = path, digest_of(path)
        ctx = args.get("--ctx-size")
        self.ctx = int(ctx) // max(1, int(args.get("--parallel", "1"))) if ctx else None
        if self.ctx is not None:
            self._loaded(where, t)
        return True

    def _llama_ctx(self, line: str) -> bool:
        m = _N_CTX_PER_SEQ_RE.search(line)
        if m is None:
            # "n_ctx_per_seq (8192) < n_ctx_train (262144) -- ..." repeats what we have
            return "n_ctx_per_seq (" in line
        self.ctx = int(m.group(1))
        return True

    def _loaded(self, where: Location, t: datetime | None) -> None:
        self._add(LOAD, Sample(where, t, {"ctx": self.ctx or 0}), self.digest, self.ctx)
        for kind, sample in self.pending:
            self._add(kind, sample, self.digest, self.ctx)
        self.pending = []

    def _rejected(self, line: str, where: Location, t: datetime | None) -> bool:
        for text in REJECT_TEXTS:
            if text in line:
                self._add(REJECTED, Sample(where, t, {}, text), self.digest, self.ctx)
                return True
        return False

    def _add(
        self,
        kind: str,
        sample: Sample,
        digest: str | None,
        ctx: int | None,
        path: str | None = None,
    ) -> None:
        if self.since is not None and sample.time is not None and sample.time < self.since:
            return
        if kind in (TRUNCATE, REJECTED) and during_verify(sample.time, self.ev.probe_spans):
            self.ev.own_probes += 1  # ctxfix verify cut this prompt on purpose
            return
        w = sample.where
        if w.line is None and w.key is None and sample.time is not None:
            stamp = sample.time.isoformat(timespec="seconds")
            sample = replace(sample, where=replace(w, key=stamp))
        key = (kind, digest, ctx)
        g = self.groups.get(key)
        if g is None:
            g = EventGroup(kind, digest, ctx, self.source, path or self.model_path)
            self.groups[key] = g
            self.ev.groups.append(g)
        g.add(sample)

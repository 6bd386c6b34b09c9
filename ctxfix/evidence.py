"""Evidence from Ollama's server log: what the server actually did, as plain records.

Why a record of its own: everything else ctxfix knows is inferred from
configuration. The server log says what happened ("truncating input prompt"
limit=... prompt=... keep=... new=...), so a finding backed by it can say "37
prompts cut in 7 days, the largest 146,760 tokens", and a config finding about
the same model becomes an error. Parsing lives in `ctxfix.sources.log_events`,
reading in `ctxfix.sources.server_log`; this module holds the aggregated result
and joins it to models (pure, no I/O) so rules, reports and the plan agree.

Memory stays constant however long the log is: events are aggregated into one
`EventGroup` per (kind, model blob, context) with a count, the time range, the
largest event and the first few samples.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from ctxfix.facts import Location
from ctxfix.records import field, record

if TYPE_CHECKING:
    from ctxfix.world import ResolvedBinding, ResolvedModel, World

# Event kinds (stable: they appear in JSON reports)
TRUNCATE = "truncate"  # "truncating input prompt" (runner / llama-server wrapper)
REJECTED = "rejected"  # a prompt refused as longer than the context (HTTP 400)
CTX_TOO_LARGE = "ctx_too_large"  # "requested context size too large for model"
OOM_STEP_DOWN = "oom_step_down"  # automatic context reduced after an OOM load (0.30+)
LOAD = "load"  # a runner started for a model blob with a context

MAX_SAMPLES = 3


@record(frozen=True)
class Sample:
    """One log event: where it is (file:line, or journal cursor) and its numbers."""

    where: Location
    time: datetime | None
    values: dict[str, int]
    text: str = ""  # the message as logged (rejections: the error text)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.where.file,
            "line": self.where.line,
            "key": self.where.key,
            "time": self.time.isoformat() if self.time else None,
            **self.values,
        }


@record
class EventGroup:
    """All events of one kind for one model blob at one context, aggregated.

    `digest` is the model blob (`sha256:<hex>`) of the runner that logged the
    event (from the load line's `--model .../blobs/sha256-<hex>`), None when
    the log does not say. `ctx` is that runner's context per sequence.
    """

    kind: str
    digest: str | None
    ctx: int | None
    source: str  # the log it came from (path, "journalctl -u ollama", "docker logs NAME")
    model_path: str | None = None
    count: int = 0
    first: datetime | None = None
    last: datetime | None = None
    largest: Sample | None = None
    samples: list[Sample] = field(default_factory=list)

    def add(self, sample: Sample) -> None:
        self.count += 1
        t = sample.time
        if t is not None:
            if self.first is None or t < self.first:
                self.first = t
            if self.last is None or t > self.last:
                self.last = t
        if self.largest is None or _size(self.kind, sample) > _size(self.kind, self.largest):
            self.largest = sample
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append(sample)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "count": self.count,
            "model_digest": self.digest,
            "ctx": self.ctx,
            "log": self.source,
            "first": self.first.isoformat() if self.first else None,
            "last": self.last.isoformat() if self.last else None,
            "largest": self.largest.as_dict() if self.largest else None,
            "samples": [s.as_dict() for s in self.samples],
        }


def _size(kind: str, s: Sample) -> int:
    """What "largest" means per kind: prompt tokens, requested num_ctx, the old context."""
    v = s.values
    if kind == TRUNCATE:
        return v.get("prompt", 0)
    if kind == CTX_TOO_LARGE:
        return v.get("num_ctx", 0)
    if kind == OOM_STEP_DOWN:
        return v.get("old_num_ctx", 0)
    return v.get("prompt", 0)


@record
class LogEvidence:
    """What the logs said. `sources` are the logs read; `groups` the aggregated events."""

    sources: list[str] = field(default_factory=list)
    groups: list[EventGroup] = field(default_factory=list)
    lines: int = 0  # lines read (inside the time window or not)
    ollama_lines: int = 0  # lines that matched one of the messages ctxfix knows
    skipped: int = 0  # lines that looked like one but did not parse (or were over-long)
    since: datetime | None = None
    # when ctxfix verify probed (ctxfix.verify_history): cuts then are its own
    probe_spans: list[tuple[datetime, datetime]] = field(default_factory=list)
    own_probes: int = 0  # cut or refused prompts dropped because verify sent them

    def of_kind(self, kind: str) -> list[EventGroup]:
        return [g for g in self.groups if g.kind == kind and g.count]

    def as_dict(self) -> dict[str, Any]:
        return {
            "logs": list(self.sources),
            "since": self.since.isoformat() if self.since else None,
            "lines": self.lines,
            "ollama_lines": self.ollama_lines,
            "skipped_lines": self.skipped,
            "groups": [g.as_dict() for g in self.groups if g.count and g.kind != LOAD],
        }


# --------------------------------------------------------------------------- joins


def models_for(group: EventGroup, world: World) -> list[ResolvedModel]:
    """The models a group belongs to: those whose model blob is the logged digest.

    Several names can share one blob (`qwen3-coder:30b` and a derived
    `qwen3-coder:30b-v-128k`); when the runner's context is known, the names
    that serve exactly that context are the ones that were running, so only
    they are returned (all of them when none matches).
    """
    if group.digest is None:
        return []
    same = [m for m in world.models if m.definition.model_digest == group.digest]
    if group.ctx is not None:
        exact = [m for m in same if m.served_ctx is not None and m.served_ctx.value == group.ctx]
        if exact:
            return exact
    return same


def groups_for_model(world: World, m: ResolvedModel, kind: str) -> list[EventGroup]:
    """Groups of `kind` attributed to model `m` (by digest and context; see models_for)."""
    ev = world.evidence
    if ev is None:
        return []
    out = []
    for g in ev.of_kind(kind):
        if any(x is m for x in models_for(g, world)):
            out.append(g)
    return out


def bindings_for(world: World, models: list[ResolvedModel]) -> list[ResolvedBinding]:
    """Agent bindings that use one of `models`."""
    ids = {id(m) for m in models}
    return [rb for rb in world.bindings if rb.model is not None and id(rb.model) in ids]


def merged(groups: list[EventGroup]) -> EventGroup | None:
    """Several groups (several logs, contexts) of one kind as one summary group."""
    if not groups:
        return None
    if len(groups) == 1:
        return groups[0]
    g0 = groups[0]
    out = EventGroup(g0.kind, g0.digest, g0.ctx, ", ".join(dict.fromkeys(g.source for g in groups)))
    for g in groups:
        out.count += g.count
        for t in (g.first, g.last):
            if t is not None:
                out.first = t if out.first is None or t < out.first else out.first
                out.last = t if out.last is None or t > out.last else out.last
        if g.largest is not None and (
            out.largest is None or _size(g.kind, g.largest) > _size(g.kind, out.largest)
        ):
            out.largest = g.largest
        out.samples.extend(g.samples[: MAX_SAMPLES - len(out.samples)])
    if len({g.ctx for g in groups}) > 1:
        out.ctx = None
    return out


def span_text(g: EventGroup) -> str:
    """`in 7 days (2026-11-24 .. 2026-11-30)`, `on 2026-11-30`, or '' without times."""
    if g.first is None or g.last is None:
        return ""
    a, b = g.first, g.last
    if a.date() == b.date():
        return f"on {a.date().isoformat()}"
    n = (b.date() - a.date()).days + 1  # calendar days, both ends included
    return f"in {n} day{'s' if n != 1 else ''} ({a.date().isoformat()} .. {b.date().isoformat()})"

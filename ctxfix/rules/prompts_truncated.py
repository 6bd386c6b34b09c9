"""CTX401 prompts-truncated: the server log shows prompts cut to fit the context.

What it finds
    Lines in Ollama's server log where the runner cut a prompt to fit the
    context it was loaded with (`truncating input prompt limit=... prompt=...
    keep=... new=...`; github:ollama/ollama runner/llamarunner/runner.go and
    runner/ollamarunner/runner.go up to v0.24, llm/llama_server.go
    `completionPromptForRequest` from v0.30), and prompts refused as longer
    than the context.

    The refusals are Ollama's own HTTP 400 answers: "the input length
    exceeds the context length" (the Go runners' `errorInputTooLong`,
    v0.12.4 to v0.24, when truncation is off; from v0.30 for embeddings,
    server/routes.go `EmbedHandler` and llm/llama_server.go
    `normalizeEmbeddingError`), "the prompt is longer than the context
    length" (llm/llama_server.go `completionPromptForRequest`, v0.30.9+,
    when context shift is off) and the embedding endpoint's "input exceeds
    maximum context length" (server/routes.go). Up to v0.24 Ollama logs the
    runners' refusal itself (llm/server.go `Completion`: "llm predict error:
    ...", `Embedding`: "llm embedding error: ..."); from v0.30 it sends the
    message to the client without a log line, so it appears in a log only
    when a gateway that records responses wrote it there.

    Each event is attributed to the model whose blob the last load line
    names (`--model .../blobs/sha256-<hex>`); several names sharing the blob
    are narrowed to the ones that serve the logged context. Per agent using
    that model, one finding: how many prompts, over which days, the largest
    one, and where in the log.

Why it matters
    The other rules infer from configuration that prompts *can* be cut; this
    one shows they *were*. Ollama truncates silently: the agent gets an
    answer to a prompt missing its oldest part (instructions, tool
    definitions, files) and nothing tells it. Evidence also raises the
    configuration findings about the same model (a CTX101 cap becomes an
    error).

Example that fails
    server.log:
      time=2026-11-30T09:12:44.101Z level=WARN source=llama_server.go:317
      msg="truncating input prompt" limit=65537 prompt=146760 keep=1 new=65537

    server.log:12:1: CTX401 openclaw -> qwen3-coder:30b-v-128k: 1 prompt cut
    on 2026-11-30 (largest 146,760 -> 65,537) at num_ctx 131,072

Fix
    Nothing to edit in the log: fix the context the model is served with
    (the CTX101/CTX104/CTX201/CTX202 findings on the same model say how;
    `ctxfix apply`), or send shorter prompts. Read the log again with
    `--since` after the fix to see the truncation stop.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ctxfix.facts import Finding
from ctxfix.rules._evidence import ADVICE, by_models, evidence_data, log_location, truncation_text
from ctxfix.rules._util import n
from ctxfix.world import ResolvedModel, World

if TYPE_CHECKING:
    from ctxfix.evidence import EventGroup

CODE = "CTX401"
NAME = "prompts-truncated"
SEVERITY = "error"


def _ctx_text(g: EventGroup) -> str:
    return f" at num_ctx {n(g.ctx)}" if g.ctx else ""


def _what(kind: str, g: EventGroup) -> str:
    from ctxfix.evidence import TRUNCATE, span_text

    if kind == TRUNCATE:
        return truncation_text(g) + _ctx_text(g)

    span = span_text(g)
    s = "s" if g.count != 1 else ""
    text = g.largest.text if g.largest else "too long"
    return (
        f"{g.count} prompt{s} refused as longer than the context{' ' + span if span else ''}"
        f"{_ctx_text(g)} (HTTP 400: {text!r})"
    )


def check(world: World) -> Iterator[Finding]:
    if world.evidence is None:  # no log read: nothing to import or say
        return
    from ctxfix.evidence import REJECTED, TRUNCATE

    for kind in (TRUNCATE, REJECTED):
        for models, g in by_models(world, kind):
            yield from _findings(world, kind, models, g)


def _findings(
    world: World, kind: str, models: list[ResolvedModel], g: EventGroup
) -> Iterator[Finding]:
    what = _what(kind, g)  # the finding's location is the log line: no "where" in the text
    from ctxfix.evidence import bindings_for

    bindings = bindings_for(world, models)
    for rb in bindings:
        b = rb.binding
        # the log names a blob, not a name: say which other names it could have been
        others = [m.name for m in models if m is not rb.model]
        shared = f" (same blob: {', '.join(others)})" if others else ""
        yield Finding(
            code=CODE,
            severity=SEVERITY,
            message=f"{b.agent} -> {b.model}: {what}{shared}",
            model=b.model,
            agent=b.agent,
            host=b.host,
            location=log_location(g),
            data=evidence_data(
                g,
                agent=b.agent,
                models=[m.name for m in models],
                config={"file": b.file, "line": _line_of(rb)},
                related=[
                    {
                        "file": b.file,
                        "line": _line_of(rb),
                        "message": f"{b.agent} uses {b.model} here",
                    }
                ],
                advice=ADVICE,
            ),
            subject=b.key,
        )
    if bindings:
        return
    if models:
        names = [m.name for m in models]
        also = f" (same blob and context: {', '.join(names[1:])})" if len(names) > 1 else ""
        m0 = models[0]
        # agents in view, none on this model (any more: apply repoints them): history
        severity, note = SEVERITY, ""
        if world.bindings:
            severity, note = "info", "; no agent config in view uses it now"
        yield Finding(
            code=CODE,
            severity=severity,
            message=f"{names[0]}{also}: {what}{note}",
            model=names[0],
            host=m0.definition.host,
            location=log_location(g),
            data=evidence_data(g, models=names, advice=ADVICE),
            subject=m0.definition.key,
        )
        return
    if g.digest:
        who = f"model blob {g.digest[:19]}... (no model in view has it)"
    else:
        who = "an unknown model (no load line before these events in the log)"
    yield Finding(
        code=CODE,
        severity="warning",
        message=f"{who}: {what}",
        location=log_location(g),
        data=evidence_data(g, models=[], advice=ADVICE),
    )


def _line_of(rb) -> int | None:
    b = rb.binding
    for s in (b.context_window, b.model_ref):
        if s is not None and s.location is not None and s.location.line is not None:
            return s.location.line
    return None

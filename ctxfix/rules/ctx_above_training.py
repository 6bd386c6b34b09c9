"""CTX402 ctx-above-training: the server log shows a context requested above the training context.

What it finds
    `requested context size too large for model num_ctx=... n_ctx_train=...`
    in Ollama's server log (llm/server.go, v0.12 through v0.33): a model was
    loaded with a num_ctx larger than its GGUF's `<arch>.context_length`.
    The line is logged just before the runner starts, so it is attributed
    to the model blob of the next load line.

Why it matters
    Ollama lowers num_ctx to the training context and goes on: the memory
    plan, the agent's window and the label in the name all assume a context
    the model never gets. An agent that trusts its configured window overflows
    at the training context, not where it expects.

Example that fails
    time=2026-11-30T08:00:01.000Z level=WARN source=server.go:114
    msg="requested context size too large for model" num_ctx=300000 n_ctx_train=262144

    server.log:1:1: CTX402 qwen3-coder:30b: num_ctx 300,000 requested, above the
    training context 262,144: Ollama served 262,144 (1 load on 2026-11-30)

Fix
    Set num_ctx at most to the native context (CTX103 points at the value);
    lower the agent's window to match.
"""

from __future__ import annotations

from collections.abc import Iterator

from ctxfix.facts import Finding
from ctxfix.rules._evidence import by_models, model_finding
from ctxfix.rules._util import n
from ctxfix.world import World

CODE = "CTX402"
NAME = "ctx-above-training"
SEVERITY = "warning"


def check(world: World) -> Iterator[Finding]:
    if world.evidence is None:  # no log read: nothing to import or say
        return
    from ctxfix.evidence import CTX_TOO_LARGE

    for models, g in by_models(world, CTX_TOO_LARGE):
        big = g.largest.values if g.largest else {}
        if "num_ctx" not in big:
            continue
        yield model_finding(
            CODE,
            SEVERITY,
            g,
            models,
            f"num_ctx {n(big['num_ctx'])} requested, above the training context "
            f"{n(big['n_ctx_train'])}: Ollama served {n(big['n_ctx_train'])}",
            "load",
            requested=big["num_ctx"],
            native=big["n_ctx_train"],
        )

"""CTX103 num-ctx-above-native: num_ctx is set above the model's native context.

What it finds
    A num_ctx larger than the model's `<arch>.context_length`.

Why it matters
    From Ollama 0.9.3 the server clamps num_ctx to the native context
    (log: "requested context size too large for model"; github:ollama/ollama
    llm/server.go `NewLlamaServer`, PR #11175; see ctxfix/ollama_defaults.py),
    so the setting promises a window the model does not get; agents
    configured from it overflow silently. Before 0.9.3 the runner allocates
    the larger KV cache (llm/server.go passes `--ctx-size` unclamped) and
    the model runs past what it was trained on (RoPE extrapolation), which
    degrades output, and the memory is wasted either way.

Example that fails
    FROM llama3.1:8b              # context_length 131072
    PARAMETER num_ctx 262144

Fix
    Lower num_ctx to the native context (or use a model variant trained for a
    longer context, with the right rope scaling in its GGUF).
"""

from __future__ import annotations

from collections.abc import Iterator

from ctxfix.facts import Finding
from ctxfix.rules._util import display_name, model_data, model_finding, model_location, n
from ctxfix.world import World

CODE = "CTX103"
NAME = "num-ctx-above-native"
SEVERITY = "warning"


def check(world: World) -> Iterator[Finding]:
    for m in world.models:
        d = m.definition
        if d.num_ctx is None or m.native_ctx is None:
            continue
        cur, native = d.num_ctx.value, m.native_ctx.value
        if cur <= native:
            continue
        yield model_finding(
            m,
            world,
            code=CODE,
            severity=SEVERITY,
            message=(
                f"num_ctx {n(cur)} is above the native {n(native)} of {display_name(m)} "
                f"({m.native_ctx.source}); Ollama >= 0.9.3 serves only {n(native)}"
            ),
            location=model_location(m),
            data=model_data(m, target=native),
        )

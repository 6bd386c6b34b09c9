"""CTX104 num-ctx-unset: no num_ctx anywhere, so the server default applies.

What it finds
    A model with no num_ctx in its Modelfile, its params or its FROM chain,
    whose served context therefore falls back to `OLLAMA_CONTEXT_LENGTH` or
    the server's built-in default — far below the native context.

Why it matters
    The default depends on the Ollama version: 2048 up to 0.6.6, 4096 from
    0.6.7 (github:ollama/ollama api/types.go `DefaultOptions`,
    envconfig/config.go `ContextLength`), and from 0.15.5 a tier by total
    VRAM (>= 47 GiB: 262,144; >= 23 GiB: 32,768; else 4,096; server/routes.go
    `Serve`); ctxfix/ollama_defaults.py cites the source of each version
    rule. A 256k model served with 4,096 tokens through the
    OpenAI-compatible API (which cannot raise it) loses almost every prompt
    silently. The finding says which default applies and why.
    When the server version is unknown, ctxfix assumes the 4,096 default and
    says so.

Example that fails
    qwen3-coder:30b (store), no num_ctx, Ollama 0.12 -> serves 4,096 of 262,144

Fix
    Give the model an explicit num_ctx (a new model definition via
    `ctxfix apply`), or set OLLAMA_CONTEXT_LENGTH on the server.
"""

from __future__ import annotations

from collections.abc import Iterator

from ctxfix.facts import Finding
from ctxfix.rules._evidence import raise_for_truncation
from ctxfix.rules._util import model_data, model_finding, n, target_ctx
from ctxfix.world import World

CODE = "CTX104"
NAME = "num-ctx-unset"
SEVERITY = "warning"


def check(world: World) -> Iterator[Finding]:
    for m in world.models:
        d = m.definition
        if d.origin == "gguf" or not m.relies_on_default or d.num_ctx_invalid is not None:
            continue
        if m.served_ctx is None or m.served_ctx.source != "default":
            continue  # OLLAMA_CONTEXT_LENGTH applies: CTX303's business
        served, native = m.served_ctx.value, (m.native_ctx.value if m.native_ctx else None)
        target = target_ctx(m, world)
        if native is not None and served >= native:
            continue
        if target is not None and served >= target:
            continue  # the default already serves what fits the memory budget
        of_native = f" of its native {n(native)} ({m.native_ctx.source})" if native else ""
        f = model_finding(
            m,
            world,
            code=CODE,
            severity=SEVERITY,
            message=(
                f"{d.name} sets no num_ctx: the server default serves {n(served)}"
                f"{of_native} ({m.served_ctx.note})"
            ),
            location=d.location,
            data=model_data(m, default=served, default_reason=m.served_ctx.note, target=target),
        )
        yield raise_for_truncation(f, world, m)  # the log shows it happened: an error

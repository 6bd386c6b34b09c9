"""CTX303 server-env-caps-context: OLLAMA_CONTEXT_LENGTH caps models that rely on it.

What it finds
    A server environment (process, systemd unit or drop-in, docker compose)
    with `OLLAMA_CONTEXT_LENGTH` below the native context of a model that
    sets no num_ctx of its own and therefore gets the environment's value.

Why it matters
    OLLAMA_CONTEXT_LENGTH (Ollama >= 0.5.13; github:ollama/ollama
    envconfig/config.go `ContextLength`, read by api/types.go
    `DefaultOptions`) replaces the built-in default for every model without
    a num_ctx: the model's params and the request override it
    (server/routes.go `modelOptions`). Set once to save memory, it silently
    caps every new model pulled later — including 256k models.

Example that fails
    # /etc/systemd/system/ollama.service.d/override.conf
    [Service]
    Environment="OLLAMA_CONTEXT_LENGTH=8192"
    -> qwen3-coder:30b (native 262,144) is served 8,192 tokens

Fix
    Raise OLLAMA_CONTEXT_LENGTH (it applies to every model: mind the memory),
    or give the models that need more their own num_ctx.
"""

from __future__ import annotations

from collections.abc import Iterator

from ctxfix.facts import Finding
from ctxfix.rules._util import model_data, model_finding, n, target_ctx
from ctxfix.world import World

CODE = "CTX303"
NAME = "server-env-caps-context"
SEVERITY = "warning"


def check(world: World) -> Iterator[Finding]:
    for m in world.models:
        d = m.definition
        if d.origin == "gguf" or not m.relies_on_default or m.served_ctx is None:
            continue
        if m.served_ctx.source != "env" or m.native_ctx is None:
            continue
        served, native = m.served_ctx.value, m.native_ctx.value
        target = target_ctx(m, world)
        if served >= native or (target is not None and served >= target):
            continue
        env = world.env.get("OLLAMA_CONTEXT_LENGTH")
        yield model_finding(
            m,
            world,
            code=CODE,
            severity=SEVERITY,
            message=(
                f"OLLAMA_CONTEXT_LENGTH={n(served)} caps {d.name} (no num_ctx of its own) "
                f"below its native {n(native)} ({m.native_ctx.source})"
            ),
            location=env.location if env else m.served_ctx.location,
            data=model_data(m, env=served, target=target),
        )

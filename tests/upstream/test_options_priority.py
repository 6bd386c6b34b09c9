"""Ollama's own num_ctx priority table, run against `ctxfix.resolve`.

Ported from github:ollama/ollama `server/routes_options_test.go`
`TestModelOptionsNumCtxPriority` at v0.33.0-rc2: request options > the
model's parameters (Modelfile / params blob) > OLLAMA_CONTEXT_LENGTH > the
VRAM-based default (`Server.defaultNumCtx`). Upstream sets the default
directly; ctxfix derives it from VRAM (server/routes.go tiers), so each row's
default is produced by a VRAM size in its tier. The other tests in that file
(`TestModelOptionsEmbeddingNumBatchDefault`, `...DraftNumPredictDefault`,
`TestUsesAutomaticNumBatch`) are about num_batch and draft_num_predict, which
ctxfix does not resolve.
"""

from __future__ import annotations

import pytest

from ctxfix.facts import (
    AgentBinding,
    EnvValue,
    Geometry,
    Location,
    ModelDef,
    ServerEnv,
    Sourced,
)
from ctxfix.resolve import resolve
from ctxfix.settings import Settings

GIB = 1024**3
# a VRAM size per default tier (server/routes.go: >= 47 GiB 262144, >= 23 GiB 32768, else 4096)
VRAM_FOR_DEFAULT = {4096: 8 * GIB, 32768: 32 * GIB, 262144: 64 * GIB}

# name: (OLLAMA_CONTEXT_LENGTH, default, model num_ctx, request num_ctx, expected); 0 = unset
CASES = {
    "vram default when nothing else set": ("", 32768, 0, 0, 32768),
    "env var overrides vram default": ("8192", 32768, 0, 0, 8192),
    "model overrides vram default": ("", 32768, 16384, 0, 16384),
    "model overrides env var": ("8192", 32768, 16384, 0, 16384),
    "request overrides everything": ("8192", 32768, 16384, 4096, 4096),
    "request overrides vram default": ("", 32768, 0, 4096, 4096),
    "request overrides model": ("", 32768, 16384, 4096, 4096),
    "low vram tier default": ("", 4096, 0, 0, 4096),
    "high vram tier default": ("", 262144, 0, 0, 262144),
}

NATIVE = 1_048_576  # above every row, so the load-time clamp never applies


@pytest.mark.parametrize("name", list(CASES))
def test_model_options_num_ctx_priority(name: str) -> None:
    """TestModelOptionsNumCtxPriority: the num_ctx an agent on the native API is served."""
    env_len, default, model_ctx, request_ctx, expected = CASES[name]
    model = ModelDef(
        name="m:latest",
        origin="store",
        location=Location("manifests/m"),
        num_ctx=Sourced(model_ctx, "params", Location("blob")) if model_ctx else None,
        geometry=Geometry(arch="llama", context_length=NATIVE),
    )
    binding = AgentBinding(
        agent="t",
        file="f",
        model_ref=Sourced("m", "agent", Location("f", 1, 1)),
        model="m",
        api="native",
        num_ctx=Sourced(request_ctx, "agent", Location("f", 2, 1)) if request_ctx else None,
    )
    env = ServerEnv(
        {"OLLAMA_CONTEXT_LENGTH": EnvValue("OLLAMA_CONTEXT_LENGTH", env_len, Location("env"))}
        if env_len
        else {}
    )
    settings = Settings(ollama_version="0.33.0", vram_bytes=VRAM_FOR_DEFAULT[default])
    world = resolve([model], [binding], [], env, settings, [])
    (rb,) = world.bindings
    assert rb.served_ctx is not None and rb.served_ctx.value == expected

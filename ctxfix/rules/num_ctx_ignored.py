"""CTX204 num-ctx-ignored: num_ctx is set where the agent talks to the /v1 API.

What it finds
    An agent binding that sets num_ctx (OpenClaw `params.num_ctx`, LiteLLM
    `num_ctx`, Aider `extra_params.num_ctx`, ...) while it reaches Ollama
    through the OpenAI-compatible `/v1` endpoint.

Why it matters
    `/v1/chat/completions` has no way to set the context size: Ollama ignores
    the option and serves the model's num_ctx or the server default. The
    config looks right and is not. (github:ollama/ollama openai/openai.go:
    `ChatCompletionRequest` has no options field, and `FromChatRequest` /
    `FromCompleteRequest` fill options only from stop, max_tokens,
    temperature, seed, the two penalties and top_p.)

Example that fails
    openclaw.json: api "openai-completions", baseUrl ".../v1",
    params: { num_ctx: 65536 }

Fix
    Either use the native API (OpenClaw `api: "ollama"`, LiteLLM
    `ollama_chat/`), or put num_ctx in the model definition
    (`PARAMETER num_ctx` / `ctxfix apply`).
"""

from __future__ import annotations

from collections.abc import Iterator

from ctxfix.facts import Finding
from ctxfix.rules._util import binding_data, binding_finding, binding_location, n
from ctxfix.world import World

CODE = "CTX204"
NAME = "num-ctx-ignored"
SEVERITY = "warning"


def check(world: World) -> Iterator[Finding]:
    for rb in world.bindings:
        b = rb.binding
        if b.api != "openai" or b.num_ctx is None or b.num_ctx.source == "default":
            continue
        served = rb.served_ctx
        served_txt = f"; Ollama serves {n(served.value)} ({served.source})" if served else ""
        # harmless when what is served is what the agent asks for: info, not a warning
        same = served is not None and served.value == b.num_ctx.value
        yield binding_finding(
            rb,
            code=CODE,
            severity="info" if same else SEVERITY,
            message=(
                f"{b.agent} sets num_ctx {n(b.num_ctx.value)} for {b.model} but talks to the "
                f"OpenAI-compatible /v1 API, which ignores it{served_txt}"
            ),
            location=binding_location(rb, "num_ctx"),
            data=binding_data(rb, num_ctx=b.num_ctx.value),
        )

"""CTX201 agent-window-exceeds-served: the agent plans for more context than Ollama serves.

What it finds
    An agent config whose context window (OpenClaw `contextWindow`, Continue
    `contextLength`, opencode `limit.context`, Aider `max_input_tokens`, ...)
    is larger than the context Ollama actually serves that model — its
    num_ctx, or the server default when it has none.

Why it matters
    The agent packs prompts up to its window. What Ollama does with the part
    past the served context depends on its version (`ctxfix.policy.truncation`):
    before 0.30.9 it silently cuts the prompt to the window, dropping the
    oldest tokens; from 0.30.9 it cuts it to about half the window with
    context shift, or fails with HTTP 400 "the prompt is longer than the
    context length currently available to the model" without it (the
    deepseek2 family, or `shift: false`). The message says which one this
    server does. Tool definitions, file contents and instructions vanish and
    the agent behaves erratically, or the agent shows an error it cannot fix.

Example that fails
    openclaw.json: contextWindow 131072 for a model that sets no num_ctx on
    an Ollama 0.12 server (default 4,096)

Fix
    Raise what Ollama serves (a model definition with num_ctx: `ctxfix
    apply`), or lower the agent's window to what is served.
"""

from __future__ import annotations

from collections.abc import Iterator

from ctxfix.facts import Finding
from ctxfix.policy.truncation import for_model
from ctxfix.rules._util import binding_data, binding_finding, binding_location, n
from ctxfix.world import World

CODE = "CTX201"
NAME = "agent-window-exceeds-served"
SEVERITY = "error"


def check(world: World) -> Iterator[Finding]:
    for rb in world.bindings:
        b = rb.binding
        if b.context_window is None or rb.served_ctx is None:
            continue
        window, served = b.context_window.value, rb.served_ctx.value
        if window <= served:
            continue
        why = f" ({rb.served_ctx.note})" if rb.served_ctx.note else ""
        # who wrote the window, when a tool did (`ollama launch` writes the native context)
        writer = f"; {n(window)} was written by {b.written_by}" if b.written_by else ""
        yield binding_finding(
            rb,
            code=CODE,
            severity=SEVERITY,
            message=(
                f"{b.agent} plans for {n(window)} tokens but Ollama serves {b.model} "
                f"{n(served)} from {rb.served_ctx.source}{why}: "
                f"{for_model(rb.model, served).describe()}{writer}"
            ),
            location=binding_location(rb, "context_window"),
            data=binding_data(rb, target=served),
        )

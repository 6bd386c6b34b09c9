"""CTX201 agent-window-exceeds-served: the agent plans for more context than Ollama serves.

What it finds
    An agent config whose context window (OpenClaw `contextWindow`, Continue
    `contextLength`, opencode `limit.context`, Aider `max_input_tokens`, ...)
    is larger than the context Ollama actually serves that model — its
    num_ctx, or the server default when it has none.

Why it matters
    The agent packs prompts up to its window. Ollama cuts everything past the
    served context without an error: `/api/chat` drops the oldest messages
    (keeping the system prompt and the last one) and the runner truncates
    the rest. Tool definitions, file contents and instructions vanish and
    the agent behaves erratically. With `truncate: false` (Ollama 0.12.6+)
    it is a hard 400 error instead.

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
        yield binding_finding(
            rb,
            code=CODE,
            severity=SEVERITY,
            message=(
                f"{b.agent} plans for {n(window)} tokens but Ollama serves {b.model} "
                f"{n(served)} from {rb.served_ctx.source}{why}: prompts past {n(served)} "
                "are silently truncated"
            ),
            location=binding_location(rb, "context_window"),
            data=binding_data(rb, target=served),
        )

"""CTX106 loaded-ctx-differs: a loaded model runs with another context than its definition.

What it finds
    A model in a live server's `/api/ps` whose `context_length` (what it was
    loaded with; github:ollama/ollama api/types.go `ProcessModelResponse`,
    filled by server/routes.go `PsHandler`, from v0.10.0) differs from the
    context its definition implies (num_ctx, env or default, clamped to
    native).

Why it matters
    Something is sending its own `options.num_ctx`: usually an agent on the
    native API (Continue always sends its contextLength; Zed sends
    max_tokens). That client wins for as long as the model stays loaded, and
    every other client that sends nothing gets the same context. A request
    with a different num_ctx also forces a reload, which looks like random
    multi-second stalls.

Example that fails
    qwen3-coder:30b-262k: definition serves 262,144; /api/ps shows it loaded
    with 8,192 (an agent with contextLength 8192 on /api/chat)

Fix
    Find the client that sends num_ctx (`ctxfix scan` lists every agent
    binding and what it sends) and align it with the definition, or remove
    its num_ctx so the definition applies.
"""

from __future__ import annotations

from collections.abc import Iterator

from ctxfix.facts import Finding
from ctxfix.rules._util import model_data, model_finding, n
from ctxfix.world import World

CODE = "CTX106"
NAME = "loaded-ctx-differs"
SEVERITY = "info"


def check(world: World) -> Iterator[Finding]:
    for m in world.models:
        d = m.definition
        if d.loaded_ctx is None or m.served_ctx is None:
            continue
        loaded, served = d.loaded_ctx.value, m.served_ctx.value
        if loaded == served:
            continue
        senders = sorted(
            {
                rb.binding.agent
                for rb in world.bindings
                if rb.model is m and rb.binding.api == "native" and rb.binding.num_ctx
            }
        )
        who = f"; agents sending num_ctx: {', '.join(senders)}" if senders else ""
        yield model_finding(
            m,
            world,
            code=CODE,
            severity=SEVERITY,
            message=(
                f"{d.name} is loaded with {n(loaded)} tokens but its definition serves "
                f"{n(served)}: a client sends its own num_ctx{who}"
            ),
            location=d.location,
            data=model_data(m, loaded=loaded),
        )

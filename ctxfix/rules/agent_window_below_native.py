"""CTX202 agent-window-below-native: the agent caps the window below what the model can serve.

What it finds
    An agent config whose context window is smaller than the model's native
    context. This is the motivating case of ctxfix: OpenClaw declared
    `contextWindow: 131072` for `qwen3-coder:30b-v-128k`, a model whose GGUF
    says 262,144; a 146,760-token prompt overflowed.

Why it matters
    The agent compacts or refuses work at its own window even when the model
    (and the memory) could take twice as much. Usually the number was copied
    from a model name's "128k" label or an old default.

Example that fails
    { models: { providers: { ollama: { models: [
        { id: "qwen3-coder:30b-v-128k", contextWindow: 131072 } ] } } } }
    with qwen3moe.context_length = 262144

Fix
    Serve the native context (a model definition with num_ctx at native) and
    set the agent's window to it. `ctxfix apply` does both, and never raises
    an agent window above what Ollama serves.
"""

from __future__ import annotations

from collections.abc import Iterator

from ctxfix.facts import Finding
from ctxfix.rules._evidence import raise_for_truncation
from ctxfix.rules._util import binding_data, binding_finding, binding_location, n, target_ctx
from ctxfix.world import World

CODE = "CTX202"
NAME = "agent-window-below-native"
SEVERITY = "warning"


def _cap(rb) -> tuple[object, str] | None:
    """The value that caps this agent: its window, or with none the num_ctx it sends
    on the native API (Aider `extra_params.num_ctx`, aider/models.py send_completion)."""
    b = rb.binding
    if b.context_window is not None:
        return b.context_window, "context_window"
    if b.api == "native" and b.num_ctx is not None and not b.num_ctx_auto:
        return b.num_ctx, "num_ctx"
    return None


def check(world: World) -> Iterator[Finding]:
    for rb in world.bindings:
        b, m = rb.binding, rb.model
        cap = _cap(rb)
        if cap is None or m is None or m.native_ctx is None:
            continue
        value, attr = cap
        window, native = value.value, m.native_ctx.value  # type: ignore[attr-defined]
        target = target_ctx(m, world)
        # below what the model should serve (native, or what fits the memory budget)
        if window >= native or target is None or window >= target:
            continue
        if value.source == "default":  # type: ignore[attr-defined]
            where = f"{b.agent}'s default window {n(window)} ({value.note})"  # type: ignore[attr-defined]
        elif attr == "num_ctx":
            where = f"{b.agent} sends num_ctx {n(window)} for {b.model}"
        else:
            where = f"{b.agent} caps {b.model} at {n(window)}"
            if value.note:  # type: ignore[attr-defined]
                where += f" ({value.note})"  # type: ignore[attr-defined]
        f = binding_finding(
            rb,
            code=CODE,
            severity=SEVERITY,
            message=(
                f"{where}, below its native {n(native)} ({m.native_ctx.source}); "
                f"{round(100 * window / native)}% of what the model can serve"
            ),
            location=binding_location(rb, attr),
            data=binding_data(rb, target=target, cap=window),
        )
        yield raise_for_truncation(f, world, m)  # the log shows it happened: an error

"""CTX101 num-ctx-below-native: num_ctx is set below the model's native context.

What it finds
    A Modelfile `PARAMETER num_ctx` or a stored model's params blob whose
    num_ctx is smaller than what the model was trained for
    (`<arch>.context_length` in its GGUF).

Why it matters
    num_ctx is a hard cap. Ollama never serves more than it, whatever the
    agent asks through the OpenAI-compatible API (github:ollama/ollama
    openai/openai.go `FromChatRequest` maps no num_ctx). Prompts longer than
    the cap are silently truncated (oldest messages first), which looks like
    the model "forgetting" or like hardware trouble. A cap written once at
    setup time (often to save memory on an older machine) outlives the
    reason for it.

Example that fails
    # Modelfile
    FROM qwen3-coder:30b          # GGUF: qwen3moe.context_length = 262144
    PARAMETER num_ctx 131072

    Modelfile:2:1: CTX101 num_ctx 131,072 caps qwen3-coder at 50% of its
    native 262,144 (gguf)

Fix
    Raise num_ctx to the native context, or to the largest value that fits
    your memory (`ctxfix estimate MODEL --memory 64GiB`). `ctxfix apply`
    edits repo Modelfiles in place and creates a new model definition for
    stored models, leaving the old one untouched.
"""

from __future__ import annotations

from collections.abc import Iterator

from ctxfix.facts import Finding
from ctxfix.rules._evidence import raise_for_truncation
from ctxfix.rules._util import (
    display_name,
    model_data,
    model_finding,
    model_location,
    n,
    target_ctx,
)
from ctxfix.world import World

CODE = "CTX101"
NAME = "num-ctx-below-native"
SEVERITY = "warning"


def check(world: World) -> Iterator[Finding]:
    for m in world.models:
        d = m.definition
        if d.num_ctx is None or m.native_ctx is None:
            continue
        cur, native = d.num_ctx.value, m.native_ctx.value
        target = target_ctx(m, world)
        # below native is a cap only when the policy target is higher: a value
        # lowered to fit the memory budget is the fix, not the problem
        if cur >= native or target is None or cur >= target:
            continue
        pct = round(100 * cur / native)
        below = "" if target == native else f" (the memory budget allows {n(target)})"
        f = model_finding(
            m,
            world,
            code=CODE,
            severity=SEVERITY,
            message=(
                f"num_ctx {n(cur)} caps {display_name(m)} at {pct}% of its native "
                f"{n(native)} ({m.native_ctx.source}){below}"
            ),
            location=model_location(m),
            data=model_data(m, target=target),
        )
        yield raise_for_truncation(f, world, m)  # the log shows it happened: an error

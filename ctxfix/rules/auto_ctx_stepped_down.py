"""CTX403 auto-ctx-stepped-down: the server log shows the automatic context lowered after OOM.

What it finds
    `llama-server load failed; reducing automatic context and retrying once`
    with `old_num_ctx`, `effective_num_ctx` and `new_num_ctx` in Ollama's
    server log (server/sched.go, reduceAutoNumCtxForLoadOOM, v0.30.0 through
    v0.33.0-rc2): a model without num_ctx, given an automatic context, failed
    to load for lack of memory and was loaded again one step lower.

Why it matters
    The model serves less than the automatic context promised, and less than
    ctxfix computes from the configuration: agents sized for the larger
    window overflow at the smaller one. It also says the memory plan is
    wrong: the KV cache for the old context did not fit next to the weights.

Example that fails
    time=2026-11-30T08:00:03.000Z level=WARN source=sched.go:652
    msg="llama-server load failed; reducing automatic context and retrying once"
    model=/root/.ollama/models/blobs/sha256-... old_num_ctx=262144
    effective_num_ctx=262144 new_num_ctx=131072 ...

    server.log:1:1: CTX403 qwen3-coder:30b: the automatic context 262,144 did not
    fit in memory: Ollama stepped down to 131,072 (1 time on 2026-11-30)

Fix
    Give the model an explicit num_ctx that fits (`ctxfix estimate MODEL
    --memory SIZE` shows the largest), or free memory (fewer loaded models,
    a quantized KV cache with OLLAMA_KV_CACHE_TYPE).
"""

from __future__ import annotations

from collections.abc import Iterator

from ctxfix.facts import Finding
from ctxfix.rules._evidence import by_models, model_finding
from ctxfix.rules._util import n
from ctxfix.world import World

CODE = "CTX403"
NAME = "auto-ctx-stepped-down"
SEVERITY = "warning"


def check(world: World) -> Iterator[Finding]:
    if world.evidence is None:  # no log read: nothing to import or say
        return
    from ctxfix.evidence import OOM_STEP_DOWN

    for models, g in by_models(world, OOM_STEP_DOWN):
        big = g.largest.values if g.largest else {}
        if "old_num_ctx" not in big:
            continue
        # the automatic context only applies to models without num_ctx
        auto = [m for m in models if m.relies_on_default] or models
        yield model_finding(
            CODE,
            SEVERITY,
            g,
            auto,
            f"the automatic context {n(big['old_num_ctx'])} did not fit in memory: "
            f"Ollama stepped down to {n(big['new_num_ctx'])}",
            "time",
            old=big["old_num_ctx"],
            new=big["new_num_ctx"],
            effective=big.get("effective_num_ctx"),
        )

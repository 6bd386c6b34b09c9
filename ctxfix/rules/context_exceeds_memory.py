"""CTX302 context-exceeds-memory: the context does not fit the memory budget.

What it finds
    A model whose weights + KV cache (num_ctx x parallel, at the KV cache
    type in use) + compute buffer exceed the memory budget, either at the
    context it is served with now (error), or at its native context, the
    target other rules would raise it to (info: the fix is lowered to the
    largest multiple of 1024 that fits).

Why it matters
    Ollama does not refuse a context that does not fit. It spills layers to
    the CPU and runs several times slower, or fails to load, and raising
    num_ctx to native on a machine too small for it trades a capped window
    for a model that no longer runs. The budget comes from `--memory`,
    settings, or detection on this machine; with no budget (a remote host,
    an offline repo scan) this rule stays silent.

Example that fails (`ctxfix scan --memory 32GiB`)
    # Modelfile
    FROM qwen3-coder:30b
    PARAMETER num_ctx 262144

    CTX302 qwen3-coder:30b: weights 17.3 GiB + KV 24.0 GiB (262,144 tokens x 1)
    + overhead 0.4 GiB = 41.7 GiB > budget 32.0 GiB; 156,672 fits

Fix
    Set num_ctx to the largest context that fits (`ctxfix apply` does, and
    names the new model for it), quantise the KV cache
    (`OLLAMA_KV_CACHE_TYPE=q8_0` halves it; needs flash attention), lower
    OLLAMA_NUM_PARALLEL, or use a smaller quantisation of the weights.
"""

from __future__ import annotations

from collections.abc import Iterator

from ctxfix.facts import Finding
from ctxfix.memory import MemoryEstimate, format_gib, format_tokens
from ctxfix.policy.fit import fit_for_model
from ctxfix.rules._util import model_finding
from ctxfix.world import World

CODE = "CTX302"
NAME = "context-exceeds-memory"
SEVERITY = "error"


def _arithmetic(est: MemoryEstimate, budget: int) -> str:
    return (
        f"weights {format_gib(est.weights_bytes)} + KV {format_gib(est.kv_bytes)}"
        f" ({format_tokens(est.ctx)} tokens x {est.parallel}) + overhead"
        f" {format_gib(est.overhead_bytes)} = {format_gib(est.total_bytes)}"
        f" > budget {format_gib(budget)}"
    )


def _fits_text(fit: int | None) -> str:
    return f"{format_tokens(fit)} fits" if fit else "the weights alone do not fit"


def check(world: World) -> Iterator[Finding]:
    if world.settings.memory_bytes is None:
        return
    for model in world.models:
        fit = fit_for_model(model, world.settings, world.env)
        if fit is None:
            continue
        budget = fit.budget_bytes
        native = fit.native.ctx if fit.native else None
        served = fit.current.ctx if fit.current else None
        num_ctx = model.definition.num_ctx.value if model.definition.num_ctx else served
        if fit.current and fit.current.total_bytes > budget:
            est, severity = fit.current, "error"
            message = f"{_arithmetic(est, budget)}; {_fits_text(fit.max_fitting_ctx)}"
        elif fit.native and served is not None and native and native > served:
            if fit.native.total_bytes <= budget:
                continue
            est, severity = fit.native, "info"
            does = (
                f"{format_tokens(fit.max_fitting_ctx)} does"
                if fit.max_fitting_ctx
                else "nothing does"
            )
            message = (
                f"native {format_tokens(native)} does not fit {format_gib(budget)}; {does}"
                f" ({_arithmetic(est, budget)})"
            )
        else:
            continue
        if est.kv.notes:  # e.g. a q8_0 cache without flash attention: f16 after all
            message += "; " + "; ".join(est.kv.notes)
        if est.kv.cache_type != fit.cache_type:
            cheaper = (
                "enable flash attention (OLLAMA_FLASH_ATTENTION=1) so the KV cache can be quantised"
            )
        elif est.kv.cache_type == "f16":
            cheaper = "quantise the KV cache: OLLAMA_KV_CACHE_TYPE=q8_0 with flash attention"
        else:
            cheaper = "lower OLLAMA_NUM_PARALLEL or use a smaller quantisation"
        target = fit.target(native or est.ctx)
        yield model_finding(
            model,
            world,
            code=CODE,
            severity=severity,
            message=message,
            location=model.definition.location,
            data={
                "current": num_ctx,
                "native": native,
                "served": served,
                "target": target,
                "budget_bytes": budget,
                "total_bytes": est.total_bytes,
                "max_fitting_ctx": fit.max_fitting_ctx,
                "parallel": fit.parallel,
                "kv_cache_type": est.kv.cache_type,
                "advice": cheaper,
            },
        )

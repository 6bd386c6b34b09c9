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
from dataclasses import dataclass

from ctxfix.errors import CtxfixError
from ctxfix.facts import Finding, ServerEnv
from ctxfix.memory import MemoryEstimate, estimate_total, format_gib, format_tokens, max_fitting_ctx
from ctxfix.settings import Settings
from ctxfix.world import ResolvedModel, World

CODE = "CTX302"
NAME = "context-exceeds-memory"
SEVERITY = "error"


@dataclass(frozen=True)
class ModelFit:
    """The memory verdict for one model (also what the planner needs for its target)."""

    budget_bytes: int
    parallel: int
    cache_type: str
    flash_attention: bool | None
    current: MemoryEstimate | None  # at the served context
    native: MemoryEstimate | None  # at the native context
    max_fitting_ctx: int | None  # largest context <= native that fits (None: nothing fits)

    def target(self, wanted: int) -> int | None:
        """`wanted` (usually native) lowered to what fits."""
        if self.max_fitting_ctx is None:
            return None
        return min(wanted, self.max_fitting_ctx)


def _env_int(env: ServerEnv, name: str) -> int | None:
    v = env.get(name)
    try:
        return int(v.value) if v is not None else None
    except ValueError:
        return None


def _env_flash(env: ServerEnv) -> bool | None:
    v = env.get("OLLAMA_FLASH_ATTENTION")
    if v is None:
        return None
    s = v.value.strip().lower()
    if s in ("1", "true", "t", "yes", "on"):
        return True
    if s in ("0", "false", "f", "no", "off"):
        return False
    return None


def fit_for_model(
    model: ResolvedModel, settings: Settings, env: ServerEnv | None = None
) -> ModelFit | None:
    """Size `model` at its served and native contexts against the budget.

    None when the budget, the geometry or the weight size is unknown.
    Parallel and cache type: settings, else the server environment
    (OLLAMA_NUM_PARALLEL, OLLAMA_KV_CACHE_TYPE), else Ollama's defaults (1, f16).
    """
    env = env or ServerEnv()
    budget = settings.memory_bytes
    g = model.geometry or model.definition.geometry
    weights = model.weights_bytes or model.definition.weights_bytes or (g.file_size if g else None)
    if budget is None or g is None or not weights:
        return None
    parallel = settings.parallel or _env_int(env, "OLLAMA_NUM_PARALLEL") or 1
    kv_env = env.get("OLLAMA_KV_CACHE_TYPE")
    cache_type = settings.kv_cache_type or (kv_env.value if kv_env else None) or "f16"
    fa = _env_flash(env)
    kw = {"parallel": parallel, "cache_type": cache_type, "flash_attention": fa}
    served = model.served_ctx.value if model.served_ctx else None
    native = model.native_ctx.value if model.native_ctx else g.context_length
    try:
        current = estimate_total(g, served, weights, **kw) if served else None
        at_native = estimate_total(g, native, weights, **kw) if native else None
        fit = max_fitting_ctx(g, weights, budget, native=native, **kw) if native else None
    except CtxfixError:  # geometry too incomplete to size (e.g. nulled per-layer arrays)
        return None
    return ModelFit(budget, parallel, cache_type, fa, current, at_native, fit)


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
        if target:
            fix = (
                f"set num_ctx to {format_tokens(target)}, the largest context that fits"
                f" {format_gib(budget)} (or {cheaper})"
            )
        else:
            fix = f"use a smaller quantisation or a machine with more memory (or {cheaper})"
        yield Finding(
            code=CODE,
            severity=severity,
            message=message,
            model=model.name,
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
            },
            fix=fix,
            host=model.definition.host,
        )

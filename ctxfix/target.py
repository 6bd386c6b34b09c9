"""The context a fix aims for, decided once for rules, plan and reports.

Policy (DESIGN.md, "plan"): `--target-ctx` / settings `target_ctx` when given
(never above native: Ollama would clamp it); else the native context, lowered
to the largest multiple of 1024 that fits the memory budget when a budget is
known (CTX302's arithmetic, with parallel, KV cache type and flash attention
from settings or the server environment) unless settings say
`target_policy: native`; else native. None when the native
context is unknown, or when not even 1,024 tokens fit.
"""

from __future__ import annotations

from ctxfix.facts import Sourced
from ctxfix.world import ResolvedModel, World


def target_for(model: ResolvedModel, world: World) -> Sourced[int] | None:
    settings = world.settings
    native = model.native_ctx.value if model.native_ctx else None
    if settings.target_ctx:
        wanted = int(settings.target_ctx)
        if native is not None and wanted > native:
            return Sourced(
                native,
                model.native_ctx.source,
                note=f"--target-ctx {wanted:,} is above the native {native:,}; using native",
            )
        return Sourced(wanted, "settings", note="--target-ctx")
    if native is None:
        return None
    if settings.memory_bytes and settings.target_policy != "native":
        from ctxfix.rules.context_exceeds_memory import fit_for_model

        fit = fit_for_model(model, settings, world.env)
        if fit is not None:
            best = fit.target(native)
            if best is None:
                return None
            if best < native:
                return Sourced(
                    best,
                    "memory",
                    note=f"native {native:,} does not fit the memory budget; {best:,} does",
                )
    return Sourced(native, model.native_ctx.source, note="native context")

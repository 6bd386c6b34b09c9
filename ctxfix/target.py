"""The context a fix aims for, decided once for rules, plan and reports.

Policy (DESIGN.md, "plan"): `--target-ctx` / settings `target_ctx` when given;
else the native context, lowered to the largest multiple of 1024 that fits the
memory budget when a budget is known (CTX302's arithmetic); else native.
"""

from __future__ import annotations

from ctxfix.facts import Sourced
from ctxfix.world import ResolvedModel, World


def target_for(model: ResolvedModel, world: World) -> Sourced[int] | None:
    settings = world.settings
    if settings.target_ctx:
        return Sourced(int(settings.target_ctx), "settings", note="--target-ctx")
    if model.native_ctx is None:
        return None
    native = model.native_ctx.value
    if settings.memory_bytes:
        from ctxfix.rules.context_exceeds_memory import fit_for_model

        fit = fit_for_model(model, settings, world.env)
        if fit is not None:
            best = fit.target(native)
            if best is not None and best < native:
                return Sourced(
                    best,
                    "memory",
                    note=f"native {native:,} does not fit the memory budget; {best:,} does",
                )
    return Sourced(native, model.native_ctx.source, note="native context")

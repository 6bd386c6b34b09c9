"""The window a model should serve: `Target(value, reason)`, decided once.

Policy (DESIGN.md "policy"), in order:

1. `--target-ctx` / settings `target_ctx` (OVERRIDE), never above the native
   context: Ollama clamps num_ctx to it from 0.9.3 (CAPPED at native).
2. No native context known: no target (nothing to aim for).
3. A memory budget is known and `target_policy` is not `native`: the native
   context when it fits, else the largest multiple of 1024 that fits
   (MEMORY), else nothing fits (NOTHING_FITS, value None).
4. Otherwise the native context (NATIVE).

Rules judge against this value, the plan writes it, reports print it, so a
value ctxfix wrote is never flagged again.
"""

from __future__ import annotations

from ctxfix.policy.fit import fit_for_model
from ctxfix.records import record
from ctxfix.world import ResolvedModel, World


class TargetReason:
    # constants, not an Enum: creating an Enum class costs ~0.3 ms at import (issue 15)
    NATIVE = "native"  # the model's native context
    MEMORY = "memory"  # native does not fit the budget: the largest that does
    OVERRIDE = "override"  # --target-ctx / settings target_ctx
    CAPPED = "capped"  # --target-ctx above native: capped at native
    NOTHING_FITS = "nothing-fits"  # not even 1,024 tokens fit the budget


@record(frozen=True)
class Target:
    value: int | None  # None only for NOTHING_FITS
    reason: str  # a TargetReason constant
    native: int | None = None

    def describe(self) -> str:
        """Why this value, in words (for notes and messages)."""
        v = f"{self.value:,}" if self.value is not None else "-"
        n = f"{self.native:,}" if self.native is not None else "unknown"
        return {
            TargetReason.NATIVE: f"the native context {v}",
            TargetReason.MEMORY: f"{v}, the largest context that fits the memory budget "
            f"(native {n} does not)",
            TargetReason.OVERRIDE: f"{v} (--target-ctx)",
            TargetReason.CAPPED: f"the native {n} (--target-ctx is above it)",
            TargetReason.NOTHING_FITS: "nothing: not even 1,024 tokens fit the memory budget",
        }[self.reason]


def target_for(model: ResolvedModel, world: World, target_ctx: int | None = None) -> Target | None:
    """The target for `model`; `target_ctx` (apply's option) overrides the settings' one."""
    settings = world.settings
    native = model.native_ctx.value if model.native_ctx else None
    wanted = target_ctx or settings.target_ctx
    if wanted:
        if native is not None and wanted > native:
            return Target(native, TargetReason.CAPPED, native)
        return Target(int(wanted), TargetReason.OVERRIDE, native)
    if native is None:
        return None
    if settings.memory_bytes and settings.target_policy != "native":
        fit = fit_for_model(model, settings, world.env)
        if fit is not None:
            best = fit.target(native)
            if best is None:
                return Target(None, TargetReason.NOTHING_FITS, native)
            if best < native:
                return Target(best, TargetReason.MEMORY, native)
    return Target(native, TargetReason.NATIVE, native)

"""Memory fit: does a model at a context fit the memory budget, and what is the largest that does.

Why one function for everyone: `estimate` ignored `OLLAMA_KV_CACHE_TYPE`
while CTX302 read it, so the two gave different contexts for the same model
and budget. The server configuration that shapes the KV cache is decided
here, once, from the same inputs everywhere:

- parallel: `--parallel`/settings, else `OLLAMA_NUM_PARALLEL`, else 1. The 1
  is the server's default from 0.10.0 (github:ollama/ollama envconfig/config.go
  `NumParallel = Uint("OLLAMA_NUM_PARALLEL", 1)`, server/sched.go
  `defaultParallel = 1`; commit 20c3266e9 "Reduce default parallelism to 1
  (#11330)", first release v0.10.0); server/sched.go also runs an explicit 0
  as 1 (now `max(int(envconfig.NumParallel()), 1)`). Before 0.10 the default
  0 meant automatic: server/sched.go `pickBestFullFitByLibrary` tried
  `defaultParallel` (4 up to 0.6.6, 2 from 0.6.7, commit fe5b9bb21), then 1,
  and CPU-only loads took `defaultParallel`. For those servers 1 is the lower
  bound, and the estimate may be low;
- KV cache type: `--kv-cache-type`/settings, else `OLLAMA_KV_CACHE_TYPE`,
  else f16. A quantised type needs flash attention: with flash attention off,
  Ollama before 0.30 dropped the type and ran f16 (github:ollama/ollama
  llm/server.go `NewLlamaServer`), and from 0.30 it passes the type to
  llama-server unchanged, which refuses to create the context, so the model
  does not load (`ctxfix.memory.effective_cache_type` estimates f16 and says both);
- flash attention: `--flash-attention`, else `OLLAMA_FLASH_ATTENTION`
  (read as `envconfig.BoolWithDefault` does: `ctxfix.policy.envconfig`),
  else unknown.

The arithmetic itself is `ctxfix.memory` (llama.cpp's KV and compute sizes).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from ctxfix.facts import Geometry
from ctxfix.memory import MemoryEstimate, estimate_total, max_fitting_ctx
from ctxfix.policy.envconfig import bool_with_default, uint, var
from ctxfix.records import record


def parse_bool(value: str | None) -> bool | None:
    """OLLAMA_FLASH_ATTENTION as the server reads it; None when unset (unknown)."""
    return bool_with_default(value, None)


def parse_uint(value: str | None) -> int | None:
    """An unsigned setting as `envconfig.Uint` reads it; None when unset or invalid."""
    if not var(value):
        return None
    n, problem = uint(value, 0)
    return None if problem else n


@record(frozen=True)
class ServerMemoryConfig:
    """How the server sizes a model's KV cache: parallel sequences, cache type, flash attention."""

    parallel: int = 1
    cache_type: str = "f16"
    flash_attention: bool | None = None

    def kwargs(self) -> dict[str, object]:
        return {
            "parallel": self.parallel,
            "cache_type": self.cache_type,
            "flash_attention": self.flash_attention,
        }


def server_memory_config(
    env: Mapping[str, str],
    *,
    parallel: int | None = None,
    kv_cache_type: str | None = None,
    flash_attention: bool | None = None,
) -> ServerMemoryConfig:
    """The one reading of parallel / cache type / flash attention (flags win over the env).

    `env` maps OLLAMA_* names to their values as found (process, systemd, compose).
    """
    # unset or 0 -> 1: envconfig/config.go NumParallel default (0.10+); before 0.10
    # the server chose automatically and 1 is its lower bound (module docstring)
    par = parallel or parse_uint(env.get("OLLAMA_NUM_PARALLEL")) or 1
    # envconfig.KvCacheType is String -> Var; llm/server.go lower-cases it
    env_type = var(env.get("OLLAMA_KV_CACHE_TYPE")).lower() or None
    cache = (kv_cache_type or env_type or "f16").lower()
    fa = flash_attention
    if fa is None:
        fa = parse_bool(env.get("OLLAMA_FLASH_ATTENTION"))
    return ServerMemoryConfig(max(1, par), cache, fa)


@record(frozen=True)
class ModelFit:
    """The memory verdict for one model in one budget."""

    budget_bytes: int
    config: ServerMemoryConfig
    current: MemoryEstimate | None  # at the served context
    native: MemoryEstimate | None  # at the native context
    max_fitting_ctx: int | None  # largest multiple of 1024 <= native that fits (None: none)

    @property
    def parallel(self) -> int:
        return self.config.parallel

    @property
    def cache_type(self) -> str:
        return self.config.cache_type

    def target(self, wanted: int) -> int | None:
        """`wanted` (usually native) lowered to what fits; None when nothing does."""
        if self.max_fitting_ctx is None:
            return None
        return min(wanted, self.max_fitting_ctx)

    def fits(self, est: MemoryEstimate | None) -> bool:
        return est is not None and est.total_bytes <= self.budget_bytes


def fit(
    geometry: Geometry,
    weights_bytes: int,
    budget_bytes: int,
    config: ServerMemoryConfig,
    *,
    served: int | None,
    native: int | None,
) -> ModelFit | None:
    """Size a model at its served and native contexts; None when the geometry cannot be sized.

    Memoised: the rules, the plan and the report each ask for the same model's
    fit (19 searches on one demo scan with --memory), and the answer depends
    only on these arguments, all frozen values.
    """
    try:
        return _fit(geometry, weights_bytes, budget_bytes, config, served, native)
    except TypeError:  # a hand-built, unhashable Geometry: lru_cache cannot key it
        return _fit.__wrapped__(geometry, weights_bytes, budget_bytes, config, served, native)


@functools.lru_cache(maxsize=512)
def _fit(
    geometry: Geometry,
    weights_bytes: int,
    budget_bytes: int,
    config: ServerMemoryConfig,
    served: int | None,
    native: int | None,
) -> ModelFit | None:
    from ctxfix.errors import CtxfixError

    kw = config.kwargs()
    try:
        current = estimate_total(geometry, served, weights_bytes, **kw) if served else None
        at_native = estimate_total(geometry, native, weights_bytes, **kw) if native else None
        best = (
            max_fitting_ctx(geometry, weights_bytes, budget_bytes, native=native, **kw)
            if native
            else None
        )
    except CtxfixError:  # geometry too incomplete (e.g. nulled per-layer arrays)
        return None
    return ModelFit(budget_bytes, config, current, at_native, best)


def env_values(env) -> dict[str, str]:  # env: ServerEnv
    """OLLAMA_* names to values, from the server environment as found."""
    return {k: v.value for k, v in env.values.items()}


def fit_for_model(model, settings, env=None) -> ModelFit | None:  # ResolvedModel, Settings
    """`fit()` for a resolved model with the scan's settings and server environment.

    None when the budget, the geometry or the weight size is unknown.
    """
    budget = settings.memory_bytes
    g = model.geometry or model.definition.geometry
    weights = model.weights_bytes or model.definition.weights_bytes or (g.file_size if g else None)
    if budget is None or g is None or not weights:
        return None
    config = server_memory_config(
        env_values(env) if env is not None else {},
        parallel=settings.parallel,
        kv_cache_type=settings.kv_cache_type,
        flash_attention=getattr(settings, "flash_attention", None),
    )
    served = model.served_ctx.value if model.served_ctx else None
    native = model.native_ctx.value if model.native_ctx else g.context_length
    return fit(g, weights, budget, config, served=served, native=native)

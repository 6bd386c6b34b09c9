"""What an Ollama server does when nobody sets num_ctx, by server version.

Why a module of its own: the served context of a model that has no num_ctx
is not a constant. It changed with the server version (2048 -> 4096 ->
VRAM tiers), `OLLAMA_CONTEXT_LENGTH` only exists from a certain version, and
clamping to the model's native length came later still. Resolve and the
rules (CTX104, CTX303) must agree on these facts, so they live here, each
with the release that introduced it.

Checked against upstream ollama/ollama:
- 2048 up to 0.6.6, 4096 from v0.6.7. Before 0.5.13 the 2048 is
  github:ollama/ollama api/types.go `DefaultOptions` (`NumCtx: 2048`); from
  0.5.13 `DefaultOptions` takes `NumCtx` from github:ollama/ollama
  envconfig/config.go `ContextLength` (`OLLAMA_CONTEXT_LENGTH`), whose
  default was 2048 and became 4096 in commit 44b466eeb "config: update
  default context length to 4096" (first tagged v0.6.7).
- From 0.15.5, `server/routes.go` `Serve` picks the default from total VRAM
  (sum of GPU total memory minus `OLLAMA_GPU_OVERHEAD`):
  `>= 47 GiB -> 262144`, `>= 23 GiB -> 32768`, else `4096` ("slightly lower
  thresholds (47/23 GiB vs. 48/24 GiB) to account for small differences").
- From 0.30.0 (llama-server for every GGUF model, #16031) that default is an
  *automatic* context (`server/routes.go usesAutomaticNumCtx`: no num_ctx in
  the request or the model and no `OLLAMA_CONTEXT_LENGTH`), and a load that
  runs out of memory steps it down once (`server/sched.go
  reduceAutoNumCtxForLoadOOM`, `nextLowerAutoNumCtx`: above 32,768 -> 32,768,
  above 4,096 -> 4,096). `/api/ps` is the truth once the model is loaded.
- `server/sched.go getRunner` raises num_ctx below 4 to 4, and for a vision
  model below 2,048 to 2,048 (v0.11.5+), before the load clamps it.
- From 0.9.3 the load clamps num_ctx to the model's trained context
  (`llm/server.go` `NewLlamaServer`: "requested context size too large for
  model", `opts.NumCtx = int(trainCtx)`; github:ollama/ollama PR #11175
  "avoid context overflow", merged 2025-06-23).
- `OLLAMA_GPU_OVERHEAD` is subtracted per GPU before the tier is picked
  (`totalVRAM += gpu.TotalMemory - envconfig.GpuOverhead()`).
- `OLLAMA_CONTEXT_LENGTH` (0.5.13+: github:ollama/ollama envconfig/config.go
  `ContextLength`, commit 314573bfe "config: allow setting context length
  through env var (#8938)", first tagged v0.5.13) replaces that default; it is
  applied before the model's params and the request options, which override
  it (github:ollama/ollama server/routes.go `modelOptions`: `api.DefaultOptions()`,
  then `opts.FromMap(model.Options)`, then `opts.FromMap(requestOpts)`).
"""

from __future__ import annotations

import re

from ctxfix.facts import Sourced

GIB = 1024**3

_V_CONTEXT_ENV = (0, 5, 13)
_V_DEFAULT_4096 = (0, 6, 7)
_V_CLAMP = (0, 9, 3)
_V_VRAM_TIERS = (0, 15, 5)
_V_VISION_MIN = (0, 11, 5)
_V_AUTO_STEP_DOWN = (0, 30, 0)

MIN_NUM_CTX = 4
VISION_MIN_NUM_CTX = 2048

# compiled on first use (re's cache): most scans never need it (issue 15)
_VERSION_RE = r"^\s*v?(\d+)\.(\d+)(?:\.(\d+))?"


def parse_version(version: str | None) -> tuple[int, int, int] | None:
    """`"0.12.3"`, `"v0.6.7-rc1"` -> (0, 12, 3) / (0, 6, 7); unparseable or None -> None.

    A dev build reports `0.0.0`: that says nothing about behaviour, so it is
    treated as unknown too.
    """
    if not version:
        return None
    m = re.match(_VERSION_RE, version)
    if not m:
        return None
    v = (int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))
    return None if v == (0, 0, 0) else v


def _fmt_gib(n: int) -> str:
    return f"{n / GIB:.1f} GiB"


def next_lower_auto_num_ctx(num_ctx: int) -> int | None:
    """`nextLowerAutoNumCtx` (server/sched.go): the one step down after an OOM load."""
    if num_ctx > 32768:
        return 32768
    if num_ctx > 4096:
        return 4096
    return None


def default_num_ctx(
    version: str | None,
    vram_bytes: int | None,
    gpu_overhead: int = 0,
    gpus: int | None = None,
    native: int | None = None,
) -> Sourced[int]:
    """The num_ctx a server of `version` uses when neither request, model nor env sets it.

    `note` says which rule applied, and says so plainly when the version or
    the VRAM size had to be assumed (the user must know the number is a guess).
    """
    v = parse_version(version)
    if v is None:
        return Sourced(
            4096,
            "default",
            note="Ollama version unknown: assumed 4096 (the default from 0.6.7; "
            "0.15.5+ may serve more on a large GPU)",
        )
    if v < _V_DEFAULT_4096:
        return Sourced(2048, "default", note=f"Ollama {version} default (2048 up to 0.6.6)")
    if v < _V_VRAM_TIERS:
        return Sourced(4096, "default", note=f"Ollama {version} default (4096 from 0.6.7)")
    if vram_bytes is None:
        return Sourced(
            4096,
            "default",
            note=f"Ollama {version} picks the default from VRAM (0.15.5+); VRAM unknown: "
            "assumed the lowest tier, 4096 (>= 23 GiB serves 32768, >= 47 GiB 262144)",
        )
    overhead = ""
    if gpu_overhead:
        vram_bytes = max(0, vram_bytes - gpu_overhead * max(1, gpus or 1))
        overhead = " after OLLAMA_GPU_OVERHEAD" + (
            "" if gpus else " (taken once: the GPU count is unknown; Ollama takes it per GPU)"
        )
    if vram_bytes >= 47 * GIB:
        value, tier = 262144, ">= 47 GiB"
    elif vram_bytes >= 23 * GIB:
        value, tier = 32768, ">= 23 GiB"
    else:
        value, tier = 4096, "< 23 GiB"
    note = f"Ollama {version} VRAM tier: {_fmt_gib(vram_bytes)} VRAM{overhead} {tier} -> {value}"
    if v >= _V_AUTO_STEP_DOWN:
        # reduceAutoNumCtxForLoadOOM steps down from the context clamped to the
        # model's training context, not from the tier
        lower = next_lower_auto_num_ctx(min(value, native) if native else value)
        note = f"Ollama {version} automatic context: {_fmt_gib(vram_bytes)} VRAM{overhead} {tier}"
        note += f" -> {value:,}"
        if lower:
            note += f", or {lower:,} if the load runs out of memory"
    return Sourced(value, "default", note=note)


def floor_num_ctx(num_ctx: int, version: str | None, vision: bool) -> tuple[int, str | None]:
    """The context the scheduler raises a too-small num_ctx to, and why (None: unchanged).

    `server/sched.go getRunner`: `if opts.NumCtx < 4 { opts.NumCtx = 4 }` (every
    version ctxfix knows), then for a model with the vision capability
    `opts.NumCtx = max(opts.NumCtx, 2048)` ("multimodal models require at least
    2048 context", from v0.11.5). Both apply before the load clamps to the
    model's training context. Unknown version: the current rules.
    """
    v = parse_version(version)
    if vision and num_ctx < VISION_MIN_NUM_CTX and (v is None or v >= _V_VISION_MIN):
        return VISION_MIN_NUM_CTX, "vision models run with at least 2,048 (Ollama >= 0.11.5)"
    if num_ctx < MIN_NUM_CTX:
        return MIN_NUM_CTX, "Ollama runs every model with at least 4"
    return num_ctx, None


def clamps_to_native(version: str | None) -> bool:
    """True when the server clamps num_ctx to `<arch>.context_length` (0.9.3+).

    Unknown version: True (every current release clamps).
    """
    v = parse_version(version)
    return True if v is None else v >= _V_CLAMP


def supports_context_env(version: str | None) -> bool:
    """True when the server reads `OLLAMA_CONTEXT_LENGTH` (0.5.13+). Unknown version: True.

    github:ollama/ollama envconfig/config.go `ContextLength`, added in v0.5.13.
    """
    v = parse_version(version)
    return True if v is None else v >= _V_CONTEXT_ENV

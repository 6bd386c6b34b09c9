"""KV-cache and whole-model memory arithmetic, following llama.cpp.

Why: raising a context cap is only right if the context fits. The naive
formula (every layer x every token) overstates sliding-window models such as
gemma3 six-fold (62 GiB instead of 10.6 GiB at 131,072 tokens) and understates
nothing, so users are told to buy hardware they do not need. This module
mirrors how llama.cpp (and Ollama's engine, which copies it) sizes the cache:

* Per layer with KV: ``head_count_kv[i] x (key_length + value_length)``
  elements per cell (``n_embd_k_gqa(il) + n_embd_v_gqa(il)`` in
  src/llama-hparams.cpp), stored as the cache type: f16/bf16 2 B, f32 4 B,
  q8_0 34 B per 32 elements, q4_0 18 B per 32.
* Cells: ``pad256(num_ctx x parallel)`` for full-attention layers
  (llama-context pads n_ctx to 256).
* Sliding-window layers (llama-kv-cache-iswa.cpp):
  ``pad256(min(cells, window x parallel + n_ubatch))``, n_ubatch = 512.
  Which layers slide is per architecture (``set_swa_pattern(p)``: layer il
  slides when ``il % p < p - 1``): gemma2 p=2 (window 4096), gemma3 p=6,
  gemma3n p=5, gpt-oss p=2, cohere2 p=4, llama4 p=4 chunked at 8192. A
  GGUF per-layer ``sliding_window_pattern`` array wins when present.
* Recurrent layers (Mamba, gated delta net) keep no per-token KV but a fixed
  f32 state per sequence: ``(n_embd_r + n_embd_s) x 4 B x max(1, parallel)``
  with ``n_embd_r = (d_conv - 1) x (d_inner + 2 x n_group x d_state)`` and
  ``n_embd_s = d_state x d_inner`` (llama_hparams::n_embd_r/n_embd_s).
  Which layers are recurrent: head_count_kv 0 (jamba, granitehybrid,
  nemotron_h, lfm2), every layer for mamba/mamba2/rwkv, every layer but each
  ``full_attention_interval``-th (default 4) for qwen3next/qwen35, and
  falcon-h1 has both an attention cache and a state on every layer.
* NextN/MTP layers keep no KV (glm4moe: ``n_layer_kv_from_start = n_layer -
  nextn_predict_layers``); gemma3n layers from 20 on reuse earlier caches.
* MLA (deepseek2 and kin, ``kv_lora_rank`` set): one K row of
  ``kv_lora_rank + rope dims`` (512 + 64 = 576) per layer and no V cache
  (``has_v = !is_mla`` in llama-kv-cache.cpp).

A quantised cache (q8_0, q4_0) needs flash attention; Ollama falls back to
f16 for both K and V without it (llm/server.go), and we say so in the notes.
"""

from __future__ import annotations

from dataclasses import dataclass

from ctxfix.errors import CtxfixError
from ctxfix.facts import Geometry

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB

N_UBATCH = 512  # llama.cpp / Ollama default micro-batch
CELL_PAD = 256  # llama.cpp pads the cache size to 256 cells

# cache type -> (bytes per block, elements per block), as ggml_row_size computes it
CACHE_TYPES: dict[str, tuple[int, int]] = {
    "f16": (2, 1),
    "bf16": (2, 1),
    "f32": (4, 1),
    "q8_0": (34, 32),
    "q4_0": (18, 32),
}
_QUANTIZED = frozenset({"q8_0", "q4_0"})

# arch -> (pattern period, default window or None = window from the GGUF, chunked)
_SWA_PATTERNS: dict[str, tuple[int, int | None, bool]] = {
    "gemma2": (2, 4096, False),
    "gemma3": (6, None, False),
    "gemma3n": (5, None, False),
    "gptoss": (2, None, False),
    "gpt-oss": (2, None, False),
    "cohere2": (4, None, False),
    "llama4": (4, 8192, True),
}
_PURE_RECURRENT = frozenset({"mamba", "mamba2", "rwkv6", "rwkv6qwen2", "rwkv7", "arwkv7"})
_INTERVAL_HYBRID = frozenset({"qwen3next", "qwen35", "qwen35moe"})
_ALL_LAYERS_HYBRID = frozenset({"falcon-h1"})
_NEXTN_IN_BLOCK_COUNT = frozenset({"glm4moe"})
_GEMMA3N_KV_LAYERS = 20  # llama.cpp: hparams.n_layer_kv_from_start = 20


def pad(n: int, multiple: int) -> int:
    """Round `n` up to a multiple (GGML_PAD)."""
    return (n + multiple - 1) // multiple * multiple


def check_cache_type(cache_type: str) -> str:
    """Normalise a KV cache type name or raise a one-line error."""
    t = (cache_type or "f16").strip().lower()
    if t not in CACHE_TYPES:
        raise CtxfixError(
            None, f"unknown KV cache type '{cache_type}' (one of {', '.join(CACHE_TYPES)})"
        )
    return t


def _row_bytes(elements: int, cache_type: str) -> int:
    size, block = CACHE_TYPES[cache_type]
    return elements * size // block


@dataclass(frozen=True)
class _Layer:
    k: int  # K elements per cell (0: no attention cache)
    v: int  # V elements per cell
    swa: bool
    recurrent: bool


@dataclass(frozen=True)
class _Plan:
    layers: tuple[_Layer, ...]
    window: int | None  # sliding window in tokens when any layer slides
    chunked: bool
    recurrent_state: int  # f32 elements of state per recurrent layer per sequence
    notes: tuple[str, ...]


def _plan(g: Geometry) -> _Plan:
    """Classify every layer the way llama.cpp's loader does for this architecture."""
    arch = (g.arch or "").lower()
    notes: list[str] = []
    hkv = tuple(g.head_count_kv) if g.head_count_kv else ()
    n = g.block_count or len(hkv)
    if not n:
        raise CtxfixError(None, f"{arch or 'model'}: no block_count: cannot size the KV cache")
    if not hkv:
        # the GGUF reader already defaults an absent key to head_count; None means a
        # server nulled the per-layer array, and guessing could be 6x off
        raise CtxfixError(None, f"{arch}: head_count_kv unknown: cannot size the KV cache")
    if len(hkv) == 1:
        hkv = hkv * n
    if len(hkv) != n:
        raise CtxfixError(None, f"{arch}: head_count_kv has {len(hkv)} entries for {n} layers")
    head_dim = (g.embedding_length // g.head_count) if g.embedding_length and g.head_count else 0
    kl = g.key_length or head_dim
    vl = g.value_length or head_dim

    # which layers carry an attention cache / a recurrent state
    has_kv = [h > 0 for h in hkv]
    recurrent = [False] * n
    has_ssm = bool(g.ssm_state_size and g.ssm_inner_size)
    if arch in _PURE_RECURRENT:
        has_kv = [False] * n
        recurrent = [True] * n
    elif arch in _INTERVAL_HYBRID:
        interval = g.full_attention_interval or 4
        recurrent = [(i + 1) % interval != 0 for i in range(n)]
        has_kv = [not r for r in recurrent]
    elif arch in _ALL_LAYERS_HYBRID:
        recurrent = [True] * n
    else:
        recurrent = [h == 0 and has_ssm for h in hkv]
    if arch in _NEXTN_IN_BLOCK_COUNT and g.nextn_predict_layers:
        first = n - g.nextn_predict_layers
        for i in range(max(first, 0), n):
            has_kv[i] = False
        notes.append(f"{g.nextn_predict_layers} NextN/MTP layer(s) keep no KV cache")
    if arch == "gemma3n":
        for i in range(_GEMMA3N_KV_LAYERS, n):
            has_kv[i] = False

    # sliding-window layers
    window: int | None = None
    chunked = False
    swa = [False] * n
    pattern = g.sliding_window_pattern
    if pattern and len(pattern) == n and g.sliding_window:
        swa = [bool(x) for x in pattern]
        window = g.sliding_window
    elif arch in _SWA_PATTERNS:
        period, default_window, chunked = _SWA_PATTERNS[arch]
        if arch == "llama4" and g.sliding_window == 0:
            period = 0
        window = g.sliding_window if (g.sliding_window and arch != "llama4") else default_window
        if period and window:
            swa = [i % period < period - 1 for i in range(n)]
        else:
            window, chunked = None, False
    elif g.sliding_window:
        notes.append(
            f"sliding window {g.sliding_window} on {arch}: layer pattern unknown,"
            " counted as full attention (an upper bound)"
        )

    # per-layer element counts
    layers: list[_Layer] = []
    mla = bool(g.kv_lora_rank)
    if mla:
        rope = g.rope_dimension_count or 64
        notes.append(f"MLA: K cache only, {g.kv_lora_rank} + {rope} per layer")
    for i in range(n):
        if not has_kv[i]:
            k = v = 0
        elif mla:
            k, v = (g.kv_lora_rank or 0) + (g.rope_dimension_count or 64), 0
        else:
            k, v = hkv[i] * kl, hkv[i] * vl
        layers.append(_Layer(k=k, v=v, swa=swa[i] and has_kv[i], recurrent=recurrent[i]))
    if not any(s.swa for s in layers):
        window, chunked = None, False

    state = 0
    if any(recurrent):
        if arch.startswith("rwkv") or arch == "arwkv7":
            notes.append("RWKV state not counted (small and fixed)")
        elif has_ssm:
            d_state, d_inner = g.ssm_state_size or 0, g.ssm_inner_size or 0
            d_conv, n_group = g.ssm_conv_kernel or 0, g.ssm_group_count or 0
            n_embd_r = (d_conv - 1) * (d_inner + 2 * n_group * d_state) if d_conv > 0 else 0
            state = n_embd_r + d_state * d_inner
        else:
            notes.append("recurrent layers without ssm sizes: state not counted")
    return _Plan(tuple(layers), window, chunked, state, tuple(notes))


@dataclass(frozen=True)
class KVEstimate:
    """KV cache (and recurrent state) of one model at one context size.

    All sizes in bytes. `cells` is the full-attention cache size in tokens
    (num_ctx x parallel, padded to 256); `swa_cells` that of the sliding
    layers (None when none slide).
    """

    total_bytes: int
    full_bytes: int
    swa_bytes: int
    recurrent_bytes: int
    cells: int
    swa_cells: int | None
    full_layers: int
    swa_layers: int
    recurrent_layers: int
    cache_type: str  # the type actually used (after a flash-attention fallback)
    notes: tuple[str, ...] = ()


def effective_cache_type(cache_type: str, flash_attention: bool | None) -> tuple[str, list[str]]:
    """The cache type Ollama really uses: quantised types need flash attention."""
    t = check_cache_type(cache_type)
    if t in _QUANTIZED and flash_attention is False:
        return "f16", [f"{t} KV cache needs flash attention: falls back to f16"]
    return t, []


def kv_bytes_per_token(g: Geometry, cache_type: str = "f16") -> float:
    """Bytes of KV per token on full-attention layers only (for reports).

    Sliding-window and recurrent layers do not grow with the context, so a
    per-token figure that included them would mislead.
    """
    t = check_cache_type(cache_type)
    size, block = CACHE_TYPES[t]
    plan = _plan(g)
    elems = sum(la.k + la.v for la in plan.layers if (la.k or la.v) and not la.swa)
    return elems * size / block


def estimate_kv(
    g: Geometry,
    ctx: int,
    *,
    parallel: int = 1,
    cache_type: str = "f16",
    flash_attention: bool | None = None,
) -> KVEstimate:
    """Size the KV cache llama.cpp allocates for `ctx` tokens x `parallel` sequences.

    `flash_attention`: None means unknown (assume the quantised cache works,
    as on Ollama versions that enable flash attention by default); False
    forces the f16 fallback Ollama applies.
    """
    if ctx <= 0:
        raise CtxfixError(None, f"context size must be positive, not {ctx}")
    parallel = max(1, parallel)
    t, notes = effective_cache_type(cache_type, flash_attention)
    plan = _plan(g)
    notes.extend(plan.notes)
    cells = pad(ctx * parallel, CELL_PAD)
    swa_cells = None
    if plan.window:
        swa_cells = pad(min(cells, plan.window * parallel + N_UBATCH), CELL_PAD)
    full = swa_b = 0
    n_full = n_swa = 0
    for la in plan.layers:
        if not (la.k or la.v):
            continue
        c = swa_cells if la.swa and swa_cells is not None else cells
        b = _row_bytes(la.k * c, t) + _row_bytes(la.v * c, t)
        if la.swa:
            swa_b += b
            n_swa += 1
        else:
            full += b
            n_full += 1
    n_rec = sum(1 for la in plan.layers if la.recurrent)
    rec = n_rec * plan.recurrent_state * 4 * parallel
    return KVEstimate(
        total_bytes=full + swa_b + rec,
        full_bytes=full,
        swa_bytes=swa_b,
        recurrent_bytes=rec,
        cells=cells,
        swa_cells=swa_cells,
        full_layers=n_full,
        swa_layers=n_swa,
        recurrent_layers=n_rec,
        cache_type=t,
        notes=tuple(notes),
    )


def compute_buffer_bytes(
    g: Geometry, ctx: int, *, parallel: int = 1, flash_attention: bool | None = None
) -> int:
    """Estimate of the compute (graph) buffer: scratch memory besides weights and KV.

    Formula, from Ollama's own estimator (fs/ggml/ggml.go `GraphSize`):
    with flash attention (Ollama's default for the architectures people run
    for coding: qwen3/qwen3moe, gemma3, gpt-oss ...) it uses
    ``(4 x parallel + context/1024 + 110) MiB`` for gpt-oss. The
    ``context/1024 MiB`` term is exactly the f16 KQ mask of one 512-token
    micro-batch (512 x 2 B = 1 KiB per cell); the constant covers logits,
    activations and per-sequence scratch. We apply it to every architecture
    with the padded cell count. Without flash attention the KQ scores are
    materialised in f32; we use Ollama's llama-family full-offload term
    ``4 x batch x (1 + 4 x embedding + cells x (1 + heads))``, which grows
    with the context and is why a quantised cache or flash attention matters.
    """
    cells = pad(ctx * max(1, parallel), CELL_PAD)
    if flash_attention is False:
        heads = g.head_count or 1
        emb = g.embedding_length or 0
        return 4 * N_UBATCH * (1 + 4 * emb + cells * (1 + heads))
    return (4 * max(1, parallel) + 110) * MIB + cells * KIB


@dataclass(frozen=True)
class MemoryEstimate:
    """Weights + KV + compute buffer + OS reserve, in bytes."""

    ctx: int
    parallel: int
    weights_bytes: int
    kv: KVEstimate
    compute_bytes: int
    reserve_bytes: int
    total_bytes: int

    @property
    def kv_bytes(self) -> int:
        return self.kv.total_bytes

    @property
    def overhead_bytes(self) -> int:
        """Everything that is neither weights nor KV (compute buffer + reserve)."""
        return self.compute_bytes + self.reserve_bytes


def estimate_total(
    g: Geometry,
    ctx: int,
    weights_bytes: int,
    *,
    parallel: int = 1,
    cache_type: str = "f16",
    flash_attention: bool | None = None,
    reserve_bytes: int = 0,
) -> MemoryEstimate:
    """Memory at `ctx`: weights (blob + projector + adapters) + KV + compute + reserve."""
    parallel = max(1, parallel)
    kv = estimate_kv(
        g, ctx, parallel=parallel, cache_type=cache_type, flash_attention=flash_attention
    )
    compute = compute_buffer_bytes(g, ctx, parallel=parallel, flash_attention=flash_attention)
    total = weights_bytes + kv.total_bytes + compute + reserve_bytes
    return MemoryEstimate(ctx, parallel, weights_bytes, kv, compute, reserve_bytes, total)


def max_fitting_ctx(
    g: Geometry,
    weights_bytes: int,
    budget_bytes: int,
    *,
    parallel: int = 1,
    cache_type: str = "f16",
    flash_attention: bool | None = None,
    reserve_bytes: int = 0,
    native: int | None = None,
    step: int = 1024,
) -> int | None:
    """Largest context <= native that fits the budget: native itself, else a multiple of `step`.

    Binary search (the total grows monotonically with the context). None when
    not even `step` tokens fit, or when the native length is unknown.
    """
    limit = native or g.context_length
    if not limit:
        return None

    def fits(ctx: int) -> bool:
        est = estimate_total(
            g,
            ctx,
            weights_bytes,
            parallel=parallel,
            cache_type=cache_type,
            flash_attention=flash_attention,
            reserve_bytes=reserve_bytes,
        )
        return est.total_bytes <= budget_bytes

    if fits(limit):
        return limit
    lo, hi = 0, limit // step  # invariant: lo fits (0 = nothing), hi + 1.. unknown
    if hi * step == limit:
        hi -= 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid * step):
            lo = mid
        else:
            hi = mid - 1
    return lo * step if lo else None


def format_gib(n_bytes: float, digits: int = 1) -> str:
    """`25769803776` -> `24.0 GiB` (binary units everywhere we print memory)."""
    return f"{n_bytes / GIB:.{digits}f} GiB"


def format_tokens(n: int) -> str:
    """`262144` -> `262,144`."""
    return f"{n:,}"

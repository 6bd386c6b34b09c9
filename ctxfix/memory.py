"""KV-cache and whole-model memory arithmetic, following llama.cpp as Ollama runs it.

Why: raising a context cap is only right if the context fits. The naive
formula (every layer x every token) overstates sliding-window models such as
gemma3 six-fold (62 GiB instead of 10.6 GiB at 131,072 tokens) and understates
nothing, so users are told to buy hardware they do not need.

Which runner: Ollama 0.30.0+ runs every GGUF model in an upstream llama-server
process (ollama `llm/llama_server.go` `startLlamaServer`, commit 9db4bdbad
"Remove CGO engines, use llama-server exclusively for GGML models"; the release
modelled here is v0.33.0-rc2, llama.cpp b10488 per its `LLAMA_CPP_VERSION`). It
passes ``-c num_ctx*parallel -np parallel``, ``-b/-ub num_batch`` (512 by default,
api/types.go) and neither ``--kv-unified`` nor ``--swa-full``. llama-server only
turns on a unified cache when ``-np`` is left on auto (llama.cpp
tools/server/server.cpp: ``if (params.n_parallel < 0) { n_parallel = 4;
kv_unified = true; }``), and common/common.h defaults ``swa_full = false`` and
``kv_unified = false``. So the defaults here are: one cache stream per sequence,
sliding-window caches window-sized. ctxfix does not pass the server version to
this module; older Ollama (< 0.30) ran some models through the vendored
llama.cpp via cgo (llama/llama.go `NewContextParams`: library defaults, i.e.
``swa_full = true``, ``kv_unified = false``) and others through its Go engine
(kvcache/causal.go: sliding layers hold ``parallel x window + batch`` cells,
gemma4/gpt-oss ``parallel x 4096 + batch``). The ``kv_unified``/``swa_full``
arguments model those llama.cpp modes; the Go engine is not modelled.

* Per layer with KV: ``head_count_kv[i] x (key_length + value_length)``
  elements per cell (``n_embd_k_gqa(il) + n_embd_v_gqa(il)`` in
  src/llama-hparams.cpp), stored as the cache type: f16/bf16 2 B, f32 4 B,
  q8_0 34 B per 32 elements, q4_0 18 B per 32. Sliding-window layers use
  ``key_length_swa``/``value_length_swa`` when the GGUF has them
  (``n_embd_head_k(il) = is_swa(il) ? n_embd_head_k_swa : n_embd_head_k_full``;
  the loader reads both keys for every architecture, defaulting to the full ones).
* Cells (src/llama-context.cpp): ``n_ctx = pad256(num_ctx x parallel)``; with
  ``kv_unified`` one stream of ``n_ctx`` cells, else ``parallel`` streams of
  ``n_ctx_seq = pad256(n_ctx / parallel)`` cells each (src/llama-kv-cache.cpp:
  ``n_stream = unified ? 1 : n_seq_max``, tensors ``[n_embd_gqa, kv_size, n_stream]``).
* Sliding-window layers (src/llama-kv-cache-iswa.cpp), per stream:
  ``pad256(min(n_ctx_seq, window x (unified ? parallel : 1) + n_ubatch))``,
  n_ubatch = 512; with ``swa_full`` the full ``n_ctx_seq``. Which layers slide
  is per architecture (``set_swa_pattern(p)``: layer il slides when ``il % p <
  p - 1``; ``set_swa_pattern(p, dense_first=true)``: when ``il % p != 0``):
  gemma2 p=2 (window 4096), gemma3 p=6, gemma3n p=5, gpt-oss p=2, cohere2 p=4,
  llama4 p=4 chunked at 8192, olmo2 p=4 and afmoe p=4 when the GGUF has a
  window, exaone4 p=4 (window 4096) on its 64-layer model only, smallthinker
  p=4 dense-first with the window forced to 4096, plamo3 p=8 and mellum p=4
  when the GGUF has a window, cohere2moe p=4 dense-first; phi3 ignores its window.
  gemma4, mimo2 and newer models read a per-layer ``sliding_window_pattern``
  array, which wins for every architecture when present; a scalar pattern is
  the period ``p``.
* Recurrent layers (Mamba, gated delta net) keep no per-token KV but a fixed
  f32 state per sequence: ``(n_embd_r + n_embd_s) x 4 B x max(1, parallel)``
  with ``n_embd_r = (d_conv - 1) x (d_inner + 2 x n_group x d_state)`` and
  ``n_embd_s = d_state x d_inner`` (llama_hparams::n_embd_r/n_embd_s).
  Which layers are recurrent: head_count_kv 0 (jamba, granitehybrid,
  nemotron_h, lfm2), every layer for mamba/mamba2/rwkv, every layer but each
  ``full_attention_interval``-th (default 4) for qwen3next/qwen35, and
  falcon-h1 has both an attention cache and a state on every layer.
* Layers without their own KV: NextN/MTP layers (glm4moe:
  ``n_layer_kv_from_start = n_layer - nextn_predict_layers``); gemma3n layers
  from 20 on (``hparams.n_layer_kv_from_start = 20``, github:ggml-org/llama.cpp
  src/models/gemma3n.cpp ``llama_model_gemma3n::load_arch_hparams``; before the
  split, src/llama-model.cpp ``load_hparams`` ``case LLM_ARCH_GEMMA3N``) and
  gemma4's last ``shared_kv_layers`` reuse earlier caches
  (``n_layer_kv_from_start = n_layer - n_kv_shared_layers``, src/models/gemma4.cpp).
* MLA (deepseek2 and kin, ``kv_lora_rank`` set): one K row of
  ``kv_lora_rank + rope dims`` (512 + 64 = 576) per layer and no V cache
  (``has_v = !is_mla`` in llama-kv-cache.cpp).

A quantised cache (q8_0, q4_0) needs flash attention. Ollama before 0.30 fell
back to f16 for both K and V without it (llm/server.go); from 0.30 it passes
``--flash-attn off --cache-type-k/-v q8_0`` to llama-server unchanged
(llm/llama_server.go), and llama.cpp refuses the context (src/llama-context.cpp
``llama_init_from_model``: a quantised ``type_v`` with flash attention disabled;
"V cache quantization requires flash_attn" in the copy Ollama vendored up to
v0.24), so the model does not load. The
estimate counts f16 (the larger of the two outcomes) and the note says both.
The compute buffer is modelled in `compute_buffer_bytes`.
"""

from __future__ import annotations

import functools

from ctxfix.errors import CtxfixError
from ctxfix.facts import Geometry
from ctxfix.records import record

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB

N_UBATCH = 512  # llama.cpp / Ollama default micro-batch
CELL_PAD = 256  # llama.cpp pads the cache size to 256 cells

# cache type -> (bytes per block, elements per block), as ggml_row_size computes it:
# `ggml_type_size(type) * ne / ggml_blck_size(type)` over the `type_traits` table
# (github:ggml-org/llama.cpp ggml/src/ggml.c). q8_0 and q4_0 blocks hold 32 elements
# (QK8_0, QK4_0) behind one f16 scale: `block_q8_0` 2 + 32 = 34 B, `block_q4_0`
# 2 + 16 = 18 B (ggml/src/ggml-common.h).
CACHE_TYPES: dict[str, tuple[int, int]] = {
    "f16": (2, 1),
    "bf16": (2, 1),
    "f32": (4, 1),
    "q8_0": (34, 32),
    "q4_0": (18, 32),
}
_QUANTIZED = frozenset({"q8_0", "q4_0"})


@record(frozen=True)
class _SwaRule:
    """How llama.cpp's loader marks sliding-window layers for one architecture.

    From the per-architecture hparams loading in llama.cpp src/llama-model.cpp
    (`load_hparams`, since split into src/models/<arch>.cpp `load_arch_hparams`).
    """

    period: int
    window: int | None = None  # default window; None: the GGUF's `sliding_window`
    dense_first: bool = False  # set_swa_pattern(p, true): il % p != 0 slides
    chunked: bool = False  # llama4: chunked attention (same cache sizing)
    needs_window: bool = False  # SWA only when the GGUF has `sliding_window` > 0
    fixed_window: bool = False  # the loader overrides the GGUF window with `window`
    only_layers: int | None = None  # SWA only for this block count (exaone4 32B)
    reads_period: bool = False  # a scalar GGUF `sliding_window_pattern` replaces `period`


_SWA_RULES: dict[str, _SwaRule] = {
    "gemma2": _SwaRule(2, window=4096),
    "gemma3": _SwaRule(6, needs_window=True),
    "gemma3n": _SwaRule(5),
    "gptoss": _SwaRule(2),
    "gpt-oss": _SwaRule(2),
    "cohere2": _SwaRule(4),
    "llama4": _SwaRule(4, window=8192, chunked=True, fixed_window=True),
    "olmo2": _SwaRule(4, needs_window=True),
    "afmoe": _SwaRule(4, needs_window=True),
    "exaone4": _SwaRule(4, window=4096, only_layers=64, reads_period=True),
    "smallthinker": _SwaRule(
        4, window=4096, dense_first=True, needs_window=True, fixed_window=True, reads_period=True
    ),
    # src/models/{plamo3,mellum,cohere2moe}.cpp (`load_arch_hparams`); cohere2moe and
    # gemma4-style loaders also take a per-layer array, which wins above
    "plamo3": _SwaRule(8, needs_window=True, reads_period=True),
    "mellum": _SwaRule(4, needs_window=True, reads_period=True),
    "cohere2moe": _SwaRule(4, dense_first=True, reads_period=True),
}
# loaders that read `sliding_window` but build no sliding-window cache (phi3: "found_swa
# -> LLAMA_SWA_TYPE_NONE"; exaone4 below 64 layers)
_WINDOW_IGNORED = frozenset({"phi3", "exaone4"})

_PURE_RECURRENT = frozenset({"mamba", "mamba2", "rwkv6", "rwkv6qwen2", "rwkv7", "arwkv7"})
_INTERVAL_HYBRID = frozenset({"qwen3next", "qwen35", "qwen35moe"})
_ALL_LAYERS_HYBRID = frozenset({"falcon-h1"})
_NEXTN_IN_BLOCK_COUNT = frozenset({"glm4moe"})
_GEMMA3N_KV_LAYERS = 20  # hparams.n_layer_kv_from_start = 20 (llama.cpp src/models/gemma3n.cpp)
_SHARED_KV_ARCHS = ("gemma4",)  # read `attention.shared_kv_layers` (src/models/gemma4.cpp)


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


@record(frozen=True)
class _Layer:
    k: int  # K elements per cell (0: no attention cache)
    v: int  # V elements per cell
    swa: bool
    recurrent: bool


@record(frozen=True)
class _Plan:
    layers: tuple[_Layer, ...]
    window: int | None  # sliding window in tokens when any layer slides
    chunked: bool
    recurrent_state: int  # f32 elements of state per recurrent layer per sequence
    notes: tuple[str, ...]


def set_swa_pattern(n: int, period: int, dense_first: bool = False) -> list[bool]:
    """Which of `n` layers slide, as llama_hparams::set_swa_pattern (src/llama-hparams.cpp).

    Period 0: every layer slides; 1: none. Otherwise in each group of `period`
    layers the last (dense_first: the first) is full attention.
    """
    if dense_first:
        return [period == 0 or i % period != 0 for i in range(n)]
    return [period == 0 or i % period < period - 1 for i in range(n)]


def _sliding_layers(
    g: Geometry, arch: str, n: int
) -> tuple[list[bool], int | None, bool, list[str]]:
    """Sliding-window flags per layer, the window and whether it is chunked, plus notes.

    A per-layer GGUF array wins (gemma4, mimo2 and newer loaders read it with
    `get_key_or_arr(LLM_KV_ATTENTION_SLIDING_WINDOW_PATTERN, is_swa_impl)`); else the
    architecture's rule; else, with a window but no rule, every layer counts as full
    attention, which is what llama.cpp does for an architecture it has no rule for.
    """
    none: tuple[list[bool], int | None, bool, list[str]] = ([False] * n, None, False, [])
    rule = _SWA_RULES.get(arch)
    pattern = g.sliding_window_pattern
    from_array = g.sliding_window_period is None
    if pattern and len(pattern) == n and g.sliding_window and (from_array or not rule):
        return [bool(x) for x in pattern], g.sliding_window, False, []
    if rule is None:
        if g.sliding_window and arch not in _WINDOW_IGNORED:
            note = (
                f"sliding window {g.sliding_window} on {arch}: layer pattern unknown,"
                " counted as full attention (an upper bound)"
            )
            return [False] * n, None, False, [note]
        return none
    if rule.only_layers and n != rule.only_layers:
        return none
    if rule.needs_window and not g.sliding_window:
        return none
    if rule.chunked and g.sliding_window == 0:  # llama4: an explicit 0 turns chunking off
        return none
    window = rule.window if rule.fixed_window else (g.sliding_window or rule.window)
    if not window:
        return none
    period = rule.period
    if rule.reads_period and g.sliding_window_period is not None:
        period = g.sliding_window_period
    return set_swa_pattern(n, period, rule.dense_first), window, rule.chunked, []


def _plan(g: Geometry) -> _Plan:
    """Classify every layer the way llama.cpp's loader does for this architecture.

    Memoised: the fit search asks for the same geometry's plan dozens of times
    per model (one per candidate context), and a plan depends on nothing else.
    Geometry is frozen and hashable; an unhashable one (never built by ctxfix)
    is planned afresh.
    """
    try:
        return _plan_cached(g)
    except TypeError:  # a hand-built Geometry holding a list
        return _plan_uncached(g)


@functools.lru_cache(maxsize=256)
def _plan_cached(g: Geometry) -> _Plan:
    return _plan_uncached(g)


def _plan_uncached(g: Geometry) -> _Plan:
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
    kl_swa = g.key_length_swa or kl  # llama.cpp: n_embd_head_k_swa defaults to the full one
    vl_swa = g.value_length_swa or vl

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
    if arch.startswith(_SHARED_KV_ARCHS) and g.shared_kv_layers:
        # n_layer_kv_from_start = n_layer - n_kv_shared_layers: the rest reuse a cache
        for i in range(max(n - g.shared_kv_layers, 0), n):
            has_kv[i] = False
        notes.append(f"last {g.shared_kv_layers} layers share earlier layers' KV cache")

    swa, window, chunked, swa_notes = _sliding_layers(g, arch, n)
    notes.extend(swa_notes)

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
        elif swa[i]:
            k, v = hkv[i] * kl_swa, hkv[i] * vl_swa
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


@record(frozen=True)
class KVEstimate:
    """KV cache (and recurrent state) of one model at one context size.

    All sizes in bytes. `cells` is the full-attention cache size in tokens over
    all streams (``pad256(num_ctx x parallel)``, rounded so each of `streams`
    per-sequence caches holds a multiple of 256); `swa_cells` that of the
    sliding layers over all streams (None when none slide).
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
    streams: int = 1  # cache streams: one per sequence unless the cache is unified


@record(frozen=True)
class _Layout:
    """Cache cells as llama.cpp lays them out for one context (src/llama-context.cpp)."""

    n_ctx: int  # pad256(num_ctx x parallel), then a multiple of streams x 256
    streams: int
    cells: int  # per stream, full-attention layers (n_ctx_seq)
    swa_cells: int | None  # per stream, sliding-window layers


def _layout(
    window: int | None,
    ctx: int,
    parallel: int,
    *,
    kv_unified: bool,
    swa_full: bool,
    n_ubatch: int,
) -> _Layout:
    """n_ctx, n_ctx_seq and the sliding-window cache size, as llama.cpp computes them.

    llama-context.cpp: ``n_ctx = GGML_PAD(n_ctx, 256)``; unified: ``n_ctx_seq =
    n_ctx``, else ``n_ctx_seq = GGML_PAD(n_ctx / n_seq_max, 256)`` and ``n_ctx =
    n_ctx_seq * n_seq_max``. llama-kv-cache-iswa.cpp: ``size_swa =
    GGML_PAD(min(size_base, n_swa * (unified ? n_seq_max : 1) + n_ubatch), 256)``,
    or ``size_base`` with ``swa_full``; each of the ``n_stream`` streams has that size.
    """
    n_ctx = pad(ctx * parallel, CELL_PAD)
    if kv_unified or parallel == 1:
        streams, seq = 1, n_ctx
    else:
        streams, seq = parallel, pad(n_ctx // parallel, CELL_PAD)
        n_ctx = seq * parallel
    swa = None
    if window:
        seqs_sharing = parallel if kv_unified else 1
        swa = seq if swa_full else pad(min(seq, window * seqs_sharing + n_ubatch), CELL_PAD)
    return _Layout(n_ctx, streams, seq, swa)


def effective_cache_type(cache_type: str, flash_attention: bool | None) -> tuple[str, list[str]]:
    """The cache type Ollama really uses: quantised types need flash attention."""
    t = check_cache_type(cache_type)
    if t in _QUANTIZED and flash_attention is False:
        return "f16", [
            f"{t} KV cache needs flash attention: falls back to f16"
            " (Ollama < 0.30; from 0.30 llama-server refuses to load the model)"
        ]
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
    kv_unified: bool = False,
    swa_full: bool = False,
    n_ubatch: int = N_UBATCH,
) -> KVEstimate:
    """Size the KV cache llama.cpp allocates for `ctx` tokens x `parallel` sequences.

    `flash_attention`: None means unknown: the quantised cache is assumed to
    work, as it does wherever flash attention ends up on. From v0.11.8 Ollama
    turns it on by default for the architectures github:ollama/ollama
    fs/ggml/ggml.go `GGML.FlashAttention` lists, on GPUs that support it
    (llm/server.go `NewLlamaServer`; commit 85ccf7354, gpt-oss first); from
    v0.30 an unset OLLAMA_FLASH_ATTENTION passes ``--flash-attn auto`` to
    llama-server, or ``off`` on GPUs without support (llm/llama_server.go
    `LlamaServerFlashAttention`). False forces the f16 fallback Ollama
    applied before 0.30. `kv_unified` and `swa_full` default
    to what Ollama's llama-server launch gets (both off, see the module
    docstring); True models llama.cpp's ``--kv-unified`` / ``--swa-full`` (the
    latter is also the llama.cpp library default that Ollama's pre-0.30 cgo
    runner inherited).
    """
    if ctx <= 0:
        raise CtxfixError(None, f"context size must be positive, not {ctx}")
    parallel = max(1, parallel)
    t, notes = effective_cache_type(cache_type, flash_attention)
    plan = _plan(g)
    notes.extend(plan.notes)
    lay = _layout(
        plan.window, ctx, parallel, kv_unified=kv_unified, swa_full=swa_full, n_ubatch=n_ubatch
    )
    if swa_full and plan.window:
        notes.append("full-size sliding-window cache (swa_full)")
    full = swa_b = 0
    n_full = n_swa = 0
    for la in plan.layers:
        if not (la.k or la.v):
            continue
        per_stream = lay.swa_cells if la.swa and lay.swa_cells is not None else lay.cells
        c = per_stream * lay.streams
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
        cells=lay.cells * lay.streams,
        swa_cells=lay.swa_cells * lay.streams if lay.swa_cells is not None else None,
        full_layers=n_full,
        swa_layers=n_swa,
        recurrent_layers=n_rec,
        cache_type=t,
        notes=tuple(notes),
        streams=lay.streams,
    )


def compute_buffer_bytes(
    g: Geometry,
    ctx: int,
    *,
    parallel: int = 1,
    flash_attention: bool | None = None,
    kv_unified: bool = False,
    swa_full: bool = False,
    n_ubatch: int = N_UBATCH,
) -> int:
    """The compute (graph) buffer llama.cpp reserves: scratch besides weights and KV.

    From the source (llama.cpp src/llama-context.cpp, the worst-case reserve when
    a context is created): the buffer is sized by reserving the prompt-processing
    graph for ``n_tokens = min(n_ctx, n_ubatch)`` tokens with ``n_outputs =
    n_tokens`` (``graph_reserve(n_tokens, n_seqs, n_tokens, ...)``), so the graph
    ends in a logits tensor of ``n_vocab x n_ubatch`` f32; n_batch plays no part.
    (The separate host "output buffer", ``output_reserve(n_seq_max)``: ``n_vocab x
    n_seq_max`` floats, is 1 MiB per sequence for a 262,144 vocabulary and not
    counted.) ggml's graph allocator (ggml/src/ggml-alloc.c)
    reports the high-water mark of a best-fit arena (``max_size = MAX(max_size,
    offset + size)``), and a tensor is freed after its last consumer. Two peaks:

    * output: the logits plus two ``n_embd x n_ubatch`` f32 activations that
      sit below them in the arena: ``4 x n_ubatch x (n_vocab + 2 x n_embd)``.
      The two are the last layer's hidden state and residual, which the model
      graphs gather with ``ggml_get_rows(.., inp_out_ids)`` before adding them
      (src/models/gemma3.cpp); the logits, allocated last, cannot use the hole
      a freed one leaves. That placement is an allocator detail, not a formula
      in the source, but it reproduces what llama.cpp reports for Gemma 3 270M
      exactly (262,144 x 512 x 4 B = 512 MiB of logits + 2 x 640 x 512 x 4 B =
      514.5 MiB). The vocabulary term dominates for every large vocabulary.
    * attention: the KQ masks, an f32 input ``[n_kv, n_ubatch]`` per cache
      (full and sliding; llama-graph.cpp `build_attn_inp_kv*`) plus its f16
      copy with flash attention; without flash attention also the f32 KQ
      scores ``[n_kv, n_ubatch, n_head]`` of one layer (the softmax runs in
      place: ``ggml_op_can_inplace(GGML_OP_SOFT_MAX)`` in ggml-alloc.c); plus
      about four ``n_embd x n_ubatch`` f32 activations. An estimate of the
      graph, not byte-exact; it only wins at long contexts without flash attention.

    Without a known vocabulary (a server that nulls the token list) it falls
    back to Ollama's former estimator (fs/ggml/ggml.go `GraphSize`): ``(4 x
    parallel + 110) MiB + 1 KiB per cell`` with flash attention, ``4 x batch x
    (1 + 4 x embedding + cells x (1 + heads))`` without.
    """
    parallel = max(1, parallel)
    if not g.vocab_size or not g.embedding_length:
        return _ollama_graph_size(g, ctx, parallel, flash_attention)
    plan = _plan(g)
    lay = _layout(
        plan.window, ctx, parallel, kv_unified=kv_unified, swa_full=swa_full, n_ubatch=n_ubatch
    )
    n_tokens = min(lay.n_ctx, n_ubatch)
    output = 4 * n_tokens * (g.vocab_size + 2 * g.embedding_length)
    return max(output, _attention_peak(g, plan, lay, n_tokens, flash_attention))


def _attention_peak(
    g: Geometry, plan: _Plan, lay: _Layout, n_tokens: int, flash_attention: bool | None
) -> int:
    """Bytes live while one attention layer runs (masks, scores, activations)."""
    attn = [la for la in plan.layers if la.k or la.v]
    kvs = []
    if any(not la.swa for la in attn):
        kvs.append(lay.cells)
    if any(la.swa for la in attn) and lay.swa_cells is not None:
        kvs.append(lay.swa_cells)
    # mask [n_kv, n_tokens / n_stream, 1, n_stream]: n_kv x n_tokens elements over all streams
    per_mask = 4 + (0 if flash_attention is False else 2)
    peak = sum(n_kv * n_tokens * per_mask for n_kv in kvs)
    if flash_attention is False and kvs:
        peak += 4 * max(kvs) * n_tokens * (g.head_count or 1)
    return peak + 4 * 4 * n_tokens * (g.embedding_length or 0)


def _ollama_graph_size(g: Geometry, ctx: int, parallel: int, flash_attention: bool | None) -> int:
    """Ollama's pre-llama-server compute-buffer estimate (fs/ggml/ggml.go `GraphSize`)."""
    cells = pad(ctx * parallel, CELL_PAD)
    if flash_attention is False:
        heads = g.head_count or 1
        emb = g.embedding_length or 0
        return 4 * N_UBATCH * (1 + 4 * emb + cells * (1 + heads))
    return (4 * parallel + 110) * MIB + cells * KIB


@record(frozen=True)
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
    kv_unified: bool = False,
    swa_full: bool = False,
) -> MemoryEstimate:
    """Memory at `ctx`: weights (blob + projector + adapters) + KV + compute + reserve."""
    parallel = max(1, parallel)
    modes = {"kv_unified": kv_unified, "swa_full": swa_full}
    kv = estimate_kv(
        g, ctx, parallel=parallel, cache_type=cache_type, flash_attention=flash_attention, **modes
    )
    compute = compute_buffer_bytes(
        g, ctx, parallel=parallel, flash_attention=flash_attention, **modes
    )
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

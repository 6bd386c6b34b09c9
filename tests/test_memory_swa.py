"""Memory as Ollama's llama-server allocates it (issue 12 part 4).

The expectations are spelled out from llama.cpp's source (file named at each
test), not taken from `ctxfix.memory`, and checked against what llama.cpp
reported on the real Gemma 3 270M GGUF where that was measured.

Gemma 3 270M (gemma3): 18 layers, 4 heads, 1 KV head, head dim 256, window
512, `set_swa_pattern(6)` (layers 5, 11, 17 global), embedding 640, vocabulary
262,144. One f16 cell of one layer: 1 x (256 + 256) x 2 B = 1 KiB.
"""

from __future__ import annotations

from ctxfix.facts import Geometry
from ctxfix.memory import KIB, MIB, compute_buffer_bytes, estimate_kv, kv_bytes_per_token, pad
from ctxfix.sources.gguf import ArrayInfo, geometry_from_kv

GEMMA3_270M = Geometry(
    arch="gemma3",
    context_length=32768,
    block_count=18,
    embedding_length=640,
    head_count=4,
    head_count_kv=(1,) * 18,
    key_length=256,
    value_length=256,
    sliding_window=512,
    vocab_size=262144,
)
CELL = KIB  # bytes per cell per layer, f16


def _gemma3_270m_bytes(full_cells: int, swa_cells: int) -> int:
    return 3 * full_cells * CELL + 15 * swa_cells * CELL


# -- parallel sequences: one cache per sequence (kv_unified = false) ----------------


def test_ollama_gives_each_sequence_its_own_sliding_window_cache() -> None:
    """Ollama starts llama-server with `-c num_ctx*np -np np` and no --kv-unified.

    ollama llm/llama_server.go `startLlamaServer`; llama.cpp tools/server/server.cpp
    unifies only when -np is auto; common/common.h `kv_unified = false`. Then
    src/llama-context.cpp: n_ctx_seq = pad256(32768 x 4 / 4) = 32768 per stream,
    4 streams; src/llama-kv-cache-iswa.cpp: SWA per stream
    pad256(min(32768, 512 x 1 + 512)) = 1024.
    """
    kv = estimate_kv(GEMMA3_270M, 32768, parallel=4)
    assert kv.streams == 4
    assert (kv.cells, kv.swa_cells) == (4 * 32768, 4 * 1024)
    assert kv.total_bytes == _gemma3_270m_bytes(4 * 32768, 4 * 1024) == 444 * MIB
    # the old single shared cache, pad256(512 x 4 + 512) = 2560 SWA cells: 421.5 MiB, 5.1% low
    shared = estimate_kv(GEMMA3_270M, 32768, parallel=4, kv_unified=True)
    assert shared.swa_cells == 2560 and shared.streams == 1
    assert shared.total_bytes == _gemma3_270m_bytes(131072, 2560)


def test_per_sequence_caches_at_a_total_of_32768_cells() -> None:
    """The brief's case: 32,768 cells over 4 sequences (num_ctx 8192, parallel 4).

    n_ctx_seq = 8192 per stream; SWA per stream pad256(min(8192, 1024)) = 1024, x 4.
    Full: 3 x 32768 KiB = 96 MiB; SWA: 15 x 4096 KiB = 60 MiB; 156 MiB in all.
    One shared cache would hold pad256(4 x 512 + 512) = 2560 SWA cells: 133.5 MiB,
    14.4% low.
    """
    kv = estimate_kv(GEMMA3_270M, 8192, parallel=4)
    assert kv.total_bytes == 156 * MIB == _gemma3_270m_bytes(32768, 4096)
    shared = estimate_kv(GEMMA3_270M, 8192, parallel=4, kv_unified=True)
    assert shared.total_bytes == _gemma3_270m_bytes(32768, 2560)
    assert round(1 - shared.total_bytes / kv.total_bytes, 3) == 0.144


def test_per_sequence_context_is_padded_to_256_each() -> None:
    """llama-context.cpp: n_ctx_seq = GGML_PAD(n_ctx / n_seq_max, 256); n_ctx = n_ctx_seq x n."""
    kv = estimate_kv(GEMMA3_270M, 1100, parallel=3)  # pad256(3300) = 3328; 3328 / 3 -> 1280
    assert kv.cells == 3 * 1280
    assert kv.swa_cells == 3 * pad(min(1280, 512 + 512), 256)


def test_one_sequence_is_unchanged() -> None:
    kv = estimate_kv(GEMMA3_270M, 32768)
    assert (kv.streams, kv.cells, kv.swa_cells) == (1, 32768, 1024)
    assert kv.total_bytes == 111 * MIB  # 3 x 32 MiB + 15 x 1 MiB


# -- swa_full ---------------------------------------------------------------------


def test_swa_full_sizes_sliding_layers_like_full_ones() -> None:
    """llama-kv-cache-iswa.cpp: `if (swa_full) size_swa = size_base;` 5.2x at 32,768.

    The llama.cpp library default (llama_context_default_params: swa_full = true),
    which Ollama's pre-0.30 cgo runner inherited; llama-server defaults to false
    (common/common.h) and Ollama 0.30+ passes no --swa-full.
    """
    full = estimate_kv(GEMMA3_270M, 32768, swa_full=True)
    assert full.swa_cells == 32768
    assert full.total_bytes == 18 * 32768 * CELL  # 576 MiB
    default = estimate_kv(GEMMA3_270M, 32768)
    assert round(full.total_bytes / default.total_bytes, 1) == 5.2
    assert any("swa_full" in n for n in full.notes)


# -- compute buffer -----------------------------------------------------------------


def test_compute_buffer_has_the_logits_of_one_micro_batch() -> None:
    """llama.cpp reported 514.5 MiB of compute buffer for Gemma 3 270M (n_ubatch 512).

    Source: src/llama-context.cpp reserves graph_reserve(n_tokens, n_seqs, n_tokens)
    with n_tokens = min(n_ctx, n_ubatch) = 512 outputs: logits 262,144 x 512 x 4 B =
    512 MiB. The other 2.5 MiB are two 640 x 512 f32 activations under the logits in
    ggml-alloc's arena (the last layer's hidden state and residual, gathered by
    ggml_get_rows before the final add); that placement is an allocator detail, not a
    formula in the source, so it is the part of the model least certain to carry over
    to other architectures. n_batch (2048 in llama.cpp's tools, 512 from Ollama) plays
    no part. The figure holds at every context from 4096 to 32768 with flash attention,
    where the attention masks (at most 32768 x 512 x 6 B = 96 MiB) stay below it.
    """
    for ctx in (4096, 8192, 32768):
        assert compute_buffer_bytes(GEMMA3_270M, ctx) == 514.5 * MIB
    assert compute_buffer_bytes(GEMMA3_270M, 32768, parallel=4) == 514.5 * MIB


def test_compute_buffer_without_flash_attention_grows_with_the_context() -> None:
    """Without flash attention one layer's KQ scores [n_kv, n_ubatch, n_head] are f32."""
    at_128k = compute_buffer_bytes(GEMMA3_270M, 131072, flash_attention=False)
    assert at_128k > 4 * 131072 * 512 * 4  # the scores alone: 1 GiB
    assert compute_buffer_bytes(GEMMA3_270M, 131072) == 514.5 * MIB


def test_compute_buffer_without_vocabulary_keeps_the_old_estimate() -> None:
    g = Geometry(**{**GEMMA3_270M.__dict__, "vocab_size": None})
    assert compute_buffer_bytes(g, 32768) == (4 + 110) * MIB + 32768 * KIB


# -- architectures from llama.cpp's loader ---------------------------------------------


def _geo(arch: str, layers: int, **kw) -> Geometry:
    kw.setdefault("head_count_kv", (8,) * layers)
    kw.setdefault("key_length", 128)
    kw.setdefault("value_length", 128)
    return Geometry(arch=arch, block_count=layers, head_count=32, **kw)


def test_gemma4_per_layer_pattern_swa_head_dims_and_shared_kv_layers() -> None:
    """src/models/gemma4.cpp: pattern array, key/value_length_swa, shared_kv_layers.

    A gemma4-shaped GGUF: 35 layers, every fifth global, window 512, 1 KV head, head
    dim 512 on global and 256 on sliding layers, the last 15 layers sharing earlier
    caches (n_layer_kv_from_start = 35 - 15 = 20): 4 global + 16 sliding with KV.
    """
    n = 35
    kv_meta = {
        "general.architecture": "gemma4",
        "gemma4.block_count": n,
        "gemma4.context_length": 131072,
        "gemma4.embedding_length": 1536,
        "gemma4.attention.head_count": 8,
        "gemma4.attention.head_count_kv": 1,
        "gemma4.attention.key_length": 512,
        "gemma4.attention.value_length": 512,
        "gemma4.attention.key_length_swa": 256,
        "gemma4.attention.value_length_swa": 256,
        "gemma4.attention.sliding_window": 512,
        "gemma4.attention.sliding_window_pattern": [i % 5 != 4 for i in range(n)],
        "gemma4.attention.shared_kv_layers": 15,
        "tokenizer.ggml.tokens": ArrayInfo(8, 262144),
    }
    g = geometry_from_kv(kv_meta)
    assert (g.key_length_swa, g.shared_kv_layers, g.vocab_size) == (256, 15, 262144)
    kv = estimate_kv(g, 32768)
    assert (kv.full_layers, kv.swa_layers) == (4, 16)
    assert kv.full_bytes == 4 * (512 + 512) * 2 * 32768
    assert kv.swa_bytes == 16 * (256 + 256) * 2 * 1024  # pad256(512 + 512)
    assert kv_bytes_per_token(g) == 4 * (512 + 512) * 2


def test_olmo2_slides_three_layers_in_four_only_with_a_window() -> None:
    """llama-model.cpp LLM_ARCH_OLMO2: `if (found_swa && n_swa > 0) set_swa_pattern(4)`."""
    kv = estimate_kv(_geo("olmo2", 32, sliding_window=4096), 65536)
    assert (kv.full_layers, kv.swa_layers, kv.swa_cells) == (8, 24, 4608)
    plain = estimate_kv(_geo("olmo2", 16), 4096)
    assert (plain.full_layers, plain.swa_layers, plain.notes) == (16, 0, ())


def test_exaone4_slides_only_on_the_64_layer_model() -> None:
    """LLM_ARCH_EXAONE4: `if (n_layer == 64) { n_swa = 4096; set_swa_pattern(4); }`."""
    big = estimate_kv(_geo("exaone4", 64, sliding_window=4096), 131072)
    assert (big.full_layers, big.swa_layers, big.swa_cells) == (16, 48, 4608)
    small = estimate_kv(_geo("exaone4", 30, sliding_window=4096), 65536)
    assert (small.full_layers, small.swa_layers) == (30, 0)
    assert not any("pattern unknown" in n for n in small.notes)


def test_exaone4_reads_a_scalar_period_from_the_gguf() -> None:
    meta = {
        "general.architecture": "exaone4",
        "exaone4.block_count": 64,
        "exaone4.attention.head_count": 40,
        "exaone4.attention.head_count_kv": 8,
        "exaone4.embedding_length": 5120,
        "exaone4.attention.sliding_window": 4096,
        "exaone4.attention.sliding_window_pattern": 2,
    }
    g = geometry_from_kv(meta)
    assert g.sliding_window_period == 2
    kv = estimate_kv(g, 131072)
    assert (kv.full_layers, kv.swa_layers) == (32, 32)


def test_smallthinker_is_dense_first_with_window_4096() -> None:
    """LLM_ARCH_SMALLTHINKER: n_swa = 4096; set_swa_pattern(4, true): il % 4 != 0 slides."""
    kv = estimate_kv(_geo("smallthinker", 8, sliding_window=2048), 32768)
    assert (kv.full_layers, kv.swa_layers, kv.swa_cells) == (2, 6, 4608)
    meta = {
        "general.architecture": "smallthinker",
        "smallthinker.block_count": 8,
        "smallthinker.attention.head_count": 32,
        "smallthinker.attention.head_count_kv": 8,
        "smallthinker.embedding_length": 4096,
        "smallthinker.attention.sliding_window": 4096,
        "smallthinker.attention.sliding_window_pattern": 2,
    }
    assert estimate_kv(geometry_from_kv(meta), 32768).full_layers == 4  # layers 0, 2, 4, 6


def test_afmoe_needs_a_window_and_phi3_ignores_its_window() -> None:
    """LLM_ARCH_AFMOE: set_swa_pattern(4) when n_swa > 0; LLM_ARCH_PHI3: SWA disabled."""
    kv = estimate_kv(_geo("afmoe", 8, sliding_window=2048), 32768)
    assert (kv.full_layers, kv.swa_layers) == (2, 6)
    assert estimate_kv(_geo("afmoe", 8), 32768).swa_layers == 0
    phi = estimate_kv(_geo("phi3", 32, sliding_window=2047), 4096)
    assert (phi.full_layers, phi.notes) == (32, ())


def test_plamo3_one_global_layer_in_eight_and_cohere2moe_dense_first() -> None:
    """src/models/plamo3.cpp: swa_period = 8 (or the GGUF's), set_swa_pattern(swa_period);
    src/models/cohere2moe.cpp: swa_period = 4 (or the GGUF's), set_swa_pattern(.., true)."""
    kv = estimate_kv(_geo("plamo3", 24, sliding_window=2048), 32768)
    assert (kv.full_layers, kv.swa_layers) == (3, 21)
    moe = estimate_kv(_geo("cohere2moe", 8, sliding_window=4096), 32768)
    assert (moe.full_layers, moe.swa_layers) == (2, 6)  # layers 0 and 4 are global


def test_vocab_size_key_wins_over_the_token_list() -> None:
    """llama.cpp: get_key(LLM_KV_VOCAB_SIZE) || get_arr_n(LLM_KV_TOKENIZER_LIST)."""
    base = {"general.architecture": "llama", "llama.block_count": 2}
    assert geometry_from_kv({**base, "tokenizer.ggml.tokens": ["a", "b", "c"]}).vocab_size == 3
    with_key = {**base, "llama.vocab_size": 7, "tokenizer.ggml.tokens": ArrayInfo(8, 3)}
    assert geometry_from_kv(with_key).vocab_size == 7
    assert geometry_from_kv({**base, "tokenizer.ggml.tokens": None}).vocab_size is None

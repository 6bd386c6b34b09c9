"""KV cache and memory arithmetic against the REFERENCE.md table and llama.cpp's rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctxfix.errors import CtxfixError
from ctxfix.facts import Geometry
from ctxfix.memory import (
    GIB,
    KIB,
    MIB,
    compute_buffer_bytes,
    estimate_kv,
    estimate_total,
    format_gib,
    format_tokens,
    kv_bytes_per_token,
    max_fitting_ctx,
)


def geo(arch: str, ctx: int, layers: int, kv_heads: int, head_dim: int, **kw) -> Geometry:
    """A Geometry as the GGUF reader builds it (head_count_kv expanded per layer)."""
    kw.setdefault("head_count", kv_heads * 4)
    return Geometry(
        arch=arch,
        context_length=ctx,
        block_count=layers,
        head_count_kv=(kv_heads,) * layers,
        key_length=head_dim,
        value_length=head_dim,
        **kw,
    )


QWEN3_CODER_30B = geo("qwen3moe", 262144, 48, 4, 128, head_count=32, embedding_length=2048)
GPT_OSS_20B = geo("gptoss", 131072, 24, 8, 64, head_count=64, sliding_window=128)
GEMMA3_27B = geo("gemma3", 131072, 62, 16, 128, head_count=32, sliding_window=1024)
GLM45_AIR = geo("glm4moe", 131072, 47, 8, 128, head_count=96, nextn_predict_layers=1)

# REFERENCE.md "KV cache" table: (model, geometry, f16 KiB/token on full layers,
# GiB at native for the full layers, SWA bytes at native)
REFERENCE_ROWS = [
    ("qwen3-coder:30b", QWEN3_CODER_30B, 96, 24.0, 0),
    ("llama3.1:8b", geo("llama", 131072, 32, 8, 128), 128, 16.0, 0),
    ("llama3.3:70b", geo("llama", 131072, 80, 8, 128), 320, 40.0, 0),
    ("qwen2.5-coder:32b", geo("qwen2", 32768, 64, 8, 128), 256, 8.0, 0),
    # 12 full layers; 12 SWA layers hold pad256(128 + 512) = 768 cells
    ("gpt-oss:20b", GPT_OSS_20B, 24, 3.0, 12 * 8 * 128 * 2 * 768),
    # 10 global layers; 52 local layers hold pad256(1024 + 512) = 1536 cells (0.6 GiB)
    ("gemma3:27b", GEMMA3_27B, 80, 10.0, 52 * 16 * 256 * 2 * 1536),
    ("devstral", geo("llama", 131072, 40, 8, 128), 160, 20.0, 0),
    ("deepseek-r1:7b", geo("qwen2", 131072, 28, 4, 128), 56, 7.0, 0),
    # 46 KV layers + 1 NextN layer without KV
    ("glm-4.5-air", GLM45_AIR, 184, 23.0, 0),
]


@pytest.mark.parametrize(("name", "g", "kib", "gib", "swa"), REFERENCE_ROWS, ids=lambda x: x)
def test_reference_table_row(name: str, g: Geometry, kib: int, gib: float, swa: int) -> None:
    assert kv_bytes_per_token(g) == kib * KIB
    kv = estimate_kv(g, g.context_length)
    assert kv.full_bytes == int(gib * GIB)
    assert kv.swa_bytes == swa
    assert kv.total_bytes == int(gib * GIB) + swa
    assert kv.cells == g.context_length


def test_gemma3_is_about_10_6_gib_not_62() -> None:
    kv = estimate_kv(GEMMA3_27B, 131072)
    assert format_gib(kv.total_bytes) == "10.6 GiB"
    assert (kv.full_layers, kv.swa_layers, kv.swa_cells) == (10, 52, 1536)
    naive = 62 * 16 * 256 * 2 * 131072
    assert naive == 62 * GIB and kv.total_bytes < naive / 5


def test_gpt_oss_alternates_full_and_sliding() -> None:
    kv = estimate_kv(GPT_OSS_20B, 131072)
    assert (kv.full_layers, kv.swa_layers, kv.swa_cells) == (12, 12, 768)
    assert format_gib(kv.full_bytes) == "3.0 GiB"


def test_glm_nextn_layer_has_no_kv() -> None:
    kv = estimate_kv(GLM45_AIR, 131072)
    assert kv.full_layers == 46
    assert any("NextN" in n for n in kv.notes)


def test_demo_case_qwen3_coder_24_gib_at_262144() -> None:
    kv = estimate_kv(QWEN3_CODER_30B, 262144)
    assert kv.total_bytes == 24 * GIB
    assert format_gib(kv.total_bytes) == "24.0 GiB"
    assert format_tokens(262144) == "262,144"


@pytest.mark.parametrize(
    ("cache_type", "gib"),
    [("f16", 24.0), ("bf16", 24.0), ("f32", 48.0), ("q8_0", 12.75), ("q4_0", 6.75)],
)
def test_cache_types(cache_type: str, gib: float) -> None:
    kv = estimate_kv(QWEN3_CODER_30B, 262144, cache_type=cache_type)
    assert kv.total_bytes == int(gib * GIB)
    assert kv.cache_type == cache_type


def test_quantised_cache_without_flash_attention_falls_back_to_f16() -> None:
    kv = estimate_kv(QWEN3_CODER_30B, 262144, cache_type="q8_0", flash_attention=False)
    assert kv.cache_type == "f16"
    assert kv.total_bytes == 24 * GIB
    assert any(
        n.startswith("q8_0 KV cache needs flash attention: falls back to f16") for n in kv.notes
    )
    # from 0.30 (llm/llama_server.go) the type goes to llama-server as is, which refuses it
    assert any("from 0.30 llama-server refuses to load the model" in n for n in kv.notes)
    on = estimate_kv(QWEN3_CODER_30B, 262144, cache_type="q8_0", flash_attention=True)
    assert on.cache_type == "q8_0" and not on.notes


def test_unknown_cache_type_is_a_one_line_error() -> None:
    with pytest.raises(CtxfixError, match="unknown KV cache type 'q5_k'"):
        estimate_kv(QWEN3_CODER_30B, 4096, cache_type="q5_k")


def test_cells_are_padded_to_256_and_multiplied_by_parallel() -> None:
    kv = estimate_kv(QWEN3_CODER_30B, 1000)
    assert kv.cells == 1024
    assert kv.total_bytes == 1024 * 96 * KIB
    kv4 = estimate_kv(QWEN3_CODER_30B, 32768, parallel=4)
    assert kv4.cells == 131072
    assert kv4.total_bytes == 12 * GIB


def test_sliding_window_cells_grow_with_parallel_but_not_past_the_full_cache() -> None:
    # Ollama's llama-server: one cache per sequence, each pad256(min(n_ctx_seq, 1024 + 512))
    kv = estimate_kv(GEMMA3_27B, 131072, parallel=2)
    assert kv.swa_cells == 2 * 1536 and kv.streams == 2
    # a unified cache (llama-server --kv-unified) shares one: pad256(1024 x 2 + 512)
    assert estimate_kv(GEMMA3_27B, 131072, parallel=2, kv_unified=True).swa_cells == 2560
    small = estimate_kv(GEMMA3_27B, 600)
    assert small.cells == 768 and small.swa_cells == 768  # min(cells, window + ubatch)


def test_gemma2_every_second_layer_global_window_4096_by_default() -> None:
    g = geo("gemma2", 8192, 42, 8, 256, head_count=16)
    kv = estimate_kv(g, 8192)
    assert (kv.full_layers, kv.swa_layers, kv.swa_cells) == (21, 21, 4608)


def test_gemma3n_only_first_20_layers_have_kv_4_of_them_global() -> None:
    g = geo("gemma3n", 32768, 35, 2, 256, head_count=8, sliding_window=512)
    kv = estimate_kv(g, 32768)
    assert (kv.full_layers, kv.swa_layers, kv.swa_cells) == (4, 16, 1024)
    assert kv_bytes_per_token(g) == 4 * 2 * 512 * 2


def test_llama4_chunked_attention_3_of_4_layers_8192() -> None:
    g = geo("llama4", 10485760, 48, 8, 128, head_count=40)
    kv = estimate_kv(g, 131072)
    assert (kv.full_layers, kv.swa_layers, kv.swa_cells) == (12, 36, 8704)
    assert kv.full_bytes == 12 * 8 * 256 * 2 * 131072


def test_cohere2_one_global_layer_in_four() -> None:
    g = geo("cohere2", 131072, 32, 8, 128, head_count=32, sliding_window=4096)
    kv = estimate_kv(g, 131072)
    assert (kv.full_layers, kv.swa_layers, kv.swa_cells) == (8, 24, 4608)


def test_gguf_sliding_window_pattern_array_wins() -> None:
    pattern = tuple(i % 3 != 2 for i in range(12))  # 2 local, 1 global
    g = geo("exaone4", 65536, 12, 8, 128, sliding_window=4096, sliding_window_pattern=pattern)
    kv = estimate_kv(g, 65536)
    assert (kv.full_layers, kv.swa_layers) == (4, 8)


def test_unknown_architecture_with_window_counts_full_and_says_so() -> None:
    g = geo("mystery", 32768, 10, 8, 128, sliding_window=4096)
    kv = estimate_kv(g, 32768)
    assert kv.full_layers == 10 and kv.swa_layers == 0
    assert any("counted as full attention" in n for n in kv.notes)


def test_qwen3next_every_fourth_layer_attention_plus_recurrent_state() -> None:
    g = Geometry(
        arch="qwen3next",
        context_length=262144,
        block_count=48,
        head_count=16,
        head_count_kv=(2,) * 48,
        key_length=256,
        value_length=256,
        full_attention_interval=4,
        ssm_conv_kernel=4,
        ssm_inner_size=4096,
        ssm_state_size=128,
        ssm_group_count=16,
    )
    kv = estimate_kv(g, 262144)
    assert (kv.full_layers, kv.recurrent_layers) == (12, 36)
    assert kv_bytes_per_token(g) == 24 * KIB
    # (d_conv - 1) x (d_inner + 2 x groups x d_state) + d_state x d_inner, f32, per layer
    state = (3 * (4096 + 2 * 16 * 128) + 128 * 4096) * 4
    assert kv.recurrent_bytes == 36 * state
    assert kv.total_bytes == 6 * GIB + 36 * state
    assert estimate_kv(g, 262144, parallel=2).recurrent_bytes == 2 * 36 * state


def test_jamba_layers_with_zero_kv_heads_are_recurrent() -> None:
    hkv = tuple(8 if i % 8 == 4 else 0 for i in range(32))
    g = Geometry(
        arch="jamba",
        context_length=262144,
        block_count=32,
        head_count=32,
        head_count_kv=hkv,
        key_length=128,
        value_length=128,
        ssm_conv_kernel=4,
        ssm_inner_size=8192,
        ssm_state_size=16,
    )
    kv = estimate_kv(g, 65536)
    assert (kv.full_layers, kv.recurrent_layers) == (4, 28)
    assert kv.recurrent_bytes == 28 * (3 * 8192 + 16 * 8192) * 4


def test_mamba_has_state_only() -> None:
    g = Geometry(
        arch="mamba",
        context_length=1048576,
        block_count=24,
        embedding_length=768,
        head_count=0,
        head_count_kv=(0,) * 24,
        ssm_conv_kernel=4,
        ssm_inner_size=1536,
        ssm_state_size=16,
    )
    kv = estimate_kv(g, 1048576)
    assert kv.full_bytes == 0 and kv.recurrent_layers == 24
    assert kv.total_bytes == 24 * (3 * 1536 + 16 * 1536) * 4
    assert kv_bytes_per_token(g) == 0


def test_falcon_h1_every_layer_has_attention_and_state() -> None:
    g = geo(
        "falcon-h1",
        262144,
        24,
        2,
        128,
        ssm_conv_kernel=4,
        ssm_inner_size=2048,
        ssm_state_size=256,
        ssm_group_count=1,
    )
    kv = estimate_kv(g, 4096)
    assert (kv.full_layers, kv.recurrent_layers) == (24, 24)


def test_mla_caches_k_only_kv_lora_rank_plus_rope() -> None:
    g = Geometry(
        arch="deepseek2",
        context_length=163840,
        block_count=27,
        head_count=16,
        head_count_kv=(1,) * 27,
        key_length=576,
        value_length=512,
        kv_lora_rank=512,
        rope_dimension_count=64,
    )
    assert kv_bytes_per_token(g) == 27 * 576 * 2
    assert estimate_kv(g, 163840).total_bytes == 27 * 576 * 2 * 163840


def test_geometry_without_layers_is_a_one_line_error() -> None:
    with pytest.raises(CtxfixError, match="no block_count"):
        estimate_kv(Geometry(arch="llama"), 4096)


def test_compute_buffer_follows_ollama_flash_attention_estimate() -> None:
    # (4 x parallel + 110) MiB + 1 KiB per cell (f16 KQ mask of a 512-token micro-batch)
    assert compute_buffer_bytes(QWEN3_CODER_30B, 262144) == 114 * MIB + 256 * MIB
    no_fa = compute_buffer_bytes(QWEN3_CODER_30B, 262144, flash_attention=False)
    assert no_fa == 4 * 512 * (1 + 4 * 2048 + 262144 * 33)
    assert no_fa > 16 * GIB  # why flash attention matters at long context


def test_estimate_total_adds_weights_kv_compute_and_reserve() -> None:
    est = estimate_total(QWEN3_CODER_30B, 262144, 18_600_000_000, reserve_bytes=4 * GIB)
    assert est.kv_bytes == 24 * GIB
    assert est.compute_bytes == 370 * MIB
    assert est.overhead_bytes == 370 * MIB + 4 * GIB
    assert est.total_bytes == 18_600_000_000 + 24 * GIB + 370 * MIB + 4 * GIB


def test_demo_fits_64_gib_with_room() -> None:
    est = estimate_total(QWEN3_CODER_30B, 262144, 18_600_000_000)
    assert est.total_bytes < 64 * GIB
    assert max_fitting_ctx(QWEN3_CODER_30B, 18_600_000_000, 64 * GIB) == 262144


def _fits(g: Geometry, weights: int, budget: int, ctx: int, **kw) -> bool:
    return estimate_total(g, ctx, weights, **kw).total_bytes <= budget


@pytest.mark.parametrize("parallel", [1, 2])
@pytest.mark.parametrize("cache_type", ["f16", "q8_0"])
def test_max_fitting_ctx_is_the_largest_multiple_of_1024(parallel: int, cache_type: str) -> None:
    w, budget = 18_600_000_000, 26 * GIB  # q8_0 at native (30.4 GiB) would fit 32 GiB
    kw = {"parallel": parallel, "cache_type": cache_type}
    fit = max_fitting_ctx(QWEN3_CODER_30B, w, budget, **kw)
    assert fit is not None and fit % 1024 == 0 and fit < 262144
    assert _fits(QWEN3_CODER_30B, w, budget, fit, **kw)
    assert not _fits(QWEN3_CODER_30B, w, budget, fit + 1024, **kw)


def test_max_fitting_ctx_at_32_gib_for_the_demo() -> None:
    assert max_fitting_ctx(QWEN3_CODER_30B, 18_600_000_000, 32 * GIB) == 156672


def test_max_fitting_ctx_none_when_weights_alone_do_not_fit() -> None:
    assert max_fitting_ctx(QWEN3_CODER_30B, 40 * GIB, 32 * GIB) is None


def test_max_fitting_ctx_respects_native_override_and_unknown_native() -> None:
    assert max_fitting_ctx(QWEN3_CODER_30B, GIB, 64 * GIB, native=40000) == 40000
    g = Geometry(arch="llama", block_count=32, head_count=32, head_count_kv=(8,) * 32)
    assert max_fitting_ctx(g, GIB, 64 * GIB) is None


def test_unknown_per_layer_kv_heads_is_an_error_not_a_guess() -> None:
    g = Geometry(arch="gemma3n", block_count=35, head_count=8, key_length=256, value_length=256)
    with pytest.raises(CtxfixError, match="head_count_kv unknown"):
        estimate_kv(g, 4096)


FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "gguf"


@pytest.mark.parametrize(
    ("fixture", "kib", "total"),
    [
        ("qwen3-coder-30b", 96, 24 * GIB),
        ("llama3.1-8b", 128, 16 * GIB),
        ("llama3.3-70b", 320, 40 * GIB),
        ("qwen2.5-coder-32b", 256, 8 * GIB),
        ("gpt-oss-20b", 24, 3 * GIB + 12 * 2048 * 768),
        ("gemma3-27b", 80, 10 * GIB + 52 * 8192 * 1536),
        ("devstral-latest", 160, 20 * GIB),
        ("deepseek-r1-7b", 56, 7 * GIB),
        ("glm-4.5-air-latest", 184, 23 * GIB),
    ],
)
def test_reference_rows_end_to_end_from_gguf_fixtures(fixture: str, kib: int, total: int) -> None:
    """The same rows through the real GGUF reader (fixtures/gguf, built by fixtures/gen_gguf.py)."""
    path = FIXTURES / f"{fixture}.gguf"
    from ctxfix.sources.gguf import read_geometry

    g = read_geometry(path)
    assert kv_bytes_per_token(g) == kib * KIB
    assert estimate_kv(g, g.context_length).total_bytes == total

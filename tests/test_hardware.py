"""Hardware what-if table, decode ceiling, MoE active weights."""

from __future__ import annotations

import pytest

from ctxfix.errors import CtxfixError
from ctxfix.facts import Geometry, TensorInfo
from ctxfix.hardware import (
    GIB,
    MACHINES,
    active_weight_bytes,
    decode_tps_ceiling,
    find_machine,
)


def test_seven_machines_from_the_reference_table() -> None:
    assert [(m.name, m.memory_bytes // GIB, m.bandwidth_gbps, m.unified) for m in MACHINES] == [
        ("NVIDIA DGX Spark (GB10)", 128, 273, True),
        ("Mac Studio M2 Ultra", 192, 800, True),
        ("Mac Studio M3 Ultra", 512, 819, True),
        ("AMD Ryzen AI Max+ 395 (Strix Halo)", 128, 256, True),
        ("AMD Radeon RX 7900 XTX", 24, 960, False),
        ("NVIDIA RTX 4090", 24, 1008, False),
        ("AMD MI300X", 192, 5300, False),
    ]


def test_unified_machines_keep_4_gib_for_the_os() -> None:
    spark = find_machine("dgx spark")
    assert spark.usable_bytes == 124 * GIB
    assert find_machine("rtx 4090").usable_bytes == 24 * GIB


def test_find_machine_by_substring_and_size_override() -> None:
    assert find_machine("M3 Ultra").name == "Mac Studio M3 Ultra"
    m = find_machine("Mac Studio M3 Ultra@256GiB")
    assert m.memory_bytes == 256 * GIB and m.bandwidth_gbps == 819


@pytest.mark.parametrize(("spec", "why"), [("ultra", "several"), ("h100", "no machine")])
def test_find_machine_errors_list_the_names(spec: str, why: str) -> None:
    with pytest.raises(CtxfixError, match=why) as exc:
        find_machine(spec)
    assert "NVIDIA RTX 4090" in str(exc.value)


def test_decode_ceiling_is_bandwidth_over_bytes_per_token() -> None:
    assert decode_tps_ceiling(1000, 4_000_000_000, 1_000_000_000) == pytest.approx(200.0)
    with pytest.raises(ValueError):
        decode_tps_ceiling(1000, 0, 0)


def _moe_tensors(layers: int) -> tuple[TensorInfo, ...]:
    out = [TensorInfo("token_embd.weight", (2048, 1000), 12, 1_000_000)]
    for i in range(layers):
        out += [
            TensorInfo(f"blk.{i}.attn_q.weight", (2048, 4096), 12, 100_000),
            TensorInfo(f"blk.{i}.ffn_gate_exps.weight", (2048, 768, 128), 12, 12_800_000),
            TensorInfo(f"blk.{i}.ffn_up_exps.weight", (2048, 768, 128), 12, 12_800_000),
            TensorInfo(f"blk.{i}.ffn_down_exps.weight", (768, 2048, 128), 14, 12_800_000),
            TensorInfo(f"blk.{i}.ffn_gate_shexp.weight", (2048, 768), 12, 100_000),
        ]
    return tuple(out)


def test_moe_reads_only_the_routed_share_of_expert_tensors() -> None:
    tensors = _moe_tensors(2)
    total = sum(t.n_bytes for t in tensors)
    g = Geometry(arch="qwen3moe", expert_count=128, expert_used_count=8, tensors=tensors)
    experts = 2 * 3 * 12_800_000
    assert active_weight_bytes(g, total) == total - experts + experts * 8 // 128


def test_dense_or_unknown_tensors_read_all_weights() -> None:
    assert active_weight_bytes(Geometry(arch="llama"), 5 * GIB) == 5 * GIB
    no_tensors = Geometry(arch="qwen3moe", expert_count=128, expert_used_count=8)
    assert active_weight_bytes(no_tensors, 5 * GIB) == 5 * GIB

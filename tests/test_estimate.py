"""`ctxfix estimate` on real GGUF files and against the loopback Ollama double; measure_prefill."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from ollama_fixtures import demo_store
from ollama_server import OllamaDouble

from ctxfix.commands.estimate import estimate
from ctxfix.errors import CtxfixError
from ctxfix.hardware import MACHINES
from ctxfix.measure import measure_prefill

GIB = 1024**3
DEMO_WEIGHTS = 18_600_000_000  # qwen3-coder:30b Q4_K_M, about 18.6 GB


def write_gguf(path: Path, *, size: int | None = None, experts: bool = True) -> Path:
    """A real qwen3moe GGUF header (Qwen3-Coder-30B geometry) with small tensors.

    `size` extends the file with a hole to a realistic weight size without
    writing the bytes (the reader never touches tensor data).
    """
    import numpy as np
    from gguf import GGUFWriter

    w = GGUFWriter(str(path), "qwen3moe")
    w.add_name("Qwen3 Coder 30B A3B Instruct")
    w.add_context_length(262144)
    w.add_block_count(48)
    w.add_embedding_length(2048)
    w.add_head_count(32)
    w.add_head_count_kv(4)
    w.add_key_length(128)
    w.add_value_length(128)
    w.add_expert_count(128)
    w.add_expert_used_count(8)
    w.add_tensor("token_embd.weight", np.zeros((64, 64), dtype=np.float32))
    if experts:
        for i in range(2):
            for t in ("gate", "up", "down"):
                w.add_tensor(f"blk.{i}.ffn_{t}_exps.weight", np.zeros((128, 64, 64), np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    if size:
        with path.open("r+b") as f:
            f.truncate(size)
    return path


@pytest.fixture
def demo_gguf(tmp_path: Path) -> Path:
    return write_gguf(tmp_path / "qwen3-coder-30b.gguf", size=DEMO_WEIGHTS)


def run(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(
        estimate, [*args, "--no-server", "--no-store", "--no-user", "--isolated"]
    )
    if r.exception and not isinstance(r.exception, SystemExit):
        raise r.exception
    return r.exit_code, r.output


def test_demo_fits_64_gib_with_24_gib_kv_at_262144(demo_gguf: Path) -> None:
    code, out = run(str(demo_gguf), "--memory", "64GiB", "--prefill-tps", "400")
    assert code == 0
    assert "budget 64.0 GiB (--memory)" in out
    assert "96 KiB/token on 48 full-attention layers" in out
    row = next(line for line in out.splitlines() if line.startswith("262,144"))
    assert row.split() == ["262,144", "24.0", "17.3", "0.4", "41.7", "yes", "10m", "55s"]
    assert "native 262,144 fits 64.0 GiB" in out


def test_32_gib_lowers_to_the_largest_fitting_multiple_of_1024(demo_gguf: Path) -> None:
    code, out = run(str(demo_gguf), "--memory", "32GiB", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert list(doc) == ["model", "arch", "budget_bytes", "max_fitting_ctx", "rows", "hardware"]
    assert doc["arch"] == "qwen3moe"
    assert doc["budget_bytes"] == 32 * GIB
    assert doc["max_fitting_ctx"] == 156672
    assert [(r["ctx"], r["fits"]) for r in doc["rows"]] == [(156672, True), (262144, False)]
    row = doc["rows"][1]
    assert list(row) == [
        "ctx",
        "kv_bytes",
        "weights_bytes",
        "overhead_bytes",
        "total_bytes",
        "fits",
        "prefill_s",
    ]
    assert row["kv_bytes"] == 24 * GIB
    assert row["weights_bytes"] == DEMO_WEIGHTS
    assert row["total_bytes"] == row["kv_bytes"] + row["weights_bytes"] + row["overhead_bytes"]
    assert row["prefill_s"] is None


def test_text_says_native_does_not_fit_and_what_does(demo_gguf: Path) -> None:
    _, out = run(str(demo_gguf), "--memory", "32GiB")
    assert "native 262,144 does not fit 32.0 GiB; 156,672 does" in out


def test_what_if_lists_all_seven_machines(demo_gguf: Path) -> None:
    _, out = run(str(demo_gguf), "--memory", "64GiB")
    for m in MACHINES:
        assert m.name in out
    _, js = run(str(demo_gguf), "--memory", "64GiB", "--format", "json")
    hw = json.loads(js)["hardware"]
    assert [h["name"] for h in hw] == [m.name for m in MACHINES]
    by = {h["name"]: h for h in hw}
    assert by["NVIDIA RTX 4090"]["fits"] is False  # 41.7 GiB > 24 GiB
    assert by["NVIDIA DGX Spark (GB10)"]["fits"] is True
    # decode ceiling: bandwidth / (active weights + 24 GiB of KV read per token)
    spark = by["NVIDIA DGX Spark (GB10)"]
    assert list(spark) == ["name", "memory_bytes", "bandwidth_gbps", "fits", "decode_tps_ceiling"]
    experts = 6 * 128 * 64 * 64 * 4  # 6 expert tensors of 128 x 64 x 64 f32
    active = DEMO_WEIGHTS - experts + experts * 8 // 128
    assert spark["decode_tps_ceiling"] == round(273e9 / (active + 24 * GIB), 1)


def test_one_machine_with_a_size_and_your_own_bandwidth(demo_gguf: Path) -> None:
    _, js = run(
        str(demo_gguf),
        "--memory",
        "48GiB",
        "--hardware",
        "M3 Ultra@96GiB",
        "--bandwidth",
        "400",
        "--format",
        "json",
    )
    hw = json.loads(js)["hardware"]
    assert [(h["name"], h["memory_bytes"]) for h in hw] == [
        ("Mac Studio M3 Ultra", 96 * GIB),
        ("this machine (--bandwidth)", 48 * GIB),
    ]


def test_moe_decode_ceiling_uses_active_experts(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "small.gguf")
    _, js = run(str(path), "--memory", "64GiB", "--ctx", "1024", "--format", "json")
    doc = json.loads(js)
    size = path.stat().st_size
    experts = 6 * 128 * 64 * 64 * 4
    active = size - experts + experts * 8 // 128
    kv = doc["rows"][0]["kv_bytes"]
    mi300x = next(h for h in doc["hardware"] if h["name"] == "AMD MI300X")
    assert mi300x["decode_tps_ceiling"] == round(5300e9 / (active + kv), 1)


def test_explicit_ctx_values_and_prefill_time(demo_gguf: Path) -> None:
    _, js = run(
        str(demo_gguf),
        "--ctx",
        "32768",
        "--ctx",
        "8192",
        "--prefill-tps",
        "400",
        "--format",
        "json",
    )
    rows = json.loads(js)["rows"]
    assert [r["ctx"] for r in rows] == [8192, 32768]
    assert [r["prefill_s"] for r in rows] == [20.5, 81.9]


def test_q8_0_cache_and_parallel(demo_gguf: Path) -> None:
    _, js = run(
        str(demo_gguf),
        "--memory",
        "64GiB",
        "--kv-cache-type",
        "q8_0",
        "--parallel",
        "2",
        "--ctx",
        "131072",
        "--format",
        "json",
    )
    (row,) = json.loads(js)["rows"]
    assert row["kv_bytes"] == 2 * 131072 * 96 * 1024 * 34 // 64


def test_missing_file_and_unknown_machine_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(CtxfixError, match="no such file"):
        run(str(tmp_path / "nope.gguf"))
    with pytest.raises(CtxfixError, match="matches no machine"):
        run(str(write_gguf(tmp_path / "m.gguf")), "--hardware", "h100")


def test_cli_main_turns_errors_into_exit_2(tmp_path: Path, capsys) -> None:
    from ctxfix.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["estimate", str(tmp_path / "nope.gguf"), "--no-server", "--no-store"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such file" in err


# ------------------------------------------------------------------ server


@pytest.fixture
def double(tmp_path: Path):
    with OllamaDouble(demo_store(tmp_path / "models"), prefill_tps=321.0) as srv:
        yield srv


def test_measure_prefill_reads_prompt_eval_rate(double: OllamaDouble) -> None:
    tps = measure_prefill(double.url, "qwen3-coder:30b")
    assert tps == pytest.approx(321.0, rel=1e-3)
    assert ("POST", "/api/generate") in double.requests


def test_measure_prefill_errors_name_the_host(double: OllamaDouble) -> None:
    with pytest.raises(CtxfixError) as exc:
        measure_prefill(double.url, "nosuch:model")
    assert exc.value.where == double.url and "not found" in exc.value.problem
    double.stop()
    with pytest.raises(CtxfixError, match="cannot reach server"):
        measure_prefill(double.url, "qwen3-coder:30b", timeout=2)


def test_estimate_server_model_with_measure(double: OllamaDouble) -> None:
    r = CliRunner().invoke(
        estimate,
        [
            "qwen3-coder:30b-v-128k",
            "--host",
            double.url,
            "--no-store",
            "--no-user",
            "--isolated",
            "--memory",
            "64GiB",
            "--measure",
            "--format",
            "json",
        ],
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["model"] == "qwen3-coder:30b-v-128k"
    # current num_ctx 131072 (params blob) and native 262144 (GGUF via /api/show)
    assert [row["ctx"] for row in doc["rows"]] == [131072, 262144]
    assert doc["rows"][1]["kv_bytes"] == 24 * GIB
    assert doc["rows"][1]["prefill_s"] == pytest.approx(262144 / 321, abs=0.2)


def test_measure_refuses_a_file(demo_gguf: Path) -> None:
    with pytest.raises(CtxfixError, match="needs a model on a server"):
        run(str(demo_gguf), "--measure")


def test_estimate_store_model_demo(tmp_path: Path) -> None:
    store = demo_store(tmp_path / "models")
    r = CliRunner().invoke(
        estimate,
        [
            "qwen3-coder:30b",
            "--store",
            str(store),
            "--no-server",
            "--no-user",
            "--isolated",
            "--memory",
            "64GiB",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "qwen3-coder:30b (qwen3moe, native 262,144, from store)" in r.output
    row = next(line for line in r.output.splitlines() if line.startswith("262,144"))
    assert row.split()[1] == "24.0" and row.split()[5] == "yes"

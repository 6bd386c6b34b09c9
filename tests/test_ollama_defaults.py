"""Version-dependent Ollama defaults: the numbers CTX104 quotes to the user."""

from __future__ import annotations

import pytest

from ctxfix.ollama_defaults import (
    GIB,
    clamps_to_native,
    default_num_ctx,
    floor_num_ctx,
    parse_version,
    supports_context_env,
)
from ctxfix.policy.truncation import truncation


@pytest.mark.parametrize(
    ("version", "vram", "expected"),
    [
        ("0.6.6", None, 2048),
        ("0.5.7", 80 * GIB, 2048),  # VRAM does not matter before 0.15.5
        ("0.6.7", None, 4096),
        ("0.15.4", 80 * GIB, 4096),
        ("0.15.5", 48 * GIB, 262144),
        ("0.15.5", 47 * GIB, 262144),  # upstream uses 47/23 GiB, not 48/24
        ("0.15.5", 47 * GIB - 1, 32768),
        ("0.15.5", 23 * GIB, 32768),
        ("0.15.5", 23 * GIB - 1, 4096),
        ("0.15.5", 8 * GIB, 4096),
        ("v0.20.1-rc2", 128 * GIB, 262144),
    ],
)
def test_default_num_ctx_by_version_and_vram(version: str, vram: int | None, expected: int) -> None:
    d = default_num_ctx(version, vram)
    assert d.value == expected and d.source == "default"


def test_vram_unknown_on_tiered_version_uses_lowest_tier_and_says_so() -> None:
    d = default_num_ctx("0.15.5", None)
    assert d.value == 4096
    assert "VRAM unknown" in d.note and "lowest tier" in d.note


def test_unknown_version_is_assumed_and_says_so() -> None:
    for v in (None, "", "0.0.0", "garbage"):
        d = default_num_ctx(v, None)
        assert d.value == 4096 and "assumed" in d.note


def test_note_names_the_rule() -> None:
    assert "2048 up to 0.6.6" in default_num_ctx("0.6.6", None).note
    assert "4096 from 0.6.7" in default_num_ctx("0.6.7", None).note
    assert "64.0 GiB" in default_num_ctx("0.15.5", 64 * GIB).note


def test_version_gates() -> None:
    assert not clamps_to_native("0.9.2") and clamps_to_native("0.9.3") and clamps_to_native(None)
    assert not supports_context_env("0.5.12") and supports_context_env("0.5.13")
    assert parse_version("0.12") == (0, 12, 0)


def test_automatic_context_steps_down_once_after_an_oom_load_from_0_30() -> None:
    """server/sched.go nextLowerAutoNumCtx (from v0.30.0): 262,144 -> 32,768 -> 4,096."""
    from ctxfix.ollama_defaults import next_lower_auto_num_ctx

    assert [next_lower_auto_num_ctx(n) for n in (262144, 32768, 4096)] == [32768, 4096, None]
    d = default_num_ctx("0.30.0", 64 * GIB)
    assert d.value == 262144 and "or 32,768 if the load runs out of memory" in d.note
    assert "runs out of memory" not in default_num_ctx("0.29.9", 64 * GIB).note
    assert "runs out of memory" not in default_num_ctx("0.30.0", 8 * GIB).note  # 4096: no lower


def test_gpu_overhead_is_subtracted_per_gpu_before_the_tier() -> None:
    """server/routes.go: totalVRAM += gpu.TotalMemory - envconfig.GpuOverhead()."""
    assert default_num_ctx("0.15.5", 48 * GIB).value == 262144
    d = default_num_ctx("0.15.5", 48 * GIB, gpu_overhead=2 * GIB)
    assert d.value == 32768 and "OLLAMA_GPU_OVERHEAD" in d.note
    assert default_num_ctx("0.15.5", 48 * GIB, gpu_overhead=1 * GIB, gpus=2).value == 32768


def test_scan_says_the_step_down_and_reads_the_overhead(tmp_path, capsys) -> None:
    from test_apply_demo import run_cli

    (tmp_path / "compose.yaml").write_text(
        "services:\n  ollama:\n    image: ollama/ollama:0.30.0\n    environment:\n"
        "      - OLLAMA_GPU_OVERHEAD=2147483648\n"
    )
    (tmp_path / "Modelfile").write_text("FROM qwen3-coder:30b\n")
    args = [
        "scan",
        "--no-server",
        "--no-user",
        "--no-store",
        "--isolated",
        "--ollama-version",
        "0.30.0",
        "--vram",
        "48GiB",
        str(tmp_path),
    ]
    _code, out, _err = run_cli(capsys, *args)
    assert "automatic context: 46.0 GiB VRAM after OLLAMA_GPU_OVERHEAD" in out
    assert ">= 23 GiB -> 32,768" in out
    assert "or 4,096 if the load runs out of memory" in out


def test_the_step_down_starts_from_the_models_own_context() -> None:
    """reduceAutoNumCtxForLoadOOM clamps to the training context before stepping down."""
    d = default_num_ctx("0.30.0", 64 * GIB, native=32768)
    assert "or 4,096 if the load runs out of memory" in d.note
    assert "runs out of memory" not in default_num_ctx("0.30.0", 64 * GIB, native=4096).note


def test_an_unknown_gpu_count_is_said() -> None:
    d = default_num_ctx("0.15.5", 48 * GIB, gpu_overhead=1 * GIB)
    assert "GPU count is unknown" in d.note
    assert "unknown" not in default_num_ctx("0.15.5", 48 * GIB, gpu_overhead=1 * GIB, gpus=2).note


# Every version boundary ctxfix models, just below and at the release that starts it
# (github:ollama/ollama; each gate's source is named in ctxfix/ollama_defaults.py and
# ctxfix/policy/truncation.py), and whether the current release still has it.
BOUNDARIES = [
    ("OLLAMA_CONTEXT_LENGTH read", supports_context_env, "0.5.12", "0.5.13", True),
    (
        "default 2048 -> 4096",
        lambda v: default_num_ctx(v, None).value == 4096,
        "0.6.6",
        "0.6.7",
        True,
    ),
    ("clamp to native", clamps_to_native, "0.9.2", "0.9.3", True),
    (
        "vision floor 2048",
        lambda v: floor_num_ctx(1024, v, True)[0] == 2048,
        "0.11.4",
        "0.11.5",
        True,
    ),
    (
        "VRAM tiers",
        lambda v: default_num_ctx(v, 48 * GIB).value == 262144,
        "0.15.4",
        "0.15.5",
        True,
    ),
    (
        "automatic context steps down after OOM",
        lambda v: "runs out of memory" in default_num_ctx(v, 48 * GIB).note,
        "0.29.9",
        "0.30.0",
        True,
    ),
    (
        "prompt cut to num_ctx - 1",
        lambda v: truncation(v, 4096).kept == 4095,
        "0.29.9",
        "0.30.0",
        False,
    ),
    (
        "prompt cut to about half",
        lambda v: truncation(v, 4096).kept == 2050,
        "0.30.8",
        "0.30.9",
        True,
    ),
]


@pytest.mark.parametrize(
    ("rule", "holds", "before", "at", "current"), BOUNDARIES, ids=[b[0] for b in BOUNDARIES]
)
def test_every_version_boundary(rule, holds, before: str, at: str, current: bool) -> None:
    assert not holds(before), f"{rule} already at {before}"
    assert holds(at), f"{rule} not at {at}"
    assert holds("0.33.0-rc2") is current, f"{rule} at the current release"

"""Memory sizes and budget detection (real files and a real nvidia-smi stand-in)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ctxfix.budget import (
    detect_budget,
    nvidia_vram_bytes,
    parse_size,
    total_ram_bytes,
)
from ctxfix.errors import CtxfixError

GIB = 1024**3


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("64GiB", 64 * GIB),
        ("64GB", 64_000_000_000),
        ("64G", 64 * GIB),
        ("64g", 64 * GIB),
        ("68719476736", 68719476736),
        ("1.5 GiB", 3 * GIB // 2),
        ("512MiB", 512 * 1024**2),
        ("2TB", 2 * 10**12),
        ("1TiB", 1024 * GIB),
        (" 32 gib ", 32 * GIB),
        (17, 17),
    ],
)
def test_parse_size(text: str | int, value: int) -> None:
    assert parse_size(text) == value


@pytest.mark.parametrize("text", ["", "lots", "64 XB", "-1GiB", "0", "GiB", "1e9"])
def test_parse_size_rejects_with_one_line(text: str) -> None:
    with pytest.raises(CtxfixError) as exc:
        parse_size(text)
    assert exc.value.where == "--memory"
    assert "\n" not in str(exc.value)


def test_no_detection_for_remote_or_offline_scans() -> None:
    assert detect_budget(False) is None


def _fake_nvidia_smi(tmp_path: Path, output: str) -> Path:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    exe = bindir / "nvidia-smi"
    exe.write_text(f"#!/bin/sh\nprintf '{output}'\n")
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    return bindir


def test_nvidia_vram_is_summed_over_gpus(tmp_path: Path, monkeypatch) -> None:
    bindir = _fake_nvidia_smi(tmp_path, "24564\\n24564\\n")
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    b = detect_budget(True)
    assert b is not None
    assert b.value == 2 * 24564 * 1024**2
    assert b.source == "detected"
    assert "2 NVIDIA GPUs" in b.note and "VRAM" in b.note


def test_gpu_without_dedicated_memory_falls_back_to_ram(tmp_path: Path, monkeypatch) -> None:
    # DGX Spark: nvidia-smi reports [N/A] for the GB10's unified memory
    bindir = _fake_nvidia_smi(tmp_path, "[N/A]\\n")
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    assert nvidia_vram_bytes() is None
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       130000000 kB\nMemFree:        1000 kB\n")
    b = detect_budget(True, meminfo=meminfo, cpuinfo=tmp_path / "none", system="Linux")
    assert b is not None
    assert b.value == 130000000 * 1024 - 4 * GIB
    assert "RAM - 4.0 GiB OS reserve" in b.note


def test_amd_apu_is_unified_memory(tmp_path: Path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       131072000 kB\n")
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(
        "processor\t: 0\nmodel name\t: AMD RYZEN AI MAX+ 395 w/ Radeon 8060S\n".replace(
            "RYZEN AI", "Ryzen AI"
        )
    )
    b = detect_budget(True, run=lambda cmd: None, meminfo=meminfo, cpuinfo=cpuinfo, system="Linux")
    assert b is not None
    assert "unified memory (AMD APU)" in b.note


def test_apple_silicon_reads_hw_memsize(tmp_path: Path) -> None:
    calls: list[list[str]] = []

    def run(cmd: list[str]) -> str | None:
        calls.append(cmd)
        return "68719476736\n" if cmd[0] == "sysctl" else None

    b = detect_budget(True, run=run, system="Darwin", machine="arm64", reserve_bytes=8 * GIB)
    assert b is not None
    assert b.value == 56 * GIB
    assert b.note == "64.0 GiB unified memory (Apple Silicon) - 8.0 GiB OS reserve"
    assert ["sysctl", "-n", "hw.memsize"] in calls


def test_this_machine_ram_matches_proc_meminfo() -> None:
    meminfo = Path("/proc/meminfo")
    if not meminfo.exists():
        pytest.skip("no /proc/meminfo here")
    kib = next(int(x.split()[1]) for x in meminfo.read_text().splitlines() if "MemTotal" in x)
    assert total_ram_bytes() == kib * 1024

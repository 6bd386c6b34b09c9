"""Memory budget: parse sizes, and detect the memory a local model may use.

Why: CTX302 and the fit-aware fix need to know how much memory the model can
have. Detecting it is only meaningful when the models run on this machine (a
local store, a server on a loopback address); for a remote host or an offline
repo scan (CI, pre-commit) the budget is unknown unless given, and CTX302 is
silent rather than guessing.

What "budget" means here: bytes the model (weights + KV + compute buffer)
may use. Detection picks, in order:

1. NVIDIA VRAM, summed over GPUs, from
   ``nvidia-smi --query-gpu=memory.total --format=csv,noheader,nounits``
   (MiB). A GPU that reports no dedicated memory (``[N/A]``, the GB10 of a
   DGX Spark) means unified memory: fall through to RAM.
2. Total RAM (``/proc/meminfo`` on Linux, ``sysctl -n hw.memsize`` on macOS,
   else ``os.sysconf``): unified memory on Apple Silicon and AMD APUs, and
   what a CPU-only Ollama uses. The OS keeps a reserve of it (default 4 GiB),
   subtracted from the budget and stated in the note.

No psutil: these two files/commands cover Linux and macOS without a new
dependency; on other systems detection returns None (give `--memory`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from ctxfix.errors import CtxfixError
from ctxfix.facts import Sourced

GIB = 1024**3
DEFAULT_RESERVE_BYTES = 4 * GIB

_UNITS = {
    "": 1,
    "b": 1,
    "k": 1024,
    "kib": 1024,
    "kb": 1000,
    "m": 1024**2,
    "mib": 1024**2,
    "mb": 1000**2,
    "g": 1024**3,
    "gib": 1024**3,
    "gb": 1000**3,
    "t": 1024**4,
    "tib": 1024**4,
    "tb": 1000**4,
}
# [A-Za-z], not re.IGNORECASE: a third of the compile time on every scan (issue 15)
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*([A-Za-z]*)\s*$")


def parse_size(text: str | int, where: str | None = "--memory") -> int:
    """Bytes from a size: `64GiB` -> 68719476736, `64GB` -> 64000000000, `64G` -> 64 GiB.

    Units, case-insensitive: KiB/MiB/GiB/TiB binary, KB/MB/GB/TB decimal (as
    disk and network vendors use them), and a bare K/M/G/T binary (as
    ``free -g``, ``ls -h`` and most memory flags mean it). Decimals allowed
    (``1.5GiB``); the result is rounded down to whole bytes.
    """
    if isinstance(text, int):
        if text <= 0:
            raise CtxfixError(where, f"memory size must be positive, not {text}")
        return text
    m = _SIZE.match(str(text))
    unit = m.group(2).lower() if m else ""
    if not m or unit not in _UNITS:
        raise CtxfixError(
            where, f"cannot read size '{text}' (examples: 64GiB, 64GB, 64G, 68719476736)"
        )
    value = int(float(m.group(1)) * _UNITS[unit])
    if value <= 0:
        raise CtxfixError(where, f"memory size must be positive, not '{text}'")
    return value


Runner = Callable[[list[str]], str | None]


def _run(cmd: list[str]) -> str | None:
    """Run a probe command; None when it is missing, fails or hangs."""
    import shutil  # probes run only when the models run on this machine
    import subprocess

    exe = shutil.which(cmd[0])
    if exe is None:
        return None
    try:
        out = subprocess.run(
            [exe, *cmd[1:]], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout if out.returncode == 0 else None


def nvidia_vram_bytes(run: Runner = _run) -> tuple[int, int] | None:
    """(total VRAM bytes, GPU count) from nvidia-smi, or None (absent, or no dedicated memory)."""
    out = run(["nvidia-smi", "--query-gpu=memory.total", "--format=csv,noheader,nounits"])
    if not out:
        return None
    total = count = 0
    for line in out.splitlines():
        line = line.strip()
        if line.isdigit():
            total += int(line) * 1024**2
            count += 1
    return (total, count) if total else None


def _system() -> str:
    """`platform.system()`, imported when asked: `platform` costs ~2 ms at import, and
    a scan with no local server or store never asks (issue 15)."""
    import platform

    return platform.system()


def _machine() -> str:
    import platform

    return platform.machine()


def total_ram_bytes(
    meminfo: Path = Path("/proc/meminfo"), run: Runner = _run, system: str | None = None
) -> int | None:
    """Physical RAM in bytes, or None when no method works on this system."""
    system = system or _system()
    if system == "Linux":
        try:
            for line in meminfo.read_text().splitlines():
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024  # kB in meminfo are KiB
        except (OSError, ValueError, IndexError):
            pass
    if system == "Darwin":
        out = run(["sysctl", "-n", "hw.memsize"])
        if out and out.strip().isdigit():
            return int(out.strip())
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def unified_memory_kind(
    system: str | None = None, machine: str | None = None, cpuinfo: Path = Path("/proc/cpuinfo")
) -> str | None:
    """ "Apple Silicon", "AMD APU" or None: is the RAM also the GPU's memory?"""
    system = system or _system()
    machine = (machine or _machine()).lower()
    if system == "Darwin" and machine in ("arm64", "aarch64"):
        return "Apple Silicon"
    if system == "Linux":
        try:
            text = cpuinfo.read_text(errors="replace")
        except OSError:
            return None
        for line in text.splitlines():
            if line.startswith("model name") and re.search(
                r"Ryzen AI|with Radeon|Radeon \d+M", line
            ):
                return "AMD APU"
    return None


def detect_budget(
    local: bool,
    *,
    reserve_bytes: int = DEFAULT_RESERVE_BYTES,
    run: Runner = _run,
    meminfo: Path = Path("/proc/meminfo"),
    cpuinfo: Path = Path("/proc/cpuinfo"),
    system: str | None = None,
    machine: str | None = None,
) -> Sourced[int] | None:
    """The memory budget of this machine, or None when models are not local or nothing works.

    Returns `Sourced(bytes, "detected", note=...)`; the note says what was
    measured and what was reserved, e.g. "64.0 GiB unified memory (Apple
    Silicon) - 4.0 GiB OS reserve". The probes are parameters so tests can
    point them at real files and scripts of another machine's shape.
    """
    if not local:
        return None
    vram = nvidia_vram_bytes(run)
    if vram:
        total, count = vram
        gpus = f"{count} NVIDIA GPUs" if count > 1 else "NVIDIA GPU"
        return Sourced(total, "detected", note=f"{total / GIB:.1f} GiB VRAM ({gpus}, nvidia-smi)")
    ram = total_ram_bytes(meminfo, run, system)
    if not ram:
        return None
    kind = unified_memory_kind(system, machine, cpuinfo)
    what = f"unified memory ({kind})" if kind else "RAM"
    budget = max(ram - reserve_bytes, 0)
    note = f"{ram / GIB:.1f} GiB {what} - {reserve_bytes / GIB:.1f} GiB OS reserve"
    return Sourced(budget, "detected", note=note)

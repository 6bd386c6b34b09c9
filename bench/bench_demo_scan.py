"""Whole-process start-up cost of the pre-commit path: the demo scan vs `python -c pass`.

    python bench/bench_demo_scan.py [--runs 15]

Runs `python -m ctxfix scan fixtures/demo --no-server --no-user` and
`python -c pass` alternately (so machine load hits both alike), reports
medians and the ratio. Target (issue 2): ratio at most 8. Not a test:
timings belong here, never in the suite.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


# A user's interpreter caches bytecode; this sandbox sets PYTHONDONTWRITEBYTECODE,
# which would make every run recompile ctxfix and measure the compiler instead.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def wall(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        cmd, cwd=REPO, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
    )
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    scan = [sys.executable, "-m", "ctxfix", "scan", "fixtures/demo", "--no-server", "--no-user"]
    base = [sys.executable, "-c", "pass"]
    wall(scan)  # warm the page cache and .pyc files
    s, b = [], []
    for _ in range(args.runs):
        b.append(wall(base))
        s.append(wall(scan))
    ms, mb = statistics.median(s), statistics.median(b)
    print(f"python -c pass: median {mb * 1000:.1f} ms (min {min(b) * 1000:.1f})")
    print(
        f"ctxfix scan fixtures/demo --no-server --no-user: median {ms * 1000:.1f} ms "
        f"(min {min(s) * 1000:.1f})"
    )
    print(f"ratio {ms / mb:.1f}x (target <= 8x)")


if __name__ == "__main__":
    main()

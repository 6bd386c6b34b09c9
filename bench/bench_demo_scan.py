"""Whole-process start-up cost of the pre-commit path: the demo scan vs `python -c pass`.

    python bench/bench_demo_scan.py [--runs 15] [--python OTHER_VENV/bin/python]

Runs `ctxfix scan fixtures/demo --no-server --no-user` through the
environment's `ctxfix` console script (what a pre-commit hook runs; `python
-m ctxfix` would add runpy's imports) and `python -c pass` alternately (so
machine load hits both alike), reports medians and the ratio. Target (issue
15): ratio at most 7. Not a test: timings belong here, never in the suite.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


# A user's interpreter caches bytecode; this sandbox sets PYTHONDONTWRITEBYTECODE,
# which would make every run recompile ctxfix and measure the compiler instead.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def wall(cmd: list[str], cwd: Path = REPO) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        cmd, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
    )
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument(
        "--python",
        help="interpreter of another environment (e.g. one made with `pip install .`): "
        "run its installed ctxfix from a temporary directory instead of this checkout",
    )
    args = ap.parse_args()
    py = args.python or sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        cwd = REPO
        demo = "fixtures/demo"
        if args.python:  # not the checkout: `-m ctxfix` must find the installed package
            cwd = Path(tmp)
            demo = str(shutil.copytree(REPO / "fixtures" / "demo", cwd / "demo"))
        script = Path(py).parent / "ctxfix"  # the venv's console script, as pre-commit runs it
        scan = [str(script), "scan", demo, "--no-server", "--no-user"]
        base = [py, "-c", "pass"]
        wall(scan, cwd)  # warm the page cache and .pyc files
        s, b = [], []
        for _ in range(args.runs):
            b.append(wall(base, cwd))
            s.append(wall(scan, cwd))
    ms, mb = statistics.median(s), statistics.median(b)
    print(f"python -c pass: median {mb * 1000:.1f} ms (min {min(b) * 1000:.1f})")
    print(
        f"ctxfix scan fixtures/demo --no-server --no-user: median {ms * 1000:.1f} ms "
        f"(min {min(s) * 1000:.1f})"
    )
    print(f"ratio {ms / mb:.1f}x (target <= 7x, issue 15)")


if __name__ == "__main__":
    main()

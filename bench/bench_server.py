"""Benchmark: scanning one Ollama host with 50 models behind 50 ms, ctxfix vs the plain client.

    python bench/bench_server.py [--models 50] [--latency 0.05] [--runs 7] [--cli-runs 5]

The loopback double (tests/ollama_server.py) serves a store of N models from
a process of its own (bench/_doubles.py), sleeping `--latency` seconds at the
start of every request. Measured in the same run, alternated so machine load
hits all alike:

- `scan_host`: ctxfix's server source, in process;
- `sequential`: the same requests (version, tags, ps, one show per model) one
  after another with the official `ollama` client, the issue's baseline;
- `16 threads`: the /api/show calls on a 16-thread pool over one client (the
  issue's reference point, 7x);
- `ctxfix scan` (whole process: interpreter, imports, rules, report) and the
  sequential loop as a process of its own (interpreter, `import ollama`) when
  `--cli-runs` > 0.

Target (issue 15): `scan_host` at least 5x the sequential loop.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _doubles import (
    Doubles,
    add_python_option,
    build_store,
    cli_scan,
    sequential,
    sequential_process,
    stats,
    threaded,
)

from ctxfix.sources.server import scan_host


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", type=int, default=50)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--cli-runs", type=int, default=5)
    add_python_option(ap)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = build_store(Path(tmp) / "models", args.models)
        (Path(tmp) / "project").mkdir()
        with Doubles([store], args.latency) as (url,):
            scan_host(url)  # warm up: imports, the double's GGUF cache
            sequential([url])
            if args.cli_runs:  # and each process once: page cache, .pyc files (not counted)
                cli_scan([url], Path(tmp) / "project", python=args.python)
                sequential_process([url], python=args.python)
            conc, seq, thr, cli, seqp = [], [], [], [], []
            for i in range(args.runs):
                t = time.perf_counter()
                scan = scan_host(url)
                conc.append(time.perf_counter() - t)
                assert len(scan.models) == args.models and not scan.warnings, scan.warnings
                t = time.perf_counter()
                assert sequential([url]) == args.models
                seq.append(time.perf_counter() - t)
                t = time.perf_counter()
                assert threaded([url]) == args.models
                thr.append(time.perf_counter() - t)
                if i < args.cli_runs:
                    cli.append(cli_scan([url], Path(tmp) / "project", python=args.python))
                    seqp.append(sequential_process([url], python=args.python))
    c, s = statistics.median(conc), statistics.median(seq)
    print(f"models={args.models} latency={args.latency * 1000:g}ms runs={args.runs}")
    print(f"scan_host:              {stats(conc)}")
    print(f"sequential client loop: {stats(seq)}")
    print(f"16-thread client loop:  {stats(thr)}  ({s / statistics.median(thr):.1f}x)")
    if cli:
        m, p = statistics.median(cli), statistics.median(seqp)
        print(f"ctxfix scan (process):  {stats(cli)}")
        print(f"sequential (process):   {stats(seqp)}  (ctxfix scan process: {p / m:.1f}x)")
    print(f"speed-up scan_host vs sequential: {s / c:.1f}x   target >= 5x "
          f"[{'ok' if s / c >= 5 else 'MISSED'}]")  # fmt: skip


if __name__ == "__main__":
    main()

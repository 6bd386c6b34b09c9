"""Benchmark: a fleet of 10 Ollama hosts x 20 models behind 50 ms, ctxfix vs the plain client.

    python bench/bench_fleet.py [--hosts 10] [--models 20] [--latency 0.05] [--runs 5]
                                [--cli-runs 3] [--dead 0]

Ten loopback doubles (tests/ollama_server.py), each over its own store, served
from one child process (bench/_doubles.py), every request delayed by
`--latency`. Measured in the same run, alternated:

- `scan_hosts`: ctxfix's fleet scan in process (what `ctxfix scan --host ...`
  or `--hosts-file` runs: all hosts at once under one global bound);
- `sequential`: the same requests host after host, one after another, with
  the official `ollama` client (the issue's baseline);
- `ctxfix scan --hosts-file` as a whole process, and the sequential loop as a
  process of its own, when `--cli-runs` > 0.

`--dead N` adds N hosts that accept connections and never answer (a hung
proxy); with `--server-timeout` 10 s they cost the fleet scan that deadline,
once, and leave every live host's result intact.

Target (issue 15): `scan_hosts` at least 20x the sequential loop.
"""

from __future__ import annotations

import argparse
import socket
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
)

from ctxfix.sources.server import GLOBAL_MAX, host_cap, scan_hosts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", type=int, default=10)
    ap.add_argument("--models", type=int, default=20)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--cli-runs", type=int, default=3)
    ap.add_argument("--dead", type=int, default=0)
    add_python_option(ap)
    args = ap.parse_args()
    hung = []
    for _ in range(args.dead):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        hung.append(s)
    dead = [f"http://127.0.0.1:{s.getsockname()[1]}" for s in hung]
    with tempfile.TemporaryDirectory() as tmp:
        stores = [
            build_store(Path(tmp) / f"host{h:02d}", args.models, prefix=f"h{h:02d}-model")
            for h in range(args.hosts)
        ]
        (Path(tmp) / "project").mkdir()
        with Doubles(stores, args.latency) as urls:
            fleet = [*dead, *urls]
            scan_hosts(urls)  # warm up
            sequential(urls)
            if args.cli_runs:  # and each process once: page cache, .pyc files (not counted)
                cli_scan(fleet, Path(tmp) / "project", hosts_file=True, python=args.python)
                sequential_process(urls, python=args.python)
            conc, seq, cli, seqp = [], [], [], []
            for i in range(args.runs):
                t = time.perf_counter()
                scans = scan_hosts(fleet)
                conc.append(time.perf_counter() - t)
                live = [x for x in scans if x.host in urls]
                assert sum(len(x.models) for x in live) == args.hosts * args.models
                assert not any(x.warnings for x in live), [x.warnings for x in live]
                if i == 0 or not dead:  # the sequential loop cannot skip a hung host
                    t = time.perf_counter()
                    assert sequential(urls) == args.hosts * args.models
                    seq.append(time.perf_counter() - t)
                if i < args.cli_runs:
                    cli.append(
                        cli_scan(fleet, Path(tmp) / "project", hosts_file=True, python=args.python)
                    )
                    seqp.append(sequential_process(urls, python=args.python))
    for s in hung:
        s.close()
    c, q = statistics.median(conc), statistics.median(seq)
    print(
        f"hosts={args.hosts} (+{args.dead} hung) models/host={args.models} "
        f"latency={args.latency * 1000:g}ms runs={args.runs} "
        f"lanes/host<={host_cap(len(fleet))} global<={GLOBAL_MAX}"
    )
    print(f"scan_hosts:             {stats(conc)}")
    print(f"sequential client loop: {stats(seq)}  (live hosts only)")
    if cli:
        m, p = statistics.median(cli), statistics.median(seqp)
        print(f"ctxfix scan (process):  {stats(cli)}")
        print(f"sequential (process):   {stats(seqp)}  (ctxfix scan process: {p / m:.1f}x)")
    if dead:  # the scan is the hung hosts' deadline; the loop would wait on them forever
        print(f"with {args.dead} hung host(s): {c:.3f} s = their 10 s deadline, once; "
              "every live host's models and no warning for them")  # fmt: skip
        return
    print(f"speed-up scan_hosts vs sequential: {q / c:.1f}x   target >= 20x "
          f"[{'ok' if q / c >= 20 else 'MISSED'}]")  # fmt: skip


if __name__ == "__main__":
    main()

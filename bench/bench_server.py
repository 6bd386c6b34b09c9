"""Benchmark: scanning one Ollama host with 50 models, concurrent vs sequential.

    python bench/bench_server.py [--models 50] [--latency 0.02] [--runs 5]

Runs the loopback double (tests/ollama_server.py) over a store of N models,
each request delayed by `--latency` seconds (a realistic per-request cost:
a real server reads the manifest, the params blob and the GGUF header on
every /api/show). Measures `scan_host` wall time and the same requests
(version, tags, ps, one show per model) issued one after another with the
same `ollama` client. Targets (issue 3): scan < 1 s, concurrent >= 3x faster.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from ollama_fixtures import LLAMA31_8B, QWEN3_CODER_30B, add_model  # noqa: E402
from ollama_server import OllamaDouble  # noqa: E402

from ctxfix.sources.server import scan_host  # noqa: E402


def build_store(root: Path, n: int) -> None:
    for i in range(n):
        arch = QWEN3_CODER_30B if i % 2 else LLAMA31_8B
        params = {"num_ctx": 4096 * (1 + i % 64), "stop": ["<|im_end|>"]} if i % 3 else None
        add_model(root, f"bench-model-{i:02d}:latest", arch, params=params)


def sequential(url: str) -> int:
    import httpx
    import ollama

    c = ollama.Client(host=url, timeout=httpx.Timeout(10, connect=0.5))
    c._request_raw("GET", "/api/version").json()
    tags = c.list()
    c.ps()
    for m in tags.models:
        c.show(m.model)
    c._client.close()
    return len(tags.models)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", type=int, default=50)
    ap.add_argument("--latency", type=float, default=0.02)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "models"
        build_store(store, args.models)
        with OllamaDouble(store, latency=args.latency) as srv:
            scan_host(srv.url)  # warm up: imports, GGUF cache in the double
            sequential(srv.url)
            conc, seq = [], []
            for _ in range(args.runs):
                t = time.perf_counter()
                scan = scan_host(srv.url)
                conc.append(time.perf_counter() - t)
                assert len(scan.models) == args.models and not scan.warnings, scan.warnings
                t = time.perf_counter()
                assert sequential(srv.url) == args.models
                seq.append(time.perf_counter() - t)
    c, s = statistics.median(conc), statistics.median(seq)
    print(f"models={args.models} latency={args.latency * 1000:g}ms runs={args.runs}")
    print(f"scan_host (8 workers): median {c:.3f} s  (min {min(conc):.3f}, max {max(conc):.3f})")
    print(f"sequential requests:   median {s:.3f} s  (min {min(seq):.3f}, max {max(seq):.3f})")
    print(f"speed-up: {s / c:.1f}x   targets: scan < 1 s [{'ok' if c < 1 else 'MISSED'}], "
          f">= 3x [{'ok' if s / c >= 3 else 'MISSED'}]")  # fmt: skip


if __name__ == "__main__":
    main()

"""What reading one config of each format costs a fresh process (issue 15 part 1).

    python bench/bench_format_imports.py [--runs 11]

The pre-commit hook is a fresh interpreter per commit, so what matters is
the import cost a format drags in, not the parse itself. For each format a
fresh `python -c` loads `ctxfix.edits.document` (the baseline every format
shares) and then parses one small, typical file of that format; the time
above the baseline is the format's own cost (its backend and the library it
imports). Runs alternate between formats so machine load hits all alike.
Medians over `--runs`; not a test.
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
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

SAMPLES = {
    "json (strict)": ("settings.json", '{"a": {"num_ctx": 8192, "model": "qwen3:8b"}}\n'),
    "jsonc": ("opencode.jsonc", '// c\n{"a": {"num_ctx": 8192,}, /* x */ "m": "q"}\n'),
    "json5 (stdlib scanner)": ("openclaw.json", "{a: {num_ctx: 8192, m: 'q', h: 0x10,},}\n"),
    "json5 (json-five fallback)": ("openclaw.json", "{a: {m: '\\x71', n: 8192}}\n"),
    "yaml (ruamel.yaml)": ("config.yaml", "models:\n  - model: qwen3:8b\n    num_ctx: 8192\n"),
    "toml (tomllib)": ("config.toml", 'model = "qwen3:8b"\nmodel_context_window = 8192\n'),
    "crushrc": ("crushrc", "model add ollama/qwen3:8b --context-window 8192\n", "crushrc"),
}

BASE = "from ctxfix.edits.document import load_document\n"


def _code(name: str, text: str, fmt: str | None = None) -> str:
    return (
        BASE + "from pathlib import Path\n" + f"load_document(Path({name!r}), {text!r}, {fmt!r})\n"
    )


def wall(code: str) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=ENV,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=11)
    args = ap.parse_args()
    cases = {"baseline (document only)": BASE} | {
        label: _code(*sample) for label, sample in SAMPLES.items()
    }
    for code in cases.values():  # warm-up: bytecode caches
        wall(code)
    times: dict[str, list[float]] = {label: [] for label in cases}
    for _ in range(args.runs):
        for label, code in cases.items():
            times[label].append(wall(code))
    base = statistics.median(times["baseline (document only)"])
    print(f"{'format':30} {'median':>9} {'above baseline':>15}")
    for label, ts in times.items():
        med = statistics.median(ts)
        print(f"{label:30} {med * 1000:7.1f}ms {(med - base) * 1000:13.1f}ms")


if __name__ == "__main__":
    main()

"""Loopback Ollama doubles in a process of their own, for bench_server.py and bench_fleet.py.

Why a separate process: a real Ollama is another process (or machine). With
the doubles inside the benchmark's interpreter, their JSON work and the
client's would share one GIL and the concurrent scan would be charged for the
server's CPU. Each double (tests/ollama_server.py) sleeps `latency` seconds at
the start of every request: the network round trip plus Ollama's own work
(manifest, params blob, GGUF header on every /api/show).

    with Doubles([store_a, store_b], latency=0.05) as urls:
        ...

`python bench/_doubles.py LATENCY VERSION STORE...` prints the URLs as one
JSON line and serves until its stdin closes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def build_store(root: Path, n: int, prefix: str = "bench-model") -> Path:
    """`n` models, half qwen3moe and half llama geometry, two thirds with a num_ctx."""
    from ollama_fixtures import LLAMA31_8B, QWEN3_CODER_30B, add_model

    for i in range(n):
        arch = QWEN3_CODER_30B if i % 2 else LLAMA31_8B
        params = {"num_ctx": 4096 * (1 + i % 64), "stop": ["<|im_end|>"]} if i % 3 else None
        add_model(root, f"{prefix}-{i:02d}:latest", arch, params=params)
    return root


def _loop(urls: list[str], show_all) -> int:
    """Per host, with one `ollama.Client` (keep-alive), as a user's script would:
    /api/version, /api/tags, /api/ps, then `show_all(client, models)`."""
    import httpx
    import ollama

    n = 0
    for url in urls:
        c = ollama.Client(host=url, timeout=httpx.Timeout(10, connect=0.5))
        c._request_raw("GET", "/api/version").json()
        tags = c.list()
        c.ps()
        show_all(c, tags.models)
        c._client.close()
        n += len(tags.models)
    return n


def sequential(urls: list[str]) -> int:
    """The comparison: the same requests one after another with the official client."""

    def one_by_one(c, models) -> None:
        for m in models:
            c.show(m.model)

    return _loop(urls, one_by_one)


def threaded(urls: list[str], workers: int = 16) -> int:
    """The issue's reference point: the /api/show calls on a 16-thread pool per host."""
    from concurrent.futures import ThreadPoolExecutor

    def pooled(c, models) -> None:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda m: c.show(m.model), models))

    return _loop(urls, pooled)


def add_python_option(ap) -> None:
    """`--python`: the interpreter whose environment runs the process rows (see cli_scan)."""
    ap.add_argument(
        "--python",
        default=None,
        help="interpreter of another environment (e.g. one made with `pip install .`) whose "
        "`ctxfix` console script runs the process rows (the loop runs there too)",
    )


def cli_scan(
    urls: list[str], cwd: Path, *, hosts_file: bool = False, python: str | None = None
) -> float:
    """Wall time of a whole `ctxfix scan` process against `urls` (JSON out, no files).

    `hosts_file`: name the hosts in a `--hosts-file` instead of `--host` options.
    `python`: the interpreter of another environment (one made with `pip install .`,
    as users install it) whose `ctxfix` console script runs; default: this one's
    `python -m ctxfix` (an editable install pays its import hook on every import).
    """
    import os
    import time

    cmd = [str(Path(python).parent / "ctxfix")] if python else [sys.executable, "-m", "ctxfix"]
    args = [*cmd, "scan", "--no-user", "--no-store", "--isolated"]
    if hosts_file:
        listing = cwd.parent / "hosts.txt"
        listing.write_text("# bench fleet\n" + "\n".join(urls) + "\n", encoding="utf-8")
        args += ["--hosts-file", str(listing)]
    else:
        for u in urls:
            args += ["--host", u]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    t = time.perf_counter()
    r = subprocess.run([*args, "--format", "json", str(cwd)], capture_output=True, env=env)
    elapsed = time.perf_counter() - t
    assert r.returncode in (0, 1), r.stderr.decode()
    return elapsed


def sequential_process(urls: list[str], python: str | None = None) -> float:
    """Wall time of the sequential loop as a fresh process (interpreter + `import ollama`).

    The fair partner of `cli_scan`: both pay start-up and imports, in the same
    environment (`python`, default this one).
    """
    import os
    import time

    code = (
        f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
        f"from _doubles import sequential; sequential({urls!r})"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    t = time.perf_counter()
    subprocess.run([python or sys.executable, "-c", code], check=True, env=env)
    return time.perf_counter() - t


def stats(xs: list[float]) -> str:
    import statistics

    return f"median {statistics.median(xs):.3f} s  (min {min(xs):.3f}, max {max(xs):.3f})"


class Doubles:
    """One child process per store, each serving one double; the URLs while inside `with`.

    One process per host, as in a real fleet: ten doubles in one interpreter
    would serialise the servers' own JSON work on one GIL, and the fleet scan
    would measure that instead of ctxfix.
    """

    def __init__(self, stores: list[Path], latency: float, version: str = "0.12.3") -> None:
        self.argv = [[sys.executable, __file__, str(latency), version, str(s)] for s in stores]
        self.procs: list[subprocess.Popen[str]] = []

    def __enter__(self) -> list[str]:
        for argv in self.argv:
            self.procs.append(
                subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            )
        urls: list[str] = []
        for p in self.procs:
            assert p.stdout is not None
            urls += json.loads(p.stdout.readline())
        return urls

    def __exit__(self, *exc: object) -> None:
        for p in self.procs:
            assert p.stdin is not None
            p.stdin.close()
        for p in self.procs:
            p.wait(timeout=30)


def _serve(latency: float, version: str, stores: list[str]) -> None:
    from ollama_server import OllamaDouble

    doubles = [OllamaDouble(Path(s), version, latency=latency).start() for s in stores]
    print(json.dumps([d.url for d in doubles]), flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    for d in doubles:
        d.stop()


if __name__ == "__main__":
    _serve(float(sys.argv[1]), sys.argv[2], sys.argv[3:])

"""Benchmark: ctxfix's streaming GGUF reader vs gguf-py's GGUFReader on one realistic header.

    python bench/bench_gguf.py [--runs 15] [--oracle-runs 3]

Generates (in a temp dir, deleted afterwards) the header of a Qwen3-Coder-30B
style GGUF: the qwen3moe metadata of fixtures/gen_gguf.py, a 151,936-token
vocabulary (token strings, f32 scores, i32 token types), 151,387 merges and
the 579 tensor infos with real shapes. The file is then extended, sparsely,
to the size its tensor data would occupy (~18.5 GB, no disk used) so that
GGUFReader, which builds a numpy view per tensor, accepts it.

Token strings are synthetic with a length mix like Qwen's byte-level BPE
vocabulary (mostly 1-20 characters, 40% starting with the 2-byte `Ġ` space
marker; every 997th token a whitespace/punctuation run of 16-128 characters,
up to 256 bytes); each merge is a token split in two ("left right"), as BPE
merges relate to the tokens they produce. Both readers parse the same bytes.

Prints medians for: ctxfix `read_geometry` (KV only, what a scan does),
`read_geometry(want_tensors=True)`, the first call in a fresh interpreter
(includes `import` and compiling the skip patterns), and `GGUFReader(path)`.
Targets (issue 2): at least 100x faster than GGUFReader, under 20 ms per header.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "fixtures"))
sys.path.insert(0, str(ROOT))

N_VOCAB = 151_936
N_MERGES = 151_387


def _tokens(rng: random.Random) -> list[str]:
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.,;:()"
    lengths = [1, 2, 3, 3, 4, 4, 5, 5, 5, 6, 6, 6, 7, 7, 8, 8, 9, 10, 11, 12, 14, 16, 20]
    out = []
    for i in range(N_VOCAB):
        if i % 997 == 0:
            n = rng.choice([16, 32, 64, 128])  # long whitespace / punctuation runs
            s = rng.choice(" -=\u0120\u010a") * n
        else:
            n = rng.choice(lengths)
            s = "".join(rng.choice(alphabet) for _ in range(n))
            if rng.random() < 0.4:
                s = "\u0120" + s  # byte-level BPE space marker (2 bytes in UTF-8)
        out.append(s)
    return out


def _merges(rng: random.Random, tokens: list[str]) -> list[str]:
    """One merge per multi-character token, "left right", as BPE merges relate to tokens."""
    out = []
    for tok in tokens:
        if len(tok) >= 2:
            cut = rng.randrange(1, len(tok))
            out.append(f"{tok[:cut]} {tok[cut:]}")
        if len(out) == N_MERGES:
            break
    while len(out) < N_MERGES:  # pad with two-character merges if the vocabulary ran out
        out.append(f"{rng.choice('abc')} {rng.choice('xyz')}")
    return out


def build_header(path: Path) -> None:
    import gen_gguf

    rng = random.Random(151936)
    spec = gen_gguf.MODELS["qwen3-coder:30b"]
    tokens = _tokens(rng)
    kv = dict(spec["kv"])
    kv["tokenizer.ggml.model"] = "gpt2"
    kv["tokenizer.ggml.pre"] = "qwen2"
    kv["tokenizer.ggml.tokens"] = gen_gguf.typed("str", tokens)
    kv["tokenizer.ggml.token_type"] = gen_gguf.typed("i32", [1] * (N_VOCAB - 293) + [3] * 293)
    kv["tokenizer.ggml.scores"] = gen_gguf.typed("f32", [0.0] * N_VOCAB)
    kv["tokenizer.ggml.merges"] = gen_gguf.typed("str", _merges(rng, tokens))
    kv["tokenizer.ggml.eos_token_id"] = 151645
    kv["tokenizer.chat_template"] = "{% for message in messages %}...{% endfor %}" * 40
    gen_gguf.write_gguf(path, spec["arch"], kv, list(spec["tensors"]))
    header = path.stat().st_size
    data = sum(-(-t_bytes // 32) * 32 for t_bytes in _tensor_bytes(spec["tensors"]))
    with open(path, "r+b") as f:
        f.truncate(-(-header // 32) * 32 + data)  # sparse: GGUFReader maps the data region


def _tensor_bytes(tensors: list) -> list[int]:
    from ctxfix.sources.gguf import GGML_TYPE_SIZES

    out = []
    for _name, ne, t in tensors:
        block, size = GGML_TYPE_SIZES[t]
        n = 1
        for d in ne:
            n *= d
        out.append(n * size // block)
    return out


def _median_ms(fn, runs: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--oracle-runs", type=int, default=3)
    args = ap.parse_args()

    from ctxfix.sources.gguf import read_geometry, read_metadata

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "qwen3-coder-30b-header.gguf"
        t = time.perf_counter()
        build_header(path)
        built = time.perf_counter() - t
        meta = read_metadata(path, want_tensors=True)
        kv_end_tensor_count = len(meta.tensors)
        st = os.stat(path)
        print(
            f"file: {st.st_size / 1e9:.2f} GB apparent, {st.st_blocks * 512 / 1e6:.1f} MB on disk,"
            f" {kv_end_tensor_count} tensor infos, built in {built:.1f} s"
        )

        g = read_geometry(path)
        assert (g.context_length, g.block_count, g.head_count_kv) == (262144, 48, (4,) * 48)

        code = (
            "import time; t = time.perf_counter()\n"
            "from pathlib import Path\n"
            "from ctxfix.sources.gguf import read_geometry\n"
            f"read_geometry(Path({str(path)!r}))\n"
            "print((time.perf_counter() - t) * 1000)\n"
        )
        first = [
            float(subprocess.check_output([sys.executable, "-c", code], text=True))
            for _ in range(5)
        ]

        kv_ms, kv_runs = _median_ms(lambda: read_geometry(path), args.runs)
        tens_ms, _ = _median_ms(lambda: read_geometry(path, want_tensors=True), args.runs)

        import gguf

        def oracle() -> None:
            reader = gguf.GGUFReader(path)
            assert reader.fields["qwen3moe.context_length"].contents() == 262144
            assert len(reader.tensors) == kv_end_tensor_count

        oracle_ms, oracle_runs = _median_ms(oracle, args.oracle_runs)

    print(f"ctxfix read_geometry (KV only)        median {kv_ms:8.2f} ms  runs {_fmt(kv_runs)}")
    print(f"ctxfix read_geometry(want_tensors)    median {tens_ms:8.2f} ms")
    print(
        f"ctxfix first call, fresh interpreter  median {statistics.median(first):8.2f} ms"
        f"  runs {_fmt(first)}"
    )
    print(
        f"gguf.GGUFReader(path)                 median {oracle_ms:8.2f} ms"
        f"  runs {_fmt(oracle_runs)}"
    )
    print(
        f"speed-up: {oracle_ms / kv_ms:.0f}x (KV only), {oracle_ms / tens_ms:.0f}x (with tensors)"
    )
    print(f"load average: {os.getloadavg()[0]:.1f}")


def _fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.1f}" for v in values)


if __name__ == "__main__":
    main()

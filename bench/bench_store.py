"""Benchmark: scanning an Ollama model store with a cold vs a warm GGUF digest cache.

    python bench/bench_store.py [--models 50] [--runs 7] [--keep DIR]

Target (issue 2): the second scan of a 50-model store (digest cache warm) takes
at most 1/10 of the first (cache cold). Timed: the whole `scan_store()` call,
median of `--runs` runs; each run uses a fresh cache directory for its cold
scan and then the same directory for its warm scan.

The store is generated under a temp dir (never committed): 40 distinct model
blobs and 10 models created `FROM` one of them with another num_ctx (sharing
the blob, as `ollama create` does). Each blob is a realistic GGUF header: a
qwen3moe KV section with a 151,936-token vocabulary, its token types, 151,387
merges and 579 tensor infos (~5.8 MB, no tensor data), because that is what a
real model blob's header holds and what the cold scan has to walk. The blobs
differ only in `general.name`, so every digest is distinct. Note the cold
scan runs with the blob files in the OS page cache (they were just written),
which makes it faster than a real first scan: the measured ratio is
conservative.

Also printed: reading the 50 cache entries as one small JSON file per digest
vs one JSON file for the whole store, to back the cache layout choice.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "fixtures"))

import gen_stores  # noqa: E402

from ctxfix.cache import DigestCache  # noqa: E402
from ctxfix.sources.store import scan_store  # noqa: E402

NAME_TEMPLATE = "bench-model-{:04d}"
VOCAB = 151_936
MERGES = 151_387


def realistic_header() -> bytes:
    """One qwen3moe header the size of a real one (vocab, merges, 579 tensor infos)."""
    import gguf
    import numpy as np

    q4k = gguf.GGMLQuantizationType.Q4_K
    f32 = gguf.GGMLQuantizationType.F32

    def nbytes(shape: list[int], qtype: gguf.GGMLQuantizationType) -> int:
        block, size = gguf.GGML_QUANT_SIZES[qtype]
        n = 1
        for d in shape:
            n *= d
        return n // block * size

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "h.gguf"
        w = gguf.GGUFWriter(str(path), "qwen3moe")
        w.add_name(NAME_TEMPLATE.format(0))
        w.add_context_length(262144)
        w.add_block_count(48)
        w.add_embedding_length(2048)
        w.add_feed_forward_length(6144)
        w.add_head_count(32)
        w.add_head_count_kv(4)
        w.add_key_length(128)
        w.add_value_length(128)
        w.add_rope_freq_base(10_000_000.0)
        w.add_layer_norm_rms_eps(1e-6)
        w.add_expert_count(128)
        w.add_expert_used_count(8)
        w.add_expert_feed_forward_length(768)
        w.add_file_type(15)
        w.add_tokenizer_model("gpt2")
        w.add_tokenizer_pre("qwen2")
        w.add_token_list([f"tok{i:x}" for i in range(VOCAB)])
        w.add_token_types([1] * VOCAB)
        w.add_token_merges([f"m{i:x} n{i:x}" for i in range(MERGES)])
        w.add_eos_token_id(151645)
        w.add_chat_template("{%- for message in messages %}{{ message.content }}{%- endfor %}")
        tensors: list[tuple[str, list[int], gguf.GGMLQuantizationType]] = [
            ("token_embd.weight", [2048, VOCAB], q4k),
            ("output_norm.weight", [2048], f32),
            ("output.weight", [2048, VOCAB], q4k),
        ]
        for i in range(48):
            tensors += [
                (f"blk.{i}.attn_norm.weight", [2048], f32),
                (f"blk.{i}.attn_q.weight", [2048, 4096], q4k),
                (f"blk.{i}.attn_k.weight", [2048, 512], q4k),
                (f"blk.{i}.attn_v.weight", [2048, 512], q4k),
                (f"blk.{i}.attn_output.weight", [4096, 2048], q4k),
                (f"blk.{i}.attn_q_norm.weight", [128], f32),
                (f"blk.{i}.attn_k_norm.weight", [128], f32),
                (f"blk.{i}.ffn_norm.weight", [2048], f32),
                (f"blk.{i}.ffn_gate_inp.weight", [2048, 128], f32),
                (f"blk.{i}.ffn_gate_exps.weight", [2048, 768, 128], q4k),
                (f"blk.{i}.ffn_up_exps.weight", [2048, 768, 128], q4k),
                (f"blk.{i}.ffn_down_exps.weight", [768, 2048, 128], q4k),
            ]
        for name, shape, qtype in tensors:  # shape in GGUF order (ne0 first)
            block, size = gguf.GGML_QUANT_SIZES[qtype]
            byte_shape = [*reversed(shape[1:]), shape[0] // block * size]
            w.add_tensor_info(name, byte_shape, np.dtype(np.uint8), nbytes(shape, qtype), qtype)
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_ti_data_to_file()
        w.close()
        return path.read_bytes()


def build_bench_store(root: Path, n_models: int) -> None:
    template = realistic_header()
    old = NAME_TEMPLATE.format(0).encode()
    assert template.count(old) == 1
    n_derived = n_models // 5
    models: dict[str, dict] = {}
    for i in range(n_models - n_derived):
        blob = template.replace(old, NAME_TEMPLATE.format(i + 1).encode())
        models[f"bench{i:02d}:30b"] = {
            "gguf": blob,
            "params": {"stop": ["<|im_end|>"], "temperature": 0.7},
            "config": {"model_format": "gguf", "model_family": "qwen3moe"},
        }
    for i in range(n_derived):
        models[f"bench{i:02d}:30b-64k"] = {
            "base": f"bench{i:02d}:30b",
            "params": {"num_ctx": 65536},
        }
    gen_stores.build_store(root, models)


def time_call(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def layout_comparison(cache_dir: Path, tmp: Path) -> tuple[float, float]:
    """Median ms to read all entries: one file per digest vs one file per store."""
    entries = sorted((cache_dir / "gguf").glob("*.json"))
    combined = tmp / "combined.json"
    combined.write_text(json.dumps({p.stem: json.loads(p.read_bytes()) for p in entries}))

    def per_digest() -> None:
        for p in entries:
            json.loads(p.read_bytes())

    def per_store() -> None:
        json.loads(combined.read_bytes())

    a = statistics.median(time_call(per_digest) for _ in range(21))
    b = statistics.median(time_call(per_store) for _ in range(21))
    return a * 1e3, b * 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=int, default=50)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--keep", type=Path, help="build the store here and keep it")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="ctxfix-bench-store-"))
    root = args.keep or tmp / "store"
    try:
        t_build = time_call(lambda: build_bench_store(root, args.models))
        blobs = list((root / "blobs").iterdir())
        blob_mb = sum(p.stat().st_size for p in blobs) / 1e6
        scan = scan_store(root, strict=True)  # uncached, to check the store once
        assert len(scan.models) == args.models and not scan.warnings, scan.warnings
        colds, warms = [], []
        for run in range(args.runs):
            cache_dir = tmp / f"cache{run}"
            colds.append(time_call(lambda c=cache_dir: scan_store(root, cache=DigestCache(c))))
            warm_cache = DigestCache(cache_dir)
            warms.append(time_call(lambda w=warm_cache: scan_store(root, cache=w)))
            assert warm_cache.misses == 0 and warm_cache.hits == args.models
        cold, warm = statistics.median(colds), statistics.median(warms)
        per_digest_ms, per_store_ms = layout_comparison(tmp / "cache0", tmp)

        ms = [round(x * 1e3, 1) for x in colds], [round(x * 1e3, 1) for x in warms]
        verdict = "PASS" if warm * 10 <= cold else "FAIL"
        lines = [
            f"store: {args.models} models, {len(blobs)} blobs, {blob_mb:.0f} MB "
            f"(built in {t_build:.1f} s)",
            f"machine: {cpu_name()}, {os.cpu_count()} CPUs, {platform.platform()}, "
            f"Python {platform.python_version()}",
            f"cold scan (empty cache): median {cold * 1e3:.1f} ms  runs {ms[0]}",
            f"warm scan (cache hit):   median {warm * 1e3:.1f} ms  runs {ms[1]}",
            f"warm / cold = 1/{cold / warm:.1f}  (target: <= 1/10) -> {verdict}",
            f"cache layout, read all entries: one file per digest {per_digest_ms:.2f} ms, "
            f"one file per store {per_store_ms:.2f} ms",
        ]
        print("\n".join(lines))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

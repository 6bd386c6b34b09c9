"""Model geometries the unit tests share (the demo's qwen3-coder:30b, from its GGUF)."""

from __future__ import annotations

from ctxfix.facts import Geometry

GIB = 1024**3

QWEN3_CODER = Geometry(
    arch="qwen3moe",
    context_length=262144,
    block_count=48,
    embedding_length=2048,
    head_count=32,
    head_count_kv=(4,) * 48,
    key_length=128,
    value_length=128,
)
"""48 layers x 4 KV heads x (128 + 128) x 2 bytes = 96 KiB of f16 KV per token."""

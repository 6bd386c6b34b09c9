"""Build small real Ollama stores in tmp dirs, and pytest fixtures for the double.

Why here and not in conftest.py: conftest is shared by every helper; these
helpers are only for the server tests (the lead imports the fixtures into
conftest with `from ollama_fixtures import ollama_store, ollama_double  # noqa: F401`).

A store built here is laid out exactly as Ollama lays it out: a GGUF model
blob written with gguf-py's GGUFWriter (header + one tiny tensor), a config
blob, an optional params blob and a manifest, all as Go's json encoder would
write them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ollama_server import (
    MT_CONFIG,
    MT_PREFIX,
    OllamaDouble,
    Store,
    go_json,
)


@dataclass(frozen=True)
class Arch:
    """GGUF geometry of a fixture model."""

    arch: str = "qwen3moe"
    context_length: int = 262144
    block_count: int = 48
    embedding_length: int = 2048
    head_count: int = 32
    head_count_kv: int | list[int] = 4
    key_length: int | None = 128
    value_length: int | None = 128
    sliding_window: int | None = None
    file_type: int = 15  # Q4_K_M
    vocab: int = 8  # tokenizer.ggml.tokens entries (an array: null in /api/show)


QWEN3_CODER_30B = Arch()
LLAMA31_8B = Arch("llama", 131072, 32, 4096, 32, 8, None, None)
QWEN25_CODER_32B = Arch("qwen2", 32768, 64, 5120, 40, 8, 128, 128)


def write_gguf(path: Path, a: Arch) -> None:
    """A small valid GGUF file: metadata like a real model plus one 4x4 f32 tensor."""
    import numpy as np
    from gguf import GGUFWriter

    path.parent.mkdir(parents=True, exist_ok=True)
    w = GGUFWriter(str(path), a.arch)
    w.add_name(f"{a.arch} fixture")
    w.add_uint32("general.file_type", a.file_type)
    w.add_uint32(f"{a.arch}.context_length", a.context_length)
    w.add_uint32(f"{a.arch}.block_count", a.block_count)
    w.add_uint32(f"{a.arch}.embedding_length", a.embedding_length)
    w.add_uint32(f"{a.arch}.attention.head_count", a.head_count)
    if isinstance(a.head_count_kv, list):
        w.add_array(f"{a.arch}.attention.head_count_kv", a.head_count_kv)
    else:
        w.add_uint32(f"{a.arch}.attention.head_count_kv", a.head_count_kv)
    if a.key_length is not None:
        w.add_uint32(f"{a.arch}.attention.key_length", a.key_length)
    if a.value_length is not None:
        w.add_uint32(f"{a.arch}.attention.value_length", a.value_length)
    if a.sliding_window is not None:
        w.add_uint32(f"{a.arch}.attention.sliding_window", a.sliding_window)
    w.add_string("tokenizer.ggml.model", "gpt2")
    w.add_array("tokenizer.ggml.tokens", [f"t{i}" for i in range(a.vocab)])
    w.add_string("tokenizer.chat_template", "{{ messages }}")
    w.add_tensor("token_embd.weight", np.zeros((4, 4), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


_FILE_TYPES = {15: "Q4_K_M", 7: "Q8_0", 1: "F16"}


def add_model(
    store: Path,
    name: str,
    arch: Arch = QWEN3_CODER_30B,
    *,
    params: Mapping[str, Any] | None = None,
    template: str | None = "{{ .Prompt }}",
    parameter_size: str = "30.5B",
    pad_to: int = 0,
    projector: bool = False,
) -> str:
    """Add one model to the store at `store`; returns the manifest digest (hex).

    `pad_to` appends zero bytes to the GGUF blob so /api/tags reports a
    realistic-looking size without a realistic file.
    """
    st = Store(store)
    tmp = store.parent / ".gguf-src" / f"{arch.arch}-{arch.context_length}-{arch.block_count}.gguf"
    if not tmp.exists():
        write_gguf(tmp, arch)
    data = tmp.read_bytes()
    if pad_to > len(data):
        data += bytes(pad_to - len(data))
    mdg, msize = st.write_blob(data)
    layers: list[dict[str, Any]] = [
        {"mediaType": MT_PREFIX + "model", "digest": mdg, "size": msize}
    ]
    if projector:  # a vision model's mmproj layer (bytes do not matter here)
        dg, size = st.write_blob(b"GGUF mmproj " + name.encode())
        layers.append({"mediaType": MT_PREFIX + "projector", "digest": dg, "size": size})
    if template:
        dg, size = st.write_blob(template.encode())
        layers.append({"mediaType": MT_PREFIX + "template", "digest": dg, "size": size})
    if params:
        dg, size = st.write_blob(go_json(dict(params), sort_keys=True))
        layers.append({"mediaType": MT_PREFIX + "params", "digest": dg, "size": size})
    cfg = {
        "model_format": "gguf",
        "model_family": arch.arch,
        "model_families": [arch.arch],
        "model_type": parameter_size,
        "file_type": _FILE_TYPES.get(arch.file_type, "Q4_K_M"),
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [x["digest"] for x in layers]},
    }
    cdg, csize = st.write_blob(go_json(cfg))
    path = st.write_manifest(name, {"mediaType": MT_CONFIG, "digest": cdg, "size": csize}, layers)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def demo_store(store: Path) -> Path:
    """The motivating case plus neighbours: capped 128k label, no num_ctx, 1e+06 num_ctx."""
    add_model(store, "qwen3-coder:30b", params={"stop": ["<|im_end|>"], "temperature": 0.7})
    add_model(
        store,
        "qwen3-coder:30b-v-128k",
        params={"num_ctx": 131072, "stop": ["<|im_end|>", "<|endoftext|>"], "temperature": 0.7},
    )
    add_model(store, "llama3.1:8b", LLAMA31_8B, parameter_size="8.0B")
    add_model(
        store,
        "qwen2.5-coder:32b-1m",
        QWEN25_CODER_32B,
        params={"num_ctx": 1000000},
        parameter_size="32.8B",
    )
    return store


@pytest.fixture
def ollama_store(tmp_path: Path) -> Path:
    """A small demo store in a tmp dir (see `demo_store`)."""
    return demo_store(tmp_path / "models")


@pytest.fixture
def ollama_double(ollama_store: Path) -> Iterator[OllamaDouble]:
    """A running double over `ollama_store`, version 0.12.3, stopped after the test."""
    with OllamaDouble(ollama_store) as srv:
        yield srv

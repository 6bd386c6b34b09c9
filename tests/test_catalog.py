"""Offline catalog: schema-valid, read without a YAML library, looked up like Ollama names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ctxfix import catalog
from ctxfix.errors import CtxfixError

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "schemas" / "catalog.schema.json"


def test_catalog_is_valid_against_its_schema():
    import jsonschema

    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(catalog.load_raw(), schema)


def test_schema_rejects_an_entry_missing_context_length():
    import jsonschema

    schema = json.loads(SCHEMA.read_text())
    raw = catalog.load_raw()
    del raw["models"][0]["context_length"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(raw, schema)


def test_fast_reader_agrees_with_ruamel_yaml():
    from ruamel.yaml import YAML

    text = catalog.CATALOG_PATH.read_text()
    assert catalog._read_subset(text) == YAML(typ="safe", pure=True).load(text)


def test_text_outside_the_subset_falls_back_to_yaml(tmp_path: Path):
    p = tmp_path / "catalog.yaml"
    p.write_text("version: 1\nmodels:\n  - {model: x, tags: [a], ratio: 1.5}\n")
    assert catalog.load_raw(p) == {
        "version": 1,
        "models": [{"model": "x", "tags": ["a"], "ratio": 1.5}],
    }


def test_missing_catalog_file_is_a_one_line_error(tmp_path: Path):
    with pytest.raises(CtxfixError) as exc:
        catalog.load_raw(tmp_path / "nope.yaml")
    assert exc.value.where == str(tmp_path / "nope.yaml")


def test_reference_models_table_is_covered():
    # REFERENCE.md "KV cache" table: (name, arch, native, layers, kv heads, head dim)
    table = [
        ("qwen3-coder:30b", "qwen3moe", 262144, 48, 4, 128),
        ("llama3.1:8b", "llama", 131072, 32, 8, 128),
        ("llama3.3:70b", "llama", 131072, 80, 8, 128),
        ("qwen2.5-coder:32b", "qwen2", 32768, 64, 8, 128),
        ("gpt-oss:20b", "gptoss", 131072, 24, 8, 64),
        ("gemma3:27b", "gemma3", 131072, 62, 16, 128),
        ("devstral", "llama", 131072, 40, 8, 128),
        ("deepseek-r1:7b", "qwen2", 131072, 28, 4, 128),
        ("glm-4.5-air", "glm4moe", 131072, 47, 8, 128),
    ]
    for name, arch, native, layers, kv, head in table:
        entry = catalog.lookup(name)
        assert entry is not None, name
        g = entry.geometry
        assert (g.arch, g.context_length, g.block_count) == (arch, native, layers), name
        assert g.head_count_kv == (kv,) * layers, name
        assert g.key_length == g.value_length == head, name


def test_motivating_model_kv_bytes_per_token_is_96_kib():
    g = catalog.lookup("qwen3-coder:30b").geometry
    per_token = sum(kv * (g.key_length + g.value_length) * 2 for kv in g.head_count_kv)
    assert per_token == 96 * 1024


@pytest.mark.parametrize(
    "name",
    [
        "qwen3-coder:30b",
        "qwen3-coder",
        "qwen3-coder:latest",
        "Qwen3-Coder:30B",
        "ollama/qwen3-coder:30b",
        "ollama_chat/qwen3-coder:30b-a3b-q4_K_M",
        "registry.ollama.ai/library/qwen3-coder:30b",
        "library/qwen3-coder:30b-a3b-fp16",
    ],
)
def test_lookup_accepts_every_spelling_of_a_library_name(name: str):
    entry = catalog.lookup(name)
    assert entry is not None and entry.model == "qwen3-coder"


@pytest.mark.parametrize(
    "name",
    [
        "ollama/Qwen3-Coder:30b-v-128k",  # a custom tag: its num_ctx/geometry are not the catalog's
        "qwen3-coder:480b",  # another size
        "hf.co/unsloth/Qwen3-Coder-30B-A3B-Instruct-GGUF:Q4_K_M",  # another host
        "someone/qwen3-coder:30b",  # another namespace
        "qwen2.5-coder:latest",  # latest is 7b, not in the catalog
        "no-such-model:1b",
    ],
)
def test_lookup_rejects_names_no_pattern_covers(name: str):
    assert catalog.lookup(name) is None


def test_sliding_window_patterns_expand_per_layer():
    gemma = catalog.lookup("gemma3:27b").geometry
    assert gemma.sliding_window == 1024
    assert len(gemma.sliding_window_pattern) == 62
    assert gemma.sliding_window_pattern.count(False) == 10  # global layers: 6, 12, ... 60
    gpt = catalog.lookup("gpt-oss:20b").geometry
    assert gpt.sliding_window_pattern[:4] == (True, False, True, False)
    assert gpt.sliding_window_pattern.count(False) == 12


def test_entries_have_sources_and_weights_are_plausible():
    for e in catalog.entries():
        assert e.source.startswith("https://")
        if e.weights_bytes is not None:
            assert 10**8 < e.weights_bytes < 10**12


def test_catalog_loads_once_per_process():
    assert catalog.entries() is catalog.entries()

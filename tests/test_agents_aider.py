"""Aider reader: three files joined by model name, each model anchored once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ctxfix.errors import CtxfixError
from ctxfix.facts import Location
from ctxfix.sources.agents import aider

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "fixtures/configs/aider"
SETTINGS, METADATA, CONF = (FIX / n for n in aider.FILE_NAMES)


def test_settings_file_joins_metadata_and_conf() -> None:
    q25, q3 = aider.read(SETTINGS)
    assert q25.model_ref.value == "ollama_chat/qwen2.5-coder:32b"
    assert q25.model_ref.location == Location(str(SETTINGS), 6, 9, "[1].name")
    assert (q25.model, q25.api, q25.host) == (
        "qwen2.5-coder:32b",
        "native",
        "http://127.0.0.1:11434",
    )
    assert (q25.num_ctx.value, q25.num_ctx.location.line) == (65536, 10)
    # window and output cap come from the sibling metadata file, with its own location
    assert q25.context_window.location == Location(
        str(METADATA), 4, 29, "ollama_chat/qwen2.5-coder:32b.max_input_tokens"
    )
    assert (q25.context_window.value, q25.max_tokens.value) == (32768, 8192)
    # timeout from .aider.conf.yml
    assert q25.timeout_s.location == Location(str(CONF), 5, 10, "timeout")
    assert q25.timeout_s.value == 300.0
    # edits stay in the anchor file
    assert q25.edit_paths == {
        "model_ref": (1, "name"),
        "num_ctx": (1, "extra_params", "num_ctx"),
        "timeout": (1, "extra_params", "timeout"),
    }
    assert q3.model == "qwen3-coder:30b"
    assert (q3.num_ctx.value, q3.timeout_s.value) == (131072, 900.0)  # extra_params.timeout wins
    assert q3.context_window is None


def test_metadata_and_conf_only_report_models_not_anchored_elsewhere() -> None:
    (dev,) = aider.read(METADATA)
    assert dev.model == "devstral:24b"
    assert dev.model_ref.location.line == 11
    # aider/extra_params applies to every model
    assert (dev.num_ctx.value, dev.num_ctx.location.key) == (16384, "[0].extra_params.num_ctx")
    assert dev.edit_paths["context_window"] == ("ollama_chat/devstral:24b", "max_input_tokens")
    (weak,) = aider.read(CONF)
    assert (weak.model, weak.model_ref.location.key) == ("llama3.2:3b", "weak-model")
    assert weak.edit_paths == {"model_ref": ("weak-model",), "timeout": ("timeout",)}


def test_lone_settings_file_gets_the_default_timeout_and_auto_num_ctx(tmp_path: Path) -> None:
    p = tmp_path / aider.SETTINGS
    p.write_text("- name: ollama/llama3.1:8b\n  edit_format: whole\n")
    (b,) = aider.read(p)
    assert b.num_ctx is None  # Aider sizes num_ctx per request
    assert (b.timeout_s.value, b.timeout_s.source) == (600.0, "default")
    assert b.host == "http://localhost:11434"


def test_inline_ignore(tmp_path: Path) -> None:
    for f in (SETTINGS, METADATA):
        shutil.copy(f, tmp_path / f.name)
    conf = tmp_path / aider.CONF
    conf.write_text("model: ollama_chat/mistral:7b  # ctxfix: ignore[CTX202, ctx301]\n")
    (b,) = aider.read(conf)
    assert b.suppressed == frozenset({"CTX202", "CTX301"})


def test_detect_and_malformed() -> None:
    assert not aider.detect(SETTINGS, {"model": "x"})
    assert aider.read(Path(aider.SETTINGS), "model: x\n") == []
    with pytest.raises(CtxfixError) as err:
        aider.read(Path(aider.METADATA), '{\n  "ollama/x": {"max_input_tokens": 1,,}\n}\n')
    assert err.value.where.startswith(".aider.model.metadata.json:2:")


def test_user_paths() -> None:
    assert aider.user_paths({}, Path("/h")) == [Path("/h") / n for n in aider.FILE_NAMES]

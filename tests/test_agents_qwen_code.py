"""Qwen Code settings.json reader: modelProviders entries and the runtime model."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctxfix.errors import CtxfixError
from ctxfix.sources.agents import qwen_code

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "configs" / "qwen-code"
MAIN = FIX / "settings.json"


def test_only_ollama_provider_entries_become_bindings():
    got = [b.model for b in qwen_code.read(MAIN)]
    assert got == ["qwen3-coder:30b", "gpt-oss:20b"]  # gpt-4o is OpenAI's


def test_provider_entry_values_and_locations():
    b = qwen_code.read(MAIN)[0]
    assert (b.agent, b.api, b.host, b.format) == (
        "qwen-code",
        "openai",
        "http://localhost:11434/v1",
        "jsonc",
    )
    assert (b.model_ref.location.line, b.model_ref.location.col) == (8, 15)
    assert (b.context_window.value, b.context_window.location.line) == (32768, 15)
    assert (
        b.context_window.location.key
        == "modelProviders.openai[0].generationConfig.contextWindowSize"
    )
    assert (b.max_tokens.value, b.max_tokens.location.line) == (8192, 19)
    # 300000 ms -> 300 s
    assert (b.timeout_s.value, b.timeout_s.location.line, b.timeout_unit_s) == (300.0, 13, 0.001)
    assert b.num_ctx is None
    gen = ("modelProviders", "openai", 0, "generationConfig")
    assert b.edit_paths == {
        "model_ref": ("modelProviders", "openai", 0, "id"),
        "context_window": (*gen, "contextWindowSize"),
        "max_tokens": (*gen, "samplingParams", "max_tokens"),
        "timeout": (*gen, "timeout"),
    }


def test_entry_without_generation_config_is_insertable():
    b = qwen_code.read(MAIN)[1]
    assert (b.model, b.host) == ("gpt-oss:20b", "http://127.0.0.1:11434/v1")
    assert b.context_window is None and b.timeout_s is None
    assert b.edit_paths["context_window"] == (
        "modelProviders",
        "openai",
        1,
        "generationConfig",
        "contextWindowSize",
    )


def test_runtime_model_from_settings_env_block():
    path = FIX / "runtime" / ".qwen" / "settings.json"
    (b,) = qwen_code.read(path)
    assert (b.model, b.host, b.api) == ("qwen2.5-coder:32b", "http://localhost:11434/v1", "openai")
    assert b.model_ref.location.key == "env.OPENAI_MODEL"
    assert (b.context_window.value, b.context_window.location.line) == (131072, 13)
    assert (b.timeout_s.value, b.max_tokens.value) == (120.0, 4096)
    assert b.edit_paths["context_window"] == ("model", "generationConfig", "contextWindowSize")


def test_runtime_model_from_security_auth_base_url():
    text = """{
  "security": { "auth": { "selectedType": "openai", "baseUrl": "http://box:11434/v1" } },
  "model": { "name": "devstral:24b" }
}"""
    (b,) = qwen_code.read(MAIN, text)
    assert (b.model, b.host, b.model_ref.location.key) == (
        "devstral:24b",
        "http://box:11434/v1",
        "model.name",
    )
    assert b.context_window is None


def test_selected_provider_model_is_not_reported_twice():
    text = """{
  "modelProviders": { "openai": [
    { "id": "qwen3:8b", "envKey": "K", "baseUrl": "http://localhost:11434/v1" } ] },
  "model": { "name": "qwen3:8b" },
  "env": { "OPENAI_BASE_URL": "http://localhost:11434/v1" }
}"""
    assert [b.model_ref.location.key for b in qwen_code.read(MAIN, text)] == [
        "modelProviders.openai[0].id"
    ]


def test_zed_settings_json_is_not_qwen_code():
    assert qwen_code.read(FIX / "not-qwen" / "settings.json") == []


def test_user_paths():
    assert qwen_code.user_paths({}, Path("/home/u")) == [Path("/home/u/.qwen/settings.json")]


def test_malformed_jsonc_names_file_line_and_column():
    with pytest.raises(CtxfixError) as exc:
        qwen_code.read(MAIN, '{\n  // c\n  "model": {"name": "x",,}\n}\n')
    assert exc.value.where == f"{MAIN}:3:24"


def test_wrong_shape_is_an_error():
    with pytest.raises(CtxfixError) as exc:
        qwen_code.read(MAIN, '{"modelProviders": {"openai": {"id": "x"}}}')
    assert exc.value.where == f"{MAIN}:1:31"

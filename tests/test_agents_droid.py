"""Factory Droid customModels: what `ollama launch droid` writes (no window at all)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ctxfix.errors import CtxfixError
from ctxfix.sources.agents import droid

SETTINGS = Path(__file__).resolve().parent.parent / "fixtures/configs/droid/.factory/settings.json"


def test_launchs_entries_are_bindings_without_a_window():
    got = {b.model: b for b in droid.read(SETTINGS)}
    assert sorted(got) == ["gpt-oss:20b", "qwen3-coder:30b"]  # OpenRouter's is not Ollama's
    b = got["qwen3-coder:30b"]
    assert (b.agent, b.api, b.host) == ("droid", "openai", "http://127.0.0.1:11434/v1")
    assert (b.context_window, b.num_ctx, b.timeout_s) == (None, None, None)
    assert b.max_tokens.value == 64000
    assert b.edit_paths == {"model_ref": ("customModels", 0, "model")}
    assert b.pinned  # apiKey "ollama": launch rewrites it


def test_legacy_config_json_in_snake_case(tmp_path):
    text = json.dumps(
        {
            "custom_models": [
                {
                    "model": "qwen3-coder",
                    "base_url": "http://localhost:11434/v1/",
                    "api_key": "not-needed",
                    "provider": "generic-chat-completion-api",
                    "max_tokens": 32000,
                }
            ]
        }
    )
    (b,) = droid.read(tmp_path / "config.json", text)
    assert (b.model, b.max_tokens.value, b.pinned) == ("qwen3-coder:latest", 32000, None)


def test_user_paths(tmp_path):
    assert droid.user_paths({}, tmp_path)[0] == tmp_path / ".factory" / "settings.json"


@pytest.mark.parametrize(
    "text", ["{}", "[]", '{"customModels": []}', '{"custom_models": [1, "a"]}', '{"env": {}}']
)
def test_other_json_is_not_droids(tmp_path, text):
    assert droid.read(tmp_path / "settings.json", text) == []


def test_custom_models_that_are_not_a_list_name_the_file(tmp_path):
    with pytest.raises(CtxfixError) as e:
        droid.read(tmp_path / "settings.json", '{"customModels": {"model": "a"}}')
    assert "settings.json:1:" in str(e.value)

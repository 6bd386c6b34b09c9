"""DeepSeek Harness settings.yaml that `ollama launch dsh` writes (the native context)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctxfix.errors import CtxfixError
from ctxfix.sources.agents import dsh

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "configs" / "dsh"
SETTINGS = FIX / ".ollama" / "launch" / "dsh" / "settings.yaml"


def by_model(bindings):
    return {b.model: b for b in bindings}


def test_every_model_of_the_launch_provider_is_a_binding():
    got = by_model(dsh.read(SETTINGS))
    assert sorted(got) == ["gpt-oss:20b", "qwen3-coder:30b"]
    b = got["qwen3-coder:30b"]
    assert (b.agent, b.api, b.host, b.num_ctx, b.timeout_s) == (
        "dsh",
        "openai",
        "http://127.0.0.1:11434/v1",
        None,
        None,
    )
    assert (b.context_window.value, b.context_window.location.line) == (262144, 12)
    assert b.written_by == "ollama launch"  # apiKeyEnv OLLAMA_LAUNCH_DSH_API_KEY
    # agent-default-model.model and web-search-deepseek.model name it too
    assert len([r for r in b.refs if r.text == "qwen3-coder:30b"]) >= 3
    assert b.pinned


def test_unset_window_stays_unset_and_is_not_launchs(tmp_path):
    text = (
        "llm-pi-ai:\n  providers:\n    ollama:\n      baseURL: http://127.0.0.1:11434/v1\n"
        "      models:\n        - id: llama3.1:8b\n        - just-a-string\n"
    )
    (b,) = dsh.read(tmp_path / "settings.yaml", text)
    assert b.context_window is None
    assert b.written_by is None


def test_user_path_is_under_ollamas_launch_dir(tmp_path):
    assert dsh.user_paths({}, tmp_path) == [tmp_path / ".ollama/launch/dsh/settings.yaml"]


@pytest.mark.parametrize(
    "text", ["", "- a\n", "llm-pi-ai: 1\n", "llm-pi-ai:\n  providers: [a]\n", "model: x\n"]
)
def test_other_settings_yaml_is_not_dshs(tmp_path, text):
    assert dsh.read(tmp_path / "settings.yaml", text) == []


def test_models_that_are_not_a_list_name_the_file_and_line(tmp_path):
    text = "llm-pi-ai:\n  providers:\n    ollama:\n      models: 3\n"
    with pytest.raises(CtxfixError) as e:
        dsh.read(tmp_path / "settings.yaml", text)
    assert "settings.yaml:4:" in str(e.value)

"""Oh My Pi models.yml reader, and the window `ollama launch omp` writes (the native context)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctxfix.errors import CtxfixError
from ctxfix.sources.agents import omp

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "configs" / "omp" / ".omp" / "agent"
MODELS = FIX / "models.yml"


def by_model(bindings):
    return {b.model: b for b in bindings}


def test_models_of_the_launch_provider_are_bindings_marked_as_launchs():
    got = by_model(omp.read(MODELS))
    assert sorted(got) == ["gpt-oss:20b", "qwen3-coder:30b"]  # LM Studio's is not Ollama's
    b = got["qwen3-coder:30b"]
    assert (b.agent, b.api, b.host, b.num_ctx, b.timeout_s) == (
        "omp",
        "openai",
        "http://127.0.0.1:11434/v1",
        None,
        None,
    )
    assert (b.context_window.value, b.context_window.location.line) == (262144, 16)
    assert b.edit_paths["context_window"] == ("providers", "ollama", "models", 0, "contextWindow")
    assert b.written_by == "ollama launch"  # discovery: {type: ollama}, auth: none, responses
    assert b.max_tokens.source == "default"
    assert b.pinned


def test_a_users_own_ollama_provider_is_not_launchs_and_defaults_apply(tmp_path):
    text = (
        "providers:\n  ollama:\n    baseUrl: http://localhost:11434/v1\n"
        "    api: openai-completions\n    apiKey: ollama\n    models:\n      - id: llama3.1:8b\n"
    )
    (b,) = omp.read(tmp_path / "models.yml", text)
    assert (b.context_window.value, b.context_window.source) == (128000, "default")
    assert (b.max_tokens.value, b.max_tokens.source) == (16384, "default")
    assert b.written_by is None


def test_user_paths_follow_omps_environment(tmp_path):
    home = tmp_path / "home"
    assert omp.user_paths({}, home) == [home / ".omp" / "agent" / "models.yml"]
    assert omp.user_paths({"PI_CONFIG_DIR": ".pi2"}, home) == [home / ".pi2/agent/models.yml"]
    assert omp.user_paths({"PI_CONFIG_DIR": str(tmp_path / "c")}, home) == [
        tmp_path / "c" / "agent" / "models.yml"
    ]
    assert omp.user_paths({"PI_CODING_AGENT_DIR": str(tmp_path / "a")}, home) == [
        tmp_path / "a" / "models.yml"
    ]


@pytest.mark.parametrize(
    "text",
    ["", "- a\n", "providers: [1]\n", "providers:\n  ollama: 3\n", "models: {}\n"],
)
def test_other_yaml_is_not_omps(tmp_path, text):
    assert omp.read(tmp_path / "models.yml", text) == []


def test_models_that_are_not_a_list_name_the_file_and_line(tmp_path):
    text = "providers:\n  ollama:\n    baseUrl: http://x:11434/v1\n    models: {id: a}\n"
    with pytest.raises(CtxfixError) as e:
        omp.read(tmp_path / "models.yml", text)
    assert "models.yml:4:" in str(e.value)

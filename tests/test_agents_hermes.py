"""Hermes Agent config.yaml reader: the default model on an Ollama base URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctxfix.errors import CtxfixError
from ctxfix.sources.agents import continue_dev, goose, hermes, litellm

CONFIGS = Path(__file__).resolve().parent.parent / "fixtures" / "configs"
MAIN = CONFIGS / "hermes" / ".hermes" / "config.yaml"
LAUNCH = CONFIGS / "hermes" / "launch" / ".hermes" / "config.yaml"


def test_default_model_window_num_ctx_and_timeout():
    (b,) = hermes.read(MAIN)
    assert (b.agent, b.model, b.api, b.host) == (
        "hermes",
        "qwen3-coder:30b",
        "openai",
        "http://localhost:11434/v1",
    )
    assert (b.context_window.value, b.context_window.location.line) == (131072, 6)
    # sent in extra_body.options on /v1: Ollama ignores it (CTX204)
    assert (b.num_ctx.value, b.num_ctx.location.key) == (131072, "model.ollama_num_ctx")
    assert (b.timeout_s.value, b.timeout_s.location.line) == (300.0, 11)
    assert b.edit_paths["timeout"] == ("providers", "custom", "request_timeout_seconds")


def test_smaller_num_ctx_is_the_window_hermes_compresses_at():
    text = MAIN.read_text().replace("ollama_num_ctx: 131072", "ollama_num_ctx: 65536")
    (b,) = hermes.read(MAIN, text)
    assert (b.context_window.value, b.context_window.location.key) == (
        65536,
        "model.ollama_num_ctx",
    )
    assert b.edit_paths["context_window"] == ("model", "ollama_num_ctx")


def test_what_ollama_launch_writes_has_no_window_and_the_default_timeout():
    (b,) = hermes.read(LAUNCH)
    assert (b.model, b.host) == ("gpt-oss:20b", "http://127.0.0.1:11434/v1")
    assert b.context_window is None and b.num_ctx is None
    assert b.window_native  # Hermes probes /api/show and plans with the native context
    assert (b.timeout_s.value, b.timeout_s.source) == (1800.0, "default")
    assert b.edit_paths["timeout"] == ("providers", "ollama-launch", "request_timeout_seconds")


def test_per_model_timeout_wins(tmp_path):
    text = (
        'model:\n  default: "llama3.1:8b"\n  base_url: "http://localhost:11434/v1"\n'
        "providers:\n  custom:\n    request_timeout_seconds: 300\n"
        '    models:\n      "llama3.1:8b":\n        timeout_seconds: 900\n'
        "terminal:\n  backend: local\n"
    )
    (b,) = hermes.read(tmp_path / "config.yaml", text)
    assert (b.timeout_s.value, b.timeout_s.location.line) == (900.0, 9)


def test_cloud_model_is_no_binding_and_other_config_yaml_are_not_hermes():
    text = MAIN.read_text().replace("http://localhost:11434/v1", "https://openrouter.ai/api/v1")
    assert hermes.read(MAIN, text) == []
    for other in ("goose/config.yaml", "continue/config.yaml", "litellm/config.yaml"):
        assert hermes.read(CONFIGS / other) == []
    for mod in (goose, continue_dev, litellm):
        assert mod.read(MAIN) == []


def test_wrong_shape_names_file_and_position(tmp_path):
    path = tmp_path / ".hermes" / "config.yaml"
    text = 'model:\n  default: "x:1b"\n  base_url: "http://localhost:11434/v1"\nproviders: 3\n'
    with pytest.raises(CtxfixError) as exc:
        hermes.read(path, text)
    assert exc.value.where == f"{path}:4:12"


def test_user_paths_honour_hermes_home(tmp_path):
    assert hermes.user_paths({}, tmp_path) == [tmp_path / ".hermes" / "config.yaml"]
    assert hermes.user_paths({"HERMES_HOME": "/srv/h"}, tmp_path) == [Path("/srv/h/config.yaml")]
    assert hermes.user_paths({"LOCALAPPDATA": "/w"}, tmp_path)[1] == Path("/w/hermes/config.yaml")

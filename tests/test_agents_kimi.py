"""Kimi Code CLI config.toml reader: models served by an Ollama provider."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctxfix.errors import CtxfixError
from ctxfix.sources.agents import codex, kimi

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "configs" / "kimi" / ".kimi"
MAIN = FIX / "config.toml"


def test_models_of_the_ollama_provider_become_bindings():
    coder, reasoner = kimi.read(MAIN)  # the kimi-for-coding cloud model is not Ollama's
    assert (coder.agent, coder.model, coder.api, coder.host) == (
        "kimi",
        "qwen3-coder:30b",
        "openai",
        "http://localhost:11434/v1",
    )
    assert (coder.model_ref.location.line, coder.model_ref.location.col) == (21, 9)
    assert (coder.context_window.value, coder.context_window.location.line) == (262144, 22)
    assert coder.edit_paths == {
        "model_ref": ("models", "local-coder", "model"),
        "context_window": ("models", "local-coder", "max_context_size"),
    }
    assert (coder.num_ctx, coder.timeout_s, coder.pinned) == (None, None, None)
    assert (reasoner.model, reasoner.context_window.value) == ("gpt-oss:20b", 131072)


def test_anthropic_provider_type_is_the_anthropic_api():
    text = (
        '[providers.local]\ntype = "anthropic"\nbase_url = "http://127.0.0.1:11434"\n'
        'api_key = "x"\n\n[models.m]\nprovider = "local"\nmodel = "llama3.1:8b"\n'
        "max_context_size = 32768\n"
    )
    (b,) = kimi.read(FIX / "config.toml", text)
    assert (b.api, b.model, b.context_window.value) == ("anthropic", "llama3.1:8b", 32768)


def test_codex_and_kimi_tell_their_config_toml_apart():
    assert codex.read(MAIN) == []
    codex_fix = FIX.parent.parent / "codex" / "config.toml"
    assert kimi.read(codex_fix) == []
    assert kimi.read(FIX.parent.parent / "openhands" / "config.toml") == []


def test_wrong_shape_names_file_and_position():
    text = 'models = "local"\n\n[providers.p]\ntype = "kimi"\nbase_url = "x"\n'
    with pytest.raises(CtxfixError) as exc:
        kimi.read(FIX / "config.toml", text)
    assert exc.value.where == f"{FIX / 'config.toml'}:1:10"


def test_user_paths_honour_kimi_share_dir(tmp_path):
    assert kimi.user_paths({}, tmp_path) == [tmp_path / ".kimi" / "config.toml"]
    assert kimi.user_paths({"KIMI_SHARE_DIR": "/srv/kimi"}, tmp_path) == [
        Path("/srv/kimi/config.toml")
    ]


def test_a_provider_that_is_not_a_name_is_no_binding_and_no_crash(tmp_path):
    text = (
        '[providers.ollama]\ntype = "openai_legacy"\nbase_url = "http://localhost:11434/v1"\n'
        '[models.a]\nprovider = []\nmodel = "qwen3-coder:30b"\nmax_context_size = 262144\n'
    )
    assert kimi.read(tmp_path / "config.toml", text) == []

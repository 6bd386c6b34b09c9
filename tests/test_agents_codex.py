"""Codex CLI config.toml reader: root settings, profiles, built-in provider."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctxfix.errors import CtxfixError
from ctxfix.sources.agents import codex

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "configs" / "codex"
MAIN = FIX / "config.toml"


def by_key(bindings):
    return {b.model_ref.location.key: b for b in bindings}


def test_root_and_ollama_profiles_become_bindings():
    got = by_key(codex.read(MAIN))
    # profiles.mistral uses a cloud provider: no binding
    assert sorted(got) == ["model", "profiles.big.model", "profiles.fast.model"]


def test_root_binding_values_and_locations():
    b = by_key(codex.read(MAIN))["model"]
    assert (b.agent, b.model, b.api, b.format) == ("codex", "qwen3-coder:30b", "openai", "toml")
    assert b.host == "http://localhost:11434/v1"
    assert (b.model_ref.location.line, b.model_ref.location.col) == (4, 9)
    assert b.context_window.value == 32768
    assert (b.context_window.location.line, b.context_window.location.key) == (
        6,
        "model_context_window",
    )
    assert b.num_ctx is None and b.max_tokens is None
    # 300000 ms -> 300 s
    assert b.timeout_s.value == 300.0 and b.timeout_unit_s == 0.001
    assert b.timeout_s.location.line == 15
    assert b.edit_paths == {
        "model_ref": ("model",),
        "context_window": ("model_context_window",),
        "max_tokens": ("model_max_output_tokens",),
        "timeout": ("model_providers", "ollama", "stream_idle_timeout_ms"),
    }


def test_user_table_named_ollama_carries_a_note():
    b = by_key(codex.read(MAIN))["model"]
    assert "built-in 'ollama' provider" in b.timeout_s.note


def test_profile_with_own_provider_window_and_output_cap():
    b = by_key(codex.read(MAIN))["profiles.big.model"]
    assert b.model == "qwen3-coder:30b-262k"
    assert b.host == "http://192.168.1.20:11434/v1"
    assert (b.context_window.value, b.context_window.location.line) == (262144, 32)
    assert b.context_window.location.key == "profiles.big.model_context_window"
    assert (b.max_tokens.value, b.max_tokens.location.line) == (16384, 33)
    # 600_000 ms (TOML underscores) -> 600 s, no note for a custom provider id
    assert (b.timeout_s.value, b.timeout_s.location.line, b.timeout_s.note) == (600.0, 21, "")
    assert b.edit_paths["context_window"] == ("profiles", "big", "model_context_window")
    assert b.edit_paths["timeout"] == ("model_providers", "gpu-box", "stream_idle_timeout_ms")


def test_profile_inherits_root_values_but_edits_go_into_the_profile():
    b = by_key(codex.read(MAIN))["profiles.fast.model"]
    assert b.model == "gpt-oss:20b"
    assert b.host == "http://localhost:11434/v1"
    # the window it plans with is the root one ...
    assert (b.context_window.value, b.context_window.location.key) == (
        32768,
        "model_context_window",
    )
    # ... but a fix is written into the active profile only
    assert b.edit_paths["context_window"] == ("profiles", "fast", "model_context_window")
    assert b.edit_paths["max_tokens"] == ("profiles", "fast", "model_max_output_tokens")


def test_builtin_ollama_provider_defaults():
    (b,) = codex.read(FIX / "builtin" / "config.toml")
    assert (b.model, b.host, b.api) == ("devstral:24b", "http://localhost:11434/v1", "openai")
    assert b.context_window is None
    assert (b.timeout_s.value, b.timeout_s.source) == (300.0, "default")
    # the built-in provider's timeout cannot be configured: nothing to edit
    assert "timeout" not in b.edit_paths
    assert b.edit_paths["context_window"] == ("model_context_window",)


def test_cloud_provider_gives_no_binding():
    assert codex.read(FIX / "x.toml", 'model = "gpt-5-codex"\nmodel_provider = "openai"\n') == []


def test_custom_provider_on_port_11434_is_ollama():
    text = (
        'model = "llama3.1:8b"\nmodel_provider = "box"\n\n'
        '[model_providers.box]\nname = "LAN"\nbase_url = "http://10.0.0.5:11434/v1"\n'
    )
    (b,) = codex.read(FIX / "config.toml", text)
    assert (b.model, b.host) == ("llama3.1:8b", "http://10.0.0.5:11434/v1")
    assert (b.timeout_s.source, b.edit_paths["timeout"]) == (
        "default",
        ("model_providers", "box", "stream_idle_timeout_ms"),
    )


def test_inline_ignore_comment_suppresses_codes():
    text = '# ctxfix: ignore[CTX202, ctx301]\nmodel = "qwen3:8b"\nmodel_provider = "ollama"\n'
    (b,) = codex.read(FIX / "config.toml", text)
    assert b.suppressed == frozenset({"CTX202", "CTX301"})


def test_cargo_config_toml_is_not_codex():
    path = FIX / "cargo" / ".cargo" / "config.toml"
    from ctxfix.edits.document import load_document

    assert not codex.detect(path, load_document(path).data)
    assert codex.read(path) == []


def test_user_paths_honour_codex_home(tmp_path):
    assert codex.user_paths({}, tmp_path) == [tmp_path / ".codex" / "config.toml"]
    assert codex.user_paths({"CODEX_HOME": "/srv/codex"}, tmp_path) == [
        Path("/srv/codex/config.toml")
    ]


def test_malformed_toml_names_file_line_and_column():
    text = 'model = "x"\nmodel_provider = "ollama"\n[profiles.big\nmodel = 1\n'
    with pytest.raises(CtxfixError) as exc:
        codex.read(FIX / "config.toml", text)
    assert exc.value.where == f"{FIX / 'config.toml'}:3:14"


def test_wrong_shape_is_an_error_with_location():
    with pytest.raises(CtxfixError) as exc:
        codex.read(FIX / "config.toml", 'model_providers = "ollama"\n')
    assert exc.value.where == f"{FIX / 'config.toml'}:1:19"
    assert "must be a table" in exc.value.problem


def test_openhands_config_toml_is_not_codex():
    path = FIX.parent / "openhands" / "config.toml"
    assert codex.read(path) == []

"""OpenHands config.toml reader: [llm] and inheriting [llm.<name>] groups."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctxfix.errors import CtxfixError
from ctxfix.sources.agents import openhands

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "configs"
MAIN = FIX / "openhands" / "config.toml"


def by_key(bindings):
    return {b.model_ref.location.key: b for b in bindings}


def test_groups_that_use_ollama_become_bindings():
    got = by_key(openhands.read(MAIN))
    # [llm.creative] only changes temperature (same binding as [llm]);
    # [llm.claude] is Anthropic: neither produces a binding
    assert list(got) == ["llm.model", "llm.qwen-big.model", "llm.draft_editor.model"]


def test_base_llm_binding_native_api():
    b = by_key(openhands.read(MAIN))["llm.model"]
    assert (b.agent, b.model, b.api, b.host) == (
        "openhands",
        "devstral:24b",
        "native",
        "http://localhost:11434",
    )
    assert b.model_ref.value == "ollama/devstral:24b"
    assert (b.context_window.value, b.context_window.location.line) == (32768, 17)
    assert (b.max_tokens.value, b.max_tokens.location.line) == (4096, 18)
    assert (b.timeout_s.value, b.timeout_s.location.line, b.timeout_unit_s) == (300.0, 20, 1.0)
    assert b.num_ctx is None
    assert b.edit_paths == {
        "model_ref": ("llm", "model"),
        "context_window": ("llm", "max_input_tokens"),
        "max_tokens": ("llm", "max_output_tokens"),
        "timeout": ("llm", "timeout"),
    }


def test_openai_prefixed_group_on_v1_uses_openai_api():
    b = by_key(openhands.read(MAIN))["llm.qwen-big.model"]
    assert (b.model, b.api, b.host) == ("qwen3-coder:30b", "openai", "http://gpu-box:11434/v1")
    assert (b.context_window.value, b.context_window.location.key) == (
        131072,
        "llm.qwen-big.max_input_tokens",
    )
    # max_output_tokens is inherited from [llm]
    assert b.max_tokens.location.key == "llm.max_output_tokens"
    assert b.timeout_s.value == 900.0


def test_named_group_inherits_limits_but_edits_its_own_table():
    b = by_key(openhands.read(MAIN))["llm.draft_editor.model"]
    assert (b.model, b.api, b.host) == ("qwen2.5-coder:7b", "native", "http://localhost:11434")
    assert b.context_window.location.key == "llm.max_input_tokens"
    assert b.timeout_s.location.key == "llm.timeout"
    assert b.edit_paths["context_window"] == ("llm", "draft_editor", "max_input_tokens")
    assert b.edit_paths["timeout"] == ("llm", "draft_editor", "timeout")


def test_documented_defaults_when_unset():
    (b,) = openhands.read(MAIN, '[llm]\nmodel = "ollama/qwen3:8b"\n')
    assert (b.context_window.value, b.context_window.source) == (4096, "default")
    assert (b.max_tokens.value, b.max_tokens.source) == (4096, "default")
    assert (b.timeout_s.value, b.timeout_s.source) == (600.0, "default")
    assert b.host == "http://localhost:11434"


def test_legacy_ollama_base_url_key():
    text = '[llm]\nmodel = "qwen3:8b"\nollama_base_url = "http://box:11434"\n'
    (b,) = openhands.read(MAIN, text)
    assert (b.model, b.host, b.api) == ("qwen3:8b", "http://box:11434", "native")


def test_cloud_only_config_gives_no_binding():
    assert openhands.read(MAIN, '[llm]\nmodel = "gpt-4o"\napi_key = "sk-x"\n') == []


def test_cargo_config_toml_is_not_openhands():
    assert openhands.read(FIX / "codex" / "cargo" / ".cargo" / "config.toml") == []


def test_codex_config_toml_is_not_openhands():
    assert openhands.read(FIX / "codex" / "config.toml") == []


def test_no_user_level_config():
    assert openhands.user_paths({"XDG_CONFIG_HOME": "/x"}, Path("/home/u")) == []


def test_malformed_toml_names_file_line_and_column():
    with pytest.raises(CtxfixError) as exc:
        openhands.read(MAIN, '[llm]\nmodel = "ollama/x"\ntimeout = \n')
    assert exc.value.where == f"{MAIN}:3:11"


# --------------------------------------------------------------------------- completion_kwargs

KWARGS = Path(__file__).resolve().parent.parent / "fixtures/configs/openhands/kwargs/config.toml"


def test_completion_kwargs_num_ctx_is_sent():
    """litellm gets completion_kwargs: native ollama/ sends num_ctx, openai/ on /v1 drops it."""
    base, compat = openhands.read(KWARGS)
    assert (base.model, base.api, base.num_ctx.value, base.num_ctx.location.line) == (
        "qwen3-coder:30b",
        "native",
        65536,
        14,
    )
    assert base.edit_paths["num_ctx"] == ("llm", "completion_kwargs", "num_ctx")
    assert (compat.api, compat.num_ctx.value, compat.num_ctx.location.key) == (
        "openai",
        32768,
        "llm.openai-compat.completion_kwargs.num_ctx",
    )


def test_inherited_completion_kwargs_are_written_only_when_safe():
    """A group's own completion_kwargs replaces [llm]'s whole table ({**base, **group})."""
    text = (
        '[llm]\nmodel = "ollama/qwen3:8b"\n'
        'completion_kwargs = { num_ctx = 8192, keep_alive = "1h" }\n'
        '[llm.big]\nmodel = "ollama/qwen3:32b"\n'
    )
    base, big = openhands.read(Path("config.toml"), text)
    assert big.num_ctx.value == 8192 and big.num_ctx.location.key == "llm.completion_kwargs.num_ctx"
    assert "num_ctx" in base.edit_paths and "num_ctx" not in big.edit_paths
    only = text.replace(', keep_alive = "1h"', "")
    _, big = openhands.read(Path("config.toml"), only)
    assert big.edit_paths["num_ctx"] == ("llm", "big", "completion_kwargs", "num_ctx")

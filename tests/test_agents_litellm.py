"""LiteLLM proxy reader: model_list entries, API mode by prefix, YAML anchors."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctxfix.errors import CtxfixError
from ctxfix.facts import Location
from ctxfix.sources.agents import litellm

ROOT = Path(__file__).resolve().parent.parent
F = ROOT / "fixtures/configs/litellm/config.yaml"


def test_model_list_bindings() -> None:
    bs = litellm.read(F)
    assert [(b.model, b.api) for b in bs] == [
        ("qwen3-coder:30b", "native"),
        ("llama3.1:8b", "native"),
        ("llama3.3:70b", "openai"),
    ]  # openai/gpt-4o is not an Ollama model
    q, gen, lan = bs
    assert q.model_ref.location == Location(str(F), 11, 14, "model_list[0].litellm_params.model")
    assert (q.num_ctx.value, q.num_ctx.location.line) == (65536, 12)
    assert (q.context_window.value, q.context_window.location.line) == (262144, 14)
    assert q.max_tokens.value == 65536
    # api_base and timeout come through `<<: *ollama_local`
    assert q.host == "http://127.0.0.1:11434"
    assert (q.timeout_s.value, q.timeout_s.location.line) == (300.0, 4)

    # no per-model timeout: litellm_settings.request_timeout
    assert (gen.timeout_s.value, gen.timeout_s.location.key) == (
        600.0,
        "litellm_settings.request_timeout",
    )
    assert gen.num_ctx is None and gen.context_window is None
    assert gen.edit_paths["num_ctx"] == ("model_list", 1, "litellm_params", "num_ctx")

    assert (lan.host, lan.num_ctx.value) == ("http://gpu-box.local:11434/v1", 131072)
    assert all(b.suppressed == frozenset({"CTX204"}) for b in bs)
    assert all(b.format == "yaml" for b in bs)


def test_default_timeout_when_nothing_set() -> None:
    text = (
        "model_list:\n  - model_name: a\n    litellm_params:\n      model: ollama_chat/qwen3:8b\n"
    )
    (b,) = litellm.read(Path("config.yaml"), text)
    assert (b.timeout_s.value, b.timeout_s.source) == (6000.0, "default")
    assert b.host == "http://localhost:11434"


def test_config_yaml_of_another_tool_is_ignored() -> None:
    assert litellm.read(ROOT / "fixtures/configs/litellm/not-litellm/config.yaml") == []
    assert litellm.read(ROOT / "fixtures/configs/continue/config.yaml") == []


def test_malformed_yaml() -> None:
    text = "model_list:\n  - model_name: a\n    litellm_params: {model: ollama/x\n"
    with pytest.raises(CtxfixError) as err:
        litellm.read(Path("proxy/config.yaml"), text)
    assert err.value.where == "proxy/config.yaml:4:1"


def test_user_paths() -> None:
    assert litellm.user_paths({}, Path("/home/u")) == []
    assert litellm.user_paths({"CONFIG_FILE_PATH": "/etc/litellm.yaml"}, Path("/h")) == [
        Path("/etc/litellm.yaml")
    ]
